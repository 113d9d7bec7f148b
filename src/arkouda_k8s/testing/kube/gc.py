"""The garbage collector, as kube-controller-manager runs it: ownerReferences decide who goes.

About `delay` seconds (0.1 s by default; a real cluster took ~0.01-0.1 s, kube-golden/057) after an
owner is deleted, or after an object is written whose owners do not exist (by uid), a dependent with
no remaining owner is deleted (background propagation); references to owners that are gone are
removed from dependents that still have another owner. DeleteOptions' `Orphan` keeps the dependents
(their references to the owner are removed), `Foreground` deletes them before the owner.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.testing.kube.api import Api, WriteOptions
from arkouda_k8s.testing.kube.resources import ResourceType
from arkouda_k8s.testing.kube.status import ApiError
from arkouda_k8s.testing.kube.store import Event

JSON = dict[str, Any]
MANAGER = "generic-garbage-collector"


class GarbageCollector:
    def __init__(self, api: Api, delay: float = 0.1) -> None:
        self.api = api
        self.delay = delay
        self.collected = 0
        self._log = logs.get_logger("kube-emulator")
        self._pending: set[asyncio.TimerHandle] = set()
        api.store.on_change.append(self._changed)

    def _later(self, callback: Any, *args: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # written outside the event loop (set-up): the next write re-checks
        handle: asyncio.TimerHandle

        def run() -> None:
            self._pending.discard(handle)
            callback(*args)

        handle = loop.call_later(self.delay, run)
        self._pending.add(handle)

    def stop(self) -> None:
        for handle in list(self._pending):
            handle.cancel()
        self._pending.clear()

    def _changed(self, event: Event) -> None:
        meta = event.object.get("metadata") or {}
        if event.type == "DELETED":
            self._later(self._owner_gone, meta.get("uid", ""))
            return
        if meta.get("ownerReferences"):
            self._later(self._check, event.store, event.key)
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp") and ("orphan" in finalizers or "foregroundDeletion" in finalizers):
            self._later(self._finalize_owner, event.store, event.key)

    # --- owners and dependents ---

    def _owner_exists(self, ref: JSON, namespace: str) -> bool:
        rt = self.api.registry.by_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if rt is None:
            return True  # a kind the collector cannot resolve is left alone, as the real one logs and waits
        owner = self.api.store.get(self.api.key(rt), (namespace if rt.namespaced else "", str(ref.get("name", ""))))
        return owner is not None and owner["metadata"].get("uid") == ref.get("uid")

    def _rt_of(self, store_key: tuple[str, str]) -> ResourceType | None:
        for rt in self.api.registry.types:
            if self.api.key(rt) == store_key:
                return rt
        return None

    def _check(self, store_key: tuple[str, str], key: tuple[str, str]) -> None:
        obj = self.api.store.get(store_key, key)
        rt = self._rt_of(store_key)
        if obj is None or rt is None or obj["metadata"].get("deletionTimestamp"):
            return
        refs = obj["metadata"].get("ownerReferences") or []
        solid = [r for r in refs if self._owner_exists(r, key[0])]
        if solid == refs:
            return
        if solid:
            self._set_owners(rt, obj, solid)
        else:
            self._delete(rt, key)

    def _owner_gone(self, uid: str) -> None:
        if not uid:
            return
        for store_key, key, obj in list(self.api.store.all_objects()):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(r.get("uid") == uid for r in refs):
                self._check(store_key, key)

    def _set_owners(self, rt: ResourceType, obj: JSON, refs: list[JSON]) -> None:
        new = copy.deepcopy(obj)
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        try:
            self.api._update(rt, obj, new, WriteOptions(MANAGER), "Update")
        except ApiError as failed:
            self._log.warning("gc_update_failed", object=obj["metadata"].get("name"), error=str(failed))

    def _delete(self, rt: ResourceType, key: tuple[str, str]) -> None:
        try:
            self.api.delete(rt, key[0], key[1], {"propagationPolicy": "Background"})
            self.collected += 1
        except ApiError:
            pass  # already gone

    def _finalize_owner(self, store_key: tuple[str, str], key: tuple[str, str]) -> None:
        owner = self.api.store.get(store_key, key)
        rt = self._rt_of(store_key)
        if owner is None or rt is None:
            return
        uid = owner["metadata"].get("uid")
        finalizers = list(owner["metadata"].get("finalizers") or [])
        dependents = [
            (sk, k, o)
            for sk, k, o in self.api.store.all_objects()
            if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])
        ]
        if "orphan" in finalizers:
            for sk, _, o in dependents:
                dep_rt = self._rt_of(sk)
                if dep_rt is not None:
                    refs = [r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                    self._set_owners(dep_rt, o, refs)
            finalizers.remove("orphan")
        elif "foregroundDeletion" in finalizers:
            if dependents:
                for sk, k, _ in dependents:
                    dep_rt = self._rt_of(sk)
                    if dep_rt is not None:
                        self._delete(dep_rt, k)
                self._later(self._finalize_owner, store_key, key)
                return
            finalizers.remove("foregroundDeletion")
        owner = self.api.store.get(store_key, key)
        if owner is None:
            return
        new = copy.deepcopy(owner)
        new["metadata"]["finalizers"] = finalizers
        if not finalizers:
            new["metadata"].pop("finalizers")
        try:
            self.api._update(rt, owner, new, WriteOptions(MANAGER), "Update")
        except ApiError as failed:
            self._log.warning("gc_finalize_failed", object=key[1], error=str(failed))
