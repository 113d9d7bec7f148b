"""The registrar against the API emulator (HTTPS, RBAC, a service-account identity)."""

from __future__ import annotations

import asyncio

import pytest

from arkouda_k8s.kube import ENDPOINT_SLICES, Forbidden
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.registrar.publish import ServiceConflict, WithdrawIncomplete

from .conftest import NS, POD, POD_IP, SA_USER, Cluster, SwitchProbe, running, wait_for


async def _published(cluster: Cluster, ready: bool = True) -> list[dict]:
    async def check() -> list[dict]:
        return [
            s
            for s in await cluster.slices()
            if s.get("endpoints") and s["endpoints"][0]["conditions"]["ready"] is ready
        ]

    return await wait_for(check, what=f"a slice with ready={ready}")


async def test_publishes_service_and_slice_then_withdraws_everything(cluster: Cluster) -> None:
    registrar = await cluster.registrar()
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        svc = await cluster.emulator.get("v1", "Service", NS, "arkouda")
        assert "selector" not in svc["spec"]
        assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [("arkouda", 5555, 5555)]
        assert svc["metadata"]["annotations"][o.OWNER_POD] == POD
        (es,) = await cluster.slices()
        assert es["metadata"]["name"].startswith("arkouda-")
        assert es["metadata"]["labels"]["kubernetes.io/service-name"] == "arkouda"
        assert es["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "arkouda-k8s"
        assert es["addressType"] == "IPv4"
        assert es["endpoints"][0]["addresses"] == [POD_IP]
        assert es["endpoints"][0]["conditions"] == {"ready": True, "serving": True, "terminating": False}
        assert es["endpoints"][0]["targetRef"]["uid"] == cluster.pod.uid
        assert es["metadata"]["ownerReferences"][0]["uid"] == cluster.pod.uid
        registrar.stop()
        await asyncio.wait_for(task, 10)
    assert await cluster.ours() == {}
    assert registrar.phase == "withdrawn"
    users = {r.user for r in cluster.emulator.request_log if r.namespace == NS and r.resource}
    assert users == {SA_USER}


async def test_withdrawal_marks_terminating_before_deleting(cluster: Cluster) -> None:
    registrar = await cluster.registrar()
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        mark = len(cluster.emulator.request_log)
        registrar.stop()
        await asyncio.wait_for(task, 10)
    writes = [(r.verb, r.resource) for r in cluster.emulator.request_log[mark:] if r.verb in ("patch", "delete")]
    assert writes[:2] == [("patch", "endpointslices"), ("delete", "endpointslices")]
    assert ("delete", "services") in writes


async def test_health_flaps_flip_readiness(cluster: Cluster) -> None:
    probe = SwitchProbe()
    registrar = await cluster.registrar(probe)
    async with running(registrar):
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        probe.answering = False
        await _published(cluster, ready=False)
        (es,) = await cluster.slices()
        assert es["endpoints"][0]["conditions"] == {"ready": False, "serving": False, "terminating": False}
        probe.answering = True
        await _published(cluster, ready=True)


async def test_nothing_is_published_before_the_server_answers(cluster: Cluster) -> None:
    probe = SwitchProbe(answering=False)
    registrar = await cluster.registrar(probe)
    async with running(registrar) as task:
        await wait_for(lambda: _phase_is(registrar, "waiting"), what="the waiting phase")
        assert await cluster.slices() == []
        registrar.stop()  # SIGTERM before the server ever answered
        await asyncio.wait_for(task, 10)
    assert await cluster.ours() == {}


async def _phase_is(registrar: object, phase: str) -> bool:
    return getattr(registrar, "phase", None) == phase


async def test_stop_while_publishing_leaves_nothing(cluster: Cluster) -> None:
    cluster.emulator.faults.add_latency(0.5, verb="create", resource="endpointslices")
    registrar = await cluster.registrar()
    async with running(registrar) as task:
        await wait_for(lambda: _phase_is(registrar, "publishing"), what="the publishing phase")
        await asyncio.sleep(0.1)  # the create is in flight
        registrar.stop()
        await asyncio.wait_for(task, 10)
    await asyncio.sleep(0.6)  # let the delayed create land, if it was going to
    leftovers = [s for s in await cluster.slices() if o.slice_owner_uid(s) == cluster.pod.uid]
    # The create may complete after our list: then it is owned by the pod and the GC removes it with the pod;
    # what the registrar itself saw must be gone.
    assert registrar.phase == "withdrawn"
    assert len(leftovers) <= 1
    if leftovers:
        await cluster.emulator.delete_pod(NS, POD, grace_period_seconds=0)
        await wait_for(lambda: _no_slices(cluster), what="garbage collection of the late slice")


async def _no_slices(cluster: Cluster) -> bool:
    return not await cluster.slices()


async def test_drift_is_repaired(cluster: Cluster) -> None:
    registrar = await cluster.registrar()
    async with running(registrar):
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        (es,) = await cluster.slices()
        # Someone edits our slice into a wrong shape…
        es["endpoints"] = [{"addresses": ["192.0.2.99"], "conditions": {"ready": True}}]
        await cluster.emulator.update(es)

        async def restored() -> bool:
            (current,) = await cluster.slices()
            return current["endpoints"][0]["addresses"] == [POD_IP] and current["endpoints"][0]["conditions"] == {
                "ready": True,
                "serving": True,
                "terminating": False,
            }

        await wait_for(restored, what="the slice restored")
        # …or deletes it.
        await cluster.emulator.delete("discovery.k8s.io/v1", "EndpointSlice", NS, es["metadata"]["name"])
        await wait_for(lambda: _slice_other_than(cluster, es["metadata"]["name"]), what="a recreated slice")
        # …or deletes the Service (repaired by the periodic check).
        await cluster.emulator.delete("v1", "Service", NS, "arkouda")
        await wait_for(lambda: _service_exists(cluster), timeout=5, what="the Service recreated")
        # (the API has the Service before the registrar has read the answer and counted the repair)
        await wait_for(lambda: _at_least(registrar.counters.repairs, 3), what="three repairs counted")


async def _at_least(value: int, minimum: int) -> bool:
    return value >= minimum


async def _slice_other_than(cluster: Cluster, name: str) -> bool:
    return any(s["metadata"]["name"] != name for s in await cluster.slices())


async def _service_exists(cluster: Cluster) -> bool:
    items = await cluster.emulator.list("v1", "Service", NS)
    return any(i["metadata"]["name"] == "arkouda" for i in items)


async def test_a_second_registrar_with_a_live_owner_is_refused_and_touches_nothing(cluster: Cluster) -> None:
    first = await cluster.registrar()
    async with running(first):
        await asyncio.wait_for(first.is_published.wait(), 5)
        other = await cluster.emulator.create_pod(NS, "arkouda-server-x")
        await cluster.emulator.set_pod_ready(NS, "arkouda-server-x", ip="192.0.2.11")
        second_pod = PodIdentity(name="arkouda-server-x", uid=other["metadata"]["uid"], ip="192.0.2.11", namespace=NS)
        mark = len(cluster.emulator.request_log)
        second = await cluster.registrar(pod=second_pod)
        with pytest.raises(ServiceConflict, match=f"published by another server pod that is running: {POD}"):
            await asyncio.wait_for(second.run(), 10)
        writes = [r for r in cluster.emulator.request_log[mark:] if r.verb not in ("get", "list", "watch")]
        assert writes == []
        assert second.counters.conflicts == 1
        (es,) = await cluster.slices()
        assert es["endpoints"][0]["addresses"] == [POD_IP]


async def test_takes_over_from_an_owner_pod_that_is_gone(cluster: Cluster) -> None:
    first = await cluster.registrar()
    async with running(first):
        await asyncio.wait_for(first.is_published.wait(), 5)
    # A crashed server: its Service (registrar-created) with annotations naming a pod that no longer exists.
    await cluster.emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "arkouda",
                "namespace": NS,
                "labels": {o.MANAGED_BY: o.US},
                "annotations": {o.OWNER_POD: "gone-0", o.OWNER_UID: "uid-gone", o.CREATED_BY_REGISTRAR: "true"},
            },
            "spec": {"ports": [{"name": "arkouda", "port": 5555}]},
        }
    )
    second = await cluster.registrar()
    async with running(second) as task:
        await asyncio.wait_for(second.is_published.wait(), 5)
        svc = await cluster.emulator.get("v1", "Service", NS, "arkouda")
        assert svc["metadata"]["annotations"][o.OWNER_POD] == POD
        second.stop()
        await asyncio.wait_for(task, 10)
    assert await cluster.ours() == {}


