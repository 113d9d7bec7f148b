"""RBAC authorization: Roles, ClusterRoles and their bindings decide, with the real 403 texts.

Bootstrap policy as kube-apiserver creates it: cluster-admin bound to system:masters, discovery and
self-review rights for every authenticated user, /healthz-style paths for everyone. A binding that
names a missing role adds "RBAC: role.rbac.authorization.k8s.io "x" not found" to the 403, as the
real authorizer's reason does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from arkouda_k8s.testing.kube.auth import Identity
from arkouda_k8s.testing.kube.status import ApiError, GroupResource, forbidden
from arkouda_k8s.testing.kube.store import Store

JSON = dict[str, Any]
RBAC = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Attributes:
    """What a request wants (authorizer.Attributes)."""

    verb: str
    resource_request: bool
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""


def _bootstrap_role(name: str, rules: list[JSON]) -> JSON:
    return {
        "kind": "ClusterRole",
        "apiVersion": f"{RBAC}/v1",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    }


def _bootstrap_binding(name: str, role: str, groups: list[str]) -> JSON:
    return {
        "kind": "ClusterRoleBinding",
        "apiVersion": f"{RBAC}/v1",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "Group", "apiGroup": RBAC, "name": g} for g in groups],
    }


DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

BOOTSTRAP: list[JSON] = [
    _bootstrap_role(
        "cluster-admin",
        [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, {"verbs": ["*"], "nonResourceURLs": ["*"]}],
    ),
    _bootstrap_role("system:discovery", [{"verbs": ["get"], "nonResourceURLs": DISCOVERY_URLS}]),
    _bootstrap_role("system:public-info-viewer", [{"verbs": ["get"], "nonResourceURLs": PUBLIC_URLS}]),
    _bootstrap_role(
        "system:basic-user",
        [
            {
                "verbs": ["create"],
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            },
            {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]},
        ],
    ),
    _bootstrap_binding("cluster-admin", "cluster-admin", ["system:masters"]),
    _bootstrap_binding("system:discovery", "system:discovery", ["system:authenticated"]),
    _bootstrap_binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
    _bootstrap_binding(
        "system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]
    ),
]


def _applies(subject: JSON, identity: Identity, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == identity.user
    if kind == "Group":
        return name in identity.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return identity.user == f"system:serviceaccount:{namespace}:{name}"
    return False


def _rule_allows(rule: JSON, attrs: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    if not attrs.resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url.rstrip("*"))):
                return True
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.api_group not in groups:
        return False
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resource_ok = False
    for resource in rule.get("resources") or []:
        if resource in ("*", combined) or (attrs.subresource and resource == f"*/{attrs.subresource}"):
            resource_ok = True
            break
    if not resource_ok:
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


class Authorizer:
    def __init__(self, store: Store, enabled: bool) -> None:
        self.store = store
        self.enabled = enabled

    def _bindings(self, identity: Identity, namespace: str) -> Iterator[tuple[JSON, str]]:
        for _, binding in self.store.items((RBAC, "clusterrolebindings")):
            if any(_applies(s, identity, "") for s in binding.get("subjects") or []):
                yield binding, ""
        if namespace:
            for _, binding in self.store.items((RBAC, "rolebindings"), namespace):
                if any(_applies(s, identity, namespace) for s in binding.get("subjects") or []):
                    yield binding, namespace

    def rules(self, identity: Identity, namespace: str) -> tuple[list[JSON], list[str]]:
        """The rules that apply to this identity in this namespace, and the broken references met."""
        out: list[JSON] = []
        errors: list[str] = []
        for binding, binding_ns in self._bindings(identity, namespace):
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "Role":
                role = self.store.get((RBAC, "roles"), (binding_ns, ref.get("name", "")))
                missing = f'role.rbac.authorization.k8s.io "{ref.get("name")}" not found'
            else:
                role = self.store.get((RBAC, "clusterroles"), ("", ref.get("name", "")))
                missing = f'clusterrole.rbac.authorization.k8s.io "{ref.get("name")}" not found'
            if role is None:
                errors.append(missing)
                continue
            out.extend(role.get("rules") or [])
        return out, errors

    def authorize(self, identity: Identity, attrs: Attributes) -> tuple[bool, str]:
        if not self.enabled or identity.is_master:
            return True, ""
        rules, errors = self.rules(identity, attrs.namespace)
        if any(_rule_allows(rule, attrs) for rule in rules):
            return True, ""
        if not errors:
            return False, ""
        reason = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        return False, f"RBAC: {reason}"

    def allowed(self, identity: Identity, attrs: Attributes) -> bool:
        return self.authorize(identity, attrs)[0]


def forbidden_error(identity: Identity, attrs: Attributes, reason: str) -> ApiError:
    """responsewriters.Forbidden: the exact text kube-apiserver answers."""
    if not attrs.resource_request:
        message = f'User "{identity.user}" cannot {attrs.verb} path "{attrs.path}"'
    else:
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        if attrs.namespace:
            message = (
                f'User "{identity.user}" cannot {attrs.verb} resource "{resource}" in API group '
                f'"{attrs.api_group}" in the namespace "{attrs.namespace}"'
            )
        else:
            message = (
                f'User "{identity.user}" cannot {attrs.verb} resource "{resource}" in API group '
                f'"{attrs.api_group}" at the cluster scope'
            )
    if reason:
        message = f"{message}: {reason}"
    gr = GroupResource(attrs.api_group, attrs.resource) if attrs.resource_request else GroupResource("", "")
    return forbidden(gr, attrs.name, message)
