"""The API layer's resilience: list-then-watch, re-list on 410, re-watch on a closed stream, backoff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from arkouda_k8s.kube import PODS, ApiConfig, ApiUnavailable, KubeClient, RetryPolicy, WatchEvent, list_and_watch
from arkouda_k8s.kube.retry import RetryPolicy as Policy
from arkouda_k8s.testing.kube import KubeEmulator

NS = "ns"


@pytest_asyncio.fixture
async def kube() -> AsyncIterator[tuple[KubeEmulator, KubeClient]]:
    async with KubeEmulator() as emulator:
        await emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        config = ApiConfig(host=emulator.url, namespace=NS, source="test", token=emulator.admin_token)
        retry = RetryPolicy(base=0.01, cap=0.05, budget=3.0, request_timeout=2.0)
        async with KubeClient(config, component="test", retry=retry) as client:
            yield emulator, client


async def _next(events: AsyncIterator[WatchEvent]) -> WatchEvent:
    return await asyncio.wait_for(anext(events), 10)


async def test_list_then_watch_sees_every_change(kube: tuple[KubeEmulator, KubeClient]) -> None:
    emulator, client = kube
    await emulator.create_pod(NS, "a", labels={"app": "x"})
    events = list_and_watch(client, PODS, NS, label_selector="app=x", timeout_seconds=5)
    first = await _next(events)
    assert first.type == "SYNCED" and set(first.objects) == {"a"}
    await emulator.create_pod(NS, "b", labels={"app": "x"})
    await emulator.create_pod(NS, "other", labels={"app": "y"})  # not selected
    added = await _next(events)
    assert (added.type, set(added.objects)) == ("ADDED", {"a", "b"})
    await emulator.delete_pod(NS, "a", grace_period_seconds=0)
    deleted = await _next(events)
    while deleted.type == "MODIFIED":  # the deletion timestamp first, then the removal
        deleted = await _next(events)
    assert (deleted.type, set(deleted.objects)) == ("DELETED", {"b"})
    await events.aclose()


async def test_a_watch_from_a_compacted_version_is_expired_200_then_error(
    kube: tuple[KubeEmulator, KubeClient],
) -> None:
    from arkouda_k8s.kube import Expired
    from arkouda_k8s.kube.watch import _watch_once

    emulator, client = kube
    old = (await client.list(PODS, NS)).resource_version
    await emulator.create_pod(NS, "a")
    await emulator.create_pod(NS, "b")
    emulator.faults.compact()
    with pytest.raises(Expired):  # HTTP 200, then one ERROR event with code 410 (the real server's way)
        async for _ in _watch_once(client, PODS, NS, old, 5, None, None):
            pass
    watches = [r for r in emulator.request_log if r.resource == "pods" and r.verb == "watch"]
    assert watches[-1].status == 200


async def test_410_relists_and_shows_the_fresh_state(kube: tuple[KubeEmulator, KubeClient]) -> None:
    emulator, client = kube
    events = list_and_watch(client, PODS, NS, timeout_seconds=5)
    assert (await _next(events)).type == "SYNCED"
    await emulator.create_pod(NS, "a")
    assert (await _next(events)).type == "ADDED"
    emulator.faults.fail_next(1, verb="watch", resource="pods", status=410)
    emulator.faults.end_watches()
    again = await _next(events)
    assert (again.type, set(again.objects)) == ("SYNCED", {"a"})
    lists = [r for r in emulator.request_log if r.resource == "pods" and r.verb == "list"]
    assert len(lists) == 2
    await events.aclose()


async def test_a_closed_watch_rewatches_from_where_it_was_without_a_relist(
    kube: tuple[KubeEmulator, KubeClient],
) -> None:
    emulator, client = kube
    events = list_and_watch(client, PODS, NS, timeout_seconds=5)
    await _next(events)
    emulator.faults.end_watches()
    await emulator.create_pod(NS, "a")
    event = await _next(events)
    assert (event.type, set(event.objects)) == ("ADDED", {"a"})
    lists = [r for r in emulator.request_log if r.resource == "pods" and r.verb == "list"]
    assert len(lists) == 1
    await events.aclose()


async def test_5xx_backs_off_and_converges(kube: tuple[KubeEmulator, KubeClient]) -> None:
    emulator, client = kube
    emulator.faults.fail_next(3, verb="list", resource="pods", status=500)
    listed = await client.list(PODS, NS)
    assert listed.items == []
    statuses = [r.status for r in emulator.request_log if r.resource == "pods" and r.verb == "list"]
    assert statuses == [500, 500, 500, 200]
    assert client.stats.retries == 3
    assert client.stats.errors_by_code[500] == 3


async def test_a_partition_ends_in_api_unavailable_at_the_deadline(kube: tuple[KubeEmulator, KubeClient]) -> None:
    emulator, client = kube
    emulator.faults.partition(5)
    loop = asyncio.get_running_loop()
    with pytest.raises(ApiUnavailable, match="did not list pods in namespace ns before the deadline"):
        await client.list(PODS, NS, deadline=loop.time() + 1.0)


def test_backoff_is_jittered_and_capped() -> None:
    policy = Policy(base=0.1, cap=2.0)
    waits = [policy.backoff(n) for n in range(12)]
    assert all(0 <= w <= 2.0 for w in waits)
    assert len(set(waits)) > 6  # jitter: not the same number twice in a row
    assert policy.retry_after("3", 0) == 3.0
    assert policy.retry_after("9999", 0) == policy.max_retry_after
    assert 0 <= policy.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 2) <= 0.4
