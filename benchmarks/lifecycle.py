"""The registrar's life, run by run: publish (registration.py), then SIGTERM (withdrawal.py).

One run gives one sample of register_ms, withdraw_ms and stop_ms; `--only registration` or
`--only withdrawal` run the same loop and report their own figures.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import Session
from benchmarks.registration import SERVICE, ServiceWatchers, publish
from benchmarks.stats import summarize
from benchmarks.withdrawal import withdraw


async def run(session: Session) -> dict[str, Any]:
    watchers = await ServiceWatchers.open(session, SERVICE)
    register, withdrawn, stopped = [], [], []
    try:
        for i in range(session.runs):
            await watchers.until_clean()
            publication = await publish(session, watchers, user="registrar", label=f"lifecycle-{i:02d}")
            try:
                register.append(publication.register_ms)
                withdraw_ms, stop_ms = await withdraw(watchers, publication)
                withdrawn.append(withdraw_ms)
                stopped.append(stop_ms)
            finally:
                await publication.close()
    finally:
        await watchers.stop()
    return {
        "register_ms": session.timing(summarize(register)),
        "withdraw_ms": session.timing(summarize(withdrawn)),
        "stop_ms": session.timing(summarize(stopped)),
    }
