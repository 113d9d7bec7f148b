"""Fault injection that knows whether it hit: the emulator's faults, plus three of our own.

Every fault a case arms must be met, or the case proved nothing (`assert_all_hit`); what went off is
counted for the session's summary.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .kit import Cluster


def _matches(attrs: Any, verb: str | None, resource: str | None) -> bool:
    if verb is not None and attrs.verb != verb:
        return False
    if resource is None:
        return True
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    return resource in (attrs.resource, combined)


class Injector:
    """The emulator's faults, plus three of our own (a token rotated while a request is on its way, a
    response lost after the write was committed, a watch closed once one is open), all counted."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.emulator = cluster.emulator
        self.armed = 0  # our own faults armed
        self.fired = 0  # our own faults that went off
        self.forbidden_armed = 0  # 403s the case asked for (any other 403 is a Role that is not sufficient)
        self._pending: list[str] = []

    # the emulator's own
    def http(
        self,
        status: int,
        n: int = 1,
        *,
        verb: str | None = None,
        resource: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.emulator.faults.fail_next(n, verb=verb, resource=resource, status=status, retry_after=retry_after)
        if status == 403:
            self.forbidden_armed += n

    def reset(self, n: int = 1, *, verb: str | None = None, resource: str | None = None) -> None:
        self.emulator.faults.reset_connection(n, verb=verb, resource=resource)

    def latency(self, seconds: float, *, verb: str | None = None, resource: str | None = None) -> None:
        self.emulator.faults.add_latency(seconds, verb=verb, resource=resource)
        self.fired += 1

    def partition(self, seconds: float) -> None:
        self.emulator.faults.partition(seconds)
        self.fired += 1

    def clear(self) -> None:
        self.emulator.faults.clear()

    async def close_watches(self, *, timeout: float = 10.0) -> int:
        """End every open watch, waiting until there is one to end (a fault that hits nothing proves nothing)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            closed = self.emulator.faults.end_watches()
            if closed:
                self.fired += 1
                return closed
            if loop.time() > deadline:
                pytest.fail("no watch was open to close: the fault would have hit nothing")
            await asyncio.sleep(0.02)

    async def expire_watches(self) -> None:
        """The 200-then-ERROR-410 form: history compacted past what the watchers have seen, then their watches
        end; each re-watch from its last resourceVersion gets HTTP 200 and one ERROR event with code 410.

        A watch is closed first (waiting for one to be open), so the compaction surely comes after the
        watcher's last list; the watch it opens again is the one the second close sends into the 410."""
        await self.close_watches()
        await self.emulator.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"tick-{secrets.token_hex(3)}", "namespace": "default"},
            }
        )
        self.emulator.faults.compact()
        await self.close_watches()

    def rotate_when(self, *, verb: str, resource: str, reader: bool = False) -> None:
        """Rotate the server's token (the old one answers 401 at once) as the next matching request arrives:
        that very request carries the old token, gets 401, and the client must re-read the file."""
        faults = self.emulator.faults
        original = faults.latency_for
        self.armed += 1
        self._pending.append(f"rotate on {verb} {resource}")
        label = self._pending[-1]

        def latency_for(attrs: Any) -> float:
            if label in self._pending and _matches(attrs, verb, resource):
                self._pending.remove(label)
                self.cluster.rotate(reader=reader)  # counted as a rotation
            return float(original(attrs))

        faults.latency_for = latency_for  # type: ignore[method-assign]

    def lose_response(self, *, verb: str, resource: str, hold: float) -> None:
        """Commit the next matching write, then hold its answer for `hold` seconds: the client times out and
        tries again although the first attempt succeeded (a connection lost after the commit)."""
        server = self.emulator.server
        original = server._dispatch
        self.armed += 1
        label = f"lose response of {verb} {resource}"
        self._pending.append(label)

        async def dispatch(request: Any, attrs: Any, identity: Any) -> Any:
            response = await original(request, attrs, identity)
            if label in self._pending and _matches(attrs, verb, resource):
                self._pending.remove(label)
                self.fired += 1
                await asyncio.sleep(hold)
            return response

        server._dispatch = dispatch  # type: ignore[method-assign]

    # did every fault hit?
    def unhit(self) -> list[str]:
        faults = self.emulator.faults
        left = [
            f"{f.status} x{f.remaining} on {f.match.verb} {f.match.resource}" for f in faults.failures if f.remaining
        ]
        left += [f"reset x{r.remaining} on {r.match.verb} {r.match.resource}" for r in faults.resets if r.remaining]
        return left + list(self._pending)

    def assert_all_hit(self) -> None:
        left = self.unhit()
        assert not left, f"faults armed but never met (the case proved nothing): {left}"

    def total(self) -> int:
        return int(self.emulator.faults.injected) + self.fired
