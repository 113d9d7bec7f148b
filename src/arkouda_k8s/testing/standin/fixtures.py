"""pytest fixtures of the arkouda_server stand-in (entry point `arkouda_k8s_standin`).

- `standin`: a stand-in (`-nl 1`, both protocols) on a free port of 127.0.0.1, started as a
  subprocess, its banner seen; stopped at teardown. A `StandinProcess`: `.host`, `.port`,
  `.process` (the Popen), `.stdout_lines` / `.stderr_lines` (collected as they come),
  `.wait_for_line(text)`, `.stop()`.
- `standin_factory`: `start(*args, env={...}, wait=True)` for other arguments and knobs
  (`env={"ARKOUDA_STANDIN_PROTOCOL": "2020"}`); every process it started is stopped at teardown.
- `start_standin(...)`: the same helper, importable, for code outside pytest (the caller stops it).

Nothing here imports pyzmq: this module is loaded by every pytest run as a plugin.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

import pytest

BANNER = "server listening on "
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL at teardown
_BIND_ATTEMPTS = 3


def standin_command() -> list[str]:
    """The console script beside this Python, or `python -m arkouda_k8s.testing.standin`."""
    script = Path(sys.executable).parent / "arkouda-server-standin"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "arkouda_k8s.testing.standin"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (another process may still take it: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class StandinFailed(RuntimeError):
    """The stand-in exited or did not print its banner in time; the message holds its output."""


class StandinProcess:
    """One stand-in subprocess, its output collected line by line as it comes."""

    def __init__(self, command: list[str], env: Mapping[str, str], host: str, port: int, cwd: Path | None) -> None:
        self.command = command
        self.host = host
        self.port = port
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._changed = threading.Condition()
        # Its own session: stopping it also stops its ssh children (the group), by the leader's pid.
        self.process = subprocess.Popen(
            command,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout_lines), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr_lines), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], lines: list[str]) -> None:
        with stream:
            for line in stream:
                with self._changed:
                    lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    def output(self) -> str:
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"

    def wait_for_line(self, text: str, *, timeout: float = 30.0, stream: str = "stdout") -> str:
        """The first line holding `text` (waiting for it); StandinFailed if the process ends or time runs out."""
        lines = self.stdout_lines if stream == "stdout" else self.stderr_lines
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in lines if text in line), None)
                if found is not None:
                    return found
                finished = self.process.poll() is not None and not any(r.is_alive() for r in self._readers)
                if finished:
                    raise StandinFailed(
                        f"the stand-in exited with {self.process.returncode} before printing {text!r}\n{self.output()}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StandinFailed(f"the stand-in did not print {text!r} within {timeout:g} s\n{self.output()}")
                self._changed.wait(min(remaining, 0.1))

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the exit (and the end of its output); the exit status as Popen gives it (-15 = SIGTERM)."""
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        return code

    def signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def stop(self, grace: float = STOP_GRACE) -> int:
        """SIGTERM, then SIGKILL to its process group after `grace` seconds; returns the exit status."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # what is left of the group (ssh children)
        return self.wait(grace)


def start_standin(
    *args: str,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    wait: bool = True,
    timeout: float = 30.0,
    cwd: Path | None = None,
    inherit_env: bool = True,
) -> StandinProcess:
    """Start a stand-in; with `wait`, return once its banner is printed (retrying if the free port was taken).

    `args` are arkouda_server's own (default `-nl 1`); `--ServerPort=` is added unless given.
    `env` is added to this process's environment (or replaces it with inherit_env=False).
    """
    base = dict(os.environ) if inherit_env else {}
    full_env = {**base, **(env or {})}
    given_port = port or next((int(a.split("=", 1)[1]) for a in args if a.startswith("--ServerPort=")), None)
    arguments = list(args) or ["-nl", "1"]
    for attempt in range(_BIND_ATTEMPTS):
        chosen = given_port or free_port(host)
        command = standin_command() + arguments
        if not any(a.startswith("--ServerPort=") for a in arguments):
            command.append(f"--ServerPort={chosen}")
        started = StandinProcess(command, full_env, host, chosen, cwd)
        if not wait:
            return started
        try:
            started.wait_for_line(BANNER, timeout=timeout)
        except StandinFailed:
            lost_race = "cannot listen" in started.stderr and given_port is None
            if lost_race and attempt + 1 < _BIND_ATTEMPTS:
                started.wait(timeout)
                continue
            started.stop()
            raise
        return started
    raise AssertionError("unreachable")  # pragma: no cover


class StartStandin(Protocol):
    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = ...,
        host: str = ...,
        port: int | None = ...,
        wait: bool = ...,
        timeout: float = ...,
        cwd: Path | None = ...,
        inherit_env: bool = ...,
    ) -> StandinProcess: ...


@pytest.fixture
def standin_factory() -> Iterator[StartStandin]:
    """`start(*args, env=..., wait=True)` → StandinProcess; every one started is stopped at teardown."""
    started: list[StandinProcess] = []

    def start(
        *args: str,
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        wait: bool = True,
        timeout: float = 30.0,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> StandinProcess:
        process = start_standin(
            *args, env=env, host=host, port=port, wait=wait, timeout=timeout, cwd=cwd, inherit_env=inherit_env
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def standin(standin_factory: StartStandin) -> StandinProcess:
    """A single-locale stand-in speaking both protocols on a free port of 127.0.0.1, banner printed."""
    return standin_factory()


__all__: Sequence[str] = [
    "StandinFailed",
    "StandinProcess",
    "free_port",
    "standin",
    "standin_command",
    "standin_factory",
    "start_standin",
]
