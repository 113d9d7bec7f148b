"""OpenAPI v3 documents, as much of them as kubectl and helm read before they write.

kubectl 1.32 (and helm) fetch `/openapi/v3`, then the group-version document of each object they send,
to learn whether the server validates fields itself (a `fieldValidation` query parameter on the PATCH
operation tagged with the object's `x-kubernetes-group-version-kind`). When it does, they send
`fieldValidation=Strict` and skip client-side schema validation; `kubectl apply` then computes its
strategic merge patch from its built-in types. The documents carry operations and parameters, not
schemas: `kubectl explain` is not supported.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from arkouda_k8s.testing.kube.resources import Registry, ResourceType

JSON = dict[str, Any]


def _param(name: str, where: str = "query") -> JSON:
    return {"name": name, "in": where, "schema": {"type": "string", "uniqueItems": True}}


_WRITE = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]
_OK = {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}}


def _operation(rt: ResourceType, action: str, verb_id: str, params: list[JSON]) -> JSON:
    kind_id = rt.kind
    return {
        "tags": [f"{rt.group or 'core'}_{rt.version}"],
        "operationId": f"{verb_id}{kind_id}",
        "parameters": params,
        "responses": _OK,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    }


def _paths(rt: ResourceType) -> dict[str, JSON]:
    prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    base = f"{prefix}/namespaces/{{namespace}}/{rt.name}" if rt.namespaced else f"{prefix}/{rt.name}"
    scope = [_param("namespace", "path")] if rt.namespaced else []
    item_params = [*scope, _param("name", "path")]
    paths: dict[str, JSON] = {}
    collection: JSON = {"parameters": scope}
    if "list" in rt.verbs:
        collection["get"] = _operation(rt, "list", "list", [_param("labelSelector"), _param("fieldSelector")])
    if "create" in rt.verbs:
        collection["post"] = _operation(rt, "post", "create", list(_WRITE))
    paths[base] = collection
    item: JSON = {"parameters": item_params}
    if "get" in rt.verbs:
        item["get"] = _operation(rt, "get", "read", [])
    if "update" in rt.verbs:
        item["put"] = _operation(rt, "put", "replace", list(_WRITE))
    if "patch" in rt.verbs:
        item["patch"] = _operation(rt, "patch", "patch", [*_WRITE, _param("force")])
    if "delete" in rt.verbs:
        item["delete"] = _operation(rt, "delete", "delete", [_param("gracePeriodSeconds"), _param("propagationPolicy")])
    if len(item) > 1:
        paths[f"{base}/{{name}}"] = item
    for sub in rt.subresources:
        if sub.stored and sub.name == "status":
            status: JSON = {"parameters": item_params, "get": _operation(rt, "get", "read", [])}
            status["put"] = _operation(rt, "put", "replace", list(_WRITE))
            status["patch"] = _operation(rt, "patch", "patch", [*_WRITE, _param("force")])
            paths[f"{base}/{{name}}/status"] = status
    return paths


def group_version_document(registry: Registry, group: str, version: str) -> JSON | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    paths: dict[str, JSON] = {}
    for rt in types:
        paths.update(_paths(rt))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.28.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def _key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root(registry: Registry) -> JSON:
    paths: JSON = {}
    for group, version in sorted(registry.group_versions()):
        doc = group_version_document(registry, group, version)
        digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()
        paths[_key(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_key(group, version)}?hash={digest}"}
    return {"paths": paths}


def document(registry: Registry, parts: list[str]) -> JSON | None:
    """/openapi/v3 (the index) or /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>."""
    if not parts or parts[0] != "v3":
        return None
    rest = parts[1:]
    if not rest:
        return root(registry)
    if rest[0] == "api" and len(rest) == 2:
        return group_version_document(registry, "", rest[1])
    if rest[0] == "apis" and len(rest) == 3:
        return group_version_document(registry, rest[1], rest[2])
    return None
