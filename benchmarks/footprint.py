"""Footprint: the import of arkouda_k8s, and what an idle published registrar costs.

- import_ms: benchmarks/import_time.py (fresh interpreters), with the heavy modules it does not load;
- waiting_cpu_percent: benchmarks/waiting_cost.py, what waiting for a server not started yet costs;
- idle_rss_mb: VmRSS of the real `arkouda-k8s register` process (/proc/<pid>/status), sampled every
  second over the idle window while it publishes a live stand-in with the product's default settings;
- idle_requests_per_min: the API requests of the registrar's identity over the idle window (60 s;
  3 s with --smoke), from the emulator's request log. A watch is logged when it ends, so the count is
  of requests that ended in the window (over a window of whole periods it is the request rate). With
  another API server (--kubeconfig) there is no log: not measured.

The seed's discovery (seed.py) runs during the window, on another API server: it shares the CPU, not
the registrar's API.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

from benchmarks import import_time, waiting_cost
from benchmarks.harness import Session
from benchmarks.processes import rss_mb
from benchmarks.registration import ServiceWatchers, publish
from benchmarks.stats import percentile
from benchmarks.withdrawal import withdraw

SERVICE = "arkouda-bench-idle"
USER = "registrar-idle"
IDLE_WINDOW = 60.0
SMOKE_WINDOW = 3.0
SETTLE = 1.0  # after publishing, before the window: the registrar's loops are running
RSS_EVERY = 1.0


async def imports(session: Session) -> dict[str, Any]:
    return {"import_ms": await asyncio.to_thread(import_time.measure, session.runs)}


async def waiting(session: Session) -> dict[str, Any]:
    seconds = 0.5 if session.smoke else 3.0
    return {"waiting_cpu_percent": await waiting_cost.measure(seconds)}


async def idle(session: Session) -> dict[str, Any]:
    window = SMOKE_WINDOW if session.smoke else IDLE_WINDOW
    watchers = await ServiceWatchers.open(session, SERVICE)
    try:
        publication = await publish(session, watchers, user=USER, label="idle")
        try:
            await asyncio.sleep(SETTLE)
            mark = await session.cluster.mark()
            started = time.time()
            end = time.monotonic() + window
            rss = []
            while True:
                rss.append(rss_mb(publication.registrar.pid))
                left = end - time.monotonic()
                if left <= 0:
                    break
                await asyncio.sleep(min(RSS_EVERY, left))
            ended = time.time()
            logged = await session.cluster.requests(USER, mark)
            await withdraw(watchers, publication)  # it must still stop cleanly after idling (raises if not)
        finally:
            await publication.close()
    finally:
        await watchers.stop()
    result: dict[str, Any] = {
        "idle_rss_mb": {
            "median": round(sorted(rss)[len(rss) // 2], 1),
            "p95": round(percentile(rss, 95), 1),
            "max": round(max(rss), 1),
            "samples": len(rss),
        }
    }
    if logged is None:
        result["idle_requests_per_min"] = {"value": None, "requests": None, "window_s": window}
        return result
    in_window = [r for r in logged if started <= r.time <= ended]
    result["idle_requests_per_min"] = {
        "value": round(len(in_window) * 60.0 / (ended - started), 2),
        "requests": len(in_window),
        "window_s": round(ended - started, 1),
        "by_request": dict(collections.Counter(f"{r.verb} {r.resource}" for r in in_window)),
    }
    return result
