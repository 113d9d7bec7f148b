"""The endpoints and endpointslice controllers of kube-controller-manager, for Services with a selector.

- A Service with a selector gets one EndpointSlice (`<service>-xxxxx`, labelled
  `kubernetes.io/service-name` and managed-by `endpointslice-controller.k8s.io`, owned by the Service)
  and an Endpoints object of its name, listing the matching pods that have an IP: ready, serving and
  terminating as the pod's Ready condition and deletionTimestamp say (`publishNotReadyAddresses`
  makes every address ready). Named target ports resolve through the pods' container ports.
- Selector-less Services are left alone (their endpoints are someone else's, e.g. our registrar).
- A deleted Service takes the Endpoints of its name with it, even a selector-less one's
  (kube-golden/053-054); its slices go through the garbage collector (ownerReferences).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.testing.kube.api import Api, WriteOptions
from arkouda_k8s.testing.kube.names import is_loopback
from arkouda_k8s.testing.kube.selectors import LabelSelector, Requirement
from arkouda_k8s.testing.kube.status import ApiError
from arkouda_k8s.testing.kube.store import Event

JSON = dict[str, Any]
SLICE_MANAGER = "endpointslice-controller.k8s.io"


class EndpointsController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._dirty: set[str] = set()  # namespaces to resync
        self._scheduled = False
        self._log = logs.get_logger("kube-emulator")
        api.store.on_change.append(self._changed)

    def _changed(self, event: Event) -> None:
        if event.store == ("", "services") and event.type == "DELETED":
            self._later(self._delete_endpoints, event.key)
        if event.store in (("", "services"), ("", "pods")):
            self._dirty.add(event.key[0])
            if not self._scheduled:
                self._scheduled = True
                self._later(self._sync_dirty)

    def _later(self, callback: Any, *args: Any) -> None:
        try:
            asyncio.get_running_loop().call_soon(callback, *args)
        except RuntimeError:
            callback(*args)

    def _delete_endpoints(self, key: tuple[str, str]) -> None:
        rt = self.api.registry.lookup("", "v1", "endpoints")
        assert rt is not None
        with contextlib.suppress(ApiError):  # nothing to delete
            self.api.delete(rt, key[0], key[1], {})

    def _sync_dirty(self) -> None:
        self._scheduled = False
        dirty, self._dirty = self._dirty, set()
        for namespace in sorted(dirty):
            for _, service in self.api.store.items(("", "services"), namespace):
                if (service.get("spec") or {}).get("selector") and service["spec"].get("type") != "ExternalName":
                    try:
                        self._sync(service)
                    except ApiError as failed:  # e.g. loopback pod IPs on a faithful emulator
                        self._log.warning(
                            "endpoints_sync_failed", service=service["metadata"]["name"], error=str(failed)
                        )

    # --- one Service ---

    def _pods(self, service: JSON) -> list[JSON]:
        selector = LabelSelector(tuple(Requirement(k, "=", (str(v),)) for k, v in service["spec"]["selector"].items()))
        namespace = service["metadata"]["namespace"]
        pods = []
        for _, pod in self.api.store.items(("", "pods"), namespace):
            status = pod.get("status") or {}
            if not selector.matches((pod.get("metadata") or {}).get("labels")):
                continue
            if status.get("phase") in ("Succeeded", "Failed") or not status.get("podIP"):
                continue
            if is_loopback(status["podIP"]) and not self.api.context.allow_loopback_endpoints:
                continue
            pods.append(pod)
        return pods

    def _ports(self, service: JSON, pods: list[JSON]) -> list[JSON]:
        out = []
        for port in service["spec"].get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, str):
                numbers = [
                    p.get("containerPort")
                    for pod in pods
                    for c in (pod.get("spec") or {}).get("containers") or []
                    for p in c.get("ports") or []
                    if p.get("name") == target
                ]
                if not numbers:
                    continue
                target = numbers[0]
            out.append({"name": port.get("name", ""), "protocol": port.get("protocol", "TCP"), "port": target})
        return out

    def _sync(self, service: JSON) -> None:
        meta = service["metadata"]
        namespace = meta["namespace"]
        pods = self._pods(service)
        publish_all = bool(service["spec"].get("publishNotReadyAddresses"))
        endpoints: list[JSON] = []
        ready_ips: list[JSON] = []
        not_ready_ips: list[JSON] = []
        for pod in pods:
            pod_meta, status = pod["metadata"], pod["status"]
            terminating = bool(pod_meta.get("deletionTimestamp"))
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
            reference = {"kind": "Pod", "namespace": namespace, "name": pod_meta["name"], "uid": pod_meta["uid"]}
            entry: JSON = {
                "addresses": [status["podIP"]],
                "conditions": {
                    "ready": (ready or publish_all) and not terminating,
                    "serving": ready or publish_all,
                    "terminating": terminating,
                },
                "targetRef": reference,
            }
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                entry["nodeName"] = node
            endpoints.append(entry)
            address: JSON = {"ip": status["podIP"], "targetRef": reference}
            if node:
                address["nodeName"] = node
            if terminating and not publish_all:
                continue
            (ready_ips if ready or publish_all else not_ready_ips).append(address)
        ports = self._ports(service, pods)
        self._write_slice(service, endpoints, ports)
        subsets: list[JSON] = []
        if ready_ips or not_ready_ips:
            subset: JSON = {}
            if ready_ips:
                subset["addresses"] = ready_ips
            if not_ready_ips:
                subset["notReadyAddresses"] = not_ready_ips
            subset["ports"] = ports
            subsets.append(subset)
        self._write_endpoints(service, subsets)

    def _write_slice(self, service: JSON, endpoints: list[JSON], ports: list[JSON]) -> None:
        meta = service["metadata"]
        namespace = meta["namespace"]
        rt = self.api.registry.lookup("discovery.k8s.io", "v1", "endpointslices")
        assert rt is not None
        labels = {
            **(meta.get("labels") or {}),
            "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER,
            "kubernetes.io/service-name": meta["name"],
        }
        labels.pop("app.kubernetes.io/managed-by", None)
        owner = {
            "apiVersion": "v1",
            "kind": "Service",
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        desired: JSON = {"addressType": "IPv4", "endpoints": endpoints, "ports": ports}
        for _, existing in self.api.store.items(self.api.key(rt), namespace):
            ex_labels = existing["metadata"].get("labels") or {}
            if (
                ex_labels.get("kubernetes.io/service-name") == meta["name"]
                and ex_labels.get("endpointslice.kubernetes.io/managed-by") == SLICE_MANAGER
            ):
                if all(existing.get(k) == v for k, v in desired.items()) and ex_labels == labels:
                    return
                new = copy.deepcopy(existing)
                new.update(copy.deepcopy(desired))
                new["metadata"]["labels"] = labels
                self.api._update(rt, existing, new, WriteOptions("endpointslice-controller"), "Update")
                return
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"generateName": meta["name"] + "-", "labels": labels, "ownerReferences": [owner]},
            **desired,
        }
        self.api.create(rt, namespace, body, WriteOptions("endpointslice-controller"))

    def _write_endpoints(self, service: JSON, subsets: list[JSON]) -> None:
        meta = service["metadata"]
        rt = self.api.registry.lookup("", "v1", "endpoints")
        assert rt is not None
        existing = self.api.store.get(self.api.key(rt), (meta["namespace"], meta["name"]))
        labels = dict(meta.get("labels") or {})
        if existing is None:
            body: JSON = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": meta["name"], "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            self.api.create(rt, meta["namespace"], body, WriteOptions("endpoint-controller"))
            return
        if (existing.get("subsets") or []) == subsets and (existing["metadata"].get("labels") or {}) == labels:
            return
        new = copy.deepcopy(existing)
        new["metadata"]["labels"] = labels
        if subsets:
            new["subsets"] = subsets
        else:
            new.pop("subsets", None)
        self.api._update(rt, existing, new, WriteOptions("endpoint-controller"), "Update")