async def test_adopts_the_service_helm_made_with_get_and_patch_only(cluster: Cluster) -> None:
    await cluster.emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "arkouda", "namespace": NS, "labels": {o.MANAGED_BY: "Helm", o.INSTANCE: "rel"}},
            "spec": {"ports": [{"name": "arkouda", "port": 5555, "targetPort": 5555}]},
        }
    )
    registrar = await cluster.registrar()
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        registrar.stop()
        await asyncio.wait_for(task, 10)
    used = {v for g, r, v in cluster.emulator.permissions_used(SA_USER) if r == "services"}
    assert used == {"get", "patch"}
    svc = await cluster.emulator.get("v1", "Service", NS, "arkouda")  # Helm's Service stays
    assert svc["metadata"]["labels"][o.MANAGED_BY] == "Helm"
    assert await cluster.slices() == []


async def test_a_service_with_a_selector_is_never_adopted(cluster: Cluster) -> None:
    await cluster.emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "arkouda", "namespace": NS},
            "spec": {"selector": {"app": "something"}, "ports": [{"port": 5555}]},
        }
    )
    registrar = await cluster.registrar()
    with pytest.raises(ServiceConflict, match="exists with a selector"):
        await asyncio.wait_for(registrar.run(), 10)


async def test_orphans_of_dead_pods_are_removed_at_start(cluster: Cluster) -> None:
    orphan = o.endpoint_slice(
        o.ServiceSpec("arkouda", (o.Port("arkouda", 5555, 5555),)),
        PodIdentity(name="dead-0", uid="uid-dead", ip="192.0.2.12", namespace=NS),
        ready=True,
    )
    orphan["metadata"]["name"] = "arkouda-orphan"
    await cluster.emulator.create(orphan)
    registrar = await cluster.registrar(SwitchProbe(answering=False))
    async with running(registrar):
        await wait_for(lambda: _phase_is(registrar, "waiting"), what="the waiting phase")
        assert [s["metadata"]["name"] for s in await cluster.slices()] == []


