"""Strategic merge patch and server-side apply, over HTTP as clients send them."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from arkouda_k8s.testing.kube import KubeEmulator

JSON = dict[str, Any]
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


async def _send(emu: KubeEmulator, method: str, path: str, body: Any, content_type: str) -> tuple[int, JSON]:
    headers = {"Authorization": f"Bearer {emu.admin_token}", "Content-Type": content_type}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.url + path, data=json.dumps(body), headers=headers) as r,
    ):
        answer: JSON = await r.json()
        return r.status, answer


def _deployment() -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                        {"name": "sidecar", "image": "side:1"},
                    ]
                },
            },
        },
    }


async def test_strategic_merge_merges_containers_by_name(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(_deployment())
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}]}
            }
        }
    }
    status, patched = await _send(
        kube_emulator, "PATCH", f"{DEPLOYMENTS}/web", patch, "application/strategic-merge-patch+json"
    )
    assert status == 200
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "app:2"), ("sidecar", "side:1")]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert patched["metadata"]["generation"] == 2


async def test_strategic_merge_delete_directive(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(_deployment())
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    status, patched = await _send(
        kube_emulator, "PATCH", f"{DEPLOYMENTS}/web", patch, "application/strategic-merge-patch+json"
    )
    assert status == 200
    assert [c["name"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["app"]


async def test_merge_patch_replaces_lists_whole(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(_deployment())
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "o:1"}]}}}}
    status, patched = await _send(kube_emulator, "PATCH", f"{DEPLOYMENTS}/web", patch, "application/merge-patch+json")
    assert status == 200
    assert [c["name"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["only"]


def _service(labels: JSON, ports: list[JSON] | None = None) -> JSON:
    body: JSON = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "labels": labels}}
    if ports is not None:
        body["spec"] = {"ports": ports}
    return body


async def _apply(emu: KubeEmulator, body: JSON, manager: str | None, force: bool = False) -> tuple[int, JSON]:
    query = "?" + "&".join(([f"fieldManager={manager}"] if manager else []) + (["force=true"] if force else []))
    return await _send(
        emu, "PATCH", f"/api/v1/namespaces/default/services/svc{query}", body, "application/apply-patch+yaml"
    )


async def test_apply_creates_then_owns_exactly_what_it_sends(kube_emulator: KubeEmulator) -> None:
    status, created = await _apply(
        kube_emulator, _service({"a": "1", "b": "2"}, [{"name": "x", "port": 80}, {"name": "y", "port": 81}]), "me"
    )
    assert status == 201
    assert [(e["manager"], e["operation"]) for e in created["metadata"]["managedFields"]] == [("me", "Apply")]
    assert created["spec"]["ports"][0]["targetPort"] == 80  # defaulted, owned by nobody
    status, again = await _apply(kube_emulator, _service({"a": "1"}, [{"name": "x", "port": 80}]), "me")
    assert status == 200
    assert again["metadata"]["labels"] == {"a": "1"}
    assert [p["name"] for p in again["spec"]["ports"]] == ["x"]


async def test_apply_conflicts_with_another_manager_unless_forced(kube_emulator: KubeEmulator) -> None:
    await _apply(kube_emulator, _service({"a": "1"}, [{"name": "x", "port": 80}]), "me")
    status, conflict = await _apply(kube_emulator, _service({"a": "2"}), "you")
    assert status == 409
    assert conflict["reason"] == "Conflict"
    assert conflict["message"] == 'Apply failed with 1 conflict: conflict with "me": .metadata.labels.a'
    assert conflict["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "me"', "field": ".metadata.labels.a"}
    ]
    status, forced = await _apply(kube_emulator, _service({"a": "2"}), "you", force=True)
    assert status == 200 and forced["metadata"]["labels"] == {"a": "2"}
    assert {e["manager"] for e in forced["metadata"]["managedFields"]} == {"me", "you"}


async def test_apply_conflicts_name_update_managers_with_their_api_version(kube_emulator: KubeEmulator) -> None:
    created = await kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": "default"},
            "data": {"k": "v"},
        }
    )
    assert created["metadata"]["managedFields"][0]["operation"] == "Update"
    status, conflict = await _send(
        kube_emulator,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/cm?fieldManager=me",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "other"}},
        "application/apply-patch+yaml",
    )
    assert status == 409
    assert conflict["message"] == 'Apply failed with 1 conflict: conflict with "kube-apiserver" using v1: .data.k'


async def test_apply_without_a_field_manager_is_422(kube_emulator: KubeEmulator) -> None:
    status, answer = await _apply(kube_emulator, _service({"a": "1"}, [{"name": "x", "port": 80}]), None)
    assert status == 422
    assert (
        answer["message"]
        == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )


async def test_force_on_a_non_apply_patch_is_422(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(_deployment())
    status, answer = await _send(
        kube_emulator, "PATCH", f"{DEPLOYMENTS}/web?force=true", {}, "application/merge-patch+json"
    )
    assert status == 422
    assert answer["details"]["causes"] == [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: may not be specified for non-apply patch",
            "field": "force",
        }
    ]


@pytest.mark.parametrize("content_type", ["application/merge-patch+json", "application/strategic-merge-patch+json"])
async def test_patch_of_a_missing_object_is_404(kube_emulator: KubeEmulator, content_type: str) -> None:
    status, answer = await _send(kube_emulator, "PATCH", f"{DEPLOYMENTS}/missing", {}, content_type)
    assert status == 404 and answer["message"] == 'deployments.apps "missing" not found'
