"""TLS with a generated CA, bearer tokens, service accounts, RBAC with the real 403 texts, the request log."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient

from arkouda_k8s.testing.kube import KubeEmulator, TokenUser
from arkouda_k8s.testing.kube import tls as tls_certs
from arkouda_k8s.testing.kube.auth import TokenFileError, parse_token_file

JSON = dict[str, Any]
RBAC = "rbac.authorization.k8s.io"


async def _call(
    emu: KubeEmulator, method: str, path: str, token: str | None, body: JSON | None = None
) -> tuple[int, JSON]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    context = ssl.create_default_context(cafile=str(emu.ca_file)) if emu.ca_file else None
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.url + path, headers=headers, json=body, ssl=context if context else True) as r,
    ):
        text = await r.text()
        return r.status, json.loads(text) if text.startswith("{") else {"text": text}


async def test_https_with_the_emulator_ca(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    assert emu.url.startswith("https://127.0.0.1:") and emu.ca_file is not None
    async with ApiClient(emu.configuration()) as api:
        namespaces = await client.CoreV1Api(api).list_namespace()
    assert "default" in {n.metadata.name for n in namespaces.items}


async def test_a_client_trusting_another_ca_is_refused(kube_emulator_tls_rbac: KubeEmulator, tmp_path: Path) -> None:
    other = tls_certs.generate(tmp_path / "other")
    context = ssl.create_default_context(cafile=str(other.ca_file))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(kube_emulator_tls_rbac.url + "/version", ssl=context)


async def test_unknown_token_is_401(kube_emulator: KubeEmulator) -> None:
    status, body = await _call(kube_emulator, "GET", "/api/v1/namespaces", "not-a-token")
    assert status == 401
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


async def test_rotated_token_stops_working(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add_token("first-token-value", "bob", groups=["system:masters"])
    assert (await _call(kube_emulator, "GET", "/api/v1/namespaces", "first-token-value"))[0] == 200
    new = kube_emulator.rotate_token("first-token-value")
    assert (await _call(kube_emulator, "GET", "/api/v1/namespaces", "first-token-value"))[0] == 401
    assert (await _call(kube_emulator, "GET", "/api/v1/namespaces", new))[0] == 200


async def test_rbac_forbidden_texts(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    emu.add_token("alice-token-value", "alice", "alice", ["developers"])
    status, body = await _call(emu, "GET", "/api/v1/namespaces/default/pods", "alice-token-value")
    assert status == 403
    assert (
        body["message"]
        == 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"'
    )
    assert body["details"] == {"kind": "pods"}
    status, body = await _call(emu, "GET", "/api/v1/nodes/n1", "alice-token-value")
    assert (
        body["message"]
        == 'nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" at the cluster scope'
    )
    assert body["details"] == {"name": "n1", "kind": "nodes"}
    status, body = await _call(emu, "PATCH", "/api/v1/namespaces/default/pods/p/status", "alice-token-value", {})
    assert 'cannot patch resource "pods/status"' in body["message"]


async def test_anonymous_requests_under_rbac(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    assert (await _call(emu, "GET", "/version", None))[0] == 200  # system:public-info-viewer
    status, body = await _call(emu, "GET", "/api", None)
    assert status == 403
    assert body["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'


async def test_role_binding_grants_and_a_missing_role_is_named(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    emu.add_token("alice-token-value", "alice", "alice", ["developers"])
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "devs", "namespace": "default"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "Group", "name": "developers", "apiGroup": RBAC}],
    }
    await emu.create(binding)
    status, body = await _call(emu, "GET", "/api/v1/namespaces/default/pods", "alice-token-value")
    assert status == 403
    assert body["message"].endswith(': RBAC: role.rbac.authorization.k8s.io "pod-reader" not found')
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "pod-reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    }
    await emu.create(role)
    assert (await _call(emu, "GET", "/api/v1/namespaces/default/pods", "alice-token-value"))[0] == 200
    assert (await _call(emu, "GET", "/api/v1/namespaces/kube-system/pods", "alice-token-value"))[0] == 403


async def test_service_account_token_identity(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    token = emu.service_account_token("default", "registrar")
    status, body = await _call(
        emu,
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        token,
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert status == 201
    assert body["status"]["userInfo"]["username"] == "system:serviceaccount:default:registrar"
    assert "system:serviceaccounts:default" in body["status"]["userInfo"]["groups"]
    status, body = await _call(emu, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", token)
    assert body["message"] == (
        'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:default:registrar" cannot list '
        'resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default"'
    )
    await emu.create(
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "registrar-view"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "registrar", "namespace": "default"}],
        }
    )
    assert (await _call(emu, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", token))[0] == 200


async def test_bind_role_grants_exactly_its_rules_in_its_namespace(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    token = await emu.bind_role("default", "notebook", rules, role="pod-lister")
    account = await emu.get("v1", "ServiceAccount", "default", "notebook")
    binding = await emu.get(f"{RBAC}/v1", "RoleBinding", "default", "pod-lister")
    assert binding["roleRef"] == {"apiGroup": RBAC, "kind": "Role", "name": "pod-lister"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "notebook", "namespace": "default"}]
    assert (await emu.get(f"{RBAC}/v1", "Role", "default", "pod-lister"))["rules"] == rules
    assert (await _call(emu, "GET", "/api/v1/namespaces/default/pods", token))[0] == 200
    assert (await _call(emu, "GET", "/api/v1/namespaces/default/pods/x", token))[0] == 403  # get is not list
    assert (await _call(emu, "GET", "/api/v1/namespaces/kube-system/pods", token))[0] == 403
    # A second role for the same account keeps the account, so the first token gains the new rules.
    await emu.bind_role("default", "notebook", [{"apiGroups": [""], "resources": ["services"], "verbs": ["get"]}])
    still = await emu.get("v1", "ServiceAccount", "default", "notebook")
    assert still["metadata"]["uid"] == account["metadata"]["uid"]
    assert (await _call(emu, "GET", "/api/v1/namespaces/default/services/kubernetes", token))[0] == 200


async def test_self_subject_access_review_answers_can_i(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    emu.add_token("alice-token-value", "alice", "alice", ["developers"])
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "list", "resource": "pods"}},
    }
    status, body = await _call(
        emu, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "alice-token-value", review
    )
    assert status == 201 and body["status"]["allowed"] is False
    status, body = await _call(
        emu, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", emu.admin_token, review
    )
    assert body["status"]["allowed"] is True


async def test_request_log_and_permissions_used(kube_emulator: KubeEmulator) -> None:
    token = kube_emulator.service_account_token("default", "component")
    await _call(kube_emulator, "GET", "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1", token)
    await _call(
        kube_emulator,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        token,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
    )
    await _call(kube_emulator, "GET", "/api/v1/namespaces/default/configmaps/x", token)
    await _call(kube_emulator, "DELETE", "/api/v1/namespaces/default/configmaps/missing", token)
    user = "system:serviceaccount:default:component"
    assert kube_emulator.permissions_used(user) == {
        ("", "pods", "watch"),
        ("", "configmaps", "create"),
        ("", "configmaps", "get"),
        ("", "configmaps", "delete"),
    }
    records = [r for r in kube_emulator.request_log if r.user == user]
    assert [(r.verb, r.resource, r.name, r.status) for r in records] == [
        ("watch", "pods", "", 200),
        ("create", "configmaps", "", 201),
        ("get", "configmaps", "x", 200),
        ("delete", "configmaps", "missing", 404),
    ]
    assert records[0].namespace == "default" and records[0].identity == user


def test_token_file_in_kube_apiserver_format() -> None:
    users = parse_token_file('t1,admin,uid-1,"system:masters"\nt2,alice,uid-2,"developers,qa"\nt3,bob,uid-3\n')
    assert users == [
        TokenUser("t1", "admin", "uid-1", ("system:masters",)),
        TokenUser("t2", "alice", "uid-2", ("developers", "qa")),
        TokenUser("t3", "bob", "uid-3", ()),
    ]
    with pytest.raises(TokenFileError, match="line 1: needs at least 3 columns"):
        parse_token_file("only,two\n")


async def test_granting_permissions_one_does_not_hold_is_forbidden(kube_emulator_tls_rbac: KubeEmulator) -> None:
    emu = kube_emulator_tls_rbac
    emu.add_token("alice-token-value", "alice", "alice", ["developers"])
    manage_roles = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "role-admin", "namespace": "default"},
        "rules": [
            {"apiGroups": [RBAC], "resources": ["roles", "rolebindings"], "verbs": ["create", "get"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
        ],
    }
    await emu.create(manage_roles)
    await emu.create(
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "alice-role-admin", "namespace": "default"},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "role-admin"},
            "subjects": [{"kind": "User", "name": "alice", "apiGroup": RBAC}],
        }
    )
    within = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "read-config"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }
    assert (
        await _call(
            emu, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", "alice-token-value", within
        )
    )[0] == 201
    beyond = {
        **within,
        "metadata": {"name": "read-secrets"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
    }
    status, body = await _call(
        emu, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", "alice-token-value", beyond
    )
    assert status == 403
    assert body["message"] == (
        'roles.rbac.authorization.k8s.io "read-secrets" is forbidden: user "alice" (groups=["developers" '
        '"system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}'
    )
