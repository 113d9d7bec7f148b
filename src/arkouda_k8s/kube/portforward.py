"""One forwarded TCP connection to a port inside a pod: pods/{name}/portforward over WebSocket.

The API server's channel protocol (`v4.channel.k8s.io`, binary frames whose first byte is the
channel): for the one port asked for, channel 0 carries its bytes and channel 1 the kubelet's error;
each channel first carries the port, little endian. A WebSocket is one TCP connection in the pod.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from arkouda_k8s.kube import errors

if TYPE_CHECKING:
    import aiohttp

DATA, ERROR = 0, 1  # the channels of the one port (kubernetes_asyncio's WsApiClient asks for v4.channel.k8s.io)


class PortForwardStream:
    """Bytes to and from `port` in the pod; `receive` returns b"" once the pod's side has closed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, where: str) -> None:
        self.ws = ws
        self.where = where

    async def send(self, data: bytes) -> None:
        await self.ws.send_bytes(bytes([DATA]) + data)

    async def receive(self) -> bytes:
        """The next bytes from the pod; b"" at the end; PortForwardFailed with the kubelet's message."""
        import aiohttp

        while True:
            message = await self.ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                frame = bytes(message.data)
                if len(frame) > 1 and frame[0] == DATA:
                    return frame[1:]
                if len(frame) > 1 and frame[0] == ERROR:
                    text = frame[1:].decode(errors="replace")
                    raise errors.PortForwardFailed(f"port-forward to {self.where}: {text}")
                continue  # an empty frame, or a channel we did not ask for
            if message.type == aiohttp.WSMsgType.ERROR:
                raise errors.PortForwardFailed(f"port-forward to {self.where}: {self.ws.exception()}")
            return b""  # CLOSE, CLOSING, CLOSED: the pod's side ended

    async def close(self) -> None:
        await self.ws.close()


async def open_stream(ws_api: Any, pod: str, namespace: str, port: int, timeout: float) -> PortForwardStream:
    """Upgrade to the port-forward WebSocket and read the port's announcement on both channels."""
    import aiohttp
    from kubernetes_asyncio.client import CoreV1Api

    where = f"pod {namespace}/{pod} port {port}"
    connecting = await CoreV1Api(ws_api).connect_get_namespaced_pod_portforward(
        pod, namespace, ports=port, _preload_content=False, _request_timeout=timeout
    )
    # With _preload_content=False the WebSocket client returns aiohttp's ws_connect (typed as str).
    ws: aiohttp.ClientWebSocketResponse = await cast(Any, connecting)
    try:
        announced: set[int] = set()
        while announced != {DATA, ERROR}:
            message = await ws.receive()
            frame = bytes(message.data) if message.type == aiohttp.WSMsgType.BINARY else b""
            if len(frame) != 3 or frame[0] not in (DATA, ERROR) or int.from_bytes(frame[1:], "little") != port:
                raise errors.PortForwardFailed(
                    f"port-forward to {where}: expected the port on channels 0 and 1, got {message.type.name} "
                    f"{frame[:40]!r} (is something between here and the API rewriting WebSockets?)"
                )
            announced.add(frame[0])
    except BaseException:
        await ws.close()
        raise
    return PortForwardStream(ws, where)