async def test_api_503s_then_success_converges(cluster: Cluster) -> None:
    cluster.emulator.faults.fail_next(5, verb="create", resource="endpointslices", status=503)
    registrar = await cluster.registrar()
    async with running(registrar):
        await asyncio.wait_for(registrar.is_published.wait(), 10)
    statuses = [r.status for r in cluster.emulator.request_log if r.verb == "create" and r.resource == "endpointslices"]
    assert statuses[:6] == [503, 503, 503, 503, 503, 201]
    assert await cluster.ours() == {}


async def test_429_retry_after_is_honoured(cluster: Cluster) -> None:
    cluster.emulator.faults.fail_next(1, verb="create", resource="endpointslices", status=429, retry_after=1)
    registrar = await cluster.registrar()
    async with running(registrar):
        await asyncio.wait_for(registrar.is_published.wait(), 10)
    creates = [r for r in cluster.emulator.request_log if r.verb == "create" and r.resource == "endpointslices"]
    assert [r.status for r in creates[:2]] == [429, 201]
    assert creates[1].time - creates[0].time >= 0.95  # the gap the server asked for


async def test_a_rotated_token_is_re_read_from_its_file(cluster: Cluster) -> None:
    registrar = await cluster.registrar(SwitchProbe(answering=False))
    async with running(registrar) as task:
        await wait_for(lambda: _phase_is(registrar, "waiting"), what="the waiting phase")
        new = cluster.emulator.rotate_token(cluster.token_file.read_text().strip())
        cluster.token_file.write_text(new)
        assert isinstance(registrar.probe, SwitchProbe)
        registrar.probe.answering = True
        await asyncio.wait_for(registrar.is_published.wait(), 10)
        registrar.stop()
        await asyncio.wait_for(task, 10)
    assert await cluster.ours() == {}


