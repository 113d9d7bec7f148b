"""Fault matrix: emulator faults × every API call of the registrar, the entrypoint and the resolver.

Each row (matrix.CASES) runs against its own API emulator (HTTPS, RBAC on, a service-account identity
whose token is kept as kubelet keeps it). It passes when the component converged (or gave up with its
documented exit code), every object in the namespace is what it should be, and the fault was met.
The slow rows (5 s of latency, a 10 s partition) run side by side, each on its own emulator.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .kit import STATS
from .matrix import CASES, Case, run_case

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
