# mypy: disable-error-code="arg-type,call-arg,attr-defined,unreachable"
"""Create / get / list / update / patch / delete through the real kubernetes_asyncio client."""

from __future__ import annotations

import json

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient, ApiException

from arkouda_k8s.testing.kube import KubeEmulator

Api = tuple[KubeEmulator, ApiClient]


def _pod(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}


def _body(error: ApiException) -> dict[str, object]:
    body: dict[str, object] = json.loads(error.body)
    return body


async def test_namespace_create_get_list(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    created = await core.create_namespace({"metadata": {"name": "team"}})
    assert created.status.phase == "Active"
    assert created.metadata.labels == {"kubernetes.io/metadata.name": "team"}
    names = {n.metadata.name for n in (await core.list_namespace()).items}
    assert {"default", "kube-system", "team"} <= names


async def test_pod_gets_defaults_and_pending_status(kube_api: Api) -> None:
    _, api = kube_api
    pod = await client.CoreV1Api(api).create_namespaced_pod("default", _pod("p"))
    assert pod.status.phase == "Pending"
    assert pod.status.qos_class == "BestEffort"
    assert pod.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert pod.spec.restart_policy == "Always"
    assert pod.metadata.uid and pod.metadata.creation_timestamp


async def test_generate_name_makes_a_unique_name(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    body = {"metadata": {"generateName": "cm-"}, "data": {"k": "v"}}
    first = await core.create_namespaced_config_map("default", body)
    second = await core.create_namespaced_config_map("default", body)
    assert first.metadata.name.startswith("cm-") and len(first.metadata.name) == len("cm-") + 5
    assert first.metadata.name != second.metadata.name
    assert first.metadata.generate_name == "cm-"


async def test_one_global_resource_version_grows_with_every_write(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    a = await core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    b = await core.create_namespaced_secret("default", {"metadata": {"name": "b"}})
    listed = await core.list_namespaced_config_map("default")
    assert int(b.metadata.resource_version) == int(a.metadata.resource_version) + 1
    assert int(listed.metadata.resource_version) >= int(b.metadata.resource_version)


async def test_create_twice_is_409_already_exists(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    await core.create_namespaced_config_map("default", {"metadata": {"name": "twice"}})
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map("default", {"metadata": {"name": "twice"}})
    assert caught.value.status == 409
    assert _body(caught.value)["reason"] == "AlreadyExists"
    assert _body(caught.value)["message"] == 'configmaps "twice" already exists'


async def test_update_with_stale_resource_version_is_409_conflict(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    cm = await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}, "data": {"a": "1"}})
    stale = cm.metadata.resource_version
    cm.data = {"a": "2"}
    updated = await core.replace_namespaced_config_map("c", "default", cm)
    assert updated.data == {"a": "2"} and updated.metadata.resource_version != stale
    cm.metadata.resource_version = stale
    with pytest.raises(ApiException) as caught:
        await core.replace_namespaced_config_map("c", "default", cm)
    assert caught.value.status == 409
    assert _body(caught.value)["reason"] == "Conflict"
    assert "the object has been modified" in str(_body(caught.value)["message"])


async def test_missing_object_is_404_with_status(kube_api: Api) -> None:
    _, api = kube_api
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).read_namespaced_service("nope", "default")
    assert caught.value.status == 404
    assert _body(caught.value)["details"] == {"name": "nope", "kind": "services"}


async def test_create_in_missing_namespace_is_404(kube_api: Api) -> None:
    _, api = kube_api
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).create_namespaced_pod("ghost", _pod("p"))
    assert caught.value.status == 404
    assert _body(caught.value)["message"] == 'namespaces "ghost" not found'


async def test_label_selectors(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    for name, labels in (("a", {"app": "x", "tier": "1"}), ("b", {"app": "x", "tier": "2"}), ("c", {"app": "y"})):
        await core.create_namespaced_pod("default", _pod(name, labels))

    async def names(selector: str) -> list[str]:
        return [p.metadata.name for p in (await core.list_namespaced_pod("default", label_selector=selector)).items]

    assert await names("app=x") == ["a", "b"]
    assert await names("app==x,tier!=1") == ["b"]
    assert await names("tier in (1,2)") == ["a", "b"]
    assert await names("app notin (x)") == ["c"]
    assert await names("tier") == ["a", "b"]
    assert await names("!tier") == ["c"]


async def test_bad_label_selector_is_400(kube_api: Api) -> None:
    _, api = kube_api
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).list_namespaced_pod("default", label_selector="a b")
    assert caught.value.status == 400
    assert "unable to parse requirement" in str(_body(caught.value)["message"])


