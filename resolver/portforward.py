"""Out of the cluster: a local port that reaches the server pod through the API, like kubectl port-forward.

    forwarder = forward(config, "team-a", "arkouda-server-0", 5555)   # listening on 127.0.0.1:<port>
    arkouda.connect(server="127.0.0.1", port=forwarder.local_port)

Each connection accepted on 127.0.0.1 (never another interface) becomes one pods/portforward
WebSocket to the pod's port, through the one API layer. The forwarder runs on a daemon thread with
an event loop of its own, so it outlives the call that resolved the server (the arkouda client keeps
its connection for the session) and serves synchronous and asynchronous callers alike. One forwarder
per (API, namespace, pod, port) is kept and reused; `close_all()` stops them.

A forwarder whose pod is gone stops listening: the API refused a connection (the pod deleted, the
permission taken away, the API down past the deadline), or three connections in a row reached nothing
(the server in the pod not listening). The client's reconnects then meet a closed local port instead
of turning into API requests, and the next connect() resolves again and forwards to the new pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.kube import ApiConfig, ApiError, KubeClient
from arkouda_k8s.kube.portforward import PortForwardStream

START_TIMEOUT = 10.0  # seconds for the thread to open its listener
CHUNK = 64 * 1024
TLS_CLOSE_GRACE = 0.25
FAILURES_IN_ROW = 3  # connections that reached nothing, in a row: the forwarder stops listening


@dataclass(frozen=True)
class Target:
    host: str  # the API server
    namespace: str
    pod: str
    port: int

    def describe(self) -> str:
        return f"pod {self.namespace}/{self.pod} port {self.port}"


class Forwarder:
    """127.0.0.1:`local_port` → `target`, one port-forward WebSocket per accepted connection."""

    def __init__(self, config: ApiConfig, target: Target) -> None:
        self.config = config
        self.target = target
        self.local_port = 0
        self.failures_in_row = 0
        self.last_error: str | None = None  # the last failure of a forwarded connection
        self._writers: set[asyncio.StreamWriter] = set()  # every accepted connection not closed yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=f"arkouda-k8s-forward-{target.pod}", daemon=True)
        self._log = logs.get_logger("resolver")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self._stop is not None and not self._stop.is_set()

    def start(self) -> Forwarder:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise TimeoutError(f"port-forward to {self.target.describe()}: no local listener within {START_TIMEOUT} s")
        if self._failed is not None:
            raise self._failed
        return self

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(START_TIMEOUT)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as failed:  # handed to start(), which raises it
            self._failed = failed
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with KubeClient(self.config, component="resolver") as kube:
            server = await asyncio.start_server(lambda r, w: self._accepted(kube, r, w), "127.0.0.1", 0)
            self.local_port = int(server.sockets[0].getsockname()[1])
            self._log.info("port_forward_listening", local=f"127.0.0.1:{self.local_port}", to=self.target.describe())
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                server.close()
                await self._end_connections()
                await server.wait_closed()
        # The API connections are TLS: closing one is a close_notify exchange with the API server, which
        # needs the loop a little longer (aiohttp's graceful-shutdown advice: 250 ms) — a WebSocket whose
        # handshake was cancelled above would otherwise outlive this loop, unclosed.
        await asyncio.sleep(TLS_CLOSE_GRACE)

    async def _end_connections(self) -> None:
        """Connections in flight end with the forwarder: their handlers, the accepts asyncio still had in
        progress (tasks of this loop), and the writers of connections whose handler never got to run."""
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()
        for _ in range(3):  # a closed transport finishes closing (connection_lost) on a later iteration
            await asyncio.sleep(0)

    def _accepted(
        self, kube: KubeClient, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Coroutine[Any, Any, None]:
        """Called as the connection is accepted (before its handler task runs): keep its writer to close."""
        self._writers.add(writer)
        return self._forward(kube, reader, writer)

    async def _forward(self, kube: KubeClient, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._relay(kube, reader, writer)
        finally:
            writer.close()
            self._writers.discard(writer)

    async def _relay(self, kube: KubeClient, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            stream = await kube.port_forward(self.target.pod, self.target.port, self.target.namespace)
        except ApiError as refused:
            self._failed_connection(str(refused), fatal=True)
            return  # _forward closes the local connection
        try:
            async with asyncio.TaskGroup() as group:
                upstream = group.create_task(self._to_pod(reader, stream))
                downstream = group.create_task(self._to_client(stream, writer))
                # Either direction ending ends the connection (arkouda's ZMQ never half-closes).
                await asyncio.wait([upstream, downstream], return_when=asyncio.FIRST_COMPLETED)
                upstream.cancel()
                downstream.cancel()
        except* ApiError as failed:
            self._failed_connection(str(failed.exceptions[0]))
        except* OSError:
            pass  # the local client went away
        finally:
            await stream.close()

    @staticmethod
    async def _to_pod(reader: asyncio.StreamReader, stream: PortForwardStream) -> None:
        while data := await reader.read(CHUNK):
            await stream.send(data)

    async def _to_client(self, stream: PortForwardStream, writer: asyncio.StreamWriter) -> None:
        while data := await stream.receive():
            self.failures_in_row = 0  # the server answered through this forward
            writer.write(data)
            await writer.drain()

    def _failed_connection(self, why: str, *, fatal: bool = False) -> None:
        self.last_error = why
        self.failures_in_row += 1
        self._log.warning("port_forward_failed", to=self.target.describe(), error=why)
        if (fatal or self.failures_in_row >= FAILURES_IN_ROW) and self._stop is not None:
            self._log.warning("port_forward_stopped", to=self.target.describe(), local=f"127.0.0.1:{self.local_port}")
            self._stop.set()


_FORWARDERS: dict[Target, Forwarder] = {}
_LOCK = threading.Lock()


def forward(config: ApiConfig, namespace: str, pod: str, port: int) -> Forwarder:
    """The running forwarder to pod:port (started on first use, reused after)."""
    target = Target(config.host, namespace, pod, port)
    with _LOCK:
        existing = _FORWARDERS.get(target)
        if existing is not None and existing.alive:
            return existing
        started = Forwarder(config, target).start()
        _FORWARDERS[target] = started
        return started


def by_local_port(port: int) -> Forwarder | None:
    """The forwarder that listens (or listened, if it has stopped) on 127.0.0.1:port."""
    with _LOCK:
        return next((f for f in _FORWARDERS.values() if f.local_port == port), None)


def close_all() -> None:
    """Stop every forwarder of this process (their connections end)."""
    with _LOCK:
        forwarders = list(_FORWARDERS.values())
        _FORWARDERS.clear()
    for forwarder in forwarders:
        forwarder.close()
