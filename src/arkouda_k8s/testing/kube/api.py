"""The REST semantics of kube-apiserver's generic registry, over the in-memory store.

create / get / list / update / patch / delete / deletecollection, each as the real server does it:
defaulting, `generateName`, system fields, the kind's strategy and validation, resourceVersion
preconditions (409 Conflict), AlreadyExists, NotFound, graceful pod deletion, finalizers,
managedFields and server-side apply. The HTTP layer (`server.py`) and the emulator's direct
helpers (`emulator.py`) both call this module, so they cannot disagree.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arkouda_k8s.testing.kube import fieldmanager, patch, status, unknown
from arkouda_k8s.testing.kube.kinds import Strategy, strategy_for
from arkouda_k8s.testing.kube.resources import REGISTRY, Registry, ResourceType
from arkouda_k8s.testing.kube.selectors import FieldSelector, LabelSelector, parse_fields, parse_labels
from arkouda_k8s.testing.kube.services import ServiceAllocator
from arkouda_k8s.testing.kube.store import JSON, Store
from arkouda_k8s.testing.kube.timestamps import in_seconds, now
from arkouda_k8s.testing.kube.validation import Context

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # utilrand.String: no vowels, no look-alikes
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    APPLY: "apply",
    "application/apply-patch+cbor": "apply",
}


@dataclass
class WriteOptions:
    manager: str = "unknown"
    dry_run: bool = False
    subresource: str = ""
    force: bool = False
    explicit_manager: bool = False  # fieldManager was given (server-side apply requires it)
    field_validation: str = "Warn"  # Strict: unknown fields are a 400; Warn: dropped with a warning; Ignore: dropped
    identity: Any = None  # who writes (auth.Identity) when it came over HTTP; admission checks look at it
    warnings: list[str] = field(default_factory=list)  # Warning headers for the answer


@dataclass
class ListQuery:
    label_selector: LabelSelector = field(default_factory=LabelSelector)
    field_selector: FieldSelector = field(default_factory=FieldSelector)
    limit: int = 0
    continue_token: str = ""


class Api:
    def __init__(
        self,
        store: Store,
        *,
        registry: Registry = REGISTRY,
        allow_loopback_endpoints: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.context = Context(allow_loopback_endpoints=allow_loopback_endpoints)
        self.rng = rng or random.Random()
        # The emulated kubelet removes a terminating pod after its grace period, or sooner when this is set
        # (a real kubelet is done as soon as the containers have stopped).
        self.pod_termination_seconds: float | None = None
        self.services = ServiceAllocator(self.rng)
        self.pod_deleters: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self.after_delete: list[Callable[[ResourceType, JSON], None]] = []
        self.namespace_terminating: list[Callable[[str], None]] = []
        # Admission after validation (RBAC's escalation check): raise an ApiError to refuse the write.
        self.admission: list[Callable[[ResourceType, JSON, WriteOptions], None]] = []

    # --- helpers ---

    def strategy(self, rt: ResourceType) -> Strategy:
        return strategy_for(rt)

    def key(self, rt: ResourceType) -> tuple[str, str]:
        return self.registry.storage_key(rt)

    def _object_key(self, rt: ResourceType, namespace: str, name: str) -> tuple[str, str]:
        return (namespace if rt.namespaced else "", name)

    def read(self, rt: ResourceType, namespace: str, name: str) -> JSON:
        obj = self.store.get(self.key(rt), self._object_key(rt, namespace, name))
        if obj is None:
            raise status.not_found(rt.group_resource, name)
        return obj

    def _decode(self, rt: ResourceType, body: Any, *, kind: str | None = None) -> JSON:
        if not isinstance(body, dict):
            raise status.bad_request(
                f"the object provided is unrecognized (must be of type {kind or rt.kind}): "
                f"couldn't get version/kind; json parse error: expected an object"
            )
        obj = copy.deepcopy(body)
        want_kind = kind or rt.kind
        api_version, obj_kind = obj.get("apiVersion"), obj.get("kind")
        if obj_kind and obj_kind != want_kind:
            raise status.bad_request(
                f'{obj_kind} in version "{str(api_version or "").rsplit("/", 1)[-1]}" cannot be handled as a '
                f'{want_kind}: no kind "{obj_kind}" is registered for version "{api_version}" in scheme'
            )
        if api_version and api_version != rt.api_version and kind is None:
            raise status.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({rt.api_version})"
            )
        meta = obj.get("metadata")
        if meta is None:
            obj["metadata"] = {}
        elif not isinstance(meta, dict):
            raise status.bad_request(
                f'{want_kind} in version "{rt.version}" cannot be handled as a {want_kind}: json: cannot unmarshal '
                f"{type(meta).__name__} into Go struct field {want_kind}.metadata of type v1.ObjectMeta"
            )
        obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
        return obj

    def _namespace_into(self, rt: ResourceType, obj: JSON, namespace: str) -> None:
        meta = obj["metadata"]
        if not rt.namespaced:
            return
        given = meta.get("namespace") or ""
        if given and given != namespace:
            raise status.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace

    def _check_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        """NamespaceLifecycle admission: the namespace must exist and not be terminating."""
        if not rt.namespaced:
            return
        ns = self.store.get(("", "namespaces"), ("", namespace))
        if ns is None:
            raise status.not_found(status.GroupResource("", "namespaces"), namespace)
        if (ns.get("status") or {}).get("phase") == "Terminating":
            raise status.forbidden(
                rt.group_resource,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )

    def _unknown(self, rt: ResourceType, obj: JSON, opts: WriteOptions, patching: bool = False) -> None:
        """Drop the fields the schema does not have, as decoding into Go types does (see unknown.py)."""
        found = unknown.unknown_fields(obj, prune=True)
        if not found or opts.field_validation == "Ignore":
            return
        if opts.field_validation == "Strict":
            listed = ", ".join(f'unknown field "{path}"' for path in found)
            if patching:
                raise status.bad_request(f"strict decoding error: {listed}")
            raise status.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict decoding error: {listed}'
            )
        opts.warnings.extend(unknown.warning(path) for path in found)

    def generate_name(self, prefix: str) -> str:
        prefix = prefix[:58]
        return prefix + "".join(self.rng.choice(_NAME_ALPHABET) for _ in range(5))

    # --- create ---

    def create(self, rt: ResourceType, namespace: str, body: Any, opts: WriteOptions) -> JSON:
        obj = self._decode(rt, body)
        self._unknown(rt, obj, opts)
        self._namespace_into(rt, obj, namespace)
        strategy = self.strategy(rt)
        meta = obj["metadata"]
        self._check_namespace(rt, namespace, meta.get("name") or meta.get("generateName") or "")
        strategy.default(obj)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink"):
            meta.pop(key, None)
        strategy.prepare_for_create(obj)
        store_key = self.key(rt)
        if meta.get("generateName") and not meta.get("name"):
            for _ in range(20):
                meta["name"] = self.generate_name(meta["generateName"])
                if self.store.get(store_key, self._object_key(rt, namespace, meta["name"])) is None:
                    break
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        errs = strategy.validate(obj, self.context)
        if errs:
            raise status.invalid(rt.group_kind, meta.get("name") or "", errs)
        for check in self.admission:
            check(rt, obj, opts)
        name = meta["name"]
        if self.store.get(store_key, self._object_key(rt, namespace, name)) is not None:
            raise status.already_exists(rt.group_resource, name)
        if (rt.group, rt.name) == ("", "services"):
            self.services.allocate(obj, self._live_services())
        strategy.normalize(obj)
        obj = _ordered(obj)
        fieldmanager.record_update(obj, None, opts.manager, "Update", rt.api_version, opts.subresource, strategy)
        if opts.dry_run:
            return obj
        return self.store.put(store_key, self._object_key(rt, namespace, name), obj, self.store.next_rv())

    def _live_services(self) -> list[JSON]:
        return [o for _, o in self.store.items(("", "services"))]

    # --- get and list ---

    def get(self, rt: ResourceType, namespace: str, name: str) -> JSON:
        return self.read(rt, namespace, name)

    def parse_list_query(self, rt: ResourceType, query: dict[str, str]) -> ListQuery:
        strategy = self.strategy(rt)
        labels = parse_labels(query.get("labelSelector"))
        selected = parse_fields(query.get("fieldSelector"), lambda f: strategy.supports_field(f, rt.namespaced))
        limit_text = query.get("limit") or "0"
        try:
            limit = int(limit_text)
        except ValueError:
            raise status.bad_request(f'strconv.ParseInt: parsing "{limit_text}": invalid syntax') from None
        return ListQuery(labels, selected, max(limit, 0), query.get("continue") or "")

    def matches(self, rt: ResourceType, obj: JSON, q: ListQuery) -> bool:
        if not q.label_selector.matches((obj.get("metadata") or {}).get("labels")):
            return False
        if q.field_selector.empty:
            return True
        return q.field_selector.matches(self.strategy(rt).field_labels(obj, rt.namespaced))

    def list(self, rt: ResourceType, namespace: str | None, q: ListQuery) -> JSON:
        rv = self.store.rv
        start = ""
        if q.continue_token:
            rv, start = _decode_continue(q.continue_token, self.store.compacted_rv)
        entries = self.store.items(self.key(rt), namespace)
        items: list[JSON] = []
        more_key: str | None = None
        remaining = 0
        for index, (okey, obj) in enumerate(entries):
            position = _continue_key(rt, namespace, okey)
            if start and position < start:
                continue
            if q.limit and len(items) >= q.limit:
                more_key = _continue_key(rt, namespace, entries[index - 1][0])
                remaining = len(entries) - index
                break
            if self.matches(rt, obj, q):
                items.append({k: v for k, v in obj.items() if k not in ("kind", "apiVersion")})
        meta: JSON = {"resourceVersion": str(rv)}
        if more_key is not None:
            meta["continue"] = _encode_continue(rv, more_key + "\x00")
            if q.label_selector.empty and q.field_selector.empty:
                meta["remainingItemCount"] = remaining
        return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items}

    # --- update ---

    def update(self, rt: ResourceType, namespace: str, name: str, body: Any, opts: WriteOptions) -> tuple[int, JSON]:
        obj = self._decode(rt, body)
        self._unknown(rt, obj, opts)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != name:
            raise status.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
        self._namespace_into(rt, obj, namespace)
        old = self.store.get(self.key(rt), self._object_key(rt, namespace, name))
        if old is None:
            if self.strategy(rt).allow_create_on_update and not opts.subresource:
                return 201, self.create(rt, namespace, obj, opts)
            raise status.not_found(rt.group_resource, name)
        return 200, self._update(rt, old, obj, opts, "Update")

    def _update(self, rt: ResourceType, old: JSON, new: JSON, opts: WriteOptions, operation: str) -> JSON:
        strategy = self.strategy(rt)
        meta, old_meta = new["metadata"], old["metadata"]
        name = old_meta["name"]
        if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta["resourceVersion"]:
            raise status.conflict(rt.group_resource, name, status.STALE_OBJECT)
        if meta.get("uid") and meta["uid"] != old_meta["uid"]:
            raise status.conflict(
                rt.group_resource,
                name,
                f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {old_meta['uid']}",
            )
        strategy.default(new)
        meta["uid"] = old_meta["uid"]
        meta["creationTimestamp"] = old_meta["creationTimestamp"]
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if opts.subresource == "status":
            strategy.prepare_for_status_update(new, old)
        else:
            strategy.prepare_for_update(new, old)
        if (rt.group, rt.name) == ("", "services") and not opts.subresource:
            self.services.keep_allocations(new, old)
        errs = strategy.validate_update(new, old)
        errs.extend(strategy.validate(new, self.context))
        if errs:
            raise status.invalid(rt.group_kind, name, errs)
        for check in self.admission:
            check(rt, new, opts)
        strategy.normalize(new)
        new = _ordered(new)
        meta = new["metadata"]
        if operation != "Apply-done":  # managedFields are the server's to keep, except after an apply merge
            meta["managedFields"] = old_meta.get("managedFields", [])
        if _same(new, old):
            return old  # the real store skips a write that changes nothing: same resourceVersion, no event
        fieldmanager.record_update(new, old, opts.manager, operation, rt.api_version, opts.subresource, strategy)
        if opts.dry_run:
            return new
        okey = self._object_key(rt, old_meta.get("namespace", ""), name)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not self._graceful_pending(rt, new):
            final = self.store.remove(self.key(rt), okey, self.store.next_rv())
            if final is not None:
                self._deleted(rt, final)
            return final or new
        return self.store.put(self.key(rt), okey, new, self.store.next_rv())

    def _graceful_pending(self, rt: ResourceType, obj: JSON) -> bool:
        return (rt.group, rt.name) == ("", "pods") and (obj["metadata"].get("deletionGracePeriodSeconds") or 0) > 0

    # --- patch ---

    def patch(
        self, rt: ResourceType, namespace: str, name: str, patch_type: str, body: Any, opts: WriteOptions
    ) -> tuple[int, JSON]:
        old = self.store.get(self.key(rt), self._object_key(rt, namespace, name))
        if patch_type == "apply":
            return self.apply(rt, namespace, name, body, opts, old)
        if old is None:
            raise status.not_found(rt.group_resource, name)
        current = copy.deepcopy(old)
        try:
            if patch_type == "merge":
                if not isinstance(body, dict):
                    raise status.bad_request(
                        "json: cannot unmarshal array into Go value of type map[string]interface {}"
                    )
                patched = patch.merge_patch(current, body)
            elif patch_type == "json":
                patched = patch.json_patch(current, body)
            else:
                if not isinstance(body, dict):
                    raise status.bad_request(
                        "json: cannot unmarshal array into Go value of type map[string]interface {}"
                    )
                patched = patch.strategic_merge(current, body)
        except patch.PatchFailed as failed:
            raise patch.patch_failed(failed) from None
        if not isinstance(patched, dict):
            raise status.bad_request("the patch result is not an object")
        new = self._decode(rt, patched)
        self._unknown(rt, new, opts, patching=True)
        new_meta = new["metadata"]
        if new_meta.get("name", name) != name:
            errs = status.FieldErrors()
            errs.invalid("metadata.name", new_meta.get("name"), "field is immutable")
            raise status.invalid(rt.group_kind, name, errs)
        new_meta["name"] = name
        self._namespace_into(rt, new, namespace)
        return 200, self._update(rt, old, new, opts, "Update")

    def apply(
        self, rt: ResourceType, namespace: str, name: str, body: Any, opts: WriteOptions, old: JSON | None
    ) -> tuple[int, JSON]:
        """Server-side apply (fieldmanager.py): the manager owns exactly the fields it sends."""
        return fieldmanager.apply(self, rt, namespace, name, body, opts, old)

    def delete(self, rt: ResourceType, namespace: str, name: str, options: JSON, dry_run: bool = False) -> JSON:
        old = self.read(rt, namespace, name)
        meta = old["metadata"]
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise status.conflict(
                rt.group_resource,
                name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise status.conflict(
                rt.group_resource,
                name,
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        okey = self._object_key(rt, namespace, name)
        if (rt.group, rt.name) == ("", "namespaces"):
            return self._delete_namespace(rt, old, dry_run)
        policy = options.get("propagationPolicy") or ("Orphan" if options.get("orphanDependents") else "Background")
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        grace = self._grace_period(rt, old, options)
        if dry_run:
            return self._deleted_answer(rt, old)
        if grace or finalizers:
            if meta.get("deletionTimestamp"):
                return self._deleted_answer(rt, old)
            updated = copy.deepcopy(old)
            umeta = updated["metadata"]
            umeta["deletionTimestamp"] = in_seconds(grace or 0)
            umeta["deletionGracePeriodSeconds"] = grace or 0
            if finalizers:
                umeta["finalizers"] = finalizers
            stored = self.store.put(self.key(rt), okey, updated, self.store.next_rv())
            if grace and not finalizers:
                self._schedule_pod_removal(rt, namespace, name, grace)
            return self._deleted_answer(rt, stored)
        if (rt.group, rt.name) == ("", "pods"):
            old = copy.deepcopy(old)
            old["metadata"]["deletionTimestamp"] = now()
            old["metadata"]["deletionGracePeriodSeconds"] = 0
            self.store.put(self.key(rt), okey, old, self.store.next_rv())
        final = self.store.remove(self.key(rt), okey, self.store.next_rv())
        assert final is not None
        self._deleted(rt, final)
        return self._deleted_answer(rt, final)

    def _delete_namespace(self, rt: ResourceType, old: JSON, dry_run: bool) -> JSON:
        """Namespaces go in two steps: Terminating now, removed once the namespace controller emptied them."""
        name = old["metadata"]["name"]
        if name in ("default", "kube-system", "kube-public"):
            raise status.forbidden(rt.group_resource, name, "this namespace may not be deleted")
        if old["metadata"].get("deletionTimestamp") or dry_run:
            return old
        updated = copy.deepcopy(old)
        updated["metadata"]["deletionTimestamp"] = now()
        updated["metadata"]["deletionGracePeriodSeconds"] = 0
        updated["status"] = {"phase": "Terminating"}
        stored = self.store.put(self.key(rt), ("", name), updated, self.store.next_rv())
        for hook in list(self.namespace_terminating):
            hook(name)
        return stored

    def _grace_period(self, rt: ResourceType, obj: JSON, options: JSON) -> int:
        """Pods only: CheckGracefulDelete (unscheduled or finished pods go at once)."""
        if (rt.group, rt.name) != ("", "pods"):
            return 0
        spec, phase = obj.get("spec") or {}, (obj.get("status") or {}).get("phase")
        requested = options.get("gracePeriodSeconds")
        period = int(requested) if requested is not None else int(spec.get("terminationGracePeriodSeconds", 30) or 0)
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        return max(period, 0)

    def _schedule_pod_removal(self, rt: ResourceType, namespace: str, name: str, grace: int) -> None:
        """Stand in for the kubelet: the pod goes when its grace period is over."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        key = (namespace, name)
        old = self.pod_deleters.pop(key, None)
        if old is not None:
            old.cancel()
        delay = grace if self.pod_termination_seconds is None else min(grace, self.pod_termination_seconds)
        self.pod_deleters[key] = loop.call_later(delay, self.finish_pod_termination, namespace, name)

    def finish_pod_termination(self, namespace: str, name: str) -> bool:
        """The kubelet has stopped the containers: remove a pod whose deletion is pending."""
        self.pod_deleters.pop((namespace, name), None)
        rt = self.registry.lookup("", "v1", "pods")
        assert rt is not None
        obj = self.store.get(self.key(rt), (namespace, name))
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return False
        final = self.store.remove(self.key(rt), (namespace, name), self.store.next_rv())
        if final is not None:
            self._deleted(rt, final)
        return True

    def _deleted(self, rt: ResourceType, final: JSON) -> None:
        for hook in list(self.after_delete):
            hook(rt, final)

    def _deleted_answer(self, rt: ResourceType, obj: JSON) -> JSON:
        if rt.returns_deleted_object or obj["metadata"].get("deletionTimestamp"):
            return obj
        meta = obj["metadata"]
        details = {"name": meta["name"], "group": rt.group, "kind": rt.name, "uid": meta["uid"]}
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {k: v for k, v in details.items() if v},
        }

    def delete_collection(self, rt: ResourceType, namespace: str | None, q: ListQuery, options: JSON) -> JSON:
        listed = self.list(rt, namespace, ListQuery(q.label_selector, q.field_selector))
        deleted = []
        for item in listed["items"]:
            meta = item["metadata"]
            try:
                self.delete(rt, meta.get("namespace", ""), meta["name"], options)
            except status.ApiError:
                continue
            deleted.append(item)
        return {**listed, "items": deleted}


