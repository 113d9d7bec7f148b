"""Locale discovery: `LocaleWatch(...).wait_ready()` (what the server entrypoint runs) for N locale pods.

Each run: N Pending locale pods exist (labels of their own run); a fresh API client (a new identity's
session, as an entrypoint starts) runs wait_ready(); once its watch is open, the pods turn Running +
Ready with an IP — all at once (one write after another in one tick of the emulator's loop) or spread
(each at a uniformly random moment over SPREAD seconds). Measured:

- after_last_ready_ms: from the last pod's Ready write (timed where the write happens) to wait_ready()
  returning the N locales;
- requests: what the discovery's identity asked the API during the run, from the emulator's request
  log. The emulator logs a request when its answer is complete, so a watch appears only once it has
  ended: the count is read after the client closed, waiting (up to 2 s) for the watch to be logged.
  `requests_client` is the same count as the client saw it (the product's ApiStats); with another
  API server (--kubeconfig) it is the only count.

Runs: --runs for N = 1, 16, 256; 5 for N = 1000 (each run writes 1000 pods twice).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from arkouda_k8s.entrypoints.locales import LocaleWatch
from arkouda_k8s.kube import KubeClient
from benchmarks.cluster import BenchmarkError, Request, data_ip
from benchmarks.harness import Session
from benchmarks.stats import summarize

T = TypeVar("T")
SIZES = (1, 16, 256, 1000)
SMOKE_SIZES = (1, 4)
BIG = 1000
BIG_RUNS = 5
MODES = {"all_at_once": 0.0, "spread": 0.5}
BIG_SPREAD = 1.0
SMOKE_SPREAD = 0.2
LOCALE_LABELS = {"app.kubernetes.io/name": "arkouda", "app.kubernetes.io/component": "locale"}
USER = "discovery"
WAIT_TIMEOUT = 120.0


async def timed(work: Awaitable[T]) -> tuple[T, float]:
    result = await work
    return result, time.monotonic()


async def watch_opened(kube: KubeClient, task: asyncio.Task[Any], timeout: float = 30.0) -> None:
    """Until the client's watch on pods has its answer (the server has subscribed it to changes)."""
    deadline = time.monotonic() + timeout
    while not any(verb == "watch" and 200 <= code < 300 for verb, _res, code in kube.stats.requests):
        if task.done():
            task.result()
            raise BenchmarkError("wait_ready() returned before any pod was Ready")
        if time.monotonic() > deadline:
            raise BenchmarkError(f"the locale watch did not open within {timeout:g} s: {dict(kube.stats.requests)}")
        await asyncio.sleep(0.001)


async def logged_requests(session: Session, mark: int) -> list[Request] | None:
    """The run's requests from the emulator's log, once its watch (ended by the client's close) is logged."""
    cluster = session.cluster
    if not cluster.has_request_log:
        return None
    deadline = time.monotonic() + 2.0
    while True:
        logged = await cluster.requests(USER, mark) or []
        if any(r.verb == "watch" for r in logged) or time.monotonic() > deadline:
            return logged
        await asyncio.sleep(0.005)


async def one_run(session: Session, n: int, spread: float, run_id: str) -> tuple[float, int, int]:
    """(after_last_ready_ms, requests from the log, requests the client counted) of one run."""
    cluster, ns = session.cluster, session.namespace
    instance = f"disc-{run_id}"
    labels = {**LOCALE_LABELS, "app.kubernetes.io/instance": instance}
    selector = f"app.kubernetes.io/instance={instance},app.kubernetes.io/component=locale"
    names = [f"{instance}-locale-{i}" for i in range(n)]
    await cluster.create_pods(ns, names, labels)
    mark = await cluster.mark()
    kube = await cluster.client(USER, component="entrypoint")
    watch = LocaleWatch(kube, ns, selector, n)
    try:
        task = asyncio.create_task(timed(watch.wait_ready(WAIT_TIMEOUT)))
        await watch_opened(kube, task)
        last_ready = await cluster.set_ready(ns, [(name, data_ip(i)) for i, name in enumerate(names)], spread)
        locales, returned = await task
        if len(locales) != n:
            raise BenchmarkError(f"wait_ready() gave {len(locales)} locales, expected {n}")
        client_count = sum(kube.stats.requests.values())
    finally:
        await watch.close()
        await kube.close()
    logged = await logged_requests(session, mark)
    await cluster.delete_pods(ns, names)
    count = len(logged) if logged is not None else client_count
    return (returned - last_ready) * 1000, count, client_count


async def measure(session: Session, n: int, spread: float, runs: int, mode: str) -> dict[str, Any]:
    delays, counts, client_counts = [], [], []
    for run in range(runs):
        delay, count, client_count = await one_run(session, n, spread, f"{n}-{mode.replace('_', '')}-{run}")
        delays.append(delay)
        counts.append(count)
        client_counts.append(client_count)
    return {
        "requests": max(counts),
        "requests_median": statistics.median(counts),
        "requests_client": max(client_counts),
        "after_last_ready_ms": session.timing(summarize(delays)),
        "spread_s": spread,
    }


async def run(session: Session) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for n in SMOKE_SIZES if session.smoke else SIZES:
        runs = session.fewer(BIG_RUNS) if n >= BIG else session.runs
        results[str(n)] = {}
        for mode, spread in MODES.items():
            if spread and session.smoke:
                spread = SMOKE_SPREAD
            elif spread and n >= BIG:
                spread = BIG_SPREAD
            results[str(n)][mode] = await measure(session, n, spread, runs, mode)
    return {"discovery": results}
