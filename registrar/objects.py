"""The API objects the registrar writes, and how it recognises its own.

Pure functions of the desired state: no I/O here, so every shape is easy to test and compare.

- Service `<name>`: selector-less (its endpoints are ours to write), named ports `arkouda` and,
  with metrics on, `metrics`; labels say arkouda-k8s manages it; annotations name the owning pod.
- EndpointSlice `<name>-xxxxx` (generateName): one endpoint, the server pod's IP, with the ready /
  serving / terminating conditions the registrar decides; ownerReference to the pod, so the
  garbage collector removes it when the pod is gone, even after SIGKILL.
- Endpoints `<name>` (core/v1, only when asked): the same address, labelled skip-mirror so the
  EndpointSlice mirroring controller does not publish it twice.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

MANAGED_BY = "app.kubernetes.io/managed-by"
INSTANCE = "app.kubernetes.io/instance"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
OWNER_POD = "arkouda-k8s.io/owner-pod"
OWNER_UID = "arkouda-k8s.io/owner-uid"
CREATED_BY_REGISTRAR = "arkouda-k8s.io/created-by-registrar"
US = "arkouda-k8s"


@dataclass(frozen=True)
class PodIdentity:
    """The server pod the registrar runs for: the owner of what it publishes."""

    name: str
    uid: str
    ip: str  # the pod IP: what is published (never the loopback the probe uses)
    namespace: str
    instance: str | None = None  # the release, for app.kubernetes.io/instance

    @property
    def address_type(self) -> str:
        return "IPv6" if ipaddress.ip_address(self.ip).version == 6 else "IPv4"


@dataclass(frozen=True)
class Port:
    name: str  # "arkouda" or "metrics"
    port: int  # the Service port
    target_port: int  # the container port, which is also the EndpointSlice port


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    ports: tuple[Port, ...]


def labels(pod: PodIdentity) -> dict[str, str]:
    out = {MANAGED_BY: US, "app.kubernetes.io/name": "arkouda", "app.kubernetes.io/component": "server"}
    if pod.instance:
        out[INSTANCE] = pod.instance
    return out


def owner_annotations(pod: PodIdentity) -> dict[str, str]:
    return {OWNER_POD: pod.name, OWNER_UID: pod.uid}


def service(spec: ServiceSpec, pod: PodIdentity) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": spec.name,
            "labels": labels(pod),
            "annotations": {**owner_annotations(pod), CREATED_BY_REGISTRAR: "true"},
        },
        "spec": {"type": "ClusterIP", "ports": service_ports(spec)},
    }


def service_ports(spec: ServiceSpec) -> list[JSON]:
    return [{"name": p.name, "port": p.port, "targetPort": p.target_port, "protocol": "TCP"} for p in spec.ports]


def adoption_patch(spec: ServiceSpec, pod: PodIdentity) -> JSON:
    """Merge patch that makes an existing Service ours to publish to: owner annotations and our ports.

    Labels are left alone: a Service made by Helm must stay Helm's (managed-by: Helm).
    """
    return {"metadata": {"annotations": owner_annotations(pod)}, "spec": {"ports": service_ports(spec)}}


def conditions(ready: bool, terminating: bool = False) -> JSON:
    return {"ready": ready and not terminating, "serving": ready and not terminating, "terminating": terminating}


def endpoint_slice(spec: ServiceSpec, pod: PodIdentity, *, ready: bool, terminating: bool = False) -> JSON:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{spec.name}-",
            "namespace": pod.namespace,
            "labels": {**labels(pod), SERVICE_NAME_LABEL: spec.name, SLICE_MANAGED_BY: US},
            "ownerReferences": [owner_reference(pod)],
        },
        "addressType": pod.address_type,
        "ports": [{"name": p.name, "port": p.target_port, "protocol": "TCP"} for p in spec.ports],
        "endpoints": [slice_endpoint(pod, ready=ready, terminating=terminating)],
    }


def slice_endpoint(pod: PodIdentity, *, ready: bool, terminating: bool = False) -> JSON:
    return {
        "addresses": [pod.ip],
        "conditions": conditions(ready, terminating),
        "targetRef": {"kind": "Pod", "namespace": pod.namespace, "name": pod.name, "uid": pod.uid},
    }


def owner_reference(pod: PodIdentity) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "name": pod.name, "uid": pod.uid}


def legacy_endpoints(spec: ServiceSpec, pod: PodIdentity, *, ready: bool) -> JSON:
    address = {"ip": pod.ip, "targetRef": {"kind": "Pod", "namespace": pod.namespace, "name": pod.name, "uid": pod.uid}}
    subset: JSON = {"ports": [{"name": p.name, "port": p.target_port, "protocol": "TCP"} for p in spec.ports]}
    subset["addresses" if ready else "notReadyAddresses"] = [address]
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": spec.name,
            "labels": {**labels(pod), SKIP_MIRROR: "true"},
            "annotations": owner_annotations(pod),
            "ownerReferences": [owner_reference(pod)],
        },
        "subsets": [subset],
    }


def slice_selector(service_name: str) -> str:
    return f"{SERVICE_NAME_LABEL}={service_name},{SLICE_MANAGED_BY}={US}"


def owned_by(obj: JSON, pod: PodIdentity) -> bool:
    """True when the object's ownerReferences or owner annotations name this very pod (uid included)."""
    meta = obj.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    if any(r.get("kind") == "Pod" and r.get("uid") == pod.uid for r in refs):
        return True
    ann = meta.get("annotations") or {}
    return bool(ann.get(OWNER_UID) == pod.uid and ann.get(OWNER_POD) == pod.name)


def slice_owner_uid(obj: JSON) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "Pod":
            return str(ref.get("uid"))
    return None


def slice_drift(current: JSON, desired: JSON) -> list[str]:
    """What differs between our slice as it is and as it should be (empty: nothing to repair)."""
    problems = []
    if current.get("addressType") != desired["addressType"]:
        problems.append("addressType")
    if _ports(current.get("ports")) != _ports(desired["ports"]):
        problems.append("ports")
    if (current.get("endpoints") or []) != desired["endpoints"]:
        problems.append("endpoints")
    cur_meta = current.get("metadata") or {}
    cur_labels = cur_meta.get("labels") or {}
    if any(cur_labels.get(k) != v for k, v in desired["metadata"]["labels"].items()):
        problems.append("labels")
    owner = desired["metadata"]["ownerReferences"][0]
    if not any(r.get("uid") == owner["uid"] for r in cur_meta.get("ownerReferences") or []):
        problems.append("ownerReferences")  # without it, nothing removes the slice after a SIGKILL
    return problems


def service_drift(current: JSON, spec: ServiceSpec) -> list[str]:
    problems = []
    cur_spec = current.get("spec") or {}
    if cur_spec.get("selector"):
        problems.append("selector")
    if _ports(cur_spec.get("ports")) != _ports(service_ports(spec)):
        problems.append("ports")
    return problems


def _ports(ports: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (p.get("name"), p.get("port"), p.get("targetPort", p.get("port")), p.get("protocol", "TCP"))
        for p in ports or []
        if isinstance(p, dict)
    )
