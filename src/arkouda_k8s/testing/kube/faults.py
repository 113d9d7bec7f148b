"""Fault injection, per test, from Python: what a flaky API server or network does to a client.

- `fail_next(n, verb=, resource=, name=, status=503, retry_after=)`: the next N matching requests get
  that error (500/503/504, 429 with Retry-After, 401, 403, 409, 404) instead of an answer;
- `add_latency(seconds, verb=, resource=)`: matching requests wait first;
- `reset_connection(n, verb=, resource=)`: close the TCP connection without an answer;
- `end_watches()`: the server ends every open watch (clients see a clean end of stream);
- `partition(seconds)`: the server stops answering (requests and watch events wait) for a while;
- `compact()`: forget the event history (a watch from an older resourceVersion gets 410 Expired).

`resource` matches the plural ("pods") including its subresources, or one subresource ("pods/status").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from arkouda_k8s.testing.kube.rbac import Attributes
from arkouda_k8s.testing.kube.store import Store


@dataclass
class _Match:
    verb: str | None
    resource: str | None
    name: str | None = None
    namespace: str | None = None

    def matches(self, attrs: Attributes) -> bool:
        if self.verb is not None and attrs.verb != self.verb:
            return False
        if self.resource is not None:
            combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
            if self.resource not in (attrs.resource, combined):
                return False
        if self.name is not None and attrs.name != self.name:
            return False
        return self.namespace is None or attrs.namespace == self.namespace


@dataclass
class Failure:
    match: _Match
    remaining: int
    status: int
    retry_after: int | None
    message: str | None


@dataclass
class Latency:
    match: _Match
    seconds: float


@dataclass
class Reset:
    match: _Match
    remaining: int


class Faults:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.failures: list[Failure] = []
        self.latencies: list[Latency] = []
        self.resets: list[Reset] = []
        self.partition_until = 0.0  # time.monotonic() until which nothing is answered
        self.injected = 0

    # --- the test's side ---

    def fail_next(
        self,
        n: int = 1,
        verb: str | None = None,
        resource: str | None = None,
        name: str | None = None,
        status: int = 503,
        retry_after: int | None = None,
        namespace: str | None = None,
        message: str | None = None,
    ) -> None:
        self.failures.append(Failure(_Match(verb, resource, name, namespace), n, status, retry_after, message))

    def add_latency(self, seconds: float, verb: str | None = None, resource: str | None = None) -> None:
        self.latencies.append(Latency(_Match(verb, resource), seconds))

    def reset_connection(self, n: int = 1, verb: str | None = None, resource: str | None = None) -> None:
        self.resets.append(Reset(_Match(verb, resource), n))

    def end_watches(self) -> int:
        return self._store.end_watches()

    def partition(self, seconds: float) -> None:
        self.partition_until = max(self.partition_until, time.monotonic() + seconds)

    def compact(self) -> int:
        return self._store.compact()

    def clear(self) -> None:
        self.failures.clear()
        self.latencies.clear()
        self.resets.clear()
        self.partition_until = 0.0

    # --- the server's side ---

    async def wait_partition(self) -> None:
        """Hold a request (or a watch event) until the partition is over; partitions may be extended."""
        left = self.partition_until - time.monotonic()
        while left > 0:
            await asyncio.sleep(left)
            left = self.partition_until - time.monotonic()

    def latency_for(self, attrs: Attributes) -> float:
        return sum(rule.seconds for rule in self.latencies if rule.match.matches(attrs))

    def take_reset(self, attrs: Attributes) -> bool:
        for rule in self.resets:
            if rule.remaining > 0 and rule.match.matches(attrs):
                rule.remaining -= 1
                self.injected += 1
                return True
        return False

    def take_failure(self, attrs: Attributes) -> Failure | None:
        for rule in self.failures:
            if rule.remaining > 0 and rule.match.matches(attrs):
                rule.remaining -= 1
                self.injected += 1
                return rule
        return None
