"""The /scale subresource (autoscaling/v1 Scale) of Deployments, StatefulSets, ReplicaSets, RCs: `kubectl scale`."""

from __future__ import annotations

import copy
from typing import Any

from arkouda_k8s.testing.kube import patch, status
from arkouda_k8s.testing.kube.api import Api, WriteOptions
from arkouda_k8s.testing.kube.resources import ResourceType
from arkouda_k8s.testing.kube.selectors import label_selector_from_object

JSON = dict[str, Any]


def _selector_text(obj: JSON) -> str:
    selector = (obj.get("spec") or {}).get("selector") or {}
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}  # ReplicationControllers carry a plain map
    parts = []
    for r in label_selector_from_object(selector).requirements:
        if r.op in ("=", "=="):
            parts.append(f"{r.key}={r.values[0]}")
        elif r.op in ("in", "notin"):
            parts.append(f"{r.key} {r.op} ({','.join(r.values)})")
        elif r.op == "exists":
            parts.append(r.key)
        else:
            parts.append(f"!{r.key}")
    return ",".join(sorted(parts))


def to_scale(obj: JSON) -> JSON:
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": _selector_text(obj)},
    }


def write(
    api: Api, rt: ResourceType, namespace: str, name: str, verb: str, patch_type: str, body: Any, opts: WriteOptions
) -> JSON:
    current = api.read(rt, namespace, name)
    scale = to_scale(current)
    if verb == "update":
        wanted = body if isinstance(body, dict) else {}
    else:
        try:
            wanted = patch.json_patch(scale, body) if patch_type == "json" else patch.merge_patch(scale, body)
        except patch.PatchFailed as failed:
            raise patch.patch_failed(failed) from None
    given_rv = (wanted.get("metadata") or {}).get("resourceVersion")
    if given_rv and given_rv != current["metadata"]["resourceVersion"]:
        raise status.conflict(rt.group_resource, name, status.STALE_OBJECT)
    replicas = (wanted.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        errs = status.FieldErrors()
        errs.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
        raise status.invalid(status.GroupKind("autoscaling", "Scale"), name, errs)
    updated = copy.deepcopy(current)
    updated["spec"]["replicas"] = replicas
    _, stored = api.patch(rt, namespace, name, "merge", {"spec": {"replicas": replicas}}, opts)
    return to_scale(stored)
