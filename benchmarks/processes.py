"""The processes a benchmark starts: the arkouda_server stand-in and the real `arkouda-k8s register`.

- `Standin`: `arkouda-server-standin -nl 1 --ServerPort=P` on 127.0.0.1; `bound_at` is the
  time.monotonic() at which its banner line (`server listening on …`, printed right after the bind)
  was read from its stdout.
- `RegistrarProcess`: `python -m arkouda_k8s register` (what the console script runs) with the
  environment a chart gives the sidecar; its log goes to a file; `terminate()` sends a real SIGTERM and
  `exited` gives (exit status, time.monotonic() of the exit).
- `rss_mb(pid)`: VmRSS from /proc/<pid>/status.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from benchmarks.cluster import BenchmarkError

BANNER = "server listening on "
STARTUP_TIMEOUT = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def base_environment(**more: str) -> dict[str, str]:
    """A small explicit environment: nothing of the caller's (KUBECONFIG, ARKOUDA_*) leaks into a run."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    return {**env, **more}


def standin_command() -> list[str]:
    script = Path(sys.executable).parent / "arkouda-server-standin"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "arkouda_k8s.testing.standin"]


def wall(monotonic: float) -> float:
    """The time.time() of a time.monotonic() instant (both clocks read now: good to microseconds)."""
    return time.time() - (time.monotonic() - monotonic)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0  # kB
    raise BenchmarkError(f"/proc/{pid}/status has no VmRSS line (is {pid} a zombie?)")


class Standin:
    def __init__(self, port: int, log: Path, knobs: Mapping[str, str] | None = None) -> None:
        self.port = port
        self.log = log
        self.knobs = dict(knobs or {})
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[tuple[float, str]] = []
        self.bound_at: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> Standin:
        self.process = await asyncio.create_subprocess_exec(
            *standin_command(),
            "-nl",
            "1",
            f"--ServerPort={self.port}",
            env=base_environment(**self.knobs),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            now = time.monotonic()  # first thing: the moment the banner arrived
            if not line:
                break
            text = line.decode(errors="replace").rstrip("\n")
            self.lines.append((now, text))
            if BANNER in text and not self.bound_at.done():
                self.bound_at.set_result(now)
        if not self.bound_at.done():
            output = "\n".join(t for _, t in self.lines)
            self.bound_at.set_exception(
                BenchmarkError(f"the stand-in on port {self.port} ended before binding:\n{output}")
            )

    async def wait_bound(self, timeout: float = STARTUP_TIMEOUT) -> float:
        try:
            return await asyncio.wait_for(asyncio.shield(self.bound_at), timeout)
        except TimeoutError:
            raise BenchmarkError(f"the stand-in on port {self.port} printed no banner within {timeout:g} s") from None

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        if self._reader is not None:
            await self._reader
        self.log.write_text("\n".join(f"{t:.6f} {line}" for t, line in self.lines) + "\n")


class RegistrarProcess:
    """The real registrar sidecar, `python -m arkouda_k8s register`, publishing 127.0.0.1:<port>'s server."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = base_environment(**env)
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.exited: asyncio.Future[tuple[int, float]] = asyncio.get_running_loop().create_future()
        self._waiter: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> RegistrarProcess:
        with open(self.log, "ab") as out:  # noqa: ASYNC230  (opened once, the child writes to it)
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "arkouda_k8s",
                "register",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self._waiter = asyncio.create_task(self._wait())
        return self

    async def _wait(self) -> None:
        assert self.process is not None
        code = await self.process.wait()
        self.exited.set_result((code, time.monotonic()))

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def events(self) -> dict[str, float]:
        """The time.time() of the first log line of each event ("server_answering", "published", ...)."""
        found: dict[str, float] = {}
        for line in self.log_tail(1_000_000).splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                stamp = datetime.datetime.fromisoformat(entry["timestamp"]).timestamp()
                found.setdefault(str(entry["event"]), stamp)
        return found

    def terminate(self) -> float:
        """A real SIGTERM; returns the time.monotonic() just before it was sent."""
        assert self.process is not None
        now = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        return now

    async def wait_exit(self, timeout: float = 30.0) -> tuple[int, float]:
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), timeout)
        except TimeoutError:
            raise BenchmarkError(
                f"the registrar (pid {self.pid}) did not exit within {timeout:g} s; its log:\n{self.log_tail()}"
            ) from None

    async def kill(self) -> None:
        """Whatever state it is in: SIGKILL its group and reap it (clean-up after a failed run)."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self._waiter is not None:
            await self._waiter
