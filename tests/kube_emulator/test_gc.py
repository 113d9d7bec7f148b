"""ownerReferences garbage collection and namespace deletion, as kube-controller-manager does them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.kube.status import ApiError

JSON = dict[str, Any]


def _owned(name: str, owners: list[JSON]) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "ownerReferences": owners},
    }


def _ref(obj: JSON) -> JSON:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
    }


async def _names(emu: KubeEmulator) -> set[str]:
    return {c["metadata"]["name"] for c in await emu.list("v1", "ConfigMap", "default")}


async def _eventually_gone(emu: KubeEmulator, name: str, seconds: float = 3.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if name not in await _names(emu):
            return True
        await asyncio.sleep(0.02)
    return False


async def test_dependent_is_collected_after_its_owner_is_deleted(kube_emulator: KubeEmulator) -> None:
    owner = await kube_emulator.create_pod("default", "owner")
    await kube_emulator.create(_owned("dep", [_ref(owner)]))
    await asyncio.sleep(0.3)
    assert "dep" in await _names(kube_emulator)  # the owner exists: nothing happens
    await kube_emulator.delete_pod("default", "owner", grace_period_seconds=0)
    assert await _eventually_gone(kube_emulator, "dep")
    assert kube_emulator.gc.collected == 1


async def test_dependent_of_an_owner_that_never_existed_is_collected(kube_emulator: KubeEmulator) -> None:
    ghost = {"apiVersion": "v1", "kind": "Pod", "name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}
    await kube_emulator.create(_owned("orphaned", [ghost]))
    assert await _eventually_gone(kube_emulator, "orphaned")


async def test_owner_with_the_same_name_but_another_uid_does_not_count(kube_emulator: KubeEmulator) -> None:
    first = await kube_emulator.create_pod("default", "same")
    await kube_emulator.delete_pod("default", "same", grace_period_seconds=0)
    await kube_emulator.create_pod("default", "same")
    await kube_emulator.create(_owned("dep", [_ref(first)]))
    assert await _eventually_gone(kube_emulator, "dep")


async def test_a_gone_owner_is_removed_from_a_dependent_that_has_another(kube_emulator: KubeEmulator) -> None:
    a = await kube_emulator.create_pod("default", "a")
    b = await kube_emulator.create_pod("default", "b")
    await kube_emulator.create(_owned("shared", [_ref(a), _ref(b)]))
    await kube_emulator.delete_pod("default", "a", grace_period_seconds=0)
    for _ in range(100):
        dep = await kube_emulator.get("v1", "ConfigMap", "default", "shared")
        if len(dep["metadata"]["ownerReferences"]) == 1:
            break
        await asyncio.sleep(0.02)
    assert [r["name"] for r in dep["metadata"]["ownerReferences"]] == ["b"]


async def test_orphan_propagation_keeps_dependents(kube_emulator: KubeEmulator) -> None:
    owner = await kube_emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": "default"}}
    )
    await kube_emulator.create(_owned("kept", [_ref(owner)]))
    rt = kube_emulator.api.registry.lookup("", "v1", "configmaps")
    assert rt is not None
    answer = kube_emulator.api.delete(rt, "default", "owner", {"propagationPolicy": "Orphan"})
    assert "orphan" in answer["metadata"]["finalizers"]
    assert await _eventually_gone(kube_emulator, "owner")
    kept = await kube_emulator.get("v1", "ConfigMap", "default", "kept")
    assert "ownerReferences" not in kept["metadata"]


async def test_foreground_propagation_deletes_dependents_first(kube_emulator: KubeEmulator) -> None:
    owner = await kube_emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": "default"}}
    )
    await kube_emulator.create(_owned("dep", [_ref(owner)]))
    rt = kube_emulator.api.registry.lookup("", "v1", "configmaps")
    assert rt is not None
    answer = kube_emulator.api.delete(rt, "default", "owner", {"propagationPolicy": "Foreground"})
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert await _eventually_gone(kube_emulator, "dep")
    assert await _eventually_gone(kube_emulator, "owner")


async def test_object_with_a_finalizer_waits_for_it(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "f", "namespace": "default", "finalizers": ["example.com/hold"]},
        }
    )
    marked = await kube_emulator.delete("v1", "ConfigMap", "default", "f")
    assert marked["metadata"]["deletionTimestamp"]
    assert "f" in await _names(kube_emulator)
    await kube_emulator.patch("v1", "ConfigMap", "default", "f", {"metadata": {"finalizers": None}})
    assert "f" not in await _names(kube_emulator)


async def test_namespace_deletion_terminates_empties_and_removes_it(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    await kube_emulator.create_pod("doomed", "p")
    marked = await kube_emulator.delete("v1", "Namespace", None, "doomed")
    assert marked["status"]["phase"] == "Terminating"
    with pytest.raises(ApiError) as caught:
        await kube_emulator.create_pod("doomed", "late")
    assert caught.value.code == 403
    assert (
        caught.value.message
        == 'pods "late" is forbidden: unable to create new content in namespace doomed because it is being terminated'
    )
    for _ in range(100):
        if not [n for n in await kube_emulator.list("v1", "Namespace") if n["metadata"]["name"] == "doomed"]:
            break
        await asyncio.sleep(0.02)
    assert await kube_emulator.list("v1", "Pod", "doomed") == []
    assert not [n for n in await kube_emulator.list("v1", "Namespace") if n["metadata"]["name"] == "doomed"]


async def test_new_namespace_gets_default_service_account_and_root_ca(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}})
    for _ in range(100):
        accounts = await kube_emulator.list("v1", "ServiceAccount", "fresh")
        if accounts:
            break
        await asyncio.sleep(0.02)
    assert [a["metadata"]["name"] for a in accounts] == ["default"]
    assert [c["metadata"]["name"] for c in await kube_emulator.list("v1", "ConfigMap", "fresh")] == ["kube-root-ca.crt"]


async def test_deleting_a_service_deletes_its_endpoints(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "default"},
            "spec": {"ports": [{"port": 1}]},
        }
    )
    await kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "s", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "198.51.100.1"}]}],
        }
    )
    await kube_emulator.delete("v1", "Service", "default", "s")
    await asyncio.sleep(0.05)
    assert await kube_emulator.list("v1", "Endpoints", "default") == []


async def test_service_with_a_selector_gets_a_slice_and_endpoints_from_its_pods(kube_emulator: KubeEmulator) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    spec = {"containers": [{"name": "c", "image": "i:1", "ports": [{"name": "http", "containerPort": 8080}]}]}
    await kube_emulator.create(service)
    await kube_emulator.create_pod("default", "web-0", labels={"app": "web"}, spec=spec)
    await kube_emulator.create_pod("default", "web-1", labels={"app": "web"}, spec=spec)
    await kube_emulator.create_pod("default", "other", labels={"app": "other"}, spec=spec)
    await kube_emulator.set_pod_ready("default", "web-0", ip="198.51.100.10")
    await kube_emulator.set_pod_ready("default", "web-1", ip="198.51.100.11", ready=False)
    await asyncio.sleep(0.05)
    slices = await kube_emulator.list(
        "discovery.k8s.io/v1", "EndpointSlice", "default", label_selector="kubernetes.io/service-name=web"
    )
    assert len(slices) == 1
    (managed,) = slices
    assert managed["metadata"]["name"].startswith("web-")
    assert managed["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert managed["ports"] == [{"name": "http", "protocol": "TCP", "port": 8080}]
    ready = {e["addresses"][0]: e["conditions"]["ready"] for e in managed["endpoints"]}
    assert ready == {"198.51.100.10": True, "198.51.100.11": False}
    endpoints = await kube_emulator.get("v1", "Endpoints", "default", "web")
    subset = endpoints["subsets"][0]
    assert [a["ip"] for a in subset["addresses"]] == ["198.51.100.10"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["198.51.100.11"]
    await kube_emulator.delete("v1", "Service", "default", "web")
    for _ in range(100):
        if not await kube_emulator.list("discovery.k8s.io/v1", "EndpointSlice", "default"):
            break
        await asyncio.sleep(0.02)
    assert await kube_emulator.list("discovery.k8s.io/v1", "EndpointSlice", "default") == []
    assert await kube_emulator.list("v1", "Endpoints", "default") == []


async def test_selectorless_services_get_no_managed_endpoints(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "arkouda", "namespace": "default"},
            "spec": {"ports": [{"port": 5555}]},
        }
    )
    await kube_emulator.create_pod("default", "p", labels={"app": "x"})
    await asyncio.sleep(0.05)
    assert await kube_emulator.list("discovery.k8s.io/v1", "EndpointSlice", "default") == []
