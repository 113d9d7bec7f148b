"""The stand-in's life: locales → bind → banner → serve → stop, each step as the real server does it.

1. `-nl N > 1`: the GASNet ssh spawner starts N locales (spawner.py) and waits until each has
   connected back; a failed ssh SIGTERMs the server (exit status 143), too few hosts aborts (134).
2. Binds the ZMQ REP socket on --ServerPort, on loopback only (127.0.0.1, a loopback
   GASNET_MASTERIP, ARKOUDA_STANDIN_BIND) — the real server binds `tcp://*`, which a test machine
   must not; prints the banner of its era and writes ARKOUDA_SERVER_CONNECTION_INFO.
3. Answers requests (protocol.py) until `shutdown`: reply, remove the connection-info file, stop
   the locales, exit 0. SIGTERM/SIGINT: stop the locales and die of the signal (143/130), leaving
   the file behind like the real process does. A crash (ARKOUDA_STANDIN_CRASH_AFTER) cleans nothing.

`serve` returns how the process must end; cli.main ends it that way once the event loop is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import resource
import secrets
import signal
import socket
import string
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import zmq
import zmq.asyncio

from arkouda_k8s.testing.standin import banner, protocol
from arkouda_k8s.testing.standin.args import ServerArgs
from arkouda_k8s.testing.standin.knobs import Era, Knobs
from arkouda_k8s.testing.standin.locale import resources
from arkouda_k8s.testing.standin.spawner import Cluster, SpawnAbort, SpawnSettings

SHUTDOWN_LINGER_MS = 2000  # time for the shutdown reply to leave before the socket closes
DEFAULT_METRICS_PORT = 5556


@dataclass(frozen=True)
class Ending:
    """How the process ends: an exit code, or death by a signal (what a shell shows as 128 + n)."""

    code: int = 0
    signal: signal.Signals | None = None


def die(ending: Ending) -> NoReturn:
    """End the process as `ending` says; never returns."""
    sys.stdout.flush()
    sys.stderr.flush()
    if ending.signal is None:
        os._exit(ending.code)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file from a test process
    with contextlib.suppress(ValueError, OSError):  # SIGKILL and SIGSTOP have no handler to reset
        signal.signal(ending.signal, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [ending.signal])
    os.kill(os.getpid(), ending.signal)
    os._exit(128 + ending.signal)  # only if the signal did not end us


def metrics_port() -> int:
    return int(os.environ.get("METRICS_SERVER_PORT") or DEFAULT_METRICS_PORT)


def generate_token() -> str:
    # Like arkouda's generateToken(32): 31 characters sampled from letters and digits.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(31))


def bind_addresses(knobs: Knobs) -> list[str]:
    found = ["127.0.0.1"]
    master = os.environ.get("GASNET_MASTERIP", "")
    with contextlib.suppress(ValueError):
        if master and ipaddress.ip_address(master).is_loopback:
            found.append(master)
    found += knobs.bind
    return list(dict.fromkeys(found))


def _endpoint(address: str, port: int) -> str:
    return f"tcp://[{address}]:{port}" if ":" in address else f"tcp://{address}:{port}"


def write_connection_info(path: str, hostname: str, port: int) -> None:
    """ARKOUDA_SERVER_CONNECTION_INFO, as the 2020 server writes it at bind: `<hostname> <port>`.

    Written whole (a temporary file renamed into place) so a reader polling for the file never
    sees it empty or half-written.
    """
    _write_whole(Path(path), f"{hostname} {port}\n")


def _write_whole(target: Path, text: str) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text)
    partial.replace(target)


def remove_connection_info(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        Path(path).unlink()


def write_record(path: str, cluster: Cluster | None, locales: Sequence[protocol.LocaleInfo]) -> None:
    """ARKOUDA_STANDIN_RECORD: what this server received (argv, environment) and what each locale did.

    {"server": {"pid", "argv", "environ"},
     "locales": [{"rank", "host", "name", "pid", "argv", "env" (its -E variables), "spawn_command"}]}
    """
    record: dict[str, Any] = {
        "server": {"pid": os.getpid(), "argv": sys.argv, "environ": dict(os.environ)},
        "locales": cluster.records() if cluster else [{"rank": 0, "name": locales[0].name, "pid": os.getpid()}],
    }
    _write_whole(Path(path), json.dumps(record, indent=1))


class Server:
    def __init__(self, args: ServerArgs, knobs: Knobs, argv: Sequence[str]) -> None:
        self.args = args
        self.knobs = knobs
        self.argv = list(argv)
        self.hostname = knobs.hostname or socket.gethostname()
        self.stop = asyncio.Event()
        self.stop_signal: signal.Signals | None = None
        self.cluster: Cluster | None = None
        self.frozen = False
        self.sockets: list[zmq.asyncio.Socket] = []
        self.context: zmq.asyncio.Context | None = None

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stop_signal is None:
            self.stop_signal = sig
        self.stop.set()

    async def _until_stopped(self, work: asyncio.Future[Any] | None, timeout: float | None = None) -> bool:
        """Wait for `work` (or just `timeout`); False when a stop signal came first."""
        stopper = asyncio.ensure_future(self.stop.wait())
        waiting: set[asyncio.Future[Any]] = {stopper} if work is None else {stopper, work}
        try:
            await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        return not self.stop.is_set()

    async def run(self) -> Ending:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            return await self._run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            for sock in self.sockets:
                sock.close(linger=0)
            if self.cluster is not None:
                await self.cluster.stop()
            if self.context is not None:
                self.context.term()

    def _signalled(self) -> Ending:
        return Ending(signal=self.stop_signal or signal.SIGTERM)

    async def _run(self) -> Ending:
        locales = await self._start_locales()
        if locales is None:
            return self._signalled()
        if self.knobs.record:
            write_record(self.knobs.record, self.cluster, locales)
        if self.knobs.bind_delay and not await self._until_stopped(None, self.knobs.bind_delay):
            return self._signalled()
        era = self.knobs.era
        authenticate = self.args.authenticate and era is not Era.PLAIN  # 2020.7.7 had no authentication
        token = (os.environ.get("ARKOUDA_SERVER_TOKEN") or generate_token()) if authenticate else None
        state = protocol.ServerState(
            era=era,
            port=self.args.server_port,
            hostname=self.hostname,
            locales=locales,
            version_plain=self.knobs.arkouda_version(Era.PLAIN),
            version_json=self.knobs.arkouda_version(Era.JSON),
            authenticate=authenticate,
            token=token,
            log_level=self.args.log_level,
        )
        self.context = zmq.asyncio.Context()
        main = self._bind(self.args.server_port)
        if main is None:
            return Ending(code=1)
        metrics = self._bind(metrics_port()) if self.args.metrics else None
        if self.args.metrics and metrics is None:
            return Ending(code=1)
        self._print_banner(state, json_banner=era is Era.JSON or authenticate)
        info = os.environ.get("ARKOUDA_SERVER_CONNECTION_INFO", "")
        if info:
            write_connection_info(info, self.hostname, self.args.server_port)
        self._arm_knobs()
        tasks = [asyncio.create_task(self._serve_metrics(metrics))] if metrics else []
        try:
            shut_down = await self._serve(main, state)
        finally:
            for task in tasks:
                task.cancel()
        if not shut_down:
            return self._signalled()
        main.close(linger=SHUTDOWN_LINGER_MS)  # the reply must leave before the process does
        self.sockets.remove(main)
        if info:
            remove_connection_info(info)
        return Ending(code=0)

    async def _start_locales(self) -> list[protocol.LocaleInfo] | None:
        own = resources()
        if self.args.num_locales == 1:
            return [protocol.LocaleInfo(0, self.hostname, own["numPUs"], own["maxTaskPar"], own["physicalMemory"])]
        try:
            settings = SpawnSettings.from_env(self.args.num_locales)
        except SpawnAbort as abort:
            print("\n".join(abort.lines), file=sys.stderr, flush=True)
            die(Ending(signal=signal.SIGABRT))
        self.cluster = Cluster(settings, self.argv)
        await self.cluster.start()
        if not await self._until_stopped(asyncio.ensure_future(self.cluster.ready.wait())):
            return None
        locales = []
        for loc in self.cluster.locales:
            hello = loc.hello or {}
            name = self.hostname if loc.rank == 0 else str(hello.get("name") or loc.host)
            locales.append(
                protocol.LocaleInfo(
                    loc.rank,
                    name,
                    int(hello.get("numPUs", own["numPUs"])),
                    int(hello.get("maxTaskPar", own["maxTaskPar"])),
                    int(hello.get("physicalMemory", own["physicalMemory"])),
                )
            )
        return locales

    def _bind(self, port: int) -> zmq.asyncio.Socket | None:
        assert self.context is not None
        sock = self.context.socket(zmq.REP)
        self.sockets.append(sock)
        addresses = bind_addresses(self.knobs)
        if any(":" in a or a == "*" for a in addresses):
            sock.setsockopt(zmq.IPV6, 1)
        for address in addresses:
            try:
                sock.bind(_endpoint(address, port))
            except zmq.ZMQError as failed:
                reason = zmq.strerror(failed.errno or 0)
                print(
                    f"arkouda_server: error: cannot listen on tcp://{address}:{port}: {reason}",
                    file=sys.stderr,
                    flush=True,
                )
                return None
        return sock

    def _print_banner(self, state: protocol.ServerState, *, json_banner: bool) -> None:
        memory = state.locales[0].physical_memory
        port, mem_track, mem_limit = self.args.server_port, self.args.mem_track, int(memory * 0.9)
        if json_banner:
            lines = banner.banner_2021(
                version=state.version_json,
                hostname=self.hostname,
                port=port,
                token=state.token,
                mem_track=mem_track,
                mem_limit=mem_limit,
                mem_used=protocol.INITIAL_MEMORY_USED,
            )
        else:
            lines = banner.banner_2020(
                version=state.version_plain,
                hostname=self.hostname,
                port=port,
                mem_track=mem_track,
                mem_limit=mem_limit,
                mem_used=protocol.INITIAL_MEMORY_USED,
            )
        print("\n".join(lines), flush=True)

    def _arm_knobs(self) -> None:
        loop = asyncio.get_running_loop()
        if self.knobs.crash_after is not None:
            loop.call_later(self.knobs.crash_after, die, Ending(signal=self.knobs.crash_signal))
        if self.knobs.freeze_after is not None:
            loop.call_later(self.knobs.freeze_after, setattr, self, "frozen", True)

    async def _serve(self, sock: zmq.asyncio.Socket, state: protocol.ServerState) -> bool:
        """Answer requests; True after a `shutdown`, False when a signal stopped the server."""
        while True:
            receiving = asyncio.ensure_future(sock.recv_multipart())
            if not await self._until_stopped(receiving):
                receiving.cancel()
                return False
            frames = receiving.result()
            if self.frozen:  # the knob: alive and bound, answering nothing
                await self._until_stopped(None)
                return False
            outcome = protocol.handle(state, frames[0])
            if self.args.trace:
                print("\n".join(outcome.log), flush=True)
            await sock.send(outcome.reply)
            if outcome.shutdown:
                return True

    async def _serve_metrics(self, sock: zmq.asyncio.Socket) -> None:
        port = metrics_port()
        while True:
            frames = await sock.recv_multipart()
            await sock.send(protocol.handle_metrics(port, frames[0]))
