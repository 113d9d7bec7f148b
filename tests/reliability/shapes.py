"""What our objects must look like: each check returns the problems it finds (empty: the object is right).

Written from the design (DESIGN.md §2.1-2.2), not from the registrar's own drift functions, so that a
mistake there cannot hide here.
"""

from __future__ import annotations

from typing import Any

from arkouda_k8s.registrar import objects as o
from arkouda_k8s.registrar.objects import PodIdentity

JSON = dict[str, Any]


def slice_problems(item: JSON, pod: PodIdentity, ready: bool, port: int) -> list[str]:
    problems = []
    meta = item.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(o.SLICE_MANAGED_BY) != o.US:
        problems.append(f"label {o.SLICE_MANAGED_BY}={labels.get(o.SLICE_MANAGED_BY)!r}")
    refs = meta.get("ownerReferences") or []
    if [(r.get("kind"), r.get("name"), r.get("uid")) for r in refs] != [("Pod", pod.name, pod.uid)]:
        problems.append(f"ownerReferences {refs} (want the server pod {pod.name})")
    if item.get("addressType") != "IPv4":
        problems.append(f"addressType {item.get('addressType')}")
    ports = [(p.get("name"), p.get("port"), p.get("protocol", "TCP")) for p in item.get("ports") or []]
    if ports != [("arkouda", port, "TCP")]:
        problems.append(f"ports {ports}")
    endpoints = item.get("endpoints") or []
    if len(endpoints) != 1:
        return [*problems, f"{len(endpoints)} endpoints (want 1)"]
    (endpoint,) = endpoints
    if endpoint.get("addresses") != [pod.ip]:
        problems.append(f"addresses {endpoint.get('addresses')} (want [{pod.ip}])")
    want = {"ready": ready, "serving": ready, "terminating": False}
    if endpoint.get("conditions") != want:
        problems.append(f"conditions {endpoint.get('conditions')} (want {want})")
    target = endpoint.get("targetRef") or {}
    if (target.get("kind"), target.get("name"), target.get("uid")) != ("Pod", pod.name, pod.uid):
        problems.append(f"targetRef {target}")
    return problems


def service_problems(service: JSON, pod: PodIdentity, port: int, *, owner: bool) -> list[str]:
    problems = []
    spec = service.get("spec") or {}
    if spec.get("selector"):
        problems.append(f"has a selector {spec['selector']}")
    ports = sorted(
        (p.get("name"), p.get("port"), p.get("targetPort"), p.get("protocol", "TCP")) for p in spec.get("ports") or []
    )
    if ports != [("arkouda", port, port, "TCP")]:
        problems.append(f"ports {ports}")
    annotations = (service.get("metadata") or {}).get("annotations") or {}
    if owner and (annotations.get(o.OWNER_POD), annotations.get(o.OWNER_UID)) != (pod.name, pod.uid):
        problems.append(f"owner annotations {annotations.get(o.OWNER_POD)}/{annotations.get(o.OWNER_UID)}")
    return problems


def endpoints_problems(endpoint: JSON, pod: PodIdentity, ready: bool) -> list[str]:
    problems = []
    labels = (endpoint.get("metadata") or {}).get("labels") or {}
    if labels.get(o.SKIP_MIRROR) != "true":
        problems.append("no skip-mirror label")
    subsets = endpoint.get("subsets") or []
    key = "addresses" if ready else "notReadyAddresses"
    ips = [a.get("ip") for s in subsets for a in s.get(key) or []]
    if ips != [pod.ip]:
        problems.append(f"{key} {ips} (want [{pod.ip}])")
    return problems
