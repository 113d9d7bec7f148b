"""pods/portforward over WebSocket: RBAC, the port announcement, the byte relay, the kubelet's errors."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from arkouda_k8s.testing.kube import KubeEmulator

NS = "default"
FORWARDER = [{"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]}]


@contextlib.asynccontextmanager
async def echo_server() -> AsyncIterator[tuple[int, list[bytes], asyncio.Event]]:
    """A TCP echo server on 127.0.0.1 (the loopback "pod"); yields its port, what it received, and
    an event set when a client connection ends."""
    received: list[bytes] = []
    ended = asyncio.Event()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            received.append(data)
            writer.write(data)
            await writer.drain()
        writer.close()
        ended.set()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], received, ended
    finally:
        server.close()
        await server.wait_closed()


async def _pod(emu: KubeEmulator, name: str, ip: str) -> None:
    await emu.create_pod(NS, name)
    await emu.set_pod_ready(NS, name, ip=ip)


def _session(emu: KubeEmulator, token: str) -> aiohttp.ClientSession:
    context = ssl.create_default_context(cafile=str(emu.ca_file))
    return aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {token}"}, connector=aiohttp.TCPConnector(ssl=context)
    )


def _url(emu: KubeEmulator, pod: str, query: str) -> str:
    return f"{emu.url}/api/v1/namespaces/{NS}/pods/{pod}/portforward{query}"


async def _frames(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[bytes]:
    frames = []
    for _ in range(count):
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        frames.append(bytes(message.data))
    return frames


async def test_a_port_is_announced_then_bytes_go_both_ways(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    token = await emu.bind_role(NS, "notebook", FORWARDER)
    async with echo_server() as (port, received, ended):
        await _pod(emu, "server-0", "127.0.0.1")
        async with (
            _session(emu, token) as session,
            session.ws_connect(_url(emu, "server-0", f"?ports={port}"), protocols=["v4.channel.k8s.io"]) as ws,
        ):
            assert ws.protocol == "v4.channel.k8s.io"
            announced = port.to_bytes(2, "little")
            assert await _frames(ws, 2) == [b"\x00" + announced, b"\x01" + announced]
            await ws.send_bytes(b"\x00hello")
            assert await _frames(ws, 1) == [b"\x00hello"]
            await ws.send_bytes(b"\x00" + bytes(range(256)) * 512)  # 128 KiB: more than one read on each side
            echoed = b""
            while len(echoed) < 256 * 512:
                echoed += (await _frames(ws, 1))[0][1:]
            assert echoed == bytes(range(256)) * 512
        # The client closed the WebSocket: the pod's side of the connection ends too.
        await asyncio.wait_for(ended.wait(), 5)
        assert b"".join(received) == b"hello" + bytes(range(256)) * 512
    verbs = {(r.verb, r.resource, r.subresource, r.status) for r in emu.request_log if r.subresource}
    assert ("get", "pods", "portforward", 101) in verbs


async def test_the_websocket_closes_when_the_pod_closes_the_connection(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    token = await emu.bind_role(NS, "notebook", FORWARDER)

    async def say_bye(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"bye")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(say_bye, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await _pod(emu, "server-0", "127.0.0.1")
        async with _session(emu, token) as session, session.ws_connect(_url(emu, "server-0", f"?ports={port}")) as ws:
            assert len(await _frames(ws, 2)) == 2
            assert await _frames(ws, 1) == [b"\x00bye"]
            closing = await asyncio.wait_for(ws.receive(), 5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("pod_ip", "expected"),
    [
        ("127.0.0.1", "IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused"),
        ("198.51.100.5", "pod IP 198.51.100.5 is not a loopback address; the emulator forwards only to loopback pods"),
    ],
    ids=["nothing-listening", "not-a-loopback-pod"],
)
async def test_a_port_that_cannot_be_reached_is_an_error_on_its_channel(
    kube_emulator_tls_rbac: KubeEmulator, pod_ip: str, expected: str
) -> None:
    emu = kube_emulator_tls_rbac
    token = await emu.bind_role(NS, "notebook", FORWARDER)
    with socket_closed_port() as port:
        await _pod(emu, "server-0", pod_ip)
        async with _session(emu, token) as session, session.ws_connect(_url(emu, "server-0", f"?ports={port}")) as ws:
            frames = await _frames(ws, 3)
            assert frames[2][0] == 1  # the error channel of the first port
            message = frames[2][1:].decode()
            assert message.startswith(f"error forwarding port {port} to pod ")
            assert message.endswith(expected.format(port=port))
            closing = await asyncio.wait_for(ws.receive(), 5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


@contextlib.contextmanager
def socket_closed_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]  # bound, never listening: a connect is refused


async def test_rbac_decides_who_may_forward(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    reader = await emu.bind_role(NS, "reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    await _pod(emu, "server-0", "127.0.0.1")
    async with _session(emu, reader) as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(_url(emu, "server-0", "?ports=5555"))
    assert refused.value.status == 403
    record = emu.request_log[-1]
    assert (record.verb, record.resource, record.subresource, record.status) == ("get", "pods", "portforward", 403)


@pytest.mark.parametrize(
    ("pod", "query", "upgrade", "code", "message"),
    [
        ("server-0", "?ports=5555", False, 400, "Upgrade request required"),
        ("server-0", "", True, 400, 'query parameter "port" is required'),
        ("server-0", "?ports=http", True, 400, 'unable to parse "http" as a port: invalid syntax'),
        ("unscheduled", "?ports=5555", True, 400, "pod unscheduled does not have a host assigned"),
        ("missing", "?ports=5555", True, 404, 'pods "missing" not found'),
    ],
)
async def test_refusals_before_the_upgrade(
    kube_emulator_tls_rbac: KubeEmulator, pod: str, query: str, upgrade: bool, code: int, message: str
) -> None:
    emu = kube_emulator_tls_rbac
    await _pod(emu, "server-0", "127.0.0.1")
    await emu.create_pod(NS, "unscheduled", node_name=None)
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"} if upgrade else {}
    if upgrade:
        headers["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
    async with (
        _session(emu, emu.admin_token) as session,
        session.get(_url(emu, pod, query), headers=headers) as response,
    ):
        body = await response.json()
    assert (response.status, body["message"]) == (code, message)
