"""The soak (`pytest -m soak`, ~10 minutes): a published server under token rotation every 60 s, watch resets
every 30 s (every other one a 410 after compaction) and health flaps (the stand-in stopped with SIGSTOP for a
while, then continued), two ways at once:

- the real server entrypoint (loopback locale pod, real sshd, the stand-in over ssh): its file descriptors,
  sockets, threads and RSS sampled with psutil;
- the registrar in this process with its real ZMQ probe against a stand-in: its asyncio tasks and this
  process's file descriptors counted.

The API is sampled every second for each: exactly one slice of ours, the pod's address, ready exactly when
the server answers (outside a short grace after each flap), nothing foreign. At the end both withdraw
cleanly. ARKOUDA_K8S_SOAK_SECONDS shortens the run (the periods scale with it) for a local try.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from arkouda_k8s.errors import ExitCode
from arkouda_k8s.registrar.health import ZmqProbe
from arkouda_k8s.testing.pods import PodProcess
from arkouda_k8s.testing.standin.fixtures import start_standin

from .kit import SA_USER, STATS, Cluster, open_cluster
from .processes import descendants, open_process_bed, wait_exit

SOAK_SECONDS = float(os.environ.get("ARKOUDA_K8S_SOAK_SECONDS", "600"))
SCALE = SOAK_SECONDS / 600
ROTATE_EVERY = max(6.0, 60 * SCALE)
RESET_EVERY = max(3.0, 30 * SCALE)
FLAP_EVERY = max(8.0, 45 * SCALE)
FROZEN_FOR = 6.0
GRACE = 4.0  # seconds after a flap before readiness must match: 2 failed probes of 0.5 s + timeouts + a write
WARM_UP = min(60.0, SOAK_SECONDS / 5)
PROBE_ENV = {"PROBE_PERIOD": "0.5", "PROBE_FAILURES": "2", "PROBE_TIMEOUT": "0.5", "RECONCILE_PERIOD": "5"}


@dataclass
class Run:
    """One soaked target: what happened to it, and what was seen."""

    name: str
    cluster: Cluster
    freeze: Callable[[], None]
    thaw: Callable[[], None]
    measure: Callable[[], dict[str, float]]
    frozen: bool = False
    changed_at: float = 0.0
    samples: int = 0
    violations: list[str] = field(default_factory=list)
    rotations: int = 0
    resets: int = 0
    flaps: int = 0
    resources: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(what)


async def _sample_api(run: Run, started: float) -> None:
    loop = asyncio.get_running_loop()
    cluster = run.cluster
    slices = await cluster.our_slices()
    run.samples += 1
    at = round(loop.time() - started, 1)
    if len(slices) != 1:
        run.note(f"{at} s: {len(slices)} slices of ours")
        return
    if loop.time() - run.changed_at < GRACE:
        return  # a flap just happened: the registrar is allowed its probes
    problems = await cluster.audit(published=True, ready=not run.frozen)
    if problems:
        run.note(f"{at} s (server {'frozen' if run.frozen else 'answering'}): {problems}")


async def _soak(runs: list[Run]) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    next_rotation = started + ROTATE_EVERY
    next_reset = started + RESET_EVERY
    next_flap = started + FLAP_EVERY
    thaw_at: float | None = None
    resets = 0
    next_measure = started
    while (now := loop.time()) < started + SOAK_SECONDS:
        if now >= next_rotation:
            next_rotation += ROTATE_EVERY
            for run in runs:
                run.cluster.rotate()
                run.rotations += 1
        if now >= next_reset:
            next_reset += RESET_EVERY
            resets += 1
            for run in runs:
                if resets % 2:
                    run.cluster.emulator.faults.end_watches()
                else:  # the 200-then-ERROR-410 form
                    await run.cluster.emulator.create(
                        {
                            "apiVersion": "v1",
                            "kind": "ConfigMap",
                            "metadata": {"name": f"tick-{resets}", "namespace": "default"},
                        }
                    )
                    run.cluster.emulator.faults.compact()
                    run.cluster.emulator.faults.end_watches()
                run.resets += 1
        if thaw_at is None and now >= next_flap:
            next_flap += FLAP_EVERY
            thaw_at = now + FROZEN_FOR
            for run in runs:
                run.freeze()
                run.frozen, run.changed_at, run.flaps = True, now, run.flaps + 1
        if thaw_at is not None and now >= thaw_at:
            thaw_at = None
            for run in runs:
                run.thaw()
                run.frozen, run.changed_at = False, now
        if now >= next_measure:
            next_measure += 5.0
            for run in runs:
                run.resources.append((now - started, run.measure()))
        for run in runs:
            await _sample_api(run, started)
        await asyncio.sleep(max(0.0, 1.0 - (loop.time() - now)))
    for run in runs:  # end answering
        if run.frozen:
            run.thaw()
            run.frozen = False
        STATS.faults += run.resets + run.flaps  # (rotations are counted by the cluster)


def _flat(run: Run, key: str, slack: float) -> tuple[float, float, bool]:
    """(warm value, end value, flat?) of one resource: the median after the warm-up vs the last fifth."""
    values = [(t, m[key]) for t, m in run.resources if key in m]
    warm = [v for t, v in values if WARM_UP <= t < WARM_UP + max(30.0, SOAK_SECONDS / 5)]
    end = [v for t, v in values if t >= SOAK_SECONDS * 0.8]
    if not warm or not end:
        return 0.0, 0.0, True
    first, last = statistics.median(warm), statistics.median(end)
    return first, last, last <= first + slack


def _table(runs: list[Run], checks: dict[str, list[tuple[str, float, float, bool]]]) -> str:
    lines = [
        f"soak: {SOAK_SECONDS:g} s — rotation every {ROTATE_EVERY:g} s, watch reset every {RESET_EVERY:g} s, "
        f"flap every {FLAP_EVERY:g} s ({FROZEN_FOR:g} s frozen)",
        f"{'target':<12} {'samples':>7} {'rotations':>9} {'resets':>6} {'flaps':>5} {'violations':>10}",
    ]
    for run in runs:
        counts = f"{run.samples:>7} {run.rotations:>9} {run.resets:>6} {run.flaps:>5} {len(run.violations):>10}"
        lines.append(f"{run.name:<12} {counts}")
    lines.append(f"{'target':<12} {'resource':<14} {'after warm-up':>13} {'at the end':>10}  flat")
    for name, rows in checks.items():
        for key, first, last, ok in rows:
            lines.append(f"{name:<12} {key:<14} {first:>13.1f} {last:>10.1f}  {'yes' if ok else 'NO'}")
    return "\n".join(lines)


def _entrypoint_measure(pid: int) -> Callable[[], dict[str, float]]:
    process = psutil.Process(pid)

    def measure() -> dict[str, float]:
        with process.oneshot():
            return {
                "fds": float(process.num_fds()),
                "sockets": float(len(process.net_connections(kind="inet"))),
                "threads": float(process.num_threads()),
                "rss_mb": process.memory_info().rss / 2**20,
            }

    return measure


def _tasks_measure() -> dict[str, float]:
    tasks = [t for t in asyncio.all_tasks() if not t.done()]
    mine = [t for t in tasks if "RequestHandler" not in repr(t.get_coro())]
    return {"tasks": float(len(mine)), "fds": float(len(os.listdir("/proc/self/fd")))}


def _standin_pid(server: PodProcess) -> int:
    for pid in descendants(server.process.pid):
        with contextlib.suppress(OSError):
            if b"arkouda-server-standin" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
    raise AssertionError("the stand-in launched by the server entrypoint was not found")


def _signal(pid: int, sig: signal.Signals) -> Callable[[], None]:
    return lambda: os.kill(pid, sig)


async def _until(condition: Callable[[], Awaitable[bool]], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "not published in time"
        await asyncio.sleep(0.1)


@pytest.mark.soak
@pytest.mark.timeout(SOAK_SECONDS + 300)
async def test_soak(tmp_path: Path) -> None:
    (tmp_path / "entrypoint").mkdir()
    (tmp_path / "registrar").mkdir()
    standin = await asyncio.to_thread(start_standin)
    task: asyncio.Task[None] | None = None
    try:
        async with open_process_bed(tmp_path / "entrypoint") as bed, open_cluster(tmp_path / "registrar") as cluster:
            # the server entrypoint, its locale over real sshd, the stand-in launched over ssh
            await bed.start_locales(1)
            server = await bed.start_server(2, env=PROBE_ENV, SHUTDOWN_TIMEOUT="10")
            await bed.ready_slice(server)
            launched = _standin_pid(server)
            # the registrar in this process, probing a stand-in of its own
            cluster.port = standin.port
            port = str(standin.port)
            registrar = await cluster.registrar(
                ZmqProbe("127.0.0.1", standin.port, timeout=0.5),
                EXTERNAL_SERVICE_TARGET_PORT=port,
                EXTERNAL_SERVICE_PORT=port,
                SHUTDOWN_TIMEOUT="10",
                env=PROBE_ENV,
            )
            task = asyncio.create_task(registrar.run())
            await asyncio.wait_for(registrar.is_published.wait(), 20)
            await _until(lambda: cluster.slice_is(ready=True), 20)
            runs = [
                Run(
                    "entrypoint",
                    bed.cluster,
                    _signal(launched, signal.SIGSTOP),
                    _signal(launched, signal.SIGCONT),
                    _entrypoint_measure(server.process.pid),
                ),
                Run(
                    "registrar",
                    cluster,
                    _signal(standin.pid, signal.SIGSTOP),
                    _signal(standin.pid, signal.SIGCONT),
                    _tasks_measure,
                ),
            ]
            await _soak(runs)
            # both answer again, and are published ready
            for run in runs:
                await _until(lambda run=run: run.cluster.slice_is(ready=True), 20)  # type: ignore[misc]
            checks = {
                "entrypoint": [
                    ("fds", *_flat(runs[0], "fds", 8)),
                    ("sockets", *_flat(runs[0], "sockets", 4)),
                    ("threads", *_flat(runs[0], "threads", 4)),
                    ("rss_mb", *_flat(runs[0], "rss_mb", 24)),
                ],
                "registrar": [("tasks", *_flat(runs[1], "tasks", 4)), ("fds", *_flat(runs[1], "fds", 12))],
            }
            STATS.tables.append(_table(runs, checks))
            unauthorized = [r for r in cluster.emulator.request_log if r.user == SA_USER and r.status == 401]
            # the end: both withdraw everything
            registrar.stop()
            await asyncio.wait_for(task, 30)
            server.signal(signal.SIGTERM)
            assert await wait_exit(server, 30) == ExitCode.OK, server.log_text()[-3000:]
            await cluster.assert_clean(published=False, what="the registrar after the soak")
            await bed.cluster.assert_clean(published=False, what="the entrypoint after the soak")
            print(STATS.tables[-1])
            for run in runs:
                assert run.violations == [], f"{run.name}: the published state was wrong:\n" + "\n".join(run.violations)
            for name, rows in checks.items():
                grew = [f"{key}: {first:.1f} → {last:.1f}" for key, first, last, ok in rows if not ok]
                assert not grew, f"{name} leaks: {grew}"
            assert all(run.rotations >= 1 and run.resets >= 2 and run.flaps >= 1 for run in runs)
            assert len(unauthorized) <= runs[1].rotations * 3, "rotations were not followed by re-reading the token"
    finally:
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(ProcessLookupError):
            os.kill(standin.pid, signal.SIGCONT)
        await asyncio.to_thread(standin.stop)
