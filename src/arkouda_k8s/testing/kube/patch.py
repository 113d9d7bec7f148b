"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge knows the merge keys of the lists our kinds carry (containers by name, ports by
port, conditions by type...; `fields.LIST_KEYS`); any other list is replaced, as the real server
does for lists without a patch strategy. Directives supported: `$patch: replace|delete|merge`,
`$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from arkouda_k8s.testing.kube.fields import LIST_KEYS, SETS
from arkouda_k8s.testing.kube.status import ApiError, bad_request

JSON = dict[str, Any]


class PatchFailed(Exception):
    """A JSON patch operation that does not apply (the server answers 422)."""


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# --- JSON patch ---


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchFailed(f'invalid path: "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchFailed(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return node, parts[-1]


def _get(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    node, last = _container(doc, parts, op, path)
    if isinstance(node, dict) and last in node:
        return node[last]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node[int(last)]
    raise PatchFailed(f"{op} operation does not apply: doc is missing key: {path}: missing value")


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    node, last = _container(doc, parts, op, path)
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list):
        if last == "-":
            node.append(value)
        elif last.isdigit() and int(last) <= len(node):
            node.insert(int(last), value)
        else:
            raise PatchFailed(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    else:
        raise PatchFailed(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parts = _pointer(path)
    node, last = _container(doc, parts, op, path)
    if isinstance(node, dict) and last in node:
        del node[last]
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        del node[int(last)]
    else:
        raise PatchFailed(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("json: cannot unmarshal into Go value of type jsonpatch.Operation")
        op, path = operation.get("op"), str(operation.get("path", ""))
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            doc = _remove(doc, path)
        elif op == "replace":
            _get(doc, path, "replace")
            doc = _remove(doc, path, "replace") if _pointer(path) else doc
            doc = _add(doc, path, copy.deepcopy(operation.get("value")), "replace")
        elif op == "move":
            value = _get(doc, str(operation.get("from", "")), "move")
            doc = _remove(doc, str(operation.get("from", "")), "move")
            doc = _add(doc, path, value, "move")
        elif op == "copy":
            value = copy.deepcopy(_get(doc, str(operation.get("from", "")), "copy"))
            doc = _add(doc, path, value, "copy")
        elif op == "test":
            if _get(doc, path, "test") != operation.get("value"):
                raise PatchFailed(f"testing value {path} failed: test failed")
        else:
            raise PatchFailed(f"Unexpected kind: {op}")
    return doc


def patch_failed(error: PatchFailed) -> ApiError:
    """NewGenericServerResponse(422, ...) as the patch handler builds it for an op that does not apply."""
    del error  # NewGenericServerResponse keeps no cause: kubectl prints only this message
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {})


# --- strategic merge patch ---


def _merge_key(tpath: str) -> str | None:
    keys = LIST_KEYS.get(tpath)
    return keys[0] if keys else None


def strategic_merge(original: Any, patch: Any, tpath: str = "") -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(original) if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            out[field] = [v for v in out.get(field) or [] if v not in (value or [])]
            continue
        child = f"{tpath}.{key}" if tpath else key
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(out.get(key), value, child)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list):
            out[key] = _merge_list(out.get(key), value, child)
        else:
            out[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(original: Any, patch: list[Any], tpath: str) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if tpath in SETS:
        base = list(original or [])
        return base + [v for v in patch if v not in base]
    key = _merge_key(tpath)
    if key is None or not isinstance(original, list):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "delete")]
    out = [copy.deepcopy(i) for i in original]
    for item in patch:
        if not isinstance(item, dict):
            continue
        index = next((n for n, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del out[index]
            continue
        if index is None:
            out.append(strategic_merge({}, item, tpath))
        else:
            out[index] = strategic_merge(out[index], item, tpath)
    return out


def parse_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as bad:
        raise bad_request(f"error decoding patch: {bad}") from None
