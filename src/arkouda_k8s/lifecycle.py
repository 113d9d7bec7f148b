"""Stopping in order: SIGTERM/SIGINT ask for an orderly stop; the loop does the rest within a deadline.

Like kopf's signal handling: the handler only sets a flag (calls `request_stop`), never does work
itself; the first signal starts the orderly stop, later ones are logged and change nothing (a
second SIGTERM during withdrawal must not cut the withdrawal short — the deadline bounds it).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from arkouda_k8s import logs

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_stop_signals(request_stop: Callable[[str], None], *, component: str) -> Callable[[], None]:
    """Call request_stop(signal name) on SIGTERM/SIGINT; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    log = logs.get_logger(component)
    seen: list[str] = []

    def handle(sig: signal.Signals) -> None:
        seen.append(sig.name)
        if len(seen) == 1:
            log.info("signal_received", signal=sig.name)
        else:
            log.info("signal_received_again", signal=sig.name, note="already stopping; the deadline still holds")
        request_stop(sig.name)

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, handle, sig)

    def remove() -> None:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)

    return remove


def exit_code_for_signal(name: str) -> int:
    """The shell convention: 128 + signal number."""
    return 128 + int(getattr(signal, name))
