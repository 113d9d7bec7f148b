"""Validation of Pods, pod templates and apps/v1 workloads (Deployment, StatefulSet)."""

from __future__ import annotations

from typing import Any

from arkouda_k8s.testing.kube import names
from arkouda_k8s.testing.kube.selectors import label_selector_from_object
from arkouda_k8s.testing.kube.status import FieldErrors
from arkouda_k8s.testing.kube.validation import (
    Context,
    dns1123_label_field,
    labels,
    object_meta,
    object_meta_update,
    port_number,
    protocol,
)

JSON = dict[str, Any]

# --- Pod and pod templates ---

RESTART_POLICIES = ["Always", "Never", "OnFailure"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]


def pod_spec(spec: JSON, path: str, errs: FieldErrors, restart_policies: list[str] = RESTART_POLICIES) -> None:
    volumes: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name") or ""
        if not name:
            errs.required(f"{path}.volumes[{i}].name")
        else:
            dns1123_label_field(name, f"{path}.volumes[{i}].name", errs)
            if name in volumes:
                errs.duplicate(f"{path}.volumes[{i}].name", name)
            volumes.add(name)
    containers = spec.get("containers") or []
    if not containers:
        errs.required(f"{path}.containers")
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            _container(c, f"{path}.{group}[{i}]", seen, volumes, errs)
    policy = spec.get("restartPolicy")
    if policy not in restart_policies:
        errs.not_supported(f"{path}.restartPolicy", policy, restart_policies)
    dns = spec.get("dnsPolicy")
    if dns not in DNS_POLICIES:
        errs.not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES)
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        errs.invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0")
    if spec.get("serviceAccountName"):
        for msg in names.dns1123_subdomain(spec["serviceAccountName"]):
            errs.invalid(f"{path}.serviceAccountName", spec["serviceAccountName"], msg)
    labels(spec.get("nodeSelector"), f"{path}.nodeSelector", errs)


def _container(c: JSON, path: str, seen: set[str], volumes: set[str], errs: FieldErrors) -> None:
    name = c.get("name") or ""
    if not name:
        errs.required(f"{path}.name")
    else:
        dns1123_label_field(name, f"{path}.name", errs)
        if name in seen:
            errs.duplicate(f"{path}.name", name)
        seen.add(name)
    if not c.get("image"):
        errs.required(f"{path}.image")
    policy = c.get("imagePullPolicy")
    if policy not in PULL_POLICIES:
        errs.not_supported(f"{path}.imagePullPolicy", policy, PULL_POLICIES)
    port_names: set[str] = set()
    for j, port in enumerate(c.get("ports") or []):
        here = f"{path}.ports[{j}]"
        if port.get("name"):
            for msg in names.port_name(port["name"]):
                errs.invalid(f"{here}.name", port["name"], msg)
            if port["name"] in port_names:
                errs.duplicate(f"{here}.name", port["name"])
            port_names.add(port["name"])
        if port.get("containerPort") is None:
            errs.required(f"{here}.containerPort")
        else:
            port_number(port.get("containerPort"), f"{here}.containerPort", errs)
        protocol(port.get("protocol"), f"{here}.protocol", errs)
    for j, env in enumerate(c.get("env") or []):
        if not env.get("name"):
            errs.required(f"{path}.env[{j}].name")
    for j, mount in enumerate(c.get("volumeMounts") or []):
        here = f"{path}.volumeMounts[{j}]"
        if not mount.get("name"):
            errs.required(f"{here}.name")
        elif mount["name"] not in volumes:
            errs.not_found(f"{here}.name", mount["name"])
        if not mount.get("mountPath"):
            errs.required(f"{here}.mountPath")


def pod(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    pod_spec(obj.get("spec") or {}, "spec", errs)
    return errs


_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


def pod_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    new_spec, old_spec = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    for group in ("containers", "initContainers"):
        new_spec[group] = [{**c, "image": None} for c in new_spec.get(group) or []]
        old_spec[group] = [{**c, "image": None} for c in old_spec.get(group) or []]
    for key in _POD_MUTABLE:
        new_spec.pop(key, None)
        old_spec.pop(key, None)
    if new_spec != old_spec:
        errs.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
            "(allow it to be set to 1 if it was previously negative)",
        )
    return errs


# --- apps/v1 ---


def _workload(obj: JSON, errs: FieldErrors) -> None:
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        errs.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    selector = spec.get("selector")
    template = spec.get("template") or {}
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector:
        errs.required("spec.selector")
    else:
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            errs.invalid("spec.selector", selector, "empty selector is invalid for deployment")
        elif not label_selector_from_object(selector).matches(template_labels):
            errs.invalid(
                "spec.template.metadata.labels", template_labels, "`selector` does not match template `labels`"
            )
    labels(template_labels, "spec.template.metadata.labels", errs)
    pod_spec(template.get("spec") or {}, "spec.template.spec", errs, restart_policies=["Always"])


def deployment(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    _workload(obj, errs)
    return errs


def statefulset(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    _workload(obj, errs)
    policy = (obj.get("spec") or {}).get("podManagementPolicy")
    if policy not in ("OrderedReady", "Parallel"):
        errs.not_supported("spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"])
    return errs


def workload_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    new_sel = (new.get("spec") or {}).get("selector")
    if new_sel != (old.get("spec") or {}).get("selector"):
        errs.invalid("spec.selector", new_sel, "field is immutable")
    return errs


def statefulset_update(new: JSON, old: JSON) -> FieldErrors:
    errs = workload_update(new, old)
    mutable = (
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    )
    new_rest = {k: v for k, v in (new.get("spec") or {}).items() if k not in mutable}
    old_rest = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable}
    if new_rest != old_rest:
        errs.forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
            "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        )
    return errs
