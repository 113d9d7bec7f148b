"""The seed deployment's way, side by side (research/arkouda-seed.md §2-3), where it can be measured.

- register_ms: the seed registers from inside arkouda_server, right after the bind, with one POST of a
  Service with a selector (`app: arkouda-server`), no health probe; the endpoints controller then
  writes the EndpointSlice. Here: the stand-in binds; the moment its banner arrives, one POST of the
  seed's exact Service body on a new connection (libcurl makes one per call); the same separate watcher
  sees the controller's slice with a ready endpoint (the server pod is Ready: the seed has no readiness
  probe). The seed withdraws nothing on SIGTERM (only after a `shutdown` command): no withdrawal figure.
- discovery: the seed's verify-locale step lists EVERY pod of the namespace with the official client's
  typed models, filters on `app=<locale app>` client-side and sleeps 5 s between lists. Here: that
  loop (kubernetes_asyncio's same generated client) in a namespace holding 1,000 unrelated Running
  pods besides the N locale pods (on the emulator: an emulator process of its own, as it runs during
  the idle window); the locales turn Ready all at once during the first sleep. It stops
  when N locale pods have an IP (the seed counted IPs, even None ones, so it could stop before the pods
  were up; counting only real IPs is kinder to it). The delay is mostly where in the 5-second sleep the
  pods turned Ready, so the runs sample that evenly: 2 runs per N, at 1/4 and 3/4 of the sleep (each
  run waits a whole sleep). With --smoke: 20 unrelated pods and 0.5 s sleeps. The requests count
  only what the seed does while the pods start within one sleep; a real start waiting for locales adds
  one list of the whole namespace every 5 seconds.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from arkouda_k8s.kube import SERVICES, load_api_config
from arkouda_k8s.settings import load
from benchmarks.cluster import Cluster, data_ip, kube_client
from benchmarks.discovery import SIZES, SMOKE_SIZES
from benchmarks.harness import Session
from benchmarks.processes import Standin, free_port
from benchmarks.registration import ServiceWatchers
from benchmarks.stats import summarize
from benchmarks.watcher import has_ready_endpoint

SERVICE = "arkouda-bench-seed"
SEED_SLEEP = 5.0  # the seed's `time.sleep(5)`
SMOKE_SLEEP = 0.5
UNRELATED = 1000
SMOKE_UNRELATED = 20
DISCOVERY_RUNS = 2
USER = "seed"


def seed_service(name: str, target_port: int) -> dict[str, Any]:
    """The seed's internal registration body, field for field (ExternalSystem.chpl)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "ports": [{"port": 5555, "protocol": "TCP", "targetPort": target_port}],
            "selector": {"app": "arkouda-server"},
        },
    }


async def registration(session: Session) -> dict[str, Any]:
    watchers = await ServiceWatchers.open(session, SERVICE)
    admin = await session.client("admin")
    kubeconfig = await session.cluster.kubeconfig(USER)
    samples = []
    try:
        for i in range(session.runs):
            await watchers.until_clean()
            port = free_port()
            poster = await kube_client(kubeconfig, "seed")  # its connection opens with the POST
            await poster.__aenter__()
            standin = Standin(port, session.workdir / f"seed-{i:02d}.standin.log")
            try:
                ready = watchers.slices.when(has_ready_endpoint)
                await standin.start()
                bound = await standin.wait_bound()
                await poster.create(SERVICES, seed_service(SERVICE, port), session.namespace)
                seen = await watchers.slices.wait(ready, "the endpoints controller's ready slice")
                samples.append((seen - bound) * 1000)
            finally:
                await poster.close()
                await admin.delete(SERVICES, SERVICE, session.namespace)  # the seed's deregistration: DELETE
                await standin.stop()
    finally:
        await watchers.stop()
    return {"register_ms": session.timing(summarize(samples))}


async def discovery(session: Session, cluster: Cluster | None = None) -> dict[str, Any]:
    """On `cluster` (default: the session's); the runner gives it an emulator of its own (see __main__)."""
    from kubernetes_asyncio.client import ApiClient, CoreV1Api

    cluster = cluster or session.cluster
    sleep = SMOKE_SLEEP if session.smoke else SEED_SLEEP
    namespace = await cluster.namespace("arkouda-bench-seed")
    unrelated = [f"other-app-{i}" for i in range(SMOKE_UNRELATED if session.smoke else UNRELATED)]
    await cluster.create_pods(namespace, unrelated, {"app": "other-app"})
    await cluster.set_ready(namespace, [(name, data_ip(i)) for i, name in enumerate(unrelated)], 0)
    settings = load(["kubeconfig"], None, {"KUBECONFIG": str(await cluster.kubeconfig(USER))})
    configuration = (await load_api_config(settings)).configuration()
    results: dict[str, Any] = {}
    async with ApiClient(configuration) as api:
        core = CoreV1Api(api)

        async def deployed_locales(app: str) -> int:
            pods = await core.list_namespaced_pod(namespace)  # every pod, typed models
            ips = [pod.status.pod_ip for pod in pods.items if (pod.metadata.labels or {}).get("app") == app]
            return len([ip for ip in ips if ip])

        for n in SMOKE_SIZES if session.smoke else SIZES:
            delays, counts = [], []
            runs = session.fewer(DISCOVERY_RUNS)
            for run in range(runs):
                app = f"seed-locale-{n}-{run}"
                names = [f"{app}-{i}" for i in range(n)]
                await cluster.create_pods(namespace, names, {"app": app})
                mark = await cluster.mark()
                first_list = asyncio.Event()

                async def verify_locales(
                    n: int = n, app: str = app, first_list: asyncio.Event = first_list
                ) -> tuple[int, float]:
                    lists = 0
                    while True:
                        found = await deployed_locales(app)
                        lists += 1
                        first_list.set()
                        if found >= n:
                            return lists, time.monotonic()
                        await asyncio.sleep(sleep)

                poller = asyncio.create_task(verify_locales())
                await first_list.wait()
                await asyncio.sleep((run + 0.5) / runs * sleep)
                last_ready = await cluster.set_ready(namespace, [(name, data_ip(i)) for i, name in enumerate(names)], 0)
                lists, found_at = await poller
                logged = await cluster.requests(USER, mark)
                delays.append((found_at - last_ready) * 1000)
                counts.append(len(logged) if logged is not None else lists)
                await cluster.delete_pods(namespace, names)
            results[str(n)] = {
                "all_at_once": {
                    "requests": max(counts),
                    "requests_median": statistics.median(counts),
                    "after_last_ready_ms": session.timing(summarize(delays)),
                    "unrelated_pods": len(unrelated),
                    "poll_s": sleep,
                }
            }
    return {"discovery": results}
