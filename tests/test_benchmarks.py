"""`python -m benchmarks --smoke` runs every benchmark at a tiny size and writes every figure.

No timing is asserted here (the figures of a smoke run mean nothing): only that each benchmark ran and
wrote its keys with numbers, in the shape results.json promises (issue 11).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from arkouda_k8s.testing.pytest_plugin import require_component

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ("rtt_ms", "register_ms", "withdraw_ms", "stop_ms", "resolve_cold_ms", "resolve_warm_ms", "import_ms")
WITH_RATIO = ("register_ms", "withdraw_ms", "stop_ms", "resolve_cold_ms", "resolve_warm_ms")
KEYS = (
    "rtt_ms",
    "register_ms",
    "withdraw_ms",
    "stop_ms",
    "discovery",
    "resolve_cold_ms",
    "resolve_warm_ms",
    "connect_overhead_ms",
    "import_ms",
    "waiting_cpu_percent",
    "idle_rss_mb",
    "idle_requests_per_min",
    "seed",
    "machine",
)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def assert_timing(figure: Any, where: str, *, ratio: bool = True) -> None:
    assert isinstance(figure, dict), f"{where}: {figure!r}"
    for key in ("median", "p95", "runs") + (("ratio_to_rtt",) if ratio else ()):
        assert is_number(figure.get(key)), f"{where}.{key} = {figure.get(key)!r}"
    assert figure["median"] <= figure["p95"], where
    assert figure["runs"] >= 1, where


def assert_discovery(discovery: Any, where: str, modes: tuple[str, ...]) -> None:
    assert isinstance(discovery, dict), where
    assert discovery, f"{where}: no N measured"
    for n, by_mode in discovery.items():
        assert int(n) >= 1, f"{where}: N = {n!r}"
        assert set(by_mode) == set(modes), f"{where}[{n}]: modes {sorted(by_mode)}"
        for mode, entry in by_mode.items():
            assert isinstance(entry["requests"], int), f"{where}[{n}][{mode}].requests = {entry['requests']!r}"
            assert entry["requests"] >= 1, f"{where}[{n}][{mode}]: no request counted"
            assert_timing(entry["after_last_ready_ms"], f"{where}[{n}][{mode}].after_last_ready_ms")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text()), done.stdout


@pytest.mark.timeout(300)
def test_smoke_run_writes_every_key_with_numbers(smoke: tuple[dict[str, Any], str]) -> None:
    results, _table = smoke
    assert tuple(results) == KEYS
    for key in TIMINGS:
        assert_timing(results[key], key, ratio=key in WITH_RATIO)
    assert_discovery(results["discovery"], "discovery", ("all_at_once", "spread"))
    rss = results["idle_rss_mb"]
    assert all(is_number(rss[k]) for k in ("median", "p95", "max", "samples")), rss
    assert 0 < rss["median"] <= rss["max"], rss
    idle = results["idle_requests_per_min"]
    assert is_number(idle["value"]), idle
    assert is_number(idle["window_s"]) and idle["window_s"] > 0, idle
    assert results["import_ms"]["imported_heavy"] == []
    waiting = results["waiting_cpu_percent"]
    assert {"zmq_queued_probe_2ms", "python_tcp_poll_2ms", "seconds"} <= set(waiting), waiting
    assert all(is_number(v) and v >= 0 for v in waiting.values()), waiting
    assert "kubernetes_asyncio" in results["import_ms"]["not_imported"]
    seed = results["seed"]
    assert_timing(seed["register_ms"], "seed.register_ms")
    assert_discovery(seed["discovery"], "seed.discovery", ("all_at_once",))
    machine = results["machine"]
    assert is_number(machine["nproc"]) and machine["nproc"] >= 1
    assert machine["python"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["date"][:2] == "20"


@pytest.mark.timeout(300)
def test_connect_overhead_is_measured_with_the_real_client(smoke: tuple[dict[str, Any], str]) -> None:
    found = importlib.util.find_spec("arkouda") is not None
    require_component("arkouda client", None if found else "the arkouda 2020.7.7 client is not installed")
    results, _table = smoke
    figure = results["connect_overhead_ms"]
    assert isinstance(figure, dict), figure
    assert is_number(figure["median"]) and is_number(figure["p95"]) and figure["runs"] >= 1


@pytest.mark.timeout(300)
def test_the_table_names_every_figure_with_its_goal(smoke: tuple[dict[str, Any], str]) -> None:
    _results, table = smoke
    header = table.splitlines()[0].split()
    assert header == ["figure", "median", "p95", "×RTT", "goal", "met?"]
    for figure in ("rtt_ms", "register_ms", "withdraw_ms", "stop_ms", "resolve_cold_ms", "import_ms", "idle_rss_mb"):
        assert any(line.startswith(figure) for line in table.splitlines()), figure
    assert "≤ 3×RTT" in table
    assert "seed: register_ms" in table
