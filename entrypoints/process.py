"""A child process the entrypoint runs and answers for: arkouda_server, or sshd.

Its output is passed through unchanged (operators read the server's own log) while the last lines
are kept, so a failure can be reported with what the process said. It runs in its own process
group, so stopping it also stops what it started (GASNet's ssh children); the stop escalates
from a polite request to SIGTERM to SIGKILL, each bounded by the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import BinaryIO

from arkouda_k8s import logs


class ChildProcess:
    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        tail_lines: int = 40,
    ) -> None:
        self.name = name
        self.command = command
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self._tail: deque[str] = deque(maxlen=tail_lines)
        self._pumps: list[asyncio.Task[None]] = []
        self.log = logs.get_logger("entrypoint", child=name)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process else None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._pumps = [
            asyncio.create_task(self._pump(self.process.stdout, sys.stdout.buffer)),
            asyncio.create_task(self._pump(self.process.stderr, sys.stderr.buffer)),
        ]
        self.log.info("child_started", pid=self.process.pid, command=logs.scrub(" ".join(self.command)))

    async def _pump(self, source: asyncio.StreamReader, sink: BinaryIO) -> None:
        while line := await source.readline():
            # Scrubbed: arkouda_server prints its token in its banner (`…?token=…`) with --authenticate.
            text = logs.scrub(line.decode(errors="replace"))
            self._tail.append(text.rstrip("\n"))
            with contextlib.suppress(OSError, ValueError):
                sink.write(text.encode())
                sink.flush()

    async def wait(self) -> int:
        assert self.process is not None
        code = await self.process.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        return code

    def tail(self, lines: int = 12) -> str:
        return "\n".join(list(self._tail)[-lines:])

    def signal_group(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    async def stop(self, deadline: float, *, ask: Callable[[], Awaitable[object]] | None = None) -> int | None:
        """Stop it by the deadline: `ask` (e.g. a ZMQ shutdown) first, then SIGTERM, then SIGKILL."""
        if self.process is None:
            return None
        loop = asyncio.get_running_loop()
        if ask is not None and self.process.returncode is None:
            half = max(0.1, (deadline - loop.time()) / 2)
            try:
                async with asyncio.timeout(half):
                    await ask()
            except Exception as failed:  # a server that does not answer is stopped by signals
                self.log.info("shutdown_request_failed", error=str(failed) or type(failed).__name__)
            await self._exited_by(loop.time() + max(0.1, (deadline - loop.time()) / 2))
        if self.process.returncode is None:
            self.log.info("child_signalled", signal="SIGTERM", pid=self.process.pid)
            self.signal_group(signal.SIGTERM)
            await self._exited_by(max(deadline - 0.5, loop.time() + 0.2))
        if self.process.returncode is None:
            self.log.warning("child_signalled", signal="SIGKILL", pid=self.process.pid)
        # SIGKILL the whole group in any case: children may outlive the leader (GASNet's ssh sessions).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self._exited_by(loop.time() + 5.0)
        return self.process.returncode

    async def _exited_by(self, when: float) -> None:
        assert self.process is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(when):
                await self.wait()
