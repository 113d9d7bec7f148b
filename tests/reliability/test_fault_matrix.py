"""Fault matrix: emulator faults × every API call of the registrar, the entrypoint and the resolver.

Each row (matrix.CASES) runs against its own API emulator (HTTPS, RBAC on, a service-account identity
whose token is kept as kubelet keeps it). It passes when the component converged (or gave up with its
documented exit code), every object in the namespace is what it should be, and the fault was met.
The slow rows (5 s of latency, a 10 s partition) run side by side, each on its own emulator.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from arkouda_k8s.errors import ExitCode

from .kit import SA_USER, STATS, eventually
from .matrix import CASES, Case, run_case
from .processes import ProcessBed, open_process_bed, wait_exit

FAST = [c for c in CASES if not c.slow]
SLOW = [c for c in CASES if c.slow]


def test_the_matrix_covers_every_call_and_fault() -> None:
    calls = {(c.component, c.verb, c.resource) for c in CASES}
    for needed in [
        ("locales", "list", "pods"),
        ("locales", "watch", "pods"),
        ("registrar", "create", "services"),
        ("registrar", "get", "services"),
        ("registrar", "patch", "services"),
        ("registrar", "delete", "services"),
        ("registrar", "create", "endpointslices"),
        ("registrar", "patch", "endpointslices"),
        ("registrar", "update", "endpointslices"),
        ("registrar", "delete", "endpointslices"),
        ("registrar", "list", "endpointslices"),
        ("registrar", "watch", "endpointslices"),
        ("resolver", "list", "endpointslices"),
        ("resolver", "watch", "endpointslices"),
        ("resolver", "get", "services"),
        ("port-forward", "get", "pods/portforward"),
    ]:
        assert needed in calls, f"no row for {needed}"
    faults = {c.fault for c in CASES}
    assert {"500", "503", "429", "401", "reset", "latency", "partition", "closed", "410", "410-event"} <= faults
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in FAST])
async def test_fault(case: Case, tmp_path: Path) -> None:
    await run_case(case, tmp_path)


@pytest.mark.timeout(180)
async def test_slow_faults_side_by_side(tmp_path: Path) -> None:
    """5 s of latency and 10 s partitions: each row on its own emulator, all at once."""

    async def one(case: Case) -> str | None:
        folder = tmp_path / case.id
        folder.mkdir()
        try:
            await run_case(case, folder)
        except BaseException as failed:
            return f"{case.id}: {type(failed).__name__}: {failed}"
        return None

    outcomes = await asyncio.gather(*(one(c) for c in SLOW))
    STATS.cases += len(SLOW) - 1
    failures = [o for o in outcomes if o]
    assert not failures, "\n".join(failures)


# --- the real server entrypoint, where the process matters ------------------------------------------------


PROCESS_ROWS = ["list-pods-503-x3", "watch-pods-closed-while-waiting", "watch-pods-410-event-while-waiting"]
PROCESS_ROWS += ["create-es-429-and-reset", "rotated-token-while-waiting"]


@pytest.mark.parametrize("row", PROCESS_ROWS)
async def test_the_server_entrypoint_converges_through_faults(tmp_path: Path, row: str) -> None:
    """`arkouda-k8s server` (default retry policy, real locale pod over sshd, the stand-in): the fault meets
    the entrypoint's own calls; it still launches, publishes, and withdraws all on SIGTERM (exit 0)."""
    async with open_process_bed(tmp_path) as bed:
        faults = bed.cluster.faults
        if row == "list-pods-503-x3":
            faults.http(503, 3, verb="list", resource="pods")
        if row == "create-es-429-and-reset":
            faults.http(429, 1, verb="create", resource="endpointslices", retry_after=1)
            faults.reset(1, verb="create", resource="endpointslices")
        server = await bed.start_server(2)
        await eventually(lambda: _listed(bed), what="the server's list of its locale pods")
        if row == "watch-pods-closed-while-waiting":
            await faults.close_watches()
        elif row == "watch-pods-410-event-while-waiting":
            await faults.expire_watches()
        elif row == "rotated-token-while-waiting":
            faults.rotate_when(verb="watch", resource="pods")
            await faults.close_watches()
        await bed.start_locales(1)
        await bed.ready_slice(server)
        await bed.cluster.assert_clean(published=True, what="published by the entrypoint")
        faults.assert_all_hit()
        server.signal(signal.SIGTERM)
        assert await wait_exit(server, 20) == ExitCode.OK, server.log_text()[-3000:]
        await bed.cluster.assert_clean(published=False, what="withdrawn by the entrypoint")


async def _listed(bed: ProcessBed) -> bool:
    return bed.cluster.requests(SA_USER, "list", "pods") > 0
