"""Fault injection: failed requests, latency, dropped connections, ended watches, partitions, compaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from arkouda_k8s.testing.kube import KubeEmulator

JSON = dict[str, Any]
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


async def _call(
    emu: KubeEmulator, method: str, path: str, body: JSON | None = None, timeout: float = 30
) -> tuple[int, JSON, dict[str, str]]:
    headers = {"Authorization": f"Bearer {emu.admin_token}"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.request(method, emu.url + path, headers=headers, json=body) as r,
    ):
        return r.status, await r.json(), dict(r.headers)


def _cm(name: str) -> JSON:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


async def test_fail_next_n_matching_requests(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.fail_next(2, verb="create", resource="configmaps", status=503)
    assert (await _call(kube_emulator, "GET", CONFIGMAPS))[0] == 200  # another verb: untouched
    first = await _call(kube_emulator, "POST", CONFIGMAPS, _cm("a"))
    second = await _call(kube_emulator, "POST", CONFIGMAPS, _cm("a"))
    third = await _call(kube_emulator, "POST", CONFIGMAPS, _cm("a"))
    assert [first[0], second[0], third[0]] == [503, 503, 201]
    assert first[1]["reason"] == "ServiceUnavailable"


async def test_429_carries_retry_after(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.fail_next(1, verb="list", resource="pods", status=429, retry_after=3)
    status, body, headers = await _call(kube_emulator, "GET", "/api/v1/namespaces/default/pods")
    assert status == 429 and headers["Retry-After"] == "3"
    assert body["reason"] == "TooManyRequests" and body["details"] == {"retryAfterSeconds": 3}


@pytest.mark.parametrize(
    ("code", "reason"), [(401, "Unauthorized"), (403, "Forbidden"), (500, "InternalError"), (504, "Timeout")]
)
async def test_injected_errors_have_real_status_bodies(kube_emulator: KubeEmulator, code: int, reason: str) -> None:
    kube_emulator.faults.fail_next(1, resource="configmaps", status=code)
    status, body, _ = await _call(kube_emulator, "GET", CONFIGMAPS)
    assert (status, body["reason"], body["code"]) == (code, reason, code)


async def test_fail_next_by_name_and_subresource(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "a")
    await kube_emulator.create_pod("default", "b")
    kube_emulator.faults.fail_next(1, verb="patch", resource="pods/status", name="a")
    assert (await _call(kube_emulator, "GET", "/api/v1/namespaces/default/pods/a"))[0] == 200  # another verb
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {kube_emulator.admin_token}"}) as session:
        headers = {"Content-Type": "application/merge-patch+json"}
        data = json.dumps({"status": {"phase": "Running"}})
        async with session.patch(
            kube_emulator.url + "/api/v1/namespaces/default/pods/b/status", headers=headers, data=data
        ) as r:
            assert r.status == 200
        async with session.patch(
            kube_emulator.url + "/api/v1/namespaces/default/pods/a/status", headers=headers, data=data
        ) as r:
            assert r.status == 503
        async with session.patch(
            kube_emulator.url + "/api/v1/namespaces/default/pods/a/status", headers=headers, data=data
        ) as r:
            assert r.status == 200


async def test_latency_delays_matching_requests(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.add_latency(2.0, verb="list", resource="configmaps")
    with pytest.raises(TimeoutError):
        await _call(kube_emulator, "GET", CONFIGMAPS, timeout=0.3)
    assert (await _call(kube_emulator, "GET", "/api/v1/namespaces/default/pods", timeout=0.5))[0] == 200
    kube_emulator.faults.clear()
    assert (await _call(kube_emulator, "GET", CONFIGMAPS, timeout=1.5))[0] == 200


async def test_reset_connection_drops_the_request(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.reset_connection(1, verb="create", resource="configmaps")
    with pytest.raises(aiohttp.ClientError):
        await _call(kube_emulator, "POST", CONFIGMAPS, _cm("lost"))
    assert [c for c in await kube_emulator.list("v1", "ConfigMap", "default") if c["metadata"]["name"] == "lost"] == []
    assert (await _call(kube_emulator, "POST", CONFIGMAPS, _cm("lost")))[0] == 201


async def test_end_watches_closes_open_streams(kube_emulator: KubeEmulator) -> None:
    headers = {"Authorization": f"Bearer {kube_emulator.admin_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(
            kube_emulator.url + "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&timeoutSeconds=600"
        ) as r,
    ):
        assert r.status == 200
        await asyncio.sleep(0.1)
        assert kube_emulator.faults.end_watches() == 1
        rest = await asyncio.wait_for(r.content.read(), 5)
    assert rest == b""


async def test_partition_stops_answering_for_a_while(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.partition(1.0)
    with pytest.raises(TimeoutError):
        await _call(kube_emulator, "GET", CONFIGMAPS, timeout=0.3)
    await asyncio.sleep(1.0)
    assert (await _call(kube_emulator, "GET", CONFIGMAPS, timeout=1.0))[0] == 200


async def test_partition_holds_watch_events(kube_emulator: KubeEmulator) -> None:
    headers = {"Authorization": f"Bearer {kube_emulator.admin_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(
            kube_emulator.url
            + "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion="
            + str(kube_emulator.store.rv)
            + "&timeoutSeconds=5"
        ) as r,
    ):
        kube_emulator.faults.partition(0.8)
        await kube_emulator.create(_cm("during") | {"metadata": {"name": "during", "namespace": "default"}})
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(r.content.readline(), 0.3)
        line = await asyncio.wait_for(r.content.readline(), 3)
    assert json.loads(line)["object"]["metadata"]["name"] == "during"


async def test_clear_removes_pending_faults(kube_emulator: KubeEmulator) -> None:
    kube_emulator.faults.fail_next(5, status=500)
    kube_emulator.faults.clear()
    assert (await _call(kube_emulator, "GET", CONFIGMAPS))[0] == 200
