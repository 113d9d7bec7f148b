"""RBAC: one namespaced Role per server, granting exactly what the entrypoint and the registrar use,
bound to the ServiceAccount the server pod runs as; nothing cluster-scoped, no wildcard; the locale
pods get no API access at all."""

from __future__ import annotations

from typing import Any

import pytest
from chartkit import (
    LOCALE,
    MULTI,
    SINGLE,
    UMBRELLA,
    Obj,
    Render,
    RuleTriple,
    kind_name,
    of_kind,
    one,
    role_rules,
    role_rules_with_names,
)
from variants import CASES, VARIANTS

SLICES = {
    ("discovery.k8s.io", "endpointslices", verb)
    for verb in ("get", "list", "watch", "create", "patch", "update", "delete")
}
SERVICES = {("", "services", "get"), ("", "services", "patch")}
ENDPOINTS = {("", "endpoints", verb) for verb in ("get", "create", "update", "delete")}
MULTI_RULES = {("", "pods", "get"), ("", "pods", "list"), ("", "pods", "watch")} | SERVICES | SLICES
SINGLE_RULES = {("", "pods", "get")} | SERVICES | SLICES


def _server_values(chart: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"arkouda-multilocale-server": values} if chart == UMBRELLA else values


@pytest.mark.parametrize(
    ("chart", "endpoints_api", "expected"),
    [
        (MULTI, "endpointslice", MULTI_RULES),
        (MULTI, "endpoints", MULTI_RULES | ENDPOINTS),
        (MULTI, "both", MULTI_RULES | ENDPOINTS),
        (UMBRELLA, "endpointslice", MULTI_RULES),
        (UMBRELLA, "both", MULTI_RULES | ENDPOINTS),
        (SINGLE, "endpointslice", SINGLE_RULES),
        (SINGLE, "both", SINGLE_RULES | ENDPOINTS),
    ],
)
def test_role_grants_exactly_what_is_used(
    rendered: Render, chart: str, endpoints_api: str, expected: set[RuleTriple]
) -> None:
    objects = rendered(chart, values=_server_values(chart, {"registrar": {"endpointsApi": endpoints_api}}))
    assert role_rules(objects) == expected


def test_service_rights_only_on_the_release_services(rendered: Render) -> None:
    values = {
        "external": {"externalServiceName": "analytics"},
        "server": {"metrics": {"collectMetrics": True, "service": {"name": "analytics-metrics"}}},
        "registrar": {"endpointsApi": "both"},
    }
    rules = role_rules_with_names(rendered(MULTI, values=values))
    named = {(r, v): names for _g, r, v, names in rules if r in ("services", "endpoints")}
    for verb in ("get", "patch"):
        assert named[("services", verb)] == ("analytics", "analytics-metrics")
    for verb in ("get", "update", "delete"):
        assert named[("endpoints", verb)] == ("analytics", "analytics-metrics")
    assert named[("endpoints", "create")] == (), "create cannot be limited by name (the name is not known yet)"


@pytest.mark.parametrize(("chart", "variant"), CASES, ids=[f"{c}:{v}" for c, v in CASES])
def test_nothing_cluster_scoped_and_no_wildcard(rendered: Render, chart: str, variant: str) -> None:
    objects = rendered(chart, values=VARIANTS[chart][variant])
    kinds = {o["kind"] for o in objects}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding", "Namespace", "CustomResourceDefinition"}
    for role in of_kind(objects, "Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in (rule.get(field) or []), f"{kind_name(role)} has a wildcard in {field}"
            assert not rule.get("nonResourceURLs")
            assert not {"secrets", "pods/exec", "roles", "rolebindings"} & set(rule["resources"]), rule
    for binding in of_kind(objects, "RoleBinding"):
        assert binding["roleRef"]["kind"] == "Role", "a RoleBinding to a ClusterRole grants cluster-defined rights"


@pytest.mark.parametrize("chart", [SINGLE, MULTI, UMBRELLA])
def test_binding_ties_the_role_to_the_server_pod_identity(rendered: Render, chart: str) -> None:
    objects = rendered(chart, release="ak", namespace="ns1")
    role, binding = one(objects, "Role"), one(objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    server = _server_pod(objects)
    account = server["serviceAccountName"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": "ns1"}]
    assert one(objects, "ServiceAccount", account)["metadata"]["namespace"] == "ns1"
    assert server["automountServiceAccountToken"] is True


def _server_pod(objects: list[Obj]) -> Obj:
    sets = [
        o for o in of_kind(objects, "StatefulSet") if o["metadata"]["labels"]["app.kubernetes.io/component"] == "server"
    ]
    assert len(sets) == 1
    return dict(sets[0]["spec"]["template"]["spec"])


def test_locale_pods_have_no_api_access(rendered: Render) -> None:
    for objects in (rendered(LOCALE), rendered(UMBRELLA)):
        locales = [
            o
            for o in of_kind(objects, "StatefulSet")
            if o["metadata"]["labels"]["app.kubernetes.io/component"] == "locale"
        ]
        spec = locales[0]["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False
        account = one(objects, "ServiceAccount", spec["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False
        bound = {s["name"] for b in of_kind(objects, "RoleBinding") for s in b["subjects"]}
        assert spec["serviceAccountName"] not in bound
    assert not of_kind(rendered(LOCALE), "Role")


def test_rbac_can_be_left_to_the_cluster_admin(rendered: Render) -> None:
    objects = rendered(
        MULTI, values={"rbac": {"create": False}, "serviceAccount": {"create": False, "name": "arkouda-admin"}}
    )
    assert (
        not of_kind(objects, "Role") and not of_kind(objects, "RoleBinding") and not of_kind(objects, "ServiceAccount")
    )
    assert _server_pod(objects)["serviceAccountName"] == "arkouda-admin"
