"""RTT: one API write round trip, the unit of every other figure.

Each run creates a small ConfigMap and deletes it, through the product's API layer (KubeClient over
kubernetes_asyncio, on a connection already open, as the registrar's writes are); one sample per run is
the mean of the two writes. A few unmeasured runs first warm the connection and the code paths.

`create_after_idle_median` is not the unit, only context: one create after IDLE seconds without a
request (the connection still open), as the registrar's single create after the server's start is. On
a small VM the processes are descheduled when idle, and the first write after a pause costs more.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from arkouda_k8s.kube import Resource
from benchmarks.harness import Session
from benchmarks.stats import summarize

# Not in the product (it never writes ConfigMaps): defined here for the benchmark only.
CONFIG_MAPS = Resource("configmaps", "ConfigMap", "v1", "CoreV1Api", "namespaced_config_map")
WARM_UP = 5
IDLE = 0.3  # seconds of quiet before each "after idle" create


async def run(session: Session) -> dict[str, Any]:
    kube = await session.client("rtt")
    samples, creates, deletes = [], [], []
    for i in range(WARM_UP + session.runs):
        name = f"arkouda-bench-rtt-{i}"
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"run": str(i)},
        }
        started = time.perf_counter()
        await kube.create(CONFIG_MAPS, body, session.namespace)
        created = time.perf_counter()
        await kube.delete(CONFIG_MAPS, name, session.namespace)
        deleted = time.perf_counter()
        if i >= WARM_UP:
            creates.append((created - started) * 1000)
            deletes.append((deleted - created) * 1000)
            samples.append((deleted - started) * 1000 / 2)
    rtt = summarize(samples)
    session.rtt_ms = rtt.median
    return {
        "rtt_ms": {
            **rtt.as_json(),
            "create_median": round(summarize(creates).median, 3),
            "delete_median": round(summarize(deletes).median, 3),
            "create_after_idle_median": round(summarize(await _after_idle(session, kube)).median, 3),
        }
    }


async def _after_idle(session: Session, kube: Any) -> list[float]:
    samples = []
    for i in range(min(session.runs, 10)):
        name = f"arkouda-bench-idle-{i}"
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"run": str(i)}}
        await asyncio.sleep(IDLE)
        started = time.perf_counter()
        await kube.create(CONFIG_MAPS, body, session.namespace)
        samples.append((time.perf_counter() - started) * 1000)
        await kube.delete(CONFIG_MAPS, name, session.namespace)
    return samples
