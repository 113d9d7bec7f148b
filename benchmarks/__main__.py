"""`python -m benchmarks`: run the benchmarks, print the table, write results.json (see __init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from arkouda_k8s import logs
from benchmarks import discovery, footprint, lifecycle, resolution, rtt, seed, table
from benchmarks.cluster import ROOT, BenchmarkError, Cluster, EmulatorCluster, ExternalCluster
from benchmarks.harness import Session

NAMES = ("rtt", "registration", "withdrawal", "discovery", "resolution", "footprint", "seed")
# results.json's keys, in this order (issue 11), then the seed's way and the machine.
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
OWN_KEYS = {
    "registration": ("register_ms",),
    "withdrawal": ("withdraw_ms", "stop_ms"),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmarks of arkouda-k8s: every figure's median and p95, and its ratio to one API write "
        "round trip measured in the same run.",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, default=None, metavar="FILE", help="run against this API instead of the emulator"
    )
    parser.add_argument("--runs", type=int, default=20, metavar="N", help="runs per figure (default: 20)")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, few runs, a short idle window (a check that all runs)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results.json",
        metavar="PATH",
        help="where to write the results (default: benchmarks/results.json)",
    )
    parser.add_argument(
        "--only", default=None, metavar="NAME[,NAME]", help=f"run only these ({', '.join(NAMES)}); rtt always runs"
    )
    args = parser.parse_args(argv)
    chosen = set(NAMES) if not args.only else {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = chosen - set(NAMES)
    if unknown:
        parser.error(f"--only: unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(NAMES)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.kubeconfig is not None and not args.kubeconfig.is_file():
        parser.error(f"--kubeconfig {args.kubeconfig}: no such file")
    args.chosen = chosen | {"rtt"}
    if args.smoke and args.runs == parser.get_default("runs"):
        args.runs = 3
    return args


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def step(name: str, work: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    progress(f"{name} …")
    started = time.monotonic()
    result = await work()
    progress(f"{name}: done in {time.monotonic() - started:.1f} s")
    return result


async def run_all(args: argparse.Namespace, cluster: Cluster, workdir: Path) -> dict[str, Any]:
    chosen = args.chosen
    results: dict[str, Any] = {}
    session = await Session.open(cluster, runs=args.runs, smoke=args.smoke, workdir=workdir)
    try:
        results.update(await step("rtt", lambda: rtt.run(session)))
        if chosen & {"registration", "withdrawal"}:
            found = await step("registration and withdrawal", lambda: lifecycle.run(session))
            for name in ("registration", "withdrawal"):
                if name in chosen:
                    results.update({k: found[k] for k in OWN_KEYS[name]})
        if "discovery" in chosen:
            results.update(await step("discovery", lambda: discovery.run(session)))
        if "resolution" in chosen:
            results.update(await step("resolution", lambda: resolution.run(session)))
        if "footprint" in chosen:
            results.update(await step("import time", lambda: footprint.imports(session)))
            results.update(await step("waiting cost", lambda: footprint.waiting(session)))
        if "seed" in chosen:
            results["seed"] = await step("seed: registration", lambda: seed.registration(session))
        # The idle window is a wait: the seed's slow polls run during it. On the emulator they get an API
        # server of their own: its one event history is shared by every resource (kube-apiserver keeps one
        # per resource), so thousands of pod events would expire the idle registrar's watch (410, re-list).
        seed_cluster: Cluster | None = None
        if "seed" in chosen and isinstance(cluster, EmulatorCluster):
            (workdir / "seed-api").mkdir()
            seed_cluster = EmulatorCluster(workdir / "seed-api")
            await seed_cluster.start()
        try:
            waits: list[tuple[dict[str, Any], Awaitable[dict[str, Any]]]] = []
            if "footprint" in chosen:
                waits.append((results, step("footprint: idle registrar", lambda: footprint.idle(session))))
            if "seed" in chosen:
                waits.append((results["seed"], step("seed: discovery", lambda: seed.discovery(session, seed_cluster))))
            for (into, _), found in zip(waits, await asyncio.gather(*(w for _, w in waits)), strict=True):
                into.update(found)
        finally:
            if seed_cluster is not None:
                await seed_cluster.close()
    finally:
        await session.close()
    return results


def machine(args: argparse.Namespace, cluster: Cluster, seconds: float, load_at_start: float) -> dict[str, Any]:
    """Where the figures come from: other work on the machine (load average) moves them."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "api": cluster.description,
        "load_average_at_start": load_at_start,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "runs": args.runs,
        "smoke": args.smoke,
        "duration_s": round(seconds, 1),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="arkouda-k8s-bench-"))
    cluster: Cluster = ExternalCluster(workdir, args.kubeconfig) if args.kubeconfig else EmulatorCluster(workdir)
    started = time.monotonic()
    load_at_start = round(os.getloadavg()[0], 2)
    ok = False
    try:
        await cluster.start()
        progress(f"API: {cluster.description}")
        results = await run_all(args, cluster, workdir)
        ok = True
    finally:
        await cluster.close()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            progress(f"logs of the failed run kept in {workdir}")
    results["machine"] = machine(args, cluster, time.monotonic() - started, load_at_start)
    return {key: results[key] for key in KEYS if key in results}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logs.configure("warning", "json")
    try:
        results = asyncio.run(main_async(args))
    except BenchmarkError as failed:
        print(f"python -m benchmarks: error: {failed}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table.render(table.rows(results)))
    print(f"\n{results['machine']['api']}; {results['machine']['nproc']} cores; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
