"""What kube-controller-manager does around namespaces, so the emulator's namespaces behave like a cluster's.

- every new namespace gets ServiceAccount `default` (serviceaccount controller) and ConfigMap
  `kube-root-ca.crt` (root-ca-cert-publisher), as seen in the golden resourceVersion gaps;
- deleting a namespace marks it Terminating (new content is refused with 403), deletes everything in
  it, then removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from arkouda_k8s.testing.kube.api import Api, WriteOptions
from arkouda_k8s.testing.kube.status import ApiError
from arkouda_k8s.testing.kube.store import Event

JSON = dict[str, Any]


class NamespaceController:
    def __init__(self, api: Api, ca_pem: str = "", delay: float = 0.05) -> None:
        self.api = api
        self.ca_pem = ca_pem
        self.delay = delay
        api.store.on_change.append(self._changed)
        api.namespace_terminating.append(self._terminating)

    def _soon(self, callback: Any, *args: Any) -> None:
        try:
            asyncio.get_running_loop().call_later(self.delay, callback, *args)
        except RuntimeError:
            callback(*args)

    def _changed(self, event: Event) -> None:
        if event.store == ("", "namespaces") and event.type == "ADDED":
            self._soon(self._populate, event.key[1])

    def _populate(self, namespace: str) -> None:
        ns = self.api.store.get(("", "namespaces"), ("", namespace))
        if ns is None or (ns.get("status") or {}).get("phase") == "Terminating":
            return
        objects: list[tuple[str, JSON]] = [
            ("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}),
            (
                "configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt"},
                    "data": {"ca.crt": self.ca_pem},
                },
            ),
        ]
        for resource, obj in objects:
            rt = self.api.registry.lookup("", "v1", resource)
            assert rt is not None
            with contextlib.suppress(ApiError):  # already there (created by the test itself)
                self.api.create(rt, namespace, obj, WriteOptions("kube-controller-manager"))

    def _terminating(self, namespace: str) -> None:
        self._soon(self._empty, namespace)

    def _empty(self, namespace: str) -> None:
        for rt in self.api.registry.types:
            if not rt.namespaced or not rt.stored:
                continue
            for (ns, name), _ in self.api.store.items(self.api.key(rt), namespace):
                try:
                    self.api.delete(rt, ns, name, {"gracePeriodSeconds": 0})
                except ApiError:
                    continue
        leftovers = any(
            self.api.store.items(self.api.key(rt), namespace) for rt in self.api.registry.types if rt.namespaced
        )
        if leftovers:  # objects with finalizers: wait for them like the namespace controller does
            self._soon(self._empty, namespace)
            return
        final = self.api.store.remove(("", "namespaces"), ("", namespace), self.api.store.next_rv())
        if final is not None:
            namespaces = self.api.registry.lookup("", "v1", "namespaces")
            assert namespaces is not None
            self.api._deleted(namespaces, final)
