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
from arkouda_k8s.testing.kube.status import ApiError, GroupResource, forbidden, go_quote
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


# --- escalation prevention (pkg/registry/rbac: ConfirmNoEscalation, BindingAuthorized) ---


def _atoms(rule: JSON) -> list[JSON]:
    """A rule broken into single-verb, single-resource rules (rbac validation's BreakdownRule)."""
    verbs = rule.get("verbs") or []
    if rule.get("nonResourceURLs"):
        return [{"nonResourceURLs": [u], "verbs": [v]} for u in rule["nonResourceURLs"] for v in verbs]
    names = rule.get("resourceNames") or [None]
    return [
        {"apiGroups": [g], "resources": [r], "verbs": [v], **({"resourceNames": [n]} if n else {})}
        for g in rule.get("apiGroups") or []
        for r in rule.get("resources") or []
        for n in names
        for v in verbs
    ]


def _covers(owner: JSON, atom: JSON) -> bool:
    verbs = owner.get("verbs") or []
    if "*" not in verbs and atom["verbs"][0] not in verbs:
        return False
    if "nonResourceURLs" in atom:
        url = atom["nonResourceURLs"][0]
        return any(
            u == "*" or u == url or (u.endswith("*") and url.startswith(u.rstrip("*")))
            for u in owner.get("nonResourceURLs") or []
        )
    groups = owner.get("apiGroups") or []
    if "*" not in groups and atom["apiGroups"][0] not in groups:
        return False
    resource = atom["resources"][0]
    sub = resource.split("/", 1)[1] if "/" in resource else ""
    if not any(r in ("*", resource) or (sub and r == f"*/{sub}") for r in owner.get("resources") or []):
        return False
    names = owner.get("resourceNames") or []
    return not names or (atom.get("resourceNames") or [None])[0] in names


def _go_strings(values: list[str] | tuple[str, ...]) -> str:
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def _compact(atoms: list[JSON]) -> list[str]:
    merged: dict[tuple[Any, ...], list[str]] = {}
    for atom in atoms:
        key = (
            tuple(atom.get("apiGroups", ())),
            tuple(atom.get("resources", ())),
            tuple(atom.get("nonResourceURLs", ())),
            tuple(atom.get("resourceNames", ())),
        )
        merged.setdefault(key, [])
        for verb in atom["verbs"]:
            if verb not in merged[key]:
                merged[key].append(verb)
    out = []
    for (groups, resources, urls, names), verbs in merged.items():
        parts = []
        for label, values in (
            ("APIGroups", groups),
            ("Resources", resources),
            ("NonResourceURLs", urls),
            ("ResourceNames", names),
            ("Verbs", tuple(verbs)),
        ):
            if values:
                parts.append(f"{label}:{_go_strings(values)}")
        out.append("{" + ", ".join(parts) + "}")
    return sorted(set(out))


class EscalationCheck:
    """Refuse Roles and bindings that grant more than their author holds (unless `escalate` / `bind`)."""

    def __init__(self, authz: Authorizer) -> None:
        self.authz = authz

    def __call__(self, rt: Any, obj: JSON, opts: Any) -> None:
        identity = getattr(opts, "identity", None)
        if rt.group != RBAC or not isinstance(identity, Identity) or identity.is_master or not self.authz.enabled:
            return
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace", "") if rt.namespaced else ""
        if rt.name in ("roles", "clusterroles"):
            if self.authz.allowed(
                identity, Attributes("escalate", True, RBAC, "v1", rt.name, "", namespace, meta.get("name", ""))
            ):
                return
            self._no_escalation(rt, identity, namespace, meta.get("name", ""), obj.get("rules") or [])
        elif rt.name in ("rolebindings", "clusterrolebindings"):
            ref = obj.get("roleRef") or {}
            role_resource = "roles" if ref.get("kind") == "Role" else "clusterroles"
            bind = Attributes(
                "bind",
                True,
                RBAC,
                "v1",
                role_resource,
                "",
                namespace if role_resource == "roles" else "",
                ref.get("name", ""),
            )
            if self.authz.allowed(identity, bind) or (
                role_resource == "clusterroles"
                and namespace
                and self.authz.allowed(
                    identity, Attributes("bind", True, RBAC, "v1", role_resource, "", namespace, ref.get("name", ""))
                )
            ):
                return
            if role_resource == "roles":
                role = self.authz.store.get((RBAC, "roles"), (namespace, ref.get("name", "")))
            else:
                role = self.authz.store.get((RBAC, "clusterroles"), ("", ref.get("name", "")))
            self._no_escalation(rt, identity, namespace, meta.get("name", ""), (role or {}).get("rules") or [])

    def _no_escalation(self, rt: Any, identity: Identity, namespace: str, name: str, rules: list[JSON]) -> None:
        owned, errors = self.authz.rules(identity, namespace)
        missing = [atom for rule in rules for atom in _atoms(rule) if not any(_covers(o, atom) for o in owned)]
        if not missing:
            return
        message = (
            f"user {go_quote(identity.user)} (groups={_go_strings(identity.groups)}) is attempting to grant RBAC "
            "permissions not currently held:\n" + "\n".join(_compact(missing))
        )
        if errors:
            message += f"; resolution errors: [{', '.join(errors)}]"
        raise forbidden(GroupResource(rt.group, rt.name), name, message)
