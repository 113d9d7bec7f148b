"""The separate watcher: it sees what is published the way any other client of the API would.

A `Watcher` keeps one list + watch (the product's `list_and_watch`, with an identity of its own) open on
a set of objects; `when(condition)` gives the time.monotonic() of the first event after which
`condition(objects)` holds — taken the moment the event reaches this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from arkouda_k8s.kube import KubeClient, Resource, list_and_watch
from benchmarks.cluster import BenchmarkError

Objects = Mapping[str, dict[str, Any]]
Condition = Callable[[Objects], bool]


def has_ready_endpoint(slices: Objects) -> bool:
    for item in slices.values():
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            if conditions.get("ready") is not False and not conditions.get("terminating"):
                return True
    return False


def is_empty(objects: Objects) -> bool:
    return not objects


class Watcher:
    def __init__(
        self,
        kube: KubeClient,
        resource: Resource,
        namespace: str,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> None:
        self.kube = kube
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.objects: Objects = {}
        self._waiting: list[tuple[Condition, asyncio.Future[float]]] = []
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 30.0) -> Watcher:
        self._task = asyncio.create_task(self._run(), name=f"watcher-{self.resource.plural}")
        synced = asyncio.create_task(self._synced.wait())
        await asyncio.wait({synced, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        synced.cancel()
        if self._task.done():
            self._task.result()  # raises what ended it
        if not self._synced.is_set():
            raise BenchmarkError(f"the watcher of {self.resource.plural} did not list within {timeout:g} s")
        return self

    async def _run(self) -> None:
        async for event in list_and_watch(
            self.kube,
            self.resource,
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
        ):
            now = time.monotonic()
            self.objects = event.objects
            self._synced.set()
            for entry in list(self._waiting):
                condition, future = entry
                if future.done():
                    self._waiting.remove(entry)
                elif condition(self.objects):
                    future.set_result(now)
                    self._waiting.remove(entry)

    def when(self, condition: Condition) -> asyncio.Future[float]:
        """Resolves with the time of the first event from now on after which the condition holds."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, future))
        return future

    async def until(self, condition: Condition, what: str, timeout: float = 30.0) -> None:
        """Return once the condition holds (at once if it already does)."""
        if condition(self.objects):
            return
        await self.wait(self.when(condition), what, timeout)

    async def wait(self, future: asyncio.Future[float], what: str, timeout: float = 30.0) -> float:
        if self._task is not None and self._task.done():
            self._task.result()
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise BenchmarkError(
                f"the watcher of {self.resource.plural} in {self.namespace} did not see {what} within {timeout:g} s; "
                f"it sees: {sorted(self.objects)}"
            ) from None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
