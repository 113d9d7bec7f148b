"""The kubelet's side: pod helpers that make pods Running/Ready, flip readiness and delete them."""

from __future__ import annotations

import asyncio

from arkouda_k8s.testing.kube import KubeEmulator


def _condition(pod: dict[str, object], kind: str) -> str | None:
    status = pod.get("status")
    assert isinstance(status, dict)
    for c in status.get("conditions") or []:
        if c["type"] == kind:
            return str(c["status"])
    return None


async def test_set_pod_ready_sets_running_ready_ip_and_conditions(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p", labels={"app": "a"})
    pod = await kube_emulator.set_pod_ready("default", "p", ip="198.51.100.5")
    status = pod["status"]
    assert status["phase"] == "Running"
    assert status["podIP"] == "198.51.100.5" and status["podIPs"] == [{"ip": "198.51.100.5"}]
    assert _condition(pod, "Ready") == "True" and _condition(pod, "ContainersReady") == "True"
    assert status["containerStatuses"][0]["ready"] is True


async def test_readiness_flips_without_leaving_running(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p")
    await kube_emulator.set_pod_ready("default", "p", ip="198.51.100.6")
    pod = await kube_emulator.set_pod_ready("default", "p", ip="198.51.100.6", ready=False)
    assert pod["status"]["phase"] == "Running"
    assert _condition(pod, "Ready") == "False"


async def test_set_pod_phase_with_a_waiting_reason(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p")
    pod = await kube_emulator.set_pod_phase("default", "p", "Pending", waiting_reason="ImagePullBackOff")
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "ImagePullBackOff"}


async def test_graceful_deletion_marks_then_removes_after_the_grace_period(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p")
    marked = await kube_emulator.delete_pod("default", "p", grace_period_seconds=1)
    assert marked["metadata"]["deletionTimestamp"] and marked["metadata"]["deletionGracePeriodSeconds"] == 1
    still = await kube_emulator.list("v1", "Pod", "default")
    assert [p["metadata"]["name"] for p in still] == ["p"]
    for _ in range(50):
        await asyncio.sleep(0.05)
        if not await kube_emulator.list("v1", "Pod", "default"):
            break
    assert await kube_emulator.list("v1", "Pod", "default") == []


async def test_an_unscheduled_pod_is_deleted_at_once(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p", node_name=None)
    answer = await kube_emulator.delete_pod("default", "p")
    assert answer["metadata"]["deletionGracePeriodSeconds"] == 0
    assert await kube_emulator.list("v1", "Pod", "default") == []


async def test_finish_pod_termination_removes_a_terminating_pod_now(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p")
    await kube_emulator.delete_pod("default", "p", grace_period_seconds=30)
    assert await kube_emulator.finish_pod_termination("default", "p")
    assert await kube_emulator.list("v1", "Pod", "default") == []


async def test_pod_termination_seconds_shortens_the_wait() -> None:
    async with KubeEmulator(pod_termination_seconds=0.1) as emulator:
        await emulator.create_pod("default", "p")
        marked = await emulator.delete_pod("default", "p")
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
        for _ in range(50):
            if not await emulator.list("v1", "Pod", "default"):
                break
            await asyncio.sleep(0.05)
        assert await emulator.list("v1", "Pod", "default") == []
