"""`arkouda-k8s register` as a sidecar process next to the arkouda_server stand-in: the real probe, the
real signals, /healthz and /metrics, and what a SIGKILL leaves for the garbage collector."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from typing import Any

import aiohttp

from arkouda_k8s.testing.pods import free_port

from .conftest import NS, POD, POD_IP, SA_USER, Cluster, wait_for


def _register(cluster: Cluster, standin: Any, health_port: int, **env: str) -> subprocess.Popen[bytes]:
    kubeconfig = cluster.emulator.write_kubeconfig(
        cluster.tmp / "sa.kubeconfig", token=cluster.token_file.read_text().strip(), namespace=NS
    )
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(cluster.tmp),
        "KUBECONFIG": str(kubeconfig),
        "POD_NAME": POD,
        "POD_NAMESPACE": NS,
        "MY_IP": POD_IP,  # the seed's name for the pod IP
        "EXTERNAL_SERVICE_NAME": "arkouda",
        "EXTERNAL_SERVICE_PORT": "5555",
        "EXTERNAL_SERVICE_TARGET_PORT": str(standin.port),
        "REGISTRAR_HEALTH_PORT": str(health_port),
        "PROBE_PERIOD": "0.2",
        "PROBE_FAILURES": "2",
        "ARKOUDA_K8S_LOG_FORMAT": "json",
        **env,
    }
    log = open(cluster.tmp / "register.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "arkouda_k8s", "register"], env=environ, stdout=log, stderr=log, stdin=subprocess.DEVNULL
    )
    log.close()
    return process


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def _ready_slice(cluster: Cluster) -> bool:
    return any(s["endpoints"][0]["conditions"]["ready"] for s in await cluster.slices() if s.get("endpoints"))


async def test_sidecar_publishes_serves_health_and_withdraws_on_sigterm(cluster: Cluster, standin: Any) -> None:
    port = free_port()
    registrar = _register(cluster, standin, port)
    try:
        await wait_for(lambda: _ready_slice(cluster), timeout=20, what="the sidecar's published slice")
        status, body = await _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and body.startswith("ok: published")
        status, metrics = await _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert "arkouda_k8s_registrar_publishes_total 1" in metrics
        assert "arkouda_k8s_registrar_endpoint_ready 1" in metrics
        assert 'arkouda_k8s_registrar_phase{phase="published"} 1' in metrics
        registrar.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(registrar.wait, 20) == 0
    finally:
        if registrar.poll() is None:
            registrar.kill()
            registrar.wait()
    assert await cluster.ours() == {}
    log = (cluster.tmp / "register.log").read_text()
    assert cluster.token_file.read_text().strip() not in log
    events = [json.loads(line)["event"] for line in log.splitlines() if line.startswith("{")]
    assert events.index("published") < events.index("signal_received") < events.index("withdrawn")
    verbs = {(r.resource, r.verb) for r in cluster.emulator.request_log if r.user == SA_USER}
    assert ("pods", "get") in verbs  # the pod's UID, read from the API when POD_UID is not given


async def test_server_not_answering_turns_the_endpoint_not_ready(cluster: Cluster, standin_factory: Any) -> None:
    standin = standin_factory(env={"ARKOUDA_STANDIN_FREEZE_AFTER": "3"})
    registrar = _register(cluster, standin, free_port())
    try:
        await wait_for(lambda: _ready_slice(cluster), timeout=20, what="the published slice")

        async def not_ready() -> bool:
            slices = await cluster.slices()
            return bool(slices) and slices[0]["endpoints"][0]["conditions"]["ready"] is False

        await wait_for(not_ready, timeout=20, what="the endpoint marked not ready once the server froze")
    finally:
        registrar.send_signal(signal.SIGTERM)
        await asyncio.to_thread(registrar.wait, 20)
    assert await cluster.ours() == {}


async def test_sigkill_leaves_a_slice_the_gc_removes_with_the_pod(cluster: Cluster, standin: Any) -> None:
    registrar = _register(cluster, standin, free_port())
    await wait_for(lambda: _ready_slice(cluster), timeout=20, what="the published slice")
    registrar.kill()
    registrar.wait()
    assert len(await cluster.slices()) == 1  # nobody withdrew it…
    await cluster.emulator.delete_pod(NS, POD, grace_period_seconds=0)

    async def gone() -> bool:
        return not await cluster.slices()

    await wait_for(gone, timeout=10, what="the garbage collector removing the slice owned by the deleted pod")
