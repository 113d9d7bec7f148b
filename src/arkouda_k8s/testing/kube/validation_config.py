"""Validation of Namespaces, ConfigMaps, Secrets, ServiceAccounts and RBAC objects."""

from __future__ import annotations

import re
from typing import Any

from arkouda_k8s.testing.kube import names
from arkouda_k8s.testing.kube.status import FieldErrors
from arkouda_k8s.testing.kube.validation import (
    Context,
    object_meta,
    object_meta_update,
)

JSON = dict[str, Any]


# --- Namespace, ConfigMap, Secret, ServiceAccount ---


def namespace(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, False, names.dns1123_label, errs)
    return errs


_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _config_keys(data: JSON | None, path: str, errs: FieldErrors) -> None:
    for key in data or {}:
        problems = []
        if len(key) > 253:
            problems.append(names.max_len_error(253))
        if not _CONFIG_KEY.match(key):
            problems.append(
                names.regex_error(
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                    "[-._a-zA-Z0-9]+",
                    "key.name",
                    "KEY_NAME",
                    "key-name",
                )
            )
        if key in (".", ".."):
            problems.append(f"must not be '{key}'")
        elif key.startswith(".."):
            problems.append("must not start with '..'")
        for msg in problems:
            errs.invalid(path, key, msg)


def config_map(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    _config_keys(obj.get("data"), "data", errs)
    _config_keys(obj.get("binaryData"), "binaryData", errs)
    for key in obj.get("data") or {}:
        if key in (obj.get("binaryData") or {}):
            errs.invalid("data", key, "duplicate of key present in binaryData")
    return errs


_SECRET_REQUIRED = {
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
}


def secret(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    data = obj.get("data") or {}
    _config_keys(data, "data", errs)
    kind = obj.get("type") or "Opaque"
    for key in _SECRET_REQUIRED.get(kind, ()):
        if key not in data:
            errs.required(f"data[{key}]")
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if kind == "kubernetes.io/service-account-token" and not annotations.get("kubernetes.io/service-account.name"):
        errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    return errs


def secret_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
        errs.invalid("type", new.get("type"), "field is immutable")
    if old.get("immutable") and (new.get("data") != old.get("data") or not new.get("immutable")):
        errs.forbidden("data", "field is immutable when `immutable` is set")
    return errs


def config_map_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    if old.get("immutable") and (new.get("data") != old.get("data") or not new.get("immutable")):
        errs.forbidden("data", "field is immutable when `immutable` is set")
    return errs


def service_account(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    return errs


# --- RBAC ---


def _rules(obj: JSON, namespaced: bool, errs: FieldErrors) -> None:
    for i, rule in enumerate(obj.get("rules") or []):
        path = f"rules[{i}]"
        if not rule.get("verbs"):
            errs.required(f"{path}.verbs", "verbs must contain at least one value")
        if rule.get("nonResourceURLs"):
            if namespaced:
                errs.invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "namespaced rules cannot apply to non-resource URLs",
                )
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                errs.invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            continue
        if not rule.get("apiGroups"):
            errs.required(f"{path}.apiGroups", "resource rules must supply at least one api group")
        if not rule.get("resources"):
            errs.required(f"{path}.resources", "resource rules must supply at least one resource")


def role(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.path_segment_name, errs)
    _rules(obj, True, errs)
    return errs


def cluster_role(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, False, names.path_segment_name, errs)
    _rules(obj, False, errs)
    return errs


def _binding(obj: JSON, namespaced: bool, errs: FieldErrors) -> None:
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        errs.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", ["rbac.authorization.k8s.io"])
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.not_supported("roleRef.kind", ref.get("kind") or "", kinds)
    if not ref.get("name"):
        errs.required("roleRef.name")
    else:
        for msg in names.path_segment_name(ref["name"]):
            errs.invalid("roleRef.name", ref["name"], msg)
    for i, subject in enumerate(obj.get("subjects") or []):
        path = f"subjects[{i}]"
        if not subject.get("name"):
            errs.required(f"{path}.name")
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            if subject.get("apiGroup"):
                errs.not_supported(f"{path}.apiGroup", subject["apiGroup"], [""])
            if not namespaced and not subject.get("namespace"):
                errs.required(f"{path}.namespace")
        elif kind in ("User", "Group"):
            if subject.get("apiGroup") != "rbac.authorization.k8s.io":
                errs.not_supported(f"{path}.apiGroup", subject.get("apiGroup") or "", ["rbac.authorization.k8s.io"])
        else:
            errs.not_supported(f"{path}.kind", kind or "", ["ServiceAccount", "User", "Group"])


def role_binding(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.path_segment_name, errs)
    _binding(obj, True, errs)
    return errs


def cluster_role_binding(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, False, names.path_segment_name, errs)
    _binding(obj, False, errs)
    return errs


def binding_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    if new.get("roleRef") != old.get("roleRef"):
        errs.invalid("roleRef", new.get("roleRef"), "cannot change roleRef")
    return errs
