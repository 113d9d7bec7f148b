# mypy: disable-error-code="arg-type,call-arg,attr-defined,unreachable"
"""List + watch through kubernetes_asyncio's Watch().stream, and the watch semantics behind it."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client import ApiClient, ApiException

from arkouda_k8s.testing.kube import KubeEmulator

Api = tuple[KubeEmulator, ApiClient]


async def _events(emu: KubeEmulator, path: str) -> list[dict[str, object]]:
    """The raw JSON lines of one watch request, until the server ends it."""
    headers = {"Authorization": f"Bearer {emu.admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as session, session.get(emu.url + path) as response:
        assert response.status == 200
        return [json.loads(line) async for line in response.content if line.strip()]


async def test_watch_stream_from_list_resource_version(kube_api: Api) -> None:
    emu, api = kube_api
    core = client.CoreV1Api(api)
    await emu.create_pod("default", "before", labels={"app": "w"})
    listed = await core.list_namespaced_pod("default", label_selector="app=w")

    async def changes() -> None:
        await asyncio.sleep(0.05)
        await emu.create_pod("default", "after", labels={"app": "w"})
        await emu.set_pod_ready("default", "after", ip="198.51.100.2")
        await emu.delete_pod("default", "after", grace_period_seconds=0)

    task = asyncio.create_task(changes())
    seen = []
    async with watch.Watch() as w:
        async for event in w.stream(
            core.list_namespaced_pod,
            "default",
            label_selector="app=w",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=1,
        ):
            seen.append((event["type"], event["object"].metadata.name))
    await task
    assert seen[0] == ("ADDED", "after")
    assert seen[-1] == ("DELETED", "after")
    assert ("MODIFIED", "after") in seen
    assert all(name == "after" for _, name in seen)


async def test_watch_without_resource_version_starts_with_current_objects(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "here")
    events = await _events(kube_emulator, "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "here")]  # type: ignore[index]


async def test_watch_replays_history_after_an_old_resource_version(kube_emulator: KubeEmulator) -> None:
    first = await kube_emulator.create_pod("default", "one")
    await kube_emulator.create_pod("default", "two")
    rv = first["metadata"]["resourceVersion"]
    events = await _events(
        kube_emulator, f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1"
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "two")]  # type: ignore[index]


async def test_compacted_resource_version_is_200_then_410_error_event(kube_emulator: KubeEmulator) -> None:
    first = await kube_emulator.create_pod("default", "old")
    await kube_emulator.create_pod("default", "new")
    kube_emulator.faults.compact()
    rv = first["metadata"]["resourceVersion"]
    events = await _events(
        kube_emulator, f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&timeoutSeconds=5"
    )
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert isinstance(status, dict)
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert str(status["message"]).startswith(f"too old resource version: {rv} (")


async def test_kubernetes_asyncio_raises_410_for_an_expired_watch(kube_api: Api) -> None:
    emu, api = kube_api
    core = client.CoreV1Api(api)
    pod = await emu.create_pod("default", "x")
    await emu.create_pod("default", "y")
    emu.faults.compact()

    async def drain() -> None:
        async with watch.Watch() as w:
            async for _ in w.stream(
                core.list_namespaced_pod,
                "default",
                resource_version=pod["metadata"]["resourceVersion"],
                timeout_seconds=2,
            ):
                pass

    with pytest.raises(ApiException) as caught:
        await drain()
    assert caught.value.status == 410


async def test_history_is_bounded() -> None:
    async with KubeEmulator(history_limit=3) as emu:
        first = await emu.create_pod("default", "p0")
        for i in range(1, 6):
            await emu.create_pod("default", f"p{i}")
        rv = first["metadata"]["resourceVersion"]
        events = await _events(emu, f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ERROR"]


async def test_label_selector_watch_sees_objects_enter_and_leave(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "m", labels={"ready": "no"})

    async def relabel() -> None:
        await asyncio.sleep(0.1)
        for value in ("yes", "no"):
            await kube_emulator.patch("v1", "Pod", "default", "m", {"metadata": {"labels": {"ready": value}}})

    task = asyncio.create_task(relabel())
    events = await _events(
        kube_emulator, "/api/v1/namespaces/default/pods?watch=1&labelSelector=ready%3Dyes&timeoutSeconds=1"
    )
    await task
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]


async def test_bookmarks_carry_only_kind_api_version_and_resource_version() -> None:
    async with KubeEmulator(bookmark_interval=0.2) as emu:
        events = await _events(
            emu, "/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true&resourceVersion=1&timeoutSeconds=1"
        )
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks
    obj = bookmarks[0]["object"]
    assert isinstance(obj, dict)
    assert set(obj) == {"kind", "apiVersion", "metadata"}
    assert obj["kind"] == "Pod" and set(obj["metadata"]) == {"resourceVersion"}


async def test_no_bookmarks_unless_asked() -> None:
    async with KubeEmulator(bookmark_interval=0.1) as emu:
        events = await _events(emu, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&timeoutSeconds=1")
    assert not [e for e in events if e["type"] == "BOOKMARK"]


async def test_timeout_seconds_ends_the_stream(kube_emulator: KubeEmulator) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await _events(kube_emulator, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&timeoutSeconds=1")
    assert events == [] or all(e["type"] != "ERROR" for e in events)
    assert loop.time() - started < 10  # it ended on its own (the bound only guards against a hang)
