"""metadata.managedFields and server-side apply (application/apply-patch+yaml).

Every write records which manager owns which fields (`record_update`): an Update owns what it changed
and takes those fields from the others. An Apply owns exactly what it sends: fields it sent before and
no longer sends are removed (unless someone else owns them too), and setting a field another manager
owns to a different value is a 409 Conflict naming that manager and the field (`force=true` takes it).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

from arkouda_k8s.testing.kube import fields, status
from arkouda_k8s.testing.kube.kinds import Strategy
from arkouda_k8s.testing.kube.resources import ResourceType
from arkouda_k8s.testing.kube.timestamps import now

if TYPE_CHECKING:
    from arkouda_k8s.testing.kube.api import Api, WriteOptions

JSON = dict[str, Any]


def apply(
    api: Api, rt: ResourceType, namespace: str, name: str, body: Any, opts: WriteOptions, old: JSON | None
) -> tuple[int, JSON]:
    """Server-side apply: the manager owns exactly the fields it sends; others' fields conflict."""
    if not opts.explicit_manager:  # ValidatePatchOptions
        errs = status.FieldErrors()
        errs.required("fieldManager", "is required for apply patch")
        raise status.invalid(status.GroupKind("meta.k8s.io", "PatchOptions"), "", errs)
    config = api._decode(rt, body)
    api._unknown(rt, config, opts, patching=True)
    meta = config["metadata"]
    if meta.get("name") and meta["name"] != name:
        raise status.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
    meta["name"] = name
    api._namespace_into(rt, config, namespace)
    strategy = api.strategy(rt)
    applied_set = fields.field_set(config, skip_status=strategy.status_subresource and opts.subresource != "status")
    if old is None:
        obj = api.create(rt, namespace, config, dataclasses.replace(opts, dry_run=True))
        obj["metadata"]["managedFields"] = [
            managed_entry(opts.manager, "Apply", rt.api_version, applied_set, opts.subresource)
        ]
        if opts.dry_run:
            return 201, obj
        key = api._object_key(rt, namespace, name)
        return 201, api.store.put(api.key(rt), key, obj, api.store.next_rv())
    entries = copy.deepcopy(old["metadata"].get("managedFields") or [])
    conflicts: list[tuple[str, str, fields.Path]] = []
    leaves = {p for p in applied_set if not any(len(q) > len(p) and q[: len(p)] == p for q in applied_set)}
    for entry in entries:
        if entry.get("manager") == opts.manager and entry.get("operation") == "Apply":
            continue
        owned = fields.from_fields_v1(entry.get("fieldsV1") or {})
        for path in sorted(leaves & owned):
            found, live = fields.value_at(old, path)
            _, wanted = fields.value_at(config, path)
            if found and live != wanted:
                manager = f'"{entry.get("manager", "")}"'
                if entry.get("operation") != "Apply":
                    manager += f" using {entry.get('apiVersion', '')}"
                conflicts.append((manager, entry.get("apiVersion", ""), path))
    if conflicts and not opts.force:
        raise _apply_conflict(rt, name, conflicts)
    previous = next((e for e in entries if e.get("manager") == opts.manager and e.get("operation") == "Apply"), None)
    live = copy.deepcopy(old)
    if previous is not None:
        others: set[fields.Path] = set()
        for entry in entries:
            if entry is not previous:
                others |= fields.from_fields_v1(entry.get("fieldsV1") or {})
        removed: list[fields.Path] = []
        for path in sorted(fields.from_fields_v1(previous.get("fieldsV1") or {}) - applied_set - others):
            if any(path[: len(done)] == done for done in removed):
                continue  # inside something already removed (a list item, a map)
            fields.remove_path(live, path)
            removed.append(path)
    merged = fields.merge_applied(live, {k: v for k, v in config.items() if k not in ("kind", "apiVersion")})
    merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
    taken = {path for _, _, path in conflicts}
    kept: list[JSON] = []
    for entry in entries:
        if entry is previous:
            continue
        owned = fields.from_fields_v1(entry.get("fieldsV1") or {}) - taken
        if owned:
            kept.append({**entry, "fieldsV1": fields.to_fields_v1(owned)})
    kept.append(managed_entry(opts.manager, "Apply", rt.api_version, applied_set, opts.subresource))
    merged["metadata"]["managedFields"] = kept
    result = api._update(rt, old, merged, dataclasses.replace(opts, manager=""), "Apply-done")
    return 200, result


# --- delete ---


def managed_entry(manager: str, operation: str, api_version: str, paths: set[fields.Path], subresource: str) -> JSON:
    entry: JSON = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields.to_fields_v1(paths),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def record_update(
    new: JSON, old: JSON | None, manager: str, operation: str, api_version: str, subresource: str, strategy: Strategy
) -> None:
    """Record an Update: the manager now owns what it changed; others lose those fields."""
    meta = new["metadata"]
    if operation == "Apply-done":
        return
    skip_status = strategy.status_subresource and subresource != "status"
    everything = fields.field_set(new)
    if subresource == "status":
        new_set = {p for p in everything if p[0] == ("f", "status")}
        old_set = {p for p in fields.field_set(old) if p[0] == ("f", "status")} if old else set()
    else:
        new_set = fields.field_set(new, skip_status=skip_status)
        old_set = fields.field_set(old, skip_status=skip_status) if old else set()
    changed = {p for p in new_set if p not in old_set or fields.value_at(new, p) != fields.value_at(old, p)}
    entries = copy.deepcopy(meta.get("managedFields") or []) if old is not None else []
    out: list[JSON] = []
    mine: set[fields.Path] = set()
    for entry in entries:
        owned = fields.from_fields_v1(entry.get("fieldsV1") or {}) & everything
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Update"
            and entry.get("subresource", "") == subresource
        ):
            mine = owned
            continue
        owned -= changed
        if owned:
            out.append({**entry, "fieldsV1": fields.to_fields_v1(owned)})
    mine |= changed
    if mine:
        out.append(managed_entry(manager or "unknown", "Update", api_version, mine, subresource))
    meta["managedFields"] = out


def _apply_conflict(rt: ResourceType, name: str, conflicts: list[tuple[str, str, fields.Path]]) -> status.ApiError:
    """internal.NewConflictError: one cause per field, the message grouped by manager."""
    del rt, name  # NewApplyConflict carries only the causes
    causes = [
        {"reason": "FieldManagerConflict", "message": f"conflict with {m}", "field": fields.render(p)}
        for m, _, p in conflicts
    ]
    if len(conflicts) == 1:
        m, _, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {m}: {fields.render(p)}"
    else:
        lines: list[str] = []
        for manager in sorted({m for m, _, _ in conflicts}):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {fields.render(p)}" for m, _, p in conflicts if m == manager)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return status.ApiError(409, "Conflict", message, {"causes": causes})
