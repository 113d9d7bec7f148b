"""Publishing and withdrawing: the registrar's API writes, with the ownership rules of DESIGN.md §2.3.

- create the Service; on 409 read it: ours (names this pod) → update in place; made by Helm for
  this release, or owned by a pod that is gone or not Running → take it over; owned by a live
  foreign pod, or not an arkouda-k8s Service at all → refuse with an error naming the owner;
- create our EndpointSlice (and legacy Endpoints when asked) owned by this pod;
- withdraw: mark the endpoint terminating, delete the slice, anything else of ours, and the
  Service if a registrar created it (and --keep-service was not given).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import (
    ENDPOINT_SLICES,
    ENDPOINTS,
    PODS,
    SERVICES,
    AlreadyExists,
    Conflict,
    KubeClient,
    NotFound,
)
from arkouda_k8s.registrar import objects as o

JSON = dict[str, Any]


class ServiceConflict(ArkoudaK8sError):
    """The Service name is taken by something we must not touch."""

    exit_code = ExitCode.CONFLICT


class WithdrawIncomplete(ArkoudaK8sError):
    exit_code = ExitCode.WITHDRAW_INCOMPLETE


@dataclass
class Published:
    """What this registrar has put in the API, so it can keep it right and take it back."""

    spec: o.ServiceSpec
    service_created: bool = False  # a registrar created the Service (so withdrawal may delete it)
    slice_name: str | None = None
    slice_uid: str | None = None
    endpoints: bool = False
    ready: bool = False


class Publisher:
    def __init__(self, kube: KubeClient, pod: o.PodIdentity, *, endpoints_api: str = "endpointslice") -> None:
        self.kube = kube
        self.pod = pod
        self.write_slices = endpoints_api in ("endpointslice", "both")
        self.write_endpoints = endpoints_api in ("endpoints", "both")
        self.log = logs.get_logger("registrar", service=None, namespace=pod.namespace, pod=pod.name)

    # --- publish ---

    async def publish(self, state: Published, *, ready: bool) -> Published:
        """Write the endpoint (the Service was claimed before): the server is now reachable by name."""
        spec = state.spec
        state.ready = ready
        if self.write_slices:
            created = await self.kube.create(ENDPOINT_SLICES, o.endpoint_slice(spec, self.pod, ready=ready))
            state.slice_name = created["metadata"]["name"]
            state.slice_uid = created["metadata"].get("uid")
        if self.write_endpoints:
            await self._write_endpoints(spec, ready=ready)
            state.endpoints = True
        return state

    async def claim(self, spec: o.ServiceSpec) -> Published:
        """Make the Service ours to publish to (before the server answers, so a conflict stops us early).

        Read first: a Service made by Helm is adopted with get + patch, so the Role needs no right
        to create or delete Services when the chart makes them.
        """
        current = await self.kube.get_or_none(SERVICES, spec.name)
        if current is None:
            try:
                await self.kube.create(SERVICES, o.service(spec, self.pod))
                return Published(spec, service_created=True)
            except AlreadyExists:  # created between our read and our create: look again
                current = await self.kube.get(SERVICES, spec.name)
        await self._check_may_adopt(current, spec)
        drift = o.service_drift(current, spec)
        annotations = (current.get("metadata") or {}).get("annotations") or {}
        if drift or not o.owned_by(current, self.pod):
            await self.kube.patch(SERVICES, spec.name, o.adoption_patch(spec, self.pod))
            previous = annotations.get(o.OWNER_POD)
            if previous and previous != self.pod.name:
                self.log.info("conflict", service=spec.name, resolution="took_over", previous_owner=previous)
                await self._delete_slices_of_others(spec.name)
        return Published(spec, service_created=annotations.get(o.CREATED_BY_REGISTRAR) == "true")

    async def _check_may_adopt(self, current: JSON, spec: o.ServiceSpec) -> None:
        meta = current.get("metadata") or {}
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        ns = self.pod.namespace
        if (current.get("spec") or {}).get("selector"):
            raise ServiceConflict(
                f"Service {ns}/{spec.name} exists with a selector, so it is not an arkouda-k8s Service; "
                f"choose another --service-name (EXTERNAL_SERVICE_NAME) or delete it: "
                f"kubectl delete service {spec.name} -n {ns}"
            )
        ours = labels.get(o.MANAGED_BY) == o.US or o.OWNER_POD in annotations
        same_release = self.pod.instance is not None and labels.get(o.INSTANCE) == self.pod.instance
        if not ours and not same_release:
            raise ServiceConflict(
                f"Service {ns}/{spec.name} exists and is not managed by arkouda-k8s (labels {labels}); "
                f"choose another --service-name or delete it: kubectl delete service {spec.name} -n {ns}"
            )
        owner, owner_uid = annotations.get(o.OWNER_POD), annotations.get(o.OWNER_UID)
        if not owner or (owner == self.pod.name and owner_uid == self.pod.uid):
            return
        live = await self._live_pod(owner, owner_uid)
        if live:
            raise ServiceConflict(
                f"Service {ns}/{spec.name} is published by another server pod that is running: {owner} "
                f"(uid {owner_uid}); two servers cannot share one name. Stop that pod or use another "
                f"--service-name: kubectl get pod {owner} -n {ns}"
            )

    async def _live_pod(self, name: str, uid: str | None) -> bool:
        pod = await self.kube.get_or_none(PODS, name)
        if pod is None:
            return False
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        if uid and meta.get("uid") != uid:
            return False  # same name, another pod: the owner we knew is gone
        return status.get("phase") == "Running" and not meta.get("deletionTimestamp")

    async def _delete_slices_of_others(self, service_name: str) -> None:
        listed = await self.kube.list(ENDPOINT_SLICES, label_selector=o.slice_selector(service_name))
        for item in listed.items:
            if o.slice_owner_uid(item) != self.pod.uid:
                await self.kube.delete(ENDPOINT_SLICES, item["metadata"]["name"], uid=item["metadata"].get("uid"))

    async def delete_orphans(self, service_name: str) -> list[str]:
        """At start: delete our slices whose owner pod no longer exists (a crashed earlier server)."""
        listed = await self.kube.list(ENDPOINT_SLICES, label_selector=o.slice_selector(service_name))
        removed = []
        for item in listed.items:
            owner_uid = o.slice_owner_uid(item)
            if owner_uid == self.pod.uid:
                continue
            owner = next((r for r in item["metadata"].get("ownerReferences") or [] if r.get("kind") == "Pod"), None)
            if owner and await self._pod_exists(owner.get("name", ""), owner_uid):
                continue
            if await self.kube.delete(ENDPOINT_SLICES, item["metadata"]["name"], uid=item["metadata"].get("uid")):
                removed.append(item["metadata"]["name"])
        return removed

    async def _pod_exists(self, name: str, uid: str | None) -> bool:
        pod = await self.kube.get_or_none(PODS, name)
        return pod is not None and (uid is None or (pod.get("metadata") or {}).get("uid") == uid)

    # --- keep it true ---

    async def set_ready(self, state: Published, ready: bool) -> None:
        if self.write_slices and state.slice_name:
            await self.kube.patch(
                ENDPOINT_SLICES, state.slice_name, {"endpoints": [o.slice_endpoint(self.pod, ready=ready)]}
            )
        if self.write_endpoints:
            await self._write_endpoints(state.spec, ready=ready)
        state.ready = ready

    async def repair_service(self, state: Published) -> list[str]:
        """Bring the Service back to what it should be; returns what was repaired."""
        service = await self.kube.get_or_none(SERVICES, state.spec.name)
        if service is None:
            await self.kube.create(SERVICES, o.service(state.spec, self.pod))
            state.service_created = True
            return ["service:recreated"]
        drift = o.service_drift(service, state.spec)
        if drift or not o.owned_by(service, self.pod):
            patch = o.adoption_patch(state.spec, self.pod)
            if o.owned_by(service, self.pod):
                patch["spec"]["selector"] = None  # ours, edited by someone: a selector would take our endpoints over
            else:
                await self._check_may_adopt(service, state.spec)
            await self.kube.patch(SERVICES, state.spec.name, patch)
            return ["service:" + (",".join(drift) or "owner")]
        return []

    async def repair_endpoints(self, state: Published) -> list[str]:
        current = await self.kube.get_or_none(ENDPOINTS, state.spec.name)
        desired = o.legacy_endpoints(state.spec, self.pod, ready=state.ready)
        if current is None or current.get("subsets") != desired["subsets"]:
            await self._write_endpoints(state.spec, ready=state.ready)
            return ["endpoints"]
        return []

    async def delete_duplicates(self, state: Published, slices: Mapping[str, JSON]) -> list[str]:
        """Delete the slices this pod owns besides the one it publishes through."""
        removed = []
        for name, item in slices.items():
            duplicate = state.slice_name and name != state.slice_name and o.slice_owner_uid(item) == self.pod.uid
            if duplicate and await self.kube.delete(ENDPOINT_SLICES, name, uid=item["metadata"].get("uid")):
                removed.append(f"endpointslice:{name}:duplicate")
        return removed

    async def repair_slice(self, state: Published, current: JSON | None = None) -> list[str]:
        desired = o.endpoint_slice(state.spec, self.pod, ready=state.ready)
        if current is None and state.slice_name:
            current = await self.kube.get_or_none(ENDPOINT_SLICES, state.slice_name)
        if current is None:
            created = await self.kube.create(ENDPOINT_SLICES, desired)
            state.slice_name, state.slice_uid = created["metadata"]["name"], created["metadata"].get("uid")
            return ["endpointslice:recreated"]
        drift = o.slice_drift(current, desired)
        if drift:
            body = {
                **current,
                "addressType": desired["addressType"],
                "ports": desired["ports"],
                "endpoints": desired["endpoints"],
            }
            body["metadata"] = {
                **current["metadata"],
                "labels": {**(current["metadata"].get("labels") or {}), **desired["metadata"]["labels"]},
                "ownerReferences": desired["metadata"]["ownerReferences"],
            }
            try:
                await self.kube.replace(ENDPOINT_SLICES, current["metadata"]["name"], body)
            except (Conflict, NotFound):
                return await self.repair_slice(state)  # changed again under us: read it afresh
            return ["endpointslice:" + ",".join(drift)]
        return []

    async def _write_endpoints(self, spec: o.ServiceSpec, *, ready: bool) -> None:
        body = o.legacy_endpoints(spec, self.pod, ready=ready)
        try:
            await self.kube.create(ENDPOINTS, body)
        except AlreadyExists:
            current = await self.kube.get(ENDPOINTS, spec.name)
            if not o.owned_by(current, self.pod):
                owner = ((current.get("metadata") or {}).get("annotations") or {}).get(o.OWNER_POD)
                if owner and await self._live_pod(owner, None) and owner != self.pod.name:
                    raise ServiceConflict(
                        f"Endpoints {self.pod.namespace}/{spec.name} belong to running pod {owner}"
                    ) from None
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            await self.kube.replace(ENDPOINTS, spec.name, body)

    # --- withdraw ---

    async def withdraw(
        self, state: Published | None, spec: o.ServiceSpec, *, keep_service: bool, deadline: float
    ) -> list[str]:
        """Take back everything of ours for `spec`; returns what was removed. Raises ApiError on failure."""
        removed: list[str] = []
        if state is not None and state.slice_name:
            with contextlib.suppress(NotFound):
                await self.kube.patch(
                    ENDPOINT_SLICES,
                    state.slice_name,
                    {"endpoints": [o.slice_endpoint(self.pod, ready=False, terminating=True)]},
                    deadline=deadline,
                )
            if await self.kube.delete(ENDPOINT_SLICES, state.slice_name, uid=state.slice_uid, deadline=deadline):
                removed.append(f"endpointslice/{state.slice_name}")
        # Slices whose create we never saw answered (a stop in the middle of publishing) are found by label.
        if self.write_slices:
            listed = await self.kube.list(
                ENDPOINT_SLICES, label_selector=o.slice_selector(spec.name), deadline=deadline
            )
            for item in listed.items:
                if o.slice_owner_uid(item) == self.pod.uid and await self.kube.delete(
                    ENDPOINT_SLICES, item["metadata"]["name"], uid=item["metadata"].get("uid"), deadline=deadline
                ):
                    removed.append(f"endpointslice/{item['metadata']['name']}")
        if self.write_endpoints:
            current = await self.kube.get_or_none(ENDPOINTS, spec.name, deadline=deadline)
            if current is not None and o.owned_by(current, self.pod):
                await self.kube.delete(ENDPOINTS, spec.name, uid=current["metadata"].get("uid"), deadline=deadline)
                removed.append(f"endpoints/{spec.name}")
        if not keep_service:
            service = await self.kube.get_or_none(SERVICES, spec.name, deadline=deadline)
            annotations = ((service or {}).get("metadata") or {}).get("annotations") or {}
            if (
                service is not None
                and o.owned_by(service, self.pod)
                and annotations.get(o.CREATED_BY_REGISTRAR) == "true"
            ):
                await self.kube.delete(SERVICES, spec.name, uid=service["metadata"].get("uid"), deadline=deadline)
                removed.append(f"service/{spec.name}")
        return removed
