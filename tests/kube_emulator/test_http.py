"""What a client that sends bad input gets (400/415/404/405), headers and non-resource paths."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.kube.server import ENDPOINTS_WARNING

JSON = dict[str, Any]


async def _call(
    emu: KubeEmulator, method: str, path: str, data: bytes | None = None, content_type: str | None = None
) -> tuple[int, JSON, dict[str, str]]:
    headers = {"Authorization": f"Bearer {emu.admin_token}"}
    if content_type:
        headers["Content-Type"] = content_type
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.url + path, data=data, headers=headers) as r,
    ):
        text = await r.text()
        return r.status, json.loads(text) if text.startswith("{") else {"text": text}, dict(r.headers)


async def test_malformed_json_is_400(kube_emulator: KubeEmulator) -> None:
    status, body, _ = await _call(
        kube_emulator, "POST", "/api/v1/namespaces/default/configmaps", b"{bad", "application/json"
    )
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"].startswith(
        "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error:"
    )


async def test_wrong_content_type_is_415(kube_emulator: KubeEmulator) -> None:
    status, body, _ = await _call(kube_emulator, "POST", "/api/v1/namespaces/default/configmaps", b"x", "text/plain")
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    assert body["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf"
    )


async def test_patch_with_a_body_type_that_is_not_a_patch_is_415(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
    )
    status, body, _ = await _call(
        kube_emulator, "PATCH", "/api/v1/namespaces/default/configmaps/c", b"{}", "application/json"
    )
    assert status == 415
    assert body["message"].endswith(
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )


async def test_unknown_resource_and_group_are_404(kube_emulator: KubeEmulator) -> None:
    for path in ("/api/v1/namespaces/default/widgets", "/apis/example.com/v1/widgets", "/apis/apps/v9/deployments"):
        status, body, _ = await _call(kube_emulator, "GET", path)
        assert status == 404, path
        assert body == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server could not find the requested resource",
            "reason": "NotFound",
            "details": {},
            "code": 404,
        }


async def test_methods_a_resource_does_not_have_are_405(kube_emulator: KubeEmulator) -> None:
    for method, path in (
        ("POST", "/api/v1/namespaces/default/configmaps/named"),
        ("PUT", "/api/v1/namespaces/default/configmaps"),
        ("DELETE", "/api/v1/namespaces"),  # namespaces have no deletecollection
        ("DELETE", "/api/v1/namespaces/default/pods/p/status"),
    ):
        status, body, _ = await _call(kube_emulator, method, path, b"{}", "application/json")
        assert status == 405, (method, path)
        assert body["reason"] == "MethodNotAllowed"
        assert body["message"] == "the server does not allow this method on the requested resource"


async def test_v1_endpoints_carry_the_deprecation_warning(kube_emulator: KubeEmulator) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "e"},
        "subsets": [{"addresses": [{"ip": "198.51.100.1"}]}],
    }
    status, _, headers = await _call(
        kube_emulator, "POST", "/api/v1/namespaces/default/endpoints", json.dumps(body).encode(), "application/json"
    )
    assert status == 201 and headers["Warning"] == ENDPOINTS_WARNING
    assert ENDPOINTS_WARNING == '299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"'
    _, _, read = await _call(kube_emulator, "GET", "/api/v1/namespaces/default/endpoints/e")
    assert read["Warning"] == ENDPOINTS_WARNING
    _, _, slices = await _call(kube_emulator, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
    assert "Warning" not in slices


async def test_health_and_version_paths(kube_emulator: KubeEmulator) -> None:
    for path in ("/healthz", "/livez", "/readyz"):
        status, body, _ = await _call(kube_emulator, "GET", path)
        assert (status, body) == (200, {"text": "ok"})
    status, version, _ = await _call(kube_emulator, "GET", "/version")
    assert status == 200 and version["gitVersion"] == "v1.28.0"


async def test_namespace_in_body_must_match_the_url(kube_emulator: KubeEmulator) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}}
    status, answer, _ = await _call(
        kube_emulator, "POST", "/api/v1/namespaces/default/configmaps", json.dumps(body).encode(), "application/json"
    )
    assert status == 400
    assert answer["message"] == "the namespace of the provided object does not match the namespace sent on the request"


async def test_name_in_body_must_match_the_url_on_update(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
    )
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}}
    status, answer, _ = await _call(
        kube_emulator, "PUT", "/api/v1/namespaces/default/configmaps/c", json.dumps(body).encode(), "application/json"
    )
    assert status == 400
    assert answer["message"] == "the name of the object (d) does not match the name on the URL (c)"


async def test_yaml_bodies_are_accepted(kube_emulator: KubeEmulator) -> None:
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n"
    status, created, _ = await _call(
        kube_emulator, "POST", "/api/v1/namespaces/default/configmaps", body, "application/yaml"
    )
    assert status == 201 and created["data"] == {"k": "v"}


async def test_dry_run_writes_nothing(kube_emulator: KubeEmulator) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}}
    status, _, _ = await _call(
        kube_emulator,
        "POST",
        "/api/v1/namespaces/default/configmaps?dryRun=All",
        json.dumps(body).encode(),
        "application/json",
    )
    assert status == 201
    assert [c for c in await kube_emulator.list("v1", "ConfigMap", "default") if c["metadata"]["name"] == "dry"] == []


async def test_unknown_fields_are_dropped_with_a_warning_by_default(kube_emulator: KubeEmulator) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "u"},
        "data": {"k": "v"},
        "dta": {"typo": "x"},
    }
    status, created, headers = await _call(
        kube_emulator, "POST", "/api/v1/namespaces/default/configmaps", json.dumps(body).encode(), "application/json"
    )
    assert status == 201
    assert "dta" not in created and created["data"] == {"k": "v"}
    assert headers["Warning"] == '299 - "unknown field \\"dta\\""'


async def test_unknown_fields_are_a_400_with_strict_field_validation(kube_emulator: KubeEmulator) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "targt": 1}]},
    }
    status, answer, _ = await _call(
        kube_emulator,
        "POST",
        "/api/v1/namespaces/default/services?fieldValidation=Strict",
        json.dumps(body).encode(),
        "application/json",
    )
    assert status == 400
    prefix = 'Service in version "v1" cannot be handled as a Service: '
    assert answer["message"] == prefix + 'strict decoding error: unknown field "spec.ports[0].targt"'


async def test_put_creates_endpoints_but_not_config_maps(kube_emulator: KubeEmulator) -> None:
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "e"},
        "subsets": [{"addresses": [{"ip": "198.51.100.1"}]}],
    }
    status, _, _ = await _call(
        kube_emulator,
        "PUT",
        "/api/v1/namespaces/default/endpoints/e",
        json.dumps(endpoints).encode(),
        "application/json",
    )
    assert status == 201
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    status, answer, _ = await _call(
        kube_emulator, "PUT", "/api/v1/namespaces/default/configmaps/c", json.dumps(config).encode(), "application/json"
    )
    assert status == 404 and answer["message"] == 'configmaps "c" not found'
