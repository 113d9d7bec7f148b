"""Signals × phases of the server entrypoint (real processes: loopback locale pods with real sshd, the
stand-in launched over ssh), and what a killed registrar leaves for the garbage collector and the next one.

Every run must end within its stop deadline, with its documented exit code, no process left of the
server pod's tree nor of what it launched on the locales, and no object of ours left in the API.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from arkouda_k8s.errors import ExitCode
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.testing.pods import PodProcess
from arkouda_k8s.testing.standin.fixtures import start_standin

from .kit import NS, POD, POD_IP, Cluster, eventually, open_cluster
from .processes import (
    SHUTDOWN_TIMEOUT,
    ProcessBed,
    alive,
    descendants,
    events,
    open_process_bed,
    start_register,
    stop,
    wait_exit,
    wait_log,
)

PHASES = ("waiting_for_locales", "launching", "publishing", "published", "withdrawing")
SIGNALS = (signal.SIGTERM, signal.SIGINT)
EXIT_BOUND = SHUTDOWN_TIMEOUT + 4.0  # the stop deadline, plus starting Python and its last words
WITHDRAWING_TIMEOUT = 10.0


async def _bring_to(phase: str, bed: ProcessBed, sig: signal.Signals) -> PodProcess:
    """Start the server pod and return once it is in `phase` (the signal is sent by the caller)."""
    faults = bed.cluster.faults
    if phase == "waiting_for_locales":
        server = await bed.start_server(2)
        await eventually(lambda: _listed_pods(bed), what="the server listing its locale pods")
        await asyncio.sleep(0.3)  # and now watching them
        return server
    await bed.start_locales(1)
    if phase == "launching":
        # The stand-in spawns its locale over ssh, then waits before it binds: the registrar has claimed the
        # Service (made it) and waits for the first answer.
        server = await bed.start_server(2, ARKOUDA_STANDIN_BIND_DELAY="60")
        await eventually(bed.service_exists, what="the Service claimed", timeout=30)
        await wait_log(server, '"child_started"')
        return server
    if phase == "publishing":
        faults.latency(3.0, verb="create", resource="endpointslices")
        server = await bed.start_server(2)
        await wait_log(server, '"server_answering"')
        await asyncio.sleep(0.3)  # the slice's create is on its way (held 3 s by the API)
        return server
    # withdrawing: a longer stop deadline (its withdrawal share, 40 %, holds the delayed delete with room to spare)
    server = await bed.start_server(2, SHUTDOWN_TIMEOUT=f"{WITHDRAWING_TIMEOUT:g}" if phase == "withdrawing" else None)
    await bed.ready_slice(server)
    if phase == "withdrawing":
        faults.latency(1.5, verb="delete", resource="endpointslices")
        server.signal(sig)
        await eventually(lambda: _terminating(bed), what="the endpoint marked terminating")
    return server


async def _listed_pods(bed: ProcessBed) -> bool:
    return bed.cluster.requests(f"system:serviceaccount:{NS}:arkouda-server", "list", "pods") > 0


async def _terminating(bed: ProcessBed) -> bool:
    for item in await bed.slices():
        for endpoint in item.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("terminating"):
                return True
    return False


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
async def test_a_signal_in_each_phase_stops_everything_in_order(
    tmp_path: Path, phase: str, sig: signal.Signals
) -> None:
    async with open_process_bed(tmp_path) as bed:
        server = await _bring_to(phase, bed, sig)
        tree = descendants(server.process.pid)
        launched = {pod.name: launched_on(pod) for pod in bed.started if pod is not server}
        if phase in ("publishing", "published", "withdrawing"):
            assert all(launched.values()), f"no GASNet session on the locales to check: {launched}"
        loop = asyncio.get_running_loop()
        started = loop.time()
        if phase == "withdrawing":
            server.signal(signal.SIGTERM)  # a second signal while withdrawing: the withdrawal goes on
        else:
            server.signal(sig)
        bound = WITHDRAWING_TIMEOUT + 4.0 if phase == "withdrawing" else EXIT_BOUND
        code = await wait_exit(server, bound)
        log = server.log_text()
        assert code == ExitCode.OK, log[-4000:]
        assert loop.time() - started < bound
        assert alive(tree) == [], f"left running from the server pod: {alive(tree)}"
        for name, sessions in launched.items():
            # What GASNet started on the locale (its ssh session, the locale process) is gone with the server;
            # the locale pod itself (entrypoint + sshd) stays.
            assert alive(sessions) == [], f"left running on {name}: {alive(sessions)}"
        received = [
            e.get("signal") for e in events(log) if e.get("event") in ("signal_received", "signal_received_again")
        ]
        assert received[0] == sig.name
        if phase == "withdrawing":
            assert "signal_received_again" in log
        if phase == "waiting_for_locales":
            assert any(e.get("event") == "stopped" and e.get("phase") == "waiting_for_locales" for e in events(log))
        if phase in ("publishing", "published", "withdrawing"):
            assert '"withdrawn"' in log, log[-3000:]
        await asyncio.sleep(0.5)  # a write cut off by the stop would land now, if it could
        await bed.cluster.assert_clean(published=False, what=f"after {sig.name} while {phase}")


def launched_on(pod: PodProcess) -> dict[int, int]:
    """What runs on a locale pod besides the pod itself (its entrypoint and the sshd it started): the ssh
    sessions GASNet opened and what they run."""
    tree = descendants(pod.process.pid)
    return {pid: start for pid, start in tree.items() if _parent(pid) != pod.process.pid}


def _parent(pid: int) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(raw[raw.rindex(")") + 2 :].split()[1])


async def test_sigterm_during_an_api_partition_keeps_the_deadline_and_says_so(tmp_path: Path) -> None:
    async with open_process_bed(tmp_path) as bed:
        await bed.start_locales(1)
        server = await bed.start_server(2)
        await bed.ready_slice(server)
        tree = descendants(server.process.pid)
        bed.cluster.faults.partition(30)
        loop = asyncio.get_running_loop()
        started = loop.time()
        server.signal(signal.SIGTERM)
        code = await wait_exit(server, EXIT_BOUND)
        assert loop.time() - started < EXIT_BOUND, "the stop deadline was not kept"
        log = server.log_text()
        assert code == ExitCode.WITHDRAW_INCOMPLETE, log[-4000:]
        incomplete = [e for e in events(log) if e.get("event") == "withdraw_incomplete"]
        assert incomplete and "possibly left in the API: endpointslice/" in incomplete[0]["error"]
        assert alive(tree) == [], "the server was not stopped because the API was away"
        # The API comes back: the pod is deleted (its slice goes with it), the next server pod takes the name.
        bed.cluster.faults.clear()
        await bed.cluster.emulator.delete_pod(NS, server.name, grace_period_seconds=0)
        await eventually(lambda: _no_slices(bed), what="the garbage collector removing the slice")
        await _successor_takes_over(bed)


async def _no_slices(bed: ProcessBed) -> bool:
    return not await bed.slices()


async def _successor_takes_over(bed: ProcessBed) -> None:
    """A registrar for a new server pod adopts the Service the dead one made, publishes, then withdraws all."""
    cluster = bed.cluster
    reborn = await cluster.emulator.create_pod(NS, "arkouda-server-2", labels={"app.kubernetes.io/component": "server"})
    await cluster.emulator.set_pod_ready(NS, "arkouda-server-2", ip=POD_IP)
    cluster.allow(("", "pods"), "arkouda-server-2")
    cluster.pod = PodIdentity(name="arkouda-server-2", uid=reborn["metadata"]["uid"], ip=POD_IP, namespace=NS)
    registrar = await cluster.registrar(
        EXTERNAL_SERVICE_TARGET_PORT=str(cluster.port), EXTERNAL_SERVICE_PORT=str(cluster.port)
    )
    task = asyncio.create_task(registrar.run())
    await asyncio.wait_for(registrar.is_published.wait(), 20)
    await cluster.assert_clean(published=True, what="taken over by the next server pod")
    await asyncio.sleep(0.3)
    registrar.stop()
    await asyncio.wait_for(task, 20)
    await cluster.assert_clean(published=False, what="withdrawn by the next server pod")


@pytest.mark.parametrize("gc", ["collector", "next-registrar"])
async def test_a_killed_registrar_leaves_only_what_the_collector_or_the_next_one_removes(
    tmp_path: Path, gc: str
) -> None:
    """SIGKILL of the registrar sidecar while published: its slice outlives it (owned by the pod). Deleting the
    pod lets the garbage collector remove it; where the collector is slow, the registrar of the next server
    pod removes it at start (an orphan: its owner pod is gone)."""
    async with open_cluster(tmp_path, gc_delay=0.1 if gc == "collector" else 3600) as cluster:
        standin = await asyncio.to_thread(start_standin)
        try:
            cluster.port = standin.port
            first = start_register(cluster, pod=cluster.pod, port=standin.port, log=tmp_path / "register-1.log")
            try:
                await eventually(lambda: cluster.slice_is(ready=True), timeout=20, what="published by the sidecar")
            finally:
                first.kill()  # SIGKILL: no withdrawal
                await wait_exit(first, 10)
            (orphan,) = await cluster.our_slices()
            await cluster.emulator.delete_pod(NS, POD, grace_period_seconds=0)
            if gc == "collector":
                await eventually(lambda: _none_left(cluster), what="the garbage collector removing the slice")
            else:
                await asyncio.sleep(0.5)
                assert [s["metadata"]["name"] for s in await cluster.slices()] == [orphan["metadata"]["name"]]
            reborn = await cluster.emulator.create_pod(NS, POD, labels={"app.kubernetes.io/component": "server"})
            await cluster.emulator.set_pod_ready(NS, POD, ip=POD_IP)
            cluster.pod = PodIdentity(name=POD, uid=reborn["metadata"]["uid"], ip=POD_IP, namespace=NS)
            log = tmp_path / "register-2.log"
            second = start_register(cluster, pod=cluster.pod, port=standin.port, log=log)
            try:
                await eventually(lambda: cluster.slice_is(ready=True), timeout=20, what="published by the next pod")
                await cluster.assert_clean(published=True, what="the next pod published")
                if gc == "next-registrar":
                    removed = [e for e in events(log.read_text()) if e.get("event") == "orphans_removed"]
                    assert removed and removed[0]["endpointslices"] == [orphan["metadata"]["name"]]
                await asyncio.sleep(0.3)
                second.send_signal(signal.SIGTERM)
                assert await wait_exit(second, 15) == ExitCode.OK, log.read_text()[-3000:]
            finally:
                stop(second)
            await cluster.assert_clean(published=False, what="withdrawn by the next pod")
        finally:
            await asyncio.to_thread(standin.stop)


async def _none_left(cluster: Cluster) -> bool:
    return not await cluster.slices()
