"""Withdrawal latency and the graceful stop: a real SIGTERM to the `arkouda-k8s register` process →

- withdraw_ms: the separate watcher sees the EndpointSlice gone (deleted, or a watch event leaving
  no slice of the Service);
- stop_ms: the process has exited (exit status 0 required), everything included: the withdrawal, closing
  the API session, the interpreter's own exit.

It follows a registration run (benchmarks/registration.py) once the endpoint is published and the
registrar has settled into its published phase (its probe and watch loops running).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from benchmarks.cluster import BenchmarkError
from benchmarks.registration import Publication, ServiceWatchers
from benchmarks.watcher import is_empty

SETTLE = 0.3  # seconds after publishing: the registrar's watch on its slice is open by then


@dataclass(frozen=True)
class Withdrawal:
    """The time.monotonic() of the SIGTERM, of the slice seen gone and of the exit."""

    signalled: float
    gone: float
    exited: float

    @property
    def withdraw_ms(self) -> float:
        return (self.gone - self.signalled) * 1000

    @property
    def stop_ms(self) -> float:
        return (self.exited - self.signalled) * 1000


async def withdraw(watchers: ServiceWatchers, publication: Publication) -> Withdrawal:
    """One real SIGTERM, watched."""
    await asyncio.sleep(SETTLE)
    gone = watchers.slices.when(is_empty)
    registrar = publication.registrar
    signalled = registrar.terminate()
    code, exited = await registrar.wait_exit()
    if code != 0:
        raise BenchmarkError(f"the registrar exited with {code} after SIGTERM; its log:\n{registrar.log_tail()}")
    seen = await watchers.slices.wait(gone, "the EndpointSlice gone")
    return Withdrawal(signalled, seen, exited)
