"""Create-only APIs that store nothing: access reviews, token reviews and requests, bindings, evictions.

`kubectl auth can-i` (SelfSubjectAccessReview), `kubectl auth whoami` (SelfSubjectReview),
`kubectl create token` (serviceaccounts/token) and the scheduler's pods/binding work against the
emulator the way they do against a cluster.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from arkouda_k8s.testing.kube import status
from arkouda_k8s.testing.kube.api import WriteOptions
from arkouda_k8s.testing.kube.auth import Identity
from arkouda_k8s.testing.kube.rbac import Attributes
from arkouda_k8s.testing.kube.resources import ResourceType

if TYPE_CHECKING:
    from arkouda_k8s.testing.kube.server import ApiServer

JSON = dict[str, Any]


def _spec_attributes(spec: JSON, namespace: str) -> Attributes:
    resource = spec.get("resourceAttributes")
    if isinstance(resource, dict):
        return Attributes(
            str(resource.get("verb", "")),
            True,
            str(resource.get("group", "")),
            str(resource.get("version", "")),
            str(resource.get("resource", "")),
            str(resource.get("subresource", "")),
            namespace or str(resource.get("namespace", "")),
            str(resource.get("name", "")),
        )
    other = spec.get("nonResourceAttributes") or {}
    return Attributes(str(other.get("verb", "")), False, path=str(other.get("path", "")))


def _answer(rt: ResourceType, body: JSON, status_body: JSON) -> JSON:
    meta = dict(body.get("metadata") or {})
    meta.setdefault("creationTimestamp", None)
    return {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": meta,
        "spec": body.get("spec") or {},
        "status": status_body,
    }


def review(
    server: ApiServer, rt: ResourceType, identity: Identity, namespace: str, name: str, subresource: str, body: Any
) -> JSON:
    body = body if isinstance(body, dict) else {}
    spec = body.get("spec") or {}
    kind = rt.kind if not subresource else (rt.subresource(subresource) or rt).kind
    if kind in ("SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview"):
        who = identity
        if kind != "SelfSubjectAccessReview":
            who = Identity(str(spec.get("user", "")), tuple(spec.get("groups") or ()), str(spec.get("uid", "")))
        attrs = _spec_attributes(spec, namespace if kind == "LocalSubjectAccessReview" else "")
        allowed, reason = server.authz.authorize(who, attrs)
        answer: JSON = {"allowed": allowed}
        if reason:
            answer["reason"] = reason
        return _answer(rt, body, answer)
    if kind == "SelfSubjectRulesReview":
        rules, _ = server.authz.rules(identity, str(spec.get("namespace", "")))
        if identity.is_master or not server.authz.enabled:
            rules = [
                {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                {"verbs": ["*"], "nonResourceURLs": ["*"]},
            ]
        resource_rules = [r for r in rules if not r.get("nonResourceURLs")]
        other_rules = [
            {"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]} for r in rules if r.get("nonResourceURLs")
        ]
        return _answer(
            rt, body, {"resourceRules": resource_rules, "nonResourceRules": other_rules, "incomplete": False}
        )
    if kind == "SelfSubjectReview":
        info = {"username": identity.user, "groups": list(identity.groups)}
        if identity.uid:
            info["uid"] = identity.uid
        return {
            "kind": rt.kind,
            "apiVersion": rt.api_version,
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": info},
        }
    if kind == "TokenReview":
        reviewed = server.authn.authenticate(f"Bearer {spec.get('token', '')}")
        if reviewed is None or reviewed.user == "system:anonymous":
            return _answer(rt, body, {"user": {}})
        user = {"username": reviewed.user, "groups": list(reviewed.groups)}
        if reviewed.uid:
            user["uid"] = reviewed.uid
        return _answer(rt, body, {"authenticated": True, "user": user, "audiences": spec.get("audiences") or []})
    if kind == "TokenRequest":
        account_rt = server.api.registry.lookup("", "v1", "serviceaccounts")
        assert account_rt is not None
        account = server.api.read(account_rt, namespace, name)
        token = server.authn.service_account_token(namespace, name, account["metadata"].get("uid", ""))
        seconds = int(spec.get("expirationSeconds") or 3600)
        expires = datetime.fromtimestamp(time.time() + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": meta,
            "spec": {**spec, "expirationSeconds": seconds},
            "status": {"token": token, "expirationTimestamp": expires},
        }
    if kind == "Binding":
        pod_rt = server.api.registry.lookup("", "v1", "pods")
        assert pod_rt is not None
        target = (body.get("target") or {}).get("name") or ""
        pod_name = name or (body.get("metadata") or {}).get("name") or ""
        pod = server.api.read(pod_rt, namespace, pod_name)
        if (pod.get("spec") or {}).get("nodeName"):
            raise status.conflict(
                pod_rt.group_resource,
                pod_name,
                f'pod {pod_name} is already assigned to node "{pod["spec"]["nodeName"]}"',
            )
        bound = {**pod, "spec": {**pod["spec"], "nodeName": target}}
        server.api._update(
            pod_rt, pod, {**bound, "metadata": dict(pod["metadata"])}, WriteOptions("kube-scheduler"), "Update"
        )
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    if kind == "Eviction":
        pod_rt = server.api.registry.lookup("", "v1", "pods")
        assert pod_rt is not None
        server.api.delete(pod_rt, namespace, name, body.get("deleteOptions") or {})
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    raise status.method_not_allowed()
