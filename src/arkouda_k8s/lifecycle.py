"""Stopping in order: SIGTERM/SIGINT ask for an orderly stop; the loop does the rest within a deadline.

Like kopf's signal handling: the handler only sets a flag (calls `request_stop`), never does work
itself; the first signal starts the orderly stop, later ones are logged and change nothing (a
second SIGTERM during withdrawal must not cut the withdrawal short — the deadline bounds it).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from arkouda_k8s import logs

T = TypeVar("T")
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


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The result of `work`, or None (work cancelled) when `stop` is set first."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
