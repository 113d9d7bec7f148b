"""The resolver: cold and warm `aresolve()`, and the overhead of `connect()` over a bare `arkouda.connect`.

A stand-in serves on 127.0.0.1 and is published (a Service and a ready EndpointSlice, written by an
admin as the registrar would) — on the emulator, whose test-only switch admits loopback endpoints. A
real API server refuses them: with --kubeconfig the endpoint is a data-only address and connect() is
not measured.

Each run is a fresh interpreter (`python -m benchmarks.resolution`, settings from KUBECONFIG in its
environment, like a notebook's), which imports arkouda_k8s, kubernetes_asyncio and arkouda first
(not timed: import_ms and `first_use_imports_ms` say what imports cost), then:
- resolve_cold_ms: its first `await aresolve(service, namespace)`: the kubeconfig read, a new
  client, the TLS handshake, the list of EndpointSlices (the API path);
- resolve_warm_ms: the same call again, WARM times, in the same process and event loop;
- connect_overhead_ms: `arkouda_k8s.connect(service, namespace)` (the synchronous face a notebook
  calls: resolve, then arkouda.connect) minus a bare `arkouda.connect(host, port)` to the host:port it
  resolved, the two alternating, PAIRS pairs after one unmeasured pair. The real arkouda 2020.7.7
  client, its printing sent to /dev/null.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from arkouda_k8s.kube import ENDPOINT_SLICES, SERVICES, Invalid
from arkouda_k8s.registrar import objects as o
from benchmarks.cluster import ROOT, BenchmarkError
from benchmarks.harness import Session
from benchmarks.processes import Standin, base_environment, free_port
from benchmarks.stats import summarize

SERVICE = "arkouda-bench-resolve"
WARM = 3
PAIRS = 2
DATA_ONLY_IP = "192.0.2.30"  # TEST-NET-1: published when the API refuses loopback; nothing dials it


async def publish_directly(session: Session, port: int) -> str:
    """Service + ready slice for 127.0.0.1:port (or a data-only address where loopback is refused)."""
    kube = await session.client("admin")
    pod = o.PodIdentity(
        name="arkouda-bench-resolve-0", uid="bench-resolve", ip="127.0.0.1", namespace=session.namespace
    )
    spec = o.ServiceSpec(SERVICE, (o.Port("arkouda", port, port),))
    await kube.create(SERVICES, o.service(spec, pod), session.namespace)
    for ip in ("127.0.0.1", DATA_ONLY_IP):
        es = o.endpoint_slice(spec, o.PodIdentity(pod.name, pod.uid, ip, pod.namespace), ready=True)
        es["metadata"].pop("ownerReferences", None)  # there is no such pod: keep the garbage collector away
        try:
            await kube.create(ENDPOINT_SLICES, es, session.namespace)
        except Invalid:
            continue  # a real API server: "may not be in the loopback range"
        return ip
    raise BenchmarkError(f"the API accepted no EndpointSlice for Service {SERVICE}")


async def child_run(session: Session, kubeconfig: Path, pairs: int) -> dict[str, Any]:
    env = base_environment(KUBECONFIG=str(kubeconfig), ARKOUDA_K8S_LOG_LEVEL="warning")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.resolution",
        "--service",
        SERVICE,
        "--namespace",
        session.namespace,
        "--warm",
        str(WARM),
        "--pairs",
        str(pairs),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    if process.returncode != 0 or not out.strip():
        raise BenchmarkError(
            f"the resolver run exited with {process.returncode}:\n{err.decode(errors='replace')[-3000:]}"
        )
    answer: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return answer


async def run(session: Session) -> dict[str, Any]:
    port = free_port()
    standin = await Standin(port, session.workdir / "resolution.standin.log").start()
    try:
        await standin.wait_bound()
        published = await publish_directly(session, port)
        kubeconfig = await session.cluster.kubeconfig("resolver")
        pairs = PAIRS if published == "127.0.0.1" else 0
        cold, warm, overhead, imports = [], [], [], []
        for _ in range(session.runs):
            answer = await child_run(session, kubeconfig, pairs)
            cold.append(answer["cold_ms"])
            warm += answer["warm_ms"]
            imports.append(answer["imports_ms"])
            overhead += [full - bare for full, bare in zip(answer["connect_ms"], answer["bare_ms"], strict=True)]
    finally:
        await standin.stop()
    return {
        "resolve_cold_ms": {
            **session.timing(summarize(cold)),
            "first_use_imports_ms": round(statistics.median(imports), 1),
        },
        "resolve_warm_ms": session.timing(summarize(warm)),
        "connect_overhead_ms": session.timing(summarize(overhead)) if overhead else None,
    }


# --- the fresh interpreter of one run ---


def _child(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    import kubernetes_asyncio.client
    import kubernetes_asyncio.config

    imports_ms = (time.perf_counter() - started) * 1000
    del kubernetes_asyncio
    try:
        import arkouda
    except ImportError:  # no client: resolve only (the test says the client is missing)
        args.pairs = 0

    from arkouda_k8s.resolver.api import aresolve, connect

    async def resolve_times() -> tuple[float, list[float], Any]:
        t0 = time.perf_counter()
        endpoint = await aresolve(args.service, args.namespace, timeout=30)
        cold = (time.perf_counter() - t0) * 1000
        warm = []
        for _ in range(args.warm):
            t0 = time.perf_counter()
            await aresolve(args.service, args.namespace, timeout=30)
            warm.append((time.perf_counter() - t0) * 1000)
        return cold, warm, endpoint

    cold, warm, endpoint = asyncio.run(resolve_times())
    connect_ms: list[float] = []
    bare_ms: list[float] = []
    if args.pairs:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), warnings.catch_warnings():
            # The pip-installed 2020.7.7 client calls itself 2020.7.7, the server 2020.07.07: the same version.
            warnings.filterwarnings("ignore", message="Version mismatch", category=RuntimeWarning)

            def bare() -> float:
                previous = getattr(arkouda.client, "socket", None)
                if previous is not None and not previous.closed:
                    previous.close(linger=0)  # as connect() does; the 2020.7.7 client never closes it
                t0 = time.perf_counter()
                arkouda.connect(server=endpoint.host, port=endpoint.port, timeout=10)
                return (time.perf_counter() - t0) * 1000

            def full() -> float:
                t0 = time.perf_counter()
                connect(args.service, args.namespace, timeout=30)
                return (time.perf_counter() - t0) * 1000

            bare()
            full()  # one unmeasured pair: the first connect() pays for code paths run once
            for _ in range(args.pairs):
                bare_ms.append(bare())
                connect_ms.append(full())
            arkouda.client.socket.close(linger=0)
    return {"cold_ms": cold, "warm_ms": warm, "imports_ms": imports_ms, "connect_ms": connect_ms, "bare_ms": bare_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description="One resolver run in a fresh interpreter (benchmarks/resolution.py)")
    parser.add_argument("--service", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--warm", type=int, default=WARM)
    parser.add_argument("--pairs", type=int, default=PAIRS)
    answer = _child(parser.parse_args())
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)  # the arkouda client's ZMQ context must not hold the exit up


if __name__ == "__main__":
    sys.exit(main())
