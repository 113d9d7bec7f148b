"""Discovery documents (/version, /api, /api/v1, /apis, /apis/<group>[/<version>]) from the resource table.

The shapes follow kube-apiserver 1.28 to the key: /api/v1's APIResourceList carries no apiVersion,
the group ones do (kube-golden/003 and 005); resources are listed by name, subresources included.
"""

from __future__ import annotations

from typing import Any

from arkouda_k8s.testing.kube.resources import GROUP_ORDER, Registry, ResourceType

JSON = dict[str, Any]

VERSION: JSON = {
    "major": "1",
    "minor": "28",
    "gitVersion": "v1.28.0",
    "gitCommit": "$Format:%H$",
    "gitTreeState": "clean",
    "buildDate": "2023-08-15T00:00:00Z",
    "goVersion": "go1.21.13",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> JSON:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _resource(rt: ResourceType) -> JSON:
    entry: JSON = {"name": rt.name, "singularName": rt.singular_name, "namespaced": rt.namespaced, "kind": rt.kind}
    entry["verbs"] = list(rt.verbs)
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.storage_version_hash:
        entry["storageVersionHash"] = rt.storage_version_hash
    return entry


def _subresources(rt: ResourceType) -> list[JSON]:
    out = []
    for sub in rt.subresources:
        entry: JSON = {"name": f"{rt.name}/{sub.name}", "singularName": "", "namespaced": rt.namespaced}
        if sub.group is not None:
            entry["group"] = sub.group
            entry["version"] = sub.version
        entry["kind"] = sub.kind
        entry["verbs"] = list(sub.verbs)
        out.append(entry)
    return out


def resource_list(registry: Registry, group: str, version: str) -> JSON | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    resources: list[JSON] = []
    for rt in types:
        resources.append(_resource(rt))
        resources.extend(_subresources(rt))
    resources.sort(key=lambda r: r["name"])
    doc: JSON = {"kind": "APIResourceList"}
    if group:
        doc["apiVersion"] = "v1"
    doc["groupVersion"] = f"{group}/{version}" if group else version
    doc["resources"] = resources
    return doc


def _group(name: str, versions: tuple[str, ...]) -> JSON:
    return {
        "name": name,
        "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{name}/{versions[0]}", "version": versions[0]},
    }


def group_list() -> JSON:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(n, v) for n, v in GROUP_ORDER]}


def group(name: str) -> JSON | None:
    for group_name, versions in GROUP_ORDER:
        if group_name == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}
    return None
