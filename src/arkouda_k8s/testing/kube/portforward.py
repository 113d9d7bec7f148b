"""pods/{name}/portforward over WebSocket, as kube-apiserver 1.28 and the kubelet serve it.

The connect subresource is authorized like any request (a WebSocket GET is verb `get` on
`pods/portforward`, a POST `create`), then upgraded with the channel protocol (`v4.channel.k8s.io`,
or no sub-protocol; binary frames whose first byte is the channel). For each port of `?ports=`,
channel 2i carries the data and 2i+1 the errors; the server first writes the port, little endian,
on both. The kubelet then dials the port inside the pod's network namespace; an error goes to the
error channel as `error forwarding port P to pod SANDBOX, uid : ...` and the connection closes. So
does the WebSocket when the pod's side closes.

The emulator's "network namespace" of a pod is its podIP: it dials that address only when it is a
loopback address (the loopback pods of the test bed); any other pod IP is an error on the channel,
never a connection. SPDY (kubectl's POST) is not emulated: it gets the 400 of a missing upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from arkouda_k8s.testing.kube import status
from arkouda_k8s.testing.kube.api import Api
from arkouda_k8s.testing.kube.resources import ResourceType

CHANNEL_PROTOCOLS = ("v4.channel.k8s.io",)
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Target:
    sandbox: str  # what the kubelet calls the pod in its messages: the pod sandbox id
    address: str
    ports: tuple[int, ...]


def target(request: web.Request, api: Api, pods: ResourceType, namespace: str, name: str) -> Target:
    """Check the request and the pod as the API server does before it upgrades the connection."""
    pod = api.get(pods, namespace, name)  # 404 NotFound when there is no such pod
    if request.method != "GET" or request.headers.get("Upgrade", "").lower() != "websocket":
        raise status.bad_request("Upgrade request required")
    if not (pod.get("spec") or {}).get("nodeName"):
        raise status.bad_request(f"pod {name} does not have a host assigned")
    ports = _ports(request.query.getall("ports", []))
    uid = str(pod["metadata"].get("uid", ""))
    sandbox = hashlib.sha256(f"sandbox/{uid}".encode()).hexdigest()
    return Target(sandbox, str((pod.get("status") or {}).get("podIP") or ""), ports)


def _ports(values: list[str]) -> tuple[int, ...]:
    if not values:
        raise status.bad_request('query parameter "port" is required')
    ports = []
    for value in values:
        if not value:
            raise status.bad_request('query parameter "port" cannot be empty')
        for part in value.split(","):
            try:
                port = int(part)
            except ValueError:
                raise status.bad_request(f'unable to parse "{value}" as a port: invalid syntax') from None
            if not 0 < port < 65536:
                raise status.bad_request(f'port "{value}" must be > 0')
            ports.append(port)
    return tuple(ports)


async def serve(request: web.Request, forward: Target) -> web.WebSocketResponse:
    """Upgrade, announce the ports, then relay every port's bytes until either side closes."""
    ws = web.WebSocketResponse(protocols=CHANNEL_PROTOCOLS, autoping=True)
    await ws.prepare(request)
    for index, port in enumerate(forward.ports):
        announce = port.to_bytes(2, "little")
        await ws.send_bytes(bytes([2 * index]) + announce)
        await ws.send_bytes(bytes([2 * index + 1]) + announce)
    streams = [await _dial(ws, forward, index, port) for index, port in enumerate(forward.ports)]
    pumps = [asyncio.ensure_future(_pod_to_client(ws, index, reader)) for index, (reader, _) in _open(streams)]
    try:
        if pumps:
            await _client_to_pod(ws, streams, pumps)
    finally:
        for pump in pumps:
            pump.cancel()
        for stream in streams:
            if stream is not None:
                stream[1].close()
        await ws.close()
    return ws


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter] | None


def _open(streams: list[Stream]) -> list[tuple[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]]]:
    return [(index, stream) for index, stream in enumerate(streams) if stream is not None]


async def _dial(ws: web.WebSocketResponse, forward: Target, index: int, port: int) -> Stream:
    failure = _refusal(forward.address, port)
    if failure is None:
        try:
            return await asyncio.open_connection(forward.address, port)
        except OSError as refused:
            reason = "connection refused" if isinstance(refused, ConnectionRefusedError) else str(refused)
            failure = (
                f"failed to connect to localhost:{port} inside namespace {forward.sandbox!r}, "
                f"IPv4: dial tcp4 127.0.0.1:{port}: connect: {reason}"
            ).replace("'", '"')
    message = f"error forwarding port {port} to pod {forward.sandbox}, uid : {failure}"
    await ws.send_bytes(bytes([2 * index + 1]) + message.encode())
    return None


def _refusal(address: str, port: int) -> str | None:
    """Why the emulator will not dial the pod: it reaches loopback pods only."""
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        return "emulator: the pod has no IP address (is it Running?)"
    if not loopback:
        return f"emulator: pod IP {address} is not a loopback address; the emulator forwards only to loopback pods"
    return None


async def _pod_to_client(ws: web.WebSocketResponse, index: int, reader: asyncio.StreamReader) -> None:
    while chunk := await reader.read(READ_CHUNK):
        await ws.send_bytes(bytes([2 * index]) + chunk)


async def _client_to_pod(ws: web.WebSocketResponse, streams: list[Stream], pumps: list[asyncio.Task[None]]) -> None:
    """Client frames to the pods' ports, until the client closes or every port's connection has ended."""
    receive: asyncio.Future[Any] = asyncio.ensure_future(ws.receive())
    running: set[asyncio.Future[Any]] = set(pumps)
    try:
        while True:
            done, _ = await asyncio.wait([receive, *running], return_when=asyncio.FIRST_COMPLETED)
            running -= done
            if not running:
                return  # every port's connection ended: the kubelet closes the WebSocket
            if receive not in done:
                continue
            message = receive.result()
            if message.type != WSMsgType.BINARY:
                return  # CLOSE, CLOSING, CLOSED, ERROR; text frames are not part of the binary protocol
            data = bytes(message.data)
            if data and data[0] % 2 == 0 and data[0] // 2 < len(streams):
                stream = streams[data[0] // 2]
                if stream is not None and len(data) > 1:
                    stream[1].write(data[1:])
                    await stream[1].drain()
            receive = asyncio.ensure_future(ws.receive())
    finally:
        receive.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receive
