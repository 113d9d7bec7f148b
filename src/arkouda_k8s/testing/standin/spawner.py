"""The GASNet udp ssh spawner (GASNET_SPAWNFN=S), as the real one behaves (../arkouda-golden/gasnet-ssh-spawner.md).

For `-nl N` it takes the first N hosts of GASNET_SSH_SERVERS (or SSH_SERVERS; separators ` ,/;:`),
and for EACH of them — the first host, the server's own, included, as the real spawner does — runs

    $GASNET_SSH_CMD -o 'StrictHostKeyChecking no' -o 'FallBackToRsh no' $GASNET_SSH_OPTIONS <host> \
        "cd '<cwd>' ; <python> -m arkouda_k8s.testing.standin.locale … -E NAME=value …"

The spawner's own `-o` options come BEFORE the user's (only when the command answers `-V` as
OpenSSH, like the real check), and ssh keeps the first value of an option, so StrictHostKeyChecking
given in GASNET_SSH_OPTIONS is ignored: host-key pinning only works through a GASNET_SSH_CMD wrapper
that puts its options first. The whole environment goes onto the remote command line as
`-E NAME=value`, like the real launcher does (see locale.py for where to inspect it).

When an ssh fails (unreachable host, refused key, host-key check) or a locale dies later, the real
spawner's shell runs `echo "connection to <host> failed." ; kill <server pid>`: the same here —
the message on stdout, then SIGTERM to the server, which stops its locales and dies of it (143).
Too few hosts: the GASNet messages on stderr and an abort (134). GASNET_SPAWNFN=L starts the
locales on this machine without ssh.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SEPARATORS = " ,/;:"
LOCALE_MODULE = "arkouda_k8s.testing.standin.locale"
SPAWNER_OPTIONS = ["-o", "StrictHostKeyChecking no", "-o", "FallBackToRsh no"]
FATAL_SPAWN = "*** FATAL ERROR: Error spawning SPMD worker threads. Exiting..."
STOP_GRACE = 3.0  # seconds for locales to leave on their own before their ssh is signalled


class SpawnAbort(Exception):
    """The spawner cannot start: the lines GASNet prints (stderr) before it aborts (exit status 134)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _getenv(env: Mapping[str, str], name: str, default: str = "") -> str:
    # GASNet looks for the prefixed names first (GASNET_, AMUDP_), then the bare one.
    for key in (f"GASNET_{name}", f"AMUDP_{name}", name):
        value = env.get(key, "")
        if value:
            return value
    return default


@dataclass(frozen=True)
class SpawnSettings:
    spawnfn: str
    servers: list[str]  # the first N hosts
    servers_text: str  # as given, for the messages
    ssh_cmd: str
    ssh_options: str
    remote_path: str
    master_ip: str  # where locales connect back: GASNET_MASTERIP when it is loopback, else 127.0.0.1

    @classmethod
    def from_env(cls, num_locales: int, env: Mapping[str, str] | None = None) -> SpawnSettings:
        env = os.environ if env is None else env
        spawnfn = (env.get("GASNET_SPAWNFN", "") or "S").strip().upper()[:1]
        if spawnfn not in ("S", "L"):
            raise SpawnAbort(
                [
                    f"*** GASNET ERROR: the arkouda_server stand-in supports GASNET_SPAWNFN=S (ssh) or L (local), "
                    f"not {env.get('GASNET_SPAWNFN')!r}",
                    FATAL_SPAWN,
                ]
            )
        text = _getenv(env, "SSH_SERVERS")
        servers = [s for s in re.split(f"[{re.escape(SEPARATORS)}]+", text) if s]
        if spawnfn == "S":
            if not text.strip():
                raise SpawnAbort(["*** GASNET ERROR: Environment variable SSH_SERVERS is missing.", FATAL_SPAWN])
            if len(servers) < num_locales:
                raise SpawnAbort(
                    [
                        "*** GASNET ERROR: Not enough machines in environment variable SSH_SERVERS to satisfy "
                        f"request for ({num_locales}).",
                        f"Only ({len(servers)}) machines available: {text}",
                        FATAL_SPAWN,
                    ]
                )
        return cls(
            spawnfn=spawnfn,
            servers=servers[:num_locales] if spawnfn == "S" else ["localhost"] * num_locales,
            servers_text=text,
            ssh_cmd=_getenv(env, "SSH_CMD", "ssh"),
            ssh_options=_getenv(env, "SSH_OPTIONS"),
            remote_path=_getenv(env, "SSH_REMOTE_PATH", os.getcwd()),
            master_ip=_loopback_or_default(env.get("GASNET_MASTERIP", "")),
        )


def _loopback_or_default(address: str) -> str:
    try:
        return address if ipaddress.ip_address(address).is_loopback else "127.0.0.1"
    except ValueError:
        return "127.0.0.1"