async def test_field_selectors(kube_api: Api) -> None:
    emu, api = kube_api
    core = client.CoreV1Api(api)
    await emu.create_pod("default", "run", ip="198.51.100.7", phase="Running")
    await emu.create_pod("default", "wait")
    running = await core.list_namespaced_pod("default", field_selector="status.phase=Running")
    assert [p.metadata.name for p in running.items] == ["run"]
    by_name = await core.list_namespaced_pod("default", field_selector="metadata.name=wait")
    assert [p.metadata.name for p in by_name.items] == ["wait"]
    by_ip = await core.list_namespaced_pod("default", field_selector="status.podIP=198.51.100.7")
    assert [p.metadata.name for p in by_ip.items] == ["run"]
    with pytest.raises(ApiException) as caught:
        await core.list_namespaced_pod("default", field_selector="spec.bogus=1")
    assert _body(caught.value)["message"] == "field label not supported: spec.bogus"


async def test_limit_and_continue_page_through_a_list(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    for i in range(5):
        await core.create_namespaced_config_map("default", {"metadata": {"name": f"page-{i}"}})
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = await core.list_namespaced_config_map("default", limit=2, _continue=token, label_selector=None)
        seen += [c.metadata.name for c in page.items if c.metadata.name.startswith("page-")]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"page-{i}" for i in range(5)]
    assert pages >= 3


async def test_merge_and_json_patch(kube_api: Api) -> None:
    _, api = kube_api
    discovery = client.DiscoveryV1Api(api)
    body = {
        "metadata": {"name": "s", "labels": {"kubernetes.io/service-name": "s"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["198.51.100.1"], "conditions": {"ready": True}}],
        "ports": [{"name": "p", "port": 80, "protocol": "TCP"}],
    }
    await discovery.create_namespaced_endpoint_slice("default", body)
    merged = await discovery.patch_namespaced_endpoint_slice("s", "default", {"metadata": {"labels": {"x": "y"}}})
    assert merged.metadata.labels == {"kubernetes.io/service-name": "s", "x": "y"}
    assert merged.metadata.generation == 2
    ops = [{"op": "replace", "path": "/endpoints/0/conditions/ready", "value": False}]
    patched = await discovery.patch_namespaced_endpoint_slice(
        "s", "default", ops, _content_type="application/json-patch+json"
    )
    assert patched.endpoints[0].conditions.ready is False


async def test_json_patch_that_does_not_apply_is_422(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    await core.create_namespaced_config_map("default", {"metadata": {"name": "j"}})
    ops = [{"op": "replace", "path": "/data/missing", "value": "x"}]
    with pytest.raises(ApiException) as caught:
        await core.patch_namespaced_config_map("j", "default", ops, _content_type="application/json-patch+json")
    assert caught.value.status == 422
    assert _body(caught.value)["message"] == "the server rejected our request due to an error in our request"


async def test_delete_answers_status_or_object(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    await core.create_namespaced_config_map("default", {"metadata": {"name": "d"}})
    await core.create_namespaced_service("default", {"metadata": {"name": "d"}, "spec": {"ports": [{"port": 80}]}})
    gone = await core.delete_namespaced_config_map("d", "default", _preload_content=False)
    assert (await gone.json())["status"] == "Success"
    svc = await core.delete_namespaced_service("d", "default", _preload_content=False)
    assert (await svc.json())["kind"] == "Service"
    with pytest.raises(ApiException) as caught:
        await core.delete_namespaced_config_map("d", "default")
    assert caught.value.status == 404


async def test_service_gets_a_cluster_ip_and_defaults(kube_api: Api) -> None:
    _, api = kube_api
    svc = await client.CoreV1Api(api).create_namespaced_service(
        "default", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}}
    )
    assert svc.spec.cluster_ip.startswith("10.") and svc.spec.cluster_ips == [svc.spec.cluster_ip]
    assert svc.spec.ports[0].target_port == 80 and svc.spec.ports[0].protocol == "TCP"
    assert svc.spec.type == "ClusterIP" and svc.spec.session_affinity == "None"


async def test_pod_status_subresource_changes_only_status(kube_api: Api) -> None:
    _, api = kube_api
    core = client.CoreV1Api(api)
    await core.create_namespaced_pod("default", _pod("s"))
    patched = await core.patch_namespaced_pod_status(
        "s", "default", {"status": {"phase": "Running", "podIP": "198.51.100.9"}, "spec": {"nodeName": "sneaky"}}
    )
    assert patched.status.phase == "Running" and patched.status.pod_ip == "198.51.100.9"
    assert patched.spec.node_name is None
    ignored = await core.patch_namespaced_pod("s", "default", {"status": {"phase": "Failed"}})
    assert ignored.status.phase == "Running"


async def test_field_selectors_across_namespaces(kube_api: Api) -> None:
    emu, api = kube_api
    core = client.CoreV1Api(api)
    await core.create_namespace({"metadata": {"name": "other"}})
    await emu.create_pod("default", "here", node_name="node-a")
    await emu.create_pod("other", "there", node_name="node-b")
    on_b = await core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-b")
    assert [(p.metadata.namespace, p.metadata.name) for p in on_b.items] == [("other", "there")]
    not_default = await core.list_pod_for_all_namespaces(field_selector="metadata.namespace!=default")
    assert [p.metadata.name for p in not_default.items] == ["there"]
