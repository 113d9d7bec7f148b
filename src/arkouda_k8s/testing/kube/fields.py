"""Field sets: who owns which field (metadata.managedFields) and the server-side-apply merge.

A field path is a tuple of steps: ("f", name) for a struct or map field, ("k", json-of-key) for an
item of an associative list (containers by name, ports by port+protocol...), ("v", json) for an item
of a set of scalars (finalizers). Lists not in the table below are atomic: owned and replaced whole,
as structured-merge-diff treats them. The serialised form is FieldsV1 ("f:spec": {"f:ports": ...}).
"""

from __future__ import annotations

import copy
import json
from typing import Any

JSON = dict[str, Any]
Step = tuple[str, str]
Path = tuple[Step, ...]

# Associative lists by their type path (field names from the root, list indices left out).
_POD = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "containers.ports": ("containerPort", "protocol"),
    "containers.env": ("name",),
    "containers.volumeMounts": ("mountPath",),
    "containers.volumeDevices": ("devicePath",),
    "initContainers.ports": ("containerPort", "protocol"),
    "initContainers.env": ("name",),
    "initContainers.volumeMounts": ("mountPath",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "readinessGates": (),
}
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "metadata.ownerReferences": ("uid",),
    "status.conditions": ("type",),
    "status.podIPs": ("ip",),
    "status.hostIPs": ("ip",),
    "status.containerStatuses": (),
    "spec.ports": ("port", "protocol"),
    **{f"spec.{k}": v for k, v in _POD.items() if v},
    **{f"spec.template.spec.{k}": v for k, v in _POD.items() if v},
    "spec.volumeClaimTemplates": (),
}
SETS = {"metadata.finalizers", "spec.finalizers"}
ATOMIC_ITEMS = {"metadata.ownerReferences"}  # items owned whole (structType=atomic)
MAPS = {
    "metadata.labels",
    "metadata.annotations",
    "data",
    "stringData",
    "binaryData",
    "spec.selector",
    "spec.nodeSelector",
    "spec.template.spec.nodeSelector",
    "spec.selector.matchLabels",
    "spec.template.metadata.labels",
    "spec.template.metadata.annotations",
}
IGNORED_META = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
}


def _type_path(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


KEY_DEFAULTS = {"protocol": "TCP"}  # a key field the schema defaults: an item without it still has that key


def _item_key(item: Any, keys: tuple[str, ...]) -> str:
    if not isinstance(item, dict):
        return json.dumps(item, separators=(",", ":"))
    key = {k: item[k] if k in item else KEY_DEFAULTS.get(k) for k in keys if k in item or k in KEY_DEFAULTS}
    return json.dumps(key, separators=(",", ":"), sort_keys=True)


def field_set(obj: JSON, skip_status: bool = False) -> set[Path]:
    """Every owned path of an object: leaves, atomic lists, list items and maps with free keys."""
    out: set[Path] = set()
    for key, value in obj.items():
        if key in ("kind", "apiVersion") or (skip_status and key == "status"):
            continue
        if key == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in value.items() if k not in IGNORED_META}
            _walk(meta, (("f", "metadata"),), "metadata", out)
            continue
        _walk_value(value, (("f", key),), key, out)
    return out


def _walk(mapping: JSON, path: Path, tpath: str, out: set[Path]) -> None:
    for key, value in mapping.items():
        _walk_value(value, (*path, ("f", key)), _type_path(tpath, key), out)


def _walk_value(value: Any, path: Path, tpath: str, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        if tpath in MAPS:
            out.add(path)
        _walk(value, path, tpath, out)
    elif isinstance(value, list) and value and tpath in SETS:
        for item in value:
            out.add((*path, ("v", json.dumps(item, separators=(",", ":")))))
    elif isinstance(value, list) and value and tpath in LIST_KEYS:
        keys = LIST_KEYS[tpath]
        for item in value:
            item_path = (*path, ("k", _item_key(item, keys)))
            out.add(item_path)
            if isinstance(item, dict) and tpath not in ATOMIC_ITEMS:
                _walk(item, item_path, tpath, out)
    else:
        out.add(path)


def to_fields_v1(paths: set[Path]) -> JSON:
    root: JSON = {}
    for path in sorted(paths):
        node = root
        for kind, name in path:
            node = node.setdefault(f"{kind}:{name}", {})
    _mark(root, paths, ())
    return root


def _mark(node: JSON, paths: set[Path], prefix: Path) -> None:
    for key, child in node.items():
        if key == ".":
            continue
        kind, _, name = key.partition(":")
        here = (*prefix, (kind, name))
        if child and here in paths:  # the node is owned itself, not only through its children
            items = dict(child)
            child.clear()
            child["."] = {}
            child.update(items)
        _mark(child, paths, here)


def from_fields_v1(tree: JSON, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, child in tree.items():
        if key == ".":
            out.add(prefix)
            continue
        kind, _, name = key.partition(":")
        here = (*prefix, (kind, name))
        if not child:
            out.add(here)
        else:
            out |= from_fields_v1(child, here)
    return out


def render(path: Path) -> str:
    """A path as SSA conflict messages print it: .spec.ports[port=5555,protocol="TCP"].targetPort"""
    text = ""
    for kind, name in path:
        if kind == "f":
            text += "." + name
        elif kind == "k":
            key = json.loads(name)
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in key.items()) + "]"
        else:
            text += f"[={name}]"
    return text


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    node = obj
    for kind, name in path:
        if kind == "f":
            if not isinstance(node, dict) or name not in node:
                return False, None
            node = node[name]
        elif kind == "k":
            key = json.loads(name)
            found = [i for i in node or [] if isinstance(i, dict) and all(i.get(k) == v for k, v in key.items())]
            if not found:
                return False, None
            node = found[0]
        else:
            value = json.loads(name)
            if value not in (node or []):
                return False, None
            node = value
    return True, node


def remove_path(obj: Any, path: Path) -> None:
    """Delete one owned field from a live object (SSA: a field the applier no longer sets)."""
    if not path:
        return
    found, parent = value_at(obj, path[:-1])
    if not found:
        return
    kind, name = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(name, None)
    elif kind == "k" and isinstance(parent, list):
        key = json.loads(name)
        parent[:] = [i for i in parent if not (isinstance(i, dict) and all(i.get(k) == v for k, v in key.items()))]
    elif kind == "v" and isinstance(parent, list):
        value = json.loads(name)
        parent[:] = [i for i in parent if i != value]


def merge_applied(live: Any, applied: Any, tpath: str = "") -> Any:
    """Apply a configuration onto a live object: maps merge, associative lists merge by key, the rest replaces."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = dict(live)
        for key, value in applied.items():
            child = _type_path(tpath, key)
            out[key] = merge_applied(live.get(key), value, child) if key in live else copy.deepcopy(value)
        return out
    if isinstance(live, list) and isinstance(applied, list) and tpath in LIST_KEYS and tpath not in ATOMIC_ITEMS:
        keys = LIST_KEYS[tpath]
        out_list = [copy.deepcopy(i) for i in live]
        for item in applied:
            key = _item_key(item, keys)
            for index, existing in enumerate(out_list):
                if _item_key(existing, keys) == key:
                    out_list[index] = merge_applied(existing, item, tpath)
                    break
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    if isinstance(live, list) and isinstance(applied, list) and tpath in SETS:
        return [*live, *(v for v in applied if v not in live)]
    return copy.deepcopy(applied)