async def test_forbidden_is_an_immediate_error_naming_verb_resource_namespace(cluster: Cluster) -> None:
    await cluster.emulator.create(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody", "namespace": NS}}
    )
    token_file = cluster.tmp / "nobody-token"
    token_file.write_text(cluster.emulator.service_account_token(NS, "nobody"))
    kube = await cluster.client(token_file=token_file)
    with pytest.raises(Forbidden) as refused:
        await kube.list(ENDPOINT_SLICES, NS, label_selector="a=b")
    message = str(refused.value)
    assert "list endpointslices.discovery.k8s.io in namespace arkouda" in message
    assert "kubectl auth can-i list endpointslices.discovery.k8s.io -n arkouda" in message
    attempts = [r for r in cluster.emulator.request_log if r.user.endswith(":nobody")]
    assert len(attempts) == 1  # no retry storm


async def test_withdrawal_past_its_deadline_says_what_is_left(cluster: Cluster) -> None:
    registrar = await cluster.registrar(SHUTDOWN_TIMEOUT="1")
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        cluster.emulator.faults.partition(5)
        registrar.stop()
        with pytest.raises(WithdrawIncomplete, match="did not finish within 1 s") as incomplete:
            await asyncio.wait_for(task, 10)
    assert "endpointslice/arkouda-" in str(incomplete.value)
    assert "garbage-collected" in str(incomplete.value)


async def test_endpoints_api_both_writes_legacy_endpoints_too(cluster: Cluster) -> None:
    registrar = await cluster.registrar(ENDPOINTS_API="both")
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        ep = await cluster.emulator.get("v1", "Endpoints", NS, "arkouda")
        assert ep["metadata"]["labels"]["endpointslice.kubernetes.io/skip-mirror"] == "true"
        assert ep["subsets"][0]["addresses"][0]["ip"] == POD_IP
        registrar.stop()
        await asyncio.wait_for(task, 10)
    assert await cluster.ours() == {}


async def test_metrics_port_on_the_service_or_a_service_of_its_own(cluster: Cluster) -> None:
    registrar = await cluster.registrar(COLLECT_METRICS="true", METRICS_SERVICE_TARGET_PORT="5557")
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        svc = await cluster.emulator.get("v1", "Service", NS, "arkouda")
        assert [(p["name"], p["targetPort"]) for p in svc["spec"]["ports"]] == [("arkouda", 5555), ("metrics", 5557)]
        registrar.stop()
        await asyncio.wait_for(task, 10)
    registrar = await cluster.registrar(COLLECT_METRICS="true", METRICS_SERVICE_NAME="arkouda-metrics")
    async with running(registrar) as task:
        await asyncio.wait_for(registrar.is_published.wait(), 5)
        metrics = await cluster.emulator.get("v1", "Service", NS, "arkouda-metrics")
        assert [p["name"] for p in metrics["spec"]["ports"]] == ["metrics"]
        assert len(await cluster.slices()) == 2
        registrar.stop()
        await asyncio.wait_for(task, 10)
    assert await cluster.ours() == {}
