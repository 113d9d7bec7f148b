"""KubeClient.port_forward: one TCP connection into a pod through the API, retried like any call,
refusals in the API's own words, the kubelet's failure as PortForwardFailed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from arkouda_k8s.kube import (
    POD_PORTFORWARD,
    ApiConfig,
    ApiUnavailable,
    Forbidden,
    KubeClient,
    NotFound,
    PortForwardFailed,
    RetryPolicy,
)
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.pods import free_port

NS = "ns"
RETRY = RetryPolicy(base=0.01, cap=0.05, budget=3.0, request_timeout=2.0)


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[KubeEmulator]:
    async with KubeEmulator(tls=True, rbac=True) as emu:
        await emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        await emu.create_pod(NS, "server-0")
        await emu.set_pod_ready(NS, "server-0", ip="127.0.0.1")
        yield emu


def _client(emulator: KubeEmulator, token: str) -> KubeClient:
    config = ApiConfig(host=emulator.url, namespace=NS, source="test", ca_file=emulator.ca_file, token=token)
    return KubeClient(config, component="test", retry=RETRY)


async def _upper_server() -> tuple[asyncio.Server, int]:
    async def upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data.upper())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(upper, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_bytes_go_both_ways_after_a_503_was_retried(emulator: KubeEmulator) -> None:
    server, port = await _upper_server()
    emulator.faults.fail_next(1, verb="get", resource="pods/portforward", status=503)
    try:
        async with _client(emulator, emulator.admin_token) as kube:
            stream = await kube.port_forward("server-0", port)
            await stream.send(b"arkouda")
            assert await asyncio.wait_for(stream.receive(), 5) == b"ARKOUDA"
            await stream.close()
            assert kube.stats.requests[("get", POD_PORTFORWARD.plural, 503)] == 1
            assert kube.stats.requests[("get", POD_PORTFORWARD.plural, 101)] == 1
            assert kube.stats.retries == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_the_end_of_the_pods_side_is_an_empty_read(emulator: KubeEmulator) -> None:
    async def one_line(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"ok\n")
        writer.close()

    server = await asyncio.start_server(one_line, "127.0.0.1", 0)
    try:
        async with _client(emulator, emulator.admin_token) as kube:
            stream = await kube.port_forward("server-0", server.sockets[0].getsockname()[1])
            assert await asyncio.wait_for(stream.receive(), 5) == b"ok\n"
            assert await asyncio.wait_for(stream.receive(), 5) == b""
    finally:
        server.close()
        await server.wait_closed()


async def test_a_refused_port_is_the_kubelets_message(emulator: KubeEmulator) -> None:
    port = free_port()
    async with _client(emulator, emulator.admin_token) as kube:
        stream = await kube.port_forward("server-0", port)
        with pytest.raises(PortForwardFailed, match=f"dial tcp4 127.0.0.1:{port}: connect: connection refused"):
            await asyncio.wait_for(stream.receive(), 5)
        await stream.close()


async def test_refusals_are_in_the_apis_words(emulator: KubeEmulator) -> None:
    reader = await emulator.bind_role(NS, "reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    async with _client(emulator, reader) as kube:
        with pytest.raises(Forbidden) as refused:
            await kube.port_forward("server-0", 5555)
    assert 'cannot get resource "pods/portforward" in API group "" in the namespace "ns"' in str(refused.value)
    assert "kubectl auth can-i get pods/portforward -n ns" in str(refused.value)
    async with _client(emulator, emulator.admin_token) as kube:
        with pytest.raises(NotFound, match='pods "gone" not found'):
            await kube.port_forward("gone", 5555)


async def test_an_api_that_stays_down_is_unavailable_at_the_deadline(emulator: KubeEmulator) -> None:
    emulator.faults.fail_next(1000, verb="get", resource="pods/portforward", status=503)
    async with _client(emulator, emulator.admin_token) as kube:
        loop = asyncio.get_running_loop()
        with pytest.raises(ApiUnavailable, match="did not get pods/portforward/server-0 in namespace ns"):
            await kube.port_forward("server-0", 5555, deadline=loop.time() + 0.5)
        assert kube.stats.retries >= 2
