"""A stop that meets work in flight: the withdrawal must begin only once nothing else of the registrar runs,
a cancelled watch must not deliver one more event, and a caller's deadline holds even when it falls in the
same instant as a request's own timeout.

Found by the fault matrix (and fixed): a stop right after a change of our slice (the endpoint turned
ready again, a repair) now and then left a freshly recreated EndpointSlice behind after "withdrawn".
Two causes, each shown here deterministically:

1. `Registrar._active` runs its loops under `asyncio.gather`; cancelling a gather completes it as soon as
   the first child is cancelled, so `run()` starts withdrawing while the slice watch is still running;
2. `asyncio.wait_for` (Python 3.11) returns the inner result instead of raising CancelledError when the
   inner future finished in the same loop iteration as the cancellation (CPython gh-86296): a watch
   line that arrives together with the cancel is delivered, and the watch loop carries on repairing —
   recreating the slice the withdrawal has just deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from arkouda_k8s.entrypoints.locales import LocalesNotReady, LocaleWatch
from arkouda_k8s.kube import PODS, RetryPolicy, list_and_watch
from arkouda_k8s.kube.client import ObjectList

from .kit import LOCALE_SELECTOR, NS, SwitchProbe, open_cluster, settle

LOOPS = ("_watch_slice", "_probe_loop", "_reconcile_loop")


async def test_withdrawal_starts_only_after_every_loop_has_stopped(tmp_path: Path) -> None:
    async with open_cluster(tmp_path) as cluster:
        probe = SwitchProbe()
        registrar = await cluster.registrar(probe)
        still_running: list[str] = []
        withdraw = registrar.publisher.withdraw

        async def spy(*args: Any, **kwargs: Any) -> list[str]:
            for task in asyncio.all_tasks():
                name = getattr(task.get_coro(), "__qualname__", "")
                if not task.done() and name.rpartition(".")[2] in LOOPS:
                    still_running.append(name)
            return await withdraw(*args, **kwargs)

        registrar.publisher.withdraw = spy  # type: ignore[method-assign]
        task = asyncio.create_task(registrar.run())
        await asyncio.wait_for(registrar.is_published.wait(), 10)
        await settle(lambda: cluster.slice_is(ready=True))
        registrar.stop()
        await asyncio.wait_for(task, 20)
        await cluster.assert_clean(published=False, what="withdrawn")
    assert still_running == [], f"withdrawing while these still ran: {still_running}"


class _Response:
    """A watch response whose lines the test feeds by hand."""

    def __init__(self) -> None:
        self.content = asyncio.StreamReader()
        self.released = False

    def release(self) -> None:
        self.released = True


class _Kube:
    """Just enough of KubeClient for list_and_watch: one empty list, then one watch the test feeds."""

    def __init__(self) -> None:
        self.retry = RetryPolicy()
        self.response = _Response()
        self.watching = asyncio.Event()

    async def list(self, *_args: Any, **_kwargs: Any) -> ObjectList:
        return ObjectList([], "10")

    async def open_watch(self, *_args: Any, **_kwargs: Any) -> _Response:
        self.watching.set()
        return self.response


async def test_a_cancelled_watch_delivers_no_more_events() -> None:
    kube = _Kube()
    delivered: list[str] = []

    async def consume(events: AsyncIterator[Any]) -> None:
        async for event in events:
            delivered.append(event.type)

    events = list_and_watch(kube, PODS, "ns")  # type: ignore[arg-type]
    task = asyncio.create_task(consume(events))
    await asyncio.wait_for(kube.watching.wait(), 5)
    await asyncio.sleep(0.05)  # the watch is waiting for its next line
    pod = {"metadata": {"name": "p", "resourceVersion": "11"}}
    kube.response.content.feed_data(json.dumps({"type": "ADDED", "object": pod}).encode() + b"\n")
    task.cancel()  # the line and the cancellation arrive together
    done, _ = await asyncio.wait({task}, timeout=2)
    went_on = not done
    while not task.done():  # a watch that swallowed its cancellation waits for more: ask again
        task.cancel()
        await asyncio.sleep(0.01)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await events.aclose()
    assert delivered == ["SYNCED"], f"a cancelled watch went on to deliver {delivered[1:]}"
    assert not went_on, "the watch ignored its cancellation and kept waiting for events"


async def test_a_deadline_that_meets_a_request_timeout_is_kept(tmp_path: Path) -> None:
    """LOCALE_TIMEOUT (the caller's asyncio.timeout) ends while a request of the API layer times out in the same
    instant: the wait must still end at its deadline, with LocalesNotReady."""
    async with open_cluster(tmp_path) as cluster:
        await cluster.create_locale_pods(2, ready=True)
        deadline = 3.0
        kube = await cluster.client(retry=RetryPolicy(base=0.02, cap=0.3, budget=30.0, request_timeout=deadline))
        cluster.faults.partition(5)
        watch = LocaleWatch(kube, NS, LOCALE_SELECTOR, 2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            with pytest.raises(LocalesNotReady):
                await watch.wait_ready(deadline)
            assert loop.time() - started < deadline + 1.0
        finally:
            cluster.faults.clear()
            await watch.close()
