"""422 Invalid with the causes a real server lists, per kind; the loopback-address rule and its switch."""

from __future__ import annotations

from typing import Any

import pytest

from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.kube.status import ApiError

JSON = dict[str, Any]


async def _invalid(emu: KubeEmulator, obj: JSON) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await emu.create(obj)
    assert caught.value.code == 422
    assert caught.value.reason == "Invalid"
    return caught.value


def _causes(error: ApiError) -> list[tuple[str, str]]:
    assert error.details is not None
    return [(c["field"], c["reason"]) for c in error.details["causes"]]


def _slice(address: str, name: str = "s") -> JSON:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": "default"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address]}],
        "ports": [{"name": "p", "port": 5555, "protocol": "TCP"}],
    }


async def test_service_name_must_be_a_dns_1035_label(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(
        kube_emulator,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "Bad_Name", "namespace": "default"},
            "spec": {"ports": [{"port": 1}]},
        },
    )
    assert _causes(error) == [("metadata.name", "FieldValueInvalid")]
    assert error.message is not None and error.message.startswith(
        'Service "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a DNS-1035 label'
    )


async def test_service_ports_need_names_when_several_and_a_valid_number(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(
        kube_emulator,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "default"},
            "spec": {"ports": [{"port": 70000}, {"port": 2}]},
        },
    )
    assert _causes(error) == [
        ("spec.ports[0].name", "FieldValueRequired"),
        ("spec.ports[0].port", "FieldValueInvalid"),
        ("spec.ports[0].targetPort", "FieldValueInvalid"),  # defaulted from port, as the real server does
        ("spec.ports[1].name", "FieldValueRequired"),
    ]


async def test_endpoint_slice_address_type_is_required_and_checked(kube_emulator: KubeEmulator) -> None:
    body = _slice("198.51.100.1")
    body["addressType"] = "IPv5"
    error = await _invalid(kube_emulator, body)
    assert error.message == (
        'EndpointSlice.discovery.k8s.io "s" is invalid: addressType: Unsupported value: "IPv5": '
        'supported values: "FQDN", "IPv4", "IPv6"'
    )
    del body["addressType"]
    assert _causes(await _invalid(kube_emulator, body)) == [("addressType", "FieldValueRequired")]


async def test_endpoint_slice_address_must_be_an_ip_of_its_type(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(kube_emulator, _slice("not-an-ip"))
    assert [c["message"] for c in (error.details or {})["causes"]] == [
        'Invalid value: "not-an-ip": must be a valid IPv4 address',
        'Invalid value: "not-an-ip": must be a valid IP address',
    ]


async def test_loopback_endpoint_addresses_are_rejected_by_default() -> None:
    async with KubeEmulator() as emu:
        error = await _invalid(emu, _slice("127.0.0.5"))
        assert error.message == (
            'EndpointSlice.discovery.k8s.io "s" is invalid: endpoints[0].addresses[0]: Invalid value: "127.0.0.5": '
            "may not be in the loopback range (127.0.0.0/8, ::1/128)"
        )
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "lo", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "::1"}], "ports": [{"port": 1}]}],
        }
        assert _causes(await _invalid(emu, endpoints)) == [("subsets[0].addresses[0].ip", "FieldValueInvalid")]


async def test_the_test_only_switch_admits_loopback_endpoint_addresses(kube_emulator: KubeEmulator) -> None:
    created = await kube_emulator.create(_slice("127.0.0.5"))
    assert created["endpoints"][0]["addresses"] == ["127.0.0.5"]


async def test_a_generated_name_is_named_in_the_error(kube_emulator: KubeEmulator) -> None:
    body = _slice("198.51.100.1")
    body["metadata"] = {"generateName": "arkouda-", "namespace": "default"}
    body["addressType"] = "bogus"
    error = await _invalid(kube_emulator, body)
    assert error.details is not None
    name = error.details["name"]
    assert name.startswith("arkouda-") and len(name) == len("arkouda-") + 5
    assert error.message is not None and f'"{name}" is invalid' in error.message


