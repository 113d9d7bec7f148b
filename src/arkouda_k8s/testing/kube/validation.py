"""Validation with kube-apiserver's field paths, cause reasons and messages (pkg/apis/*/validation).

Checks run in the order the real validators run them, because a 422's message lists the causes in
that order. Covered: ObjectMeta for every kind; Service, EndpointSlice, Endpoints (golden-checked);
Pod, Namespace, ConfigMap, Secret, ServiceAccount, RBAC and apps/v1 Deployment/StatefulSet for what
charts and our components write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arkouda_k8s.testing.kube import names
from arkouda_k8s.testing.kube.status import FieldErrors

JSON = dict[str, Any]
NameRule = Callable[[str], list[str]]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


@dataclass(frozen=True)
class Context:
    allow_loopback_endpoints: bool = False


# --- ObjectMeta ---


def object_meta(obj: JSON, namespaced: bool, name_rule: NameRule, errs: FieldErrors) -> None:
    meta = obj.get("metadata") or {}
    name, generate = meta.get("name") or "", meta.get("generateName") or ""
    if generate:
        for msg in name_rule(names.mask_trailing_dash(generate)):
            errs.invalid("metadata.generateName", generate, msg)
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    else:
        for msg in name_rule(name):
            errs.invalid("metadata.name", name, msg)
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errs.required("metadata.namespace")
        else:
            for msg in names.dns1123_label(namespace):
                errs.invalid("metadata.namespace", namespace, msg)
    elif namespace:
        errs.forbidden("metadata.namespace", "not allowed on this type")
    generation = meta.get("generation")
    if isinstance(generation, int) and generation < 0:
        errs.invalid("metadata.generation", generation, "must be greater than or equal to 0")
    labels(meta.get("labels"), "metadata.labels", errs)
    annotation_keys(meta.get("annotations"), errs)
    owner_references(meta.get("ownerReferences"), errs)
    for i, finalizer in enumerate(meta.get("finalizers") or []):
        for msg in names.qualified_name(str(finalizer)):
            errs.invalid(f"metadata.finalizers[{i}]", finalizer, msg)


def labels(values: JSON | None, path: str, errs: FieldErrors) -> None:
    for key, value in (values or {}).items():
        for msg in names.qualified_name(key):
            errs.invalid(path, key, msg)
        for msg in names.label_value(str(value)):
            errs.invalid(path, value, msg)


def annotation_keys(values: JSON | None, errs: FieldErrors) -> None:
    total = 0
    for key, value in (values or {}).items():
        for msg in names.qualified_name(key.lower()):
            errs.invalid("metadata.annotations", key, msg)
        total += len(key) + len(str(value))
    if total > 256 * 1024:
        errs.too_long("metadata.annotations", 256 * 1024)


def owner_references(refs: list[JSON] | None, errs: FieldErrors) -> None:
    controllers = 0
    for ref in refs or []:
        api_version = str(ref.get("apiVersion") or "")
        if not api_version.rsplit("/", 1)[-1]:
            errs.invalid("metadata.ownerReferences.apiVersion", api_version, "version must not be empty")
        if not ref.get("kind"):
            errs.invalid("metadata.ownerReferences.kind", ref.get("kind") or "", "kind must not be empty")
        if not ref.get("name"):
            errs.invalid("metadata.ownerReferences.name", ref.get("name") or "", "name must not be empty")
        if not ref.get("uid"):
            errs.invalid("metadata.ownerReferences.uid", ref.get("uid") or "", "uid must not be empty")
        if ref.get("controller"):
            controllers += 1
    if controllers > 1:
        errs.invalid("metadata.ownerReferences", refs, "Only one reference can have Controller set to true")


def object_meta_update(new: JSON, old: JSON, errs: FieldErrors) -> None:
    new_meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    for key in ("name", "namespace", "uid"):
        if (new_meta.get(key) or "") != (old_meta.get(key) or ""):
            errs.invalid(f"metadata.{key}", new_meta.get(key) or "", "field is immutable")


# --- small helpers ---


def dns1123_label_field(value: str, path: str, errs: FieldErrors) -> None:
    for msg in names.dns1123_label(value):
        errs.invalid(path, value, msg)


def port_number(value: Any, path: str, errs: FieldErrors) -> None:
    if not isinstance(value, int) or not 1 <= value <= 65535:
        errs.invalid(path, value, "must be between 1 and 65535, inclusive")


def port_num_or_name(value: Any, path: str, errs: FieldErrors) -> None:
    if isinstance(value, str):
        for msg in names.port_name(value):
            errs.invalid(path, value, msg)
    else:
        port_number(value, path, errs)


def protocol(value: Any, path: str, errs: FieldErrors) -> None:
    if not value:
        errs.required(path)
    elif value not in PROTOCOLS:
        errs.not_supported(path, value, PROTOCOLS)


def non_special_ip(address: str, path: str, errs: FieldErrors, ctx: Context) -> None:
    ip = names.parse_ip(address)
    if ip is None:
        errs.invalid(path, address, "must be a valid IP address")
        return
    if ip.is_unspecified:
        errs.invalid(path, address, f"may not be unspecified ({address})")
    if ip.is_loopback and not ctx.allow_loopback_endpoints:
        errs.invalid(path, address, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if ip.is_link_local and not ip.is_multicast:
        errs.invalid(path, address, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if ip.is_multicast and (str(ip).startswith("224.0.0.") or str(ip).startswith("ff02:")):
        errs.invalid(path, address, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")


def generic(namespaced: bool, name_rule: NameRule = names.dns1123_subdomain) -> Callable[[JSON, Context], FieldErrors]:
    def validate(obj: JSON, ctx: Context) -> FieldErrors:
        errs = FieldErrors()
        object_meta(obj, namespaced, name_rule, errs)
        return errs

    return validate


def generic_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    return errs
