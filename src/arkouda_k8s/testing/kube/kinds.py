"""Per-kind strategies: what kube-apiserver's registry does to an object besides storing it.

A `Strategy` defaults, prepares (status reset on create, status kept on update, metadata.generation),
validates and says which fields a fieldSelector may use. Kinds without special rules get the generic
strategy: ObjectMeta validation only, like a CRD without a schema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arkouda_k8s.testing.kube import defaults, names, validation, validation_config, validation_network, validation_pods
from arkouda_k8s.testing.kube.resources import ResourceType
from arkouda_k8s.testing.kube.status import FieldErrors
from arkouda_k8s.testing.kube.validation import Context

JSON = dict[str, Any]
Validate = Callable[[JSON, Context], FieldErrors]
ValidateUpdate = Callable[[JSON, JSON], FieldErrors]

_SYSTEM_KEYS = ("kind", "apiVersion", "metadata", "status")


def _spec_of(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k not in _SYSTEM_KEYS}


@dataclass
class Strategy:
    validate: Validate
    validate_update: ValidateUpdate = validation.generic_update
    default: Callable[[JSON], None] = lambda obj: None
    generation: bool = False  # keeps metadata.generation: 1 on create, +1 when the spec changes
    status_subresource: bool = False  # the main resource ignores status; /status ignores the rest
    allow_create_on_update: bool = False
    fields: frozenset[str] = frozenset()  # field selectors besides metadata.name / metadata.namespace
    field_values: Callable[[JSON], dict[str, str]] = lambda obj: {}
    extra: dict[str, Any] = field(default_factory=dict)

    def normalize(self, obj: JSON) -> None:
        """Fields Go always serialises (zero-valued structs print as null), after every write."""
        hook = self.extra.get("normalize")
        if hook:
            hook(obj)

    def prepare_for_create(self, obj: JSON) -> None:
        if self.status_subresource:
            obj.pop("status", None)
        if self.generation:
            obj["metadata"]["generation"] = 1
        hook = self.extra.get("create")
        if hook:
            hook(obj)

    def prepare_for_update(self, new: JSON, old: JSON) -> None:
        if self.status_subresource:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        self._bump_generation(new, old)

    def prepare_for_status_update(self, new: JSON, old: JSON) -> None:
        for key in list(new):
            if key not in _SYSTEM_KEYS:
                del new[key]
        for key, value in old.items():
            if key not in _SYSTEM_KEYS:
                new[key] = copy.deepcopy(value)
        meta, old_meta = new["metadata"], old["metadata"]
        if "ownerReferences" in old_meta:
            meta["ownerReferences"] = copy.deepcopy(old_meta["ownerReferences"])
        else:
            meta.pop("ownerReferences", None)

    def _bump_generation(self, new: JSON, old: JSON) -> None:
        old_generation = old["metadata"].get("generation")
        if not self.generation:
            return
        changed = _spec_of(new) != _spec_of(old)
        watched = self.extra.get("generation_metadata", ())
        changed = changed or any(new["metadata"].get(k) != old["metadata"].get(k) for k in watched)
        new["metadata"]["generation"] = (old_generation or 0) + (1 if changed else 0) or 1

    def field_labels(self, obj: JSON, namespaced: bool) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        values = {"metadata.name": meta.get("name", "")}
        if namespaced:
            values["metadata.namespace"] = meta.get("namespace", "")
        values.update(self.field_values(obj))
        return values

    def supports_field(self, name: str, namespaced: bool) -> bool:
        if name == "metadata.name" or (namespaced and name == "metadata.namespace"):
            return True
        return name in self.fields


# --- the kinds with rules ---


def _pod_default(obj: JSON) -> None:
    defaults.pod_spec(obj.setdefault("spec", {}))


def _pod_create(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    defaults.pod_admission(spec)
    obj["status"] = {"phase": "Pending", "qosClass": defaults.qos_class(spec)}


def _pod_normalize(obj: JSON) -> None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        condition.setdefault("lastProbeTime", None)
        condition.setdefault("lastTransitionTime", None)


def _pod_fields(obj: JSON) -> dict[str, str]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.restartPolicy": spec.get("restartPolicy", ""),
        "spec.schedulerName": spec.get("schedulerName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
        "status.phase": status.get("phase", ""),
        "status.podIP": status.get("podIP", ""),
        "status.nominatedNodeName": status.get("nominatedNodeName", ""),
    }


def _service_default(obj: JSON) -> None:
    defaults.service(obj.setdefault("spec", {}))


def _service_create(obj: JSON) -> None:
    obj["status"] = {"loadBalancer": {}}


def _namespace_default(obj: JSON) -> None:
    meta = obj.setdefault("metadata", {})
    if meta.get("name"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    spec = obj.setdefault("spec", {})
    spec.setdefault("finalizers", ["kubernetes"])


def _namespace_create(obj: JSON) -> None:
    obj["status"] = {"phase": "Active"}


def _secret_default(obj: JSON) -> None:
    obj.setdefault("type", "Opaque")


def _deployment_default(obj: JSON) -> None:
    defaults.deployment(obj.setdefault("spec", {}))


def _deployment_create(obj: JSON) -> None:
    obj["status"] = {}


def _statefulset_default(obj: JSON) -> None:
    defaults.statefulset(obj.setdefault("spec", {}))


def _statefulset_create(obj: JSON) -> None:
    obj["status"] = {"replicas": 0, "availableReplicas": 0}


def _replicas_field(obj: JSON) -> dict[str, str]:
    return {"status.replicas": str((obj.get("status") or {}).get("replicas", 0))}


def _secret_fields(obj: JSON) -> dict[str, str]:
    return {"type": obj.get("type", "")}


def _namespace_fields(obj: JSON) -> dict[str, str]:
    return {"status.phase": (obj.get("status") or {}).get("phase", "")}


def _event_fields(obj: JSON) -> dict[str, str]:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    values = {
        f"involvedObject.{k}": str(involved.get(k, ""))
        for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    }
    values.update({k: str(obj.get(k, "")) for k in ("reason", "reportingComponent", "type")})
    values["source"] = str((obj.get("source") or {}).get("component", ""))
    return values


def _endpoint_slice_default(obj: JSON) -> None:
    defaults.endpoint_slice(obj)


def _endpoints_default(obj: JSON) -> None:
    defaults.endpoints(obj)


STRATEGIES: dict[tuple[str, str], Strategy] = {
    ("", "pods"): Strategy(
        validation_pods.pod,
        validation_pods.pod_update,
        _pod_default,
        status_subresource=True,
        fields=frozenset(_pod_fields({})),
        field_values=_pod_fields,
        extra={"create": _pod_create, "normalize": _pod_normalize},
    ),
    ("", "services"): Strategy(
        validation_network.service,
        validation_network.service_update,
        _service_default,
        status_subresource=True,
        extra={"create": _service_create},
    ),
    ("", "endpoints"): Strategy(validation_network.endpoints, default=_endpoints_default, allow_create_on_update=True),
    ("discovery.k8s.io", "endpointslices"): Strategy(
        validation_network.endpoint_slice,
        default=_endpoint_slice_default,
        generation=True,
        extra={"generation_metadata": ("labels",)},
    ),
    ("", "namespaces"): Strategy(
        validation_config.namespace,
        default=_namespace_default,
        status_subresource=True,
        fields=frozenset({"status.phase"}),
        field_values=_namespace_fields,
        extra={"create": _namespace_create},
    ),
    ("", "configmaps"): Strategy(validation_config.config_map, validation_config.config_map_update),
    ("", "secrets"): Strategy(
        validation_config.secret,
        validation_config.secret_update,
        _secret_default,
        fields=frozenset({"type"}),
        field_values=_secret_fields,
    ),
    ("", "serviceaccounts"): Strategy(validation_config.service_account),
    ("", "events"): Strategy(
        validation.generic(True),
        allow_create_on_update=True,
        fields=frozenset(_event_fields({})),
        field_values=_event_fields,
    ),
    ("rbac.authorization.k8s.io", "roles"): Strategy(validation_config.role),
    ("rbac.authorization.k8s.io", "clusterroles"): Strategy(validation_config.cluster_role),
    ("rbac.authorization.k8s.io", "rolebindings"): Strategy(
        validation_config.role_binding, validation_config.binding_update
    ),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): Strategy(
        validation_config.cluster_role_binding, validation_config.binding_update
    ),
    ("apps", "deployments"): Strategy(
        validation_pods.deployment,
        validation_pods.workload_update,
        _deployment_default,
        generation=True,
        status_subresource=True,
        extra={"create": _deployment_create, "generation_metadata": ("annotations",)},
    ),
    ("apps", "statefulsets"): Strategy(
        validation_pods.statefulset,
        validation_pods.statefulset_update,
        _statefulset_default,
        generation=True,
        status_subresource=True,
        extra={"create": _statefulset_create},
    ),
    ("apps", "replicasets"): Strategy(
        validation.generic(True),
        generation=True,
        status_subresource=True,
        fields=frozenset({"status.replicas"}),
        field_values=_replicas_field,
    ),
    ("coordination.k8s.io", "leases"): Strategy(validation.generic(True), allow_create_on_update=True),
}

_GENERATION_KINDS = {
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"),
    ("networking.k8s.io", "networkpolicies"),
    ("networking.k8s.io", "ingresses"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("autoscaling", "horizontalpodautoscalers"),
}


def strategy_for(rt: ResourceType) -> Strategy:
    known = STRATEGIES.get((rt.group, rt.name))
    if known is not None:
        return known
    has_status = rt.subresource("status") is not None
    rule = names.dns1123_subdomain
    strategy = Strategy(
        validation.generic(rt.namespaced, rule),
        generation=(rt.group, rt.name) in _GENERATION_KINDS,
        status_subresource=has_status,
    )
    STRATEGIES[(rt.group, rt.name)] = strategy
    return strategy