async def test_pod_needs_containers_with_images(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(
        kube_emulator,
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": {}},
    )
    assert _causes(error) == [("spec.containers", "FieldValueRequired")]
    error = await _invalid(
        kube_emulator,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c"}]},
        },
    )
    assert _causes(error) == [("spec.containers[0].image", "FieldValueRequired")]


async def test_pod_spec_is_immutable_but_for_images(kube_emulator: KubeEmulator) -> None:
    await kube_emulator.create_pod("default", "p")
    updated = await kube_emulator.patch(
        "v1", "Pod", "default", "p", {"spec": {"containers": [{"name": "main", "image": "new:2"}]}}, "strategic"
    )
    assert updated["spec"]["containers"][0]["image"] == "new:2"
    with pytest.raises(ApiError) as caught:
        await kube_emulator.patch("v1", "Pod", "default", "p", {"spec": {"restartPolicy": "Never"}})
    assert caught.value.code == 422
    assert _causes(caught.value) == [("spec", "FieldValueForbidden")]


async def test_namespace_name_must_be_a_dns_label(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(kube_emulator, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}})
    assert (error.details or {})["causes"][0]["message"] == 'Invalid value: "a.b": must not contain dots'


async def test_labels_are_validated(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(
        kube_emulator,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"a": "bad value"}},
        },
    )
    assert _causes(error) == [("metadata.labels", "FieldValueInvalid")]


async def test_secret_of_a_type_needs_its_keys(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(
        kube_emulator,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/ssh-auth",
            "metadata": {"name": "k", "namespace": "default"},
            "data": {},
        },
    )
    assert _causes(error) == [("data[ssh-privatekey]", "FieldValueRequired")]


async def test_role_binding_role_ref_and_subjects(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(
        kube_emulator,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "default"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Secret", "name": "r"},
            "subjects": [{"kind": "Robot", "name": "x"}],
        },
    )
    assert _causes(error) == [
        ("roleRef.kind", "FieldValueNotSupported"),
        ("subjects[0].kind", "FieldValueNotSupported"),
    ]


async def test_role_binding_role_ref_is_immutable(kube_emulator: KubeEmulator) -> None:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}],
    }
    await kube_emulator.create(binding)
    with pytest.raises(ApiError) as caught:
        await kube_emulator.patch(
            "rbac.authorization.k8s.io/v1", "RoleBinding", "default", "b", {"roleRef": {"name": "other"}}
        )
    assert _causes(caught.value) == [("roleRef", "FieldValueInvalid")]


def _deployment(selector: JSON, labels: JSON) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "default"},
        "spec": {
            "selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}},
        },
    }


async def test_deployment_selector_must_match_the_template(kube_emulator: KubeEmulator) -> None:
    error = await _invalid(kube_emulator, _deployment({"matchLabels": {"app": "a"}}, {"app": "b"}))
    assert _causes(error) == [("spec.template.metadata.labels", "FieldValueInvalid")]
    created = await kube_emulator.create(_deployment({"matchLabels": {"app": "a"}}, {"app": "a"}))
    assert created["spec"]["replicas"] == 1
    assert created["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}
    assert created["metadata"]["generation"] == 1 and created["status"] == {}


async def test_statefulset_spec_outside_the_mutable_fields_is_forbidden(kube_emulator: KubeEmulator) -> None:
    body = _deployment({"matchLabels": {"app": "a"}}, {"app": "a"})
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = "svc"
    created = await kube_emulator.create(body)
    assert created["spec"]["podManagementPolicy"] == "OrderedReady"
    scaled = await kube_emulator.patch("apps/v1", "StatefulSet", "default", "d", {"spec": {"replicas": 3}})
    assert scaled["spec"]["replicas"] == 3 and scaled["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as caught:
        await kube_emulator.patch("apps/v1", "StatefulSet", "default", "d", {"spec": {"serviceName": "other"}})
    assert _causes(caught.value) == [("spec", "FieldValueForbidden")]
