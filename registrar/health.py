"""Is arkouda_server answering? One ZMQ round trip on a fresh socket, on the pod's own loopback.

The probe talks to the server where it runs (127.0.0.1 in the same pod); what is published is the
pod IP. A reply of any kind, an authentication error included, proves the server is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Protocol

PORT_POLL_INTERVAL = 0.005  # a refused TCP connect on the pod's loopback costs microseconds
FAST_PROBE_INTERVAL = 0.02  # ZMQ round trips while waiting for the server to answer for the first time


class ServerNotAnswering(Exception):
    pass


class ServerProbe(Protocol):
    async def first_answer(self) -> None:
        """Return as soon as the server answers (polling fast)."""

    async def check(self) -> float:
        """One round trip: its duration in seconds; ServerNotAnswering when there is no answer."""


class ZmqProbe:
    """The real probe: a TCP connect every 20 ms until the port is open, then ZMQ round trips."""

    def __init__(self, host: str, port: int, *, timeout: float, token: str | None = None) -> None:
        self.host, self.port, self.timeout, self.token = host, port, timeout, token

    async def first_answer(self) -> None:
        import arkouda_k8s.wire  # noqa: F401  (pyzmq loads now, not in the first probe's time)

        while True:
            await wait_for_port(self.host, self.port, interval=PORT_POLL_INTERVAL)
            try:
                await self.check()
            except ServerNotAnswering:
                await asyncio.sleep(FAST_PROBE_INTERVAL)
                continue
            return

    async def check(self) -> float:
        from arkouda_k8s import wire

        try:
            result = await wire.probe(self.host, self.port, timeout=self.timeout, token=self.token)
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


async def wait_for_port(host: str, port: int, *, interval: float) -> None:
    """Until something accepts TCP connections on host:port (cheap: no ZMQ socket until then)."""
    while True:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(interval)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