def is_openssh(ssh_cmd: str) -> bool:
    """The real spawner's check (`$SSH_CMD -V 2>&1 | grep OpenSSH`): its -o options go in only for OpenSSH."""
    try:
        done = subprocess.run(
            [*shlex.split(ssh_cmd), "-V"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return False
    return "OpenSSH" in done.stdout + done.stderr


def locale_command(rank: int, host: str, master: str, server_argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    command = [sys.executable, "-m", LOCALE_MODULE, f"--rank={rank}", f"--host={host}", f"--master={master}"]
    command += server_argv
    for name, value in env.items():
        command += ["-E", f"{name}={value}"]
    return command


def ssh_command(settings: SpawnSettings, host: str, remote: Sequence[str], *, openssh: bool) -> list[str]:
    # The real spawner builds one /bin/sh line from these strings: the command and the options are
    # split into words like a shell splits them (quotes honoured), the remote command is one word.
    line = f"cd {shlex.quote(settings.remote_path)} ; " + " ".join(shlex.quote(word) for word in remote)
    own = SPAWNER_OPTIONS if openssh else []
    return [*shlex.split(settings.ssh_cmd), *own, *shlex.split(settings.ssh_options), host, line]


@dataclass
class Locale:
    rank: int
    host: str
    command: list[str]
    process: asyncio.subprocess.Process | None = None
    hello: dict[str, Any] | None = None
    writer: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    reported: bool = False

    def record(self) -> dict[str, Any]:
        hello = self.hello or {}
        return {
            "rank": self.rank,
            "host": self.host,
            "name": hello.get("name"),
            "pid": hello.get("pid"),
            "argv": hello.get("argv"),
            "env": hello.get("env"),
            "spawn_command": self.command,
        }


class Cluster:
    """The N locales of one server: started, watched, stopped."""

    def __init__(self, settings: SpawnSettings, server_argv: Sequence[str]) -> None:
        self.settings = settings
        self.server_argv = list(server_argv)
        self.locales: list[Locale] = []
        self.ready = asyncio.Event()
        self.stopping = False
        self._signalled = False
        self._killing = False  # the server signals the ssh processes that are left: their exits are its doing
        self._listener: asyncio.Server | None = None

    async def start(self) -> None:
        """Start every locale; `ready` is set once each has connected back (a failure SIGTERMs the server)."""
        self._listener = await asyncio.start_server(self._connected, host=self.settings.master_ip, port=0)
        port = self._listener.sockets[0].getsockname()[1]
        master = f"{self.settings.master_ip}:{port}"
        env = dict(os.environ)
        openssh = self.settings.spawnfn == "S" and await asyncio.to_thread(is_openssh, self.settings.ssh_cmd)
        for rank, host in enumerate(self.settings.servers):
            remote = locale_command(rank, host, master, self.server_argv, env)
            command = (
                remote if self.settings.spawnfn == "L" else ssh_command(self.settings, host, remote, openssh=openssh)
            )
            self.locales.append(Locale(rank, host, command))
        for locale in self.locales:
            locale.process = await asyncio.create_subprocess_exec(*locale.command, stdin=asyncio.subprocess.DEVNULL)
            locale.tasks.append(asyncio.create_task(self._watch_process(locale)))

    async def _watch_process(self, locale: Locale) -> None:
        assert locale.process is not None
        code = await locale.process.wait()
        if code != 0:
            self._failed(locale, ssh_exit=True)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 30)
            hello = json.loads(line)
            locale = self.locales[int(hello["rank"])]
        except (ValueError, KeyError, IndexError, TypeError, TimeoutError, OSError):
            writer.close()
            return
        if locale.hello is not None or self.stopping:
            writer.close()
            return
        locale.hello, locale.writer = hello, writer
        if all(loc.hello is not None for loc in self.locales):
            self.ready.set()
        with contextlib.suppress(OSError):
            while await reader.read(4096):
                pass
        if not self.stopping:  # the locale went away while the server runs
            self._failed(locale)

    def _failed(self, locale: Locale, *, ssh_exit: bool = False) -> None:
        """What the real spawner's shell does when an ssh exits non-zero: say so, then SIGTERM the server.

        Each failed host says so (several fail at once with a refused key), the server is signalled
        once. While the server stops, a closed locale connection is expected, but an ssh failing by
        itself (before the server signals what is left) is still a failure and still says so.
        """
        if locale.reported or self._killing or (self.stopping and not ssh_exit):
            return
        locale.reported = True
        print(f"connection to {locale.host} failed.", flush=True)
        if not self._signalled and not self.stopping:
            self._signalled = True
            os.kill(os.getpid(), signal.SIGTERM)

    def records(self) -> list[dict[str, Any]]:
        return [locale.record() for locale in self.locales]

    async def stop(self) -> None:
        """Close every locale's connection (they leave), then signal what is left of their ssh, by pid."""
        self.stopping = True
        if self._listener is not None:
            self._listener.close()
        for locale in self.locales:
            if locale.writer is not None:
                locale.writer.close()
        processes = [loc.process for loc in self.locales if loc.process is not None]
        waiting = [asyncio.ensure_future(p.wait()) for p in processes if p.returncode is None]
        if waiting:
            await asyncio.wait(waiting, timeout=STOP_GRACE)
        self._killing = True
        for sig, grace in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 5.0)):
            left = [p for p in processes if p.returncode is None]
            for process in left:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)
            if left:
                await asyncio.wait([asyncio.ensure_future(p.wait()) for p in left], timeout=grace)
        for locale in self.locales:
            for task in locale.tasks:
                task.cancel()
        for future in waiting:
            future.cancel()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.wait_closed(), 1.0)