def _same(new: JSON, old: JSON) -> bool:
    def strip(o: JSON) -> JSON:
        meta = {k: v for k, v in o["metadata"].items() if k not in ("resourceVersion", "managedFields")}
        return {**o, "metadata": meta}

    return strip(new) == strip(old)


_TOP_ORDER = ("kind", "apiVersion", "metadata")
_META_ORDER = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)


def _ordered(obj: JSON) -> JSON:
    """Keys in the order a Go struct serialises them (kind, apiVersion, metadata, ...; status last)."""
    out: JSON = {k: obj[k] for k in _TOP_ORDER if k in obj}
    meta = obj.get("metadata") or {}
    meta.setdefault("resourceVersion", "")  # filled in by the store; placed where Go puts it
    out["metadata"] = {k: meta[k] for k in _META_ORDER if k in meta} | {
        k: v for k, v in meta.items() if k not in _META_ORDER
    }
    for key, value in obj.items():
        if key not in out and key != "status":
            out[key] = value
    if "status" in obj:
        out["status"] = obj["status"]
    return out


def _continue_key(rt: ResourceType, namespace: str | None, okey: tuple[str, str]) -> str:
    if rt.namespaced and namespace is None:
        return f"{okey[0]}/{okey[1]}"
    return okey[1]


def _encode_continue(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(token: str, compacted: int) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        rv, start = int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise status.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ) from None
    if rv < compacted:
        raise status.expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new "
            "list without the continue parameter."
        )
    return rv, start
