"""Is arkouda_server answering? One ZMQ round trip on a fresh socket, on the pod's own loopback.

The probe talks to the server where it runs (127.0.0.1 in the same pod); what is published is the
pod IP. A reply of any kind, an authentication error included, proves the server is alive.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

# While waiting for the first answer: libzmq retries the refused connection this often (in C: 2-5% of
# a core), and the queued probe leaves the moment the server binds. A TCP poll from Python at the same
# rate costs 13% (benchmarks/waiting_cost.py).
FIRST_ANSWER_RECONNECT = 0.002
FIRST_ANSWER_ATTEMPT = 2.0  # seconds one REQ socket waits before a fresh one replaces it
FAILED_ATTEMPT_PAUSE = 0.02


class ServerNotAnswering(Exception):
    pass


class ServerProbe(Protocol):
    async def first_answer(self) -> None:
        """Return as soon as the server answers (polling fast)."""

    async def check(self) -> float:
        """One round trip: its duration in seconds; ServerNotAnswering when there is no answer."""


class ZmqProbe:
    """The real probe: ZMQ round trips on fresh REQ sockets (one waits for the server to bind)."""

    def __init__(self, host: str, port: int, *, timeout: float, token: str | None = None) -> None:
        self.host, self.port, self.timeout, self.token = host, port, timeout, token

    async def first_answer(self) -> None:
        while True:
            try:
                await self.check(reconnect=FIRST_ANSWER_RECONNECT, timeout=max(self.timeout, FIRST_ANSWER_ATTEMPT))
            except ServerNotAnswering:
                # Then a fresh socket (a REQ socket whose request was lost would wait forever), after a
                # pause in case the failure was immediate (an address ZMQ refuses at once).
                await asyncio.sleep(FAILED_ATTEMPT_PAUSE)
                continue
            return

    async def check(self, *, reconnect: float | None = None, timeout: float | None = None) -> float:
        from arkouda_k8s import wire

        try:
            result = await wire.probe(
                self.host, self.port, timeout=timeout or self.timeout, token=self.token, reconnect=reconnect
            )
        except wire.Rejected:
            return self.timeout  # it answered, just not to us: alive
        except wire.WireError as failed:
            raise ServerNotAnswering(f"arkouda_server at {self.host}:{self.port}: {failed}") from failed
        return result.elapsed_ms / 1000.0


@dataclass
class HealthTracker:
    """Counts probe failures in a row: N of them make the server unhealthy, one success heals it."""

    failures_allowed: int
    healthy: bool = True
    failures_in_row: int = 0
    probes: int = 0
    latency_sum: float = 0.0

    def record(self, latency: float | None) -> bool | None:
        """Record one probe; returns the new health when it changed, else None."""
        self.probes += 1
        if latency is not None:
            self.latency_sum += latency
            self.failures_in_row = 0
            if not self.healthy:
                self.healthy = True
                return True
            return None
        self.failures_in_row += 1
        if self.healthy and self.failures_in_row >= self.failures_allowed:
            self.healthy = False
            return False
        return None
