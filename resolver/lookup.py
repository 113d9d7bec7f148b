"""The strategies: the API (the Service's EndpointSlices, ready endpoints only), then cluster DNS.

API: list the Service's EndpointSlices (label kubernetes.io/service-name); a ready endpoint answers
at once. With a wait, a watch from that list's resourceVersion wakes us the moment the registrar
marks one ready — no polling. Only reads; nothing in the cluster is created, changed or deleted.

DNS: `<service>.<namespace>.svc.<cluster domain>`, the domain taken from resolv.conf's search list
(`svc.<domain>`), never assumed to be cluster.local; the port is the one in the name or 5555.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arkouda_k8s.kube import ENDPOINT_SLICES, SERVICES, KubeClient, list_and_watch
from arkouda_k8s.resolver import errors as e
from arkouda_k8s.resolver.names import DEFAULT_PORT

JSON = dict[str, Any]
DnsResolver = Callable[[str], Awaitable[list[str]]]  # host name → addresses; injectable in tests
Progress = Callable[[str], None]
RESOLV_CONF = Path("/etc/resolv.conf")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    source: str  # "api", "dns", "direct" or "port-forward", with what was looked up
    pod: str | None = None  # the endpoint's targetRef, when the API named the pod

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def ready_endpoint(slices: Mapping[str, JSON] | list[JSON]) -> tuple[str, int, str | None] | None:
    """The first ready address, its `arkouda` port (else the only port) and its pod, across the slices."""
    items = list(slices.values()) if isinstance(slices, Mapping) else slices
    for item in sorted(items, key=lambda s: str(s.get("metadata", {}).get("name", ""))):
        port = _arkouda_port(item.get("ports") or [])
        if port is None:
            continue
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            # A nil `ready` means ready (discovery/v1 semantics); terminating endpoints are never used.
            if conditions.get("ready") is False or conditions.get("terminating"):
                continue
            addresses = endpoint.get("addresses") or []
            if addresses:
                ref = endpoint.get("targetRef") or {}
                pod = str(ref["name"]) if ref.get("kind") == "Pod" and ref.get("name") else None
                return str(addresses[0]), port, pod
    return None


def _arkouda_port(ports: list[JSON]) -> int | None:
    named = [p for p in ports if p.get("name") == "arkouda" and p.get("port")]
    if named:
        return int(named[0]["port"])
    if len(ports) == 1 and ports[0].get("port"):
        return int(ports[0]["port"])
    return None


def describe_slices(slices: Mapping[str, JSON]) -> str:
    if not slices:
        return "no EndpointSlice"
    parts = []
    for name, item in sorted(slices.items()):
        for endpoint in item.get("endpoints") or []:
            parts.append(f"{name}: {','.join(endpoint.get('addresses') or [])} {endpoint.get('conditions') or {}}")
        if not item.get("endpoints"):
            parts.append(f"{name}: no endpoints")
    return "; ".join(parts)


async def via_api(
    kube: KubeClient,
    service: str,
    namespace: str,
    *,
    wait: bool,
    deadline: float,
    progress: Progress | None = None,
) -> Endpoint:
    selector = f"kubernetes.io/service-name={service}"
    slices: Mapping[str, JSON] = {}
    hint = f"kubectl get service,endpointslices -n {namespace} -l kubernetes.io/service-name={service} -o wide"
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(deadline):
            if not wait:
                listed = await kube.list(ENDPOINT_SLICES, namespace, label_selector=selector, deadline=deadline)
                slices = {i["metadata"]["name"]: i for i in listed.items}
                found = ready_endpoint(slices)
                if found:
                    return Endpoint(*found[:2], f"api: EndpointSlice of Service {namespace}/{service}", found[2])
            else:
                async for event in list_and_watch(
                    kube,
                    ENDPOINT_SLICES,
                    namespace,
                    label_selector=selector,
                    timeout_seconds=max(1, min(240, int(deadline - loop.time()) + 1)),
                ):
                    slices = event.objects
                    found = ready_endpoint(slices)
                    if found:
                        return Endpoint(*found[:2], f"api: EndpointSlice of Service {namespace}/{service}", found[2])
                    if progress:
                        progress(f"waiting for Service {namespace}/{service}: {describe_slices(slices)}")
    except TimeoutError:
        pass
    # Not found in time: say which stage it stopped at (one more read, with a short deadline of its own).
    svc = await kube.get_or_none(SERVICES, service, namespace, deadline=loop.time() + 5)
    if svc is None:
        raise e.ServiceNotFound(
            f"there is no Service {service!r} in namespace {namespace!r}"
            + (" (waited until the deadline)" if wait else ""),
            hint=f"kubectl get services -n {namespace}   (is the server running? kubectl get pods -n {namespace})",
        )
    raise e.NotReady(
        f"Service {namespace}/{service} exists but has no ready endpoint: {describe_slices(slices)}",
        hint=hint + f"; the server's log: kubectl logs -n {namespace} <server pod>",
    )


def cluster_domain(resolv_conf: Path = RESOLV_CONF) -> str | None:
    """The cluster domain from resolv.conf's search list (`svc.<domain>`), if this is a pod."""
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        words = line.split()
        if words and words[0] == "search":
            for entry in words[1:]:
                if entry.startswith("svc."):
                    return entry.removeprefix("svc.")
    return None


async def system_dns(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def via_dns(
    service: str,
    namespace: str,
    *,
    port: int | None,
    domain: str | None,
    resolver: DnsResolver,
    resolv_conf: Path = RESOLV_CONF,
    wait: bool,
    deadline: float,
    progress: Progress | None = None,
) -> Endpoint:
    domain = domain or cluster_domain(resolv_conf)
    name = f"{service}.{namespace}.svc" + (f".{domain}" if domain else "")
    loop = asyncio.get_running_loop()
    attempt, last = 0, "no attempt"
    while True:
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                addresses = await resolver(name)
        except (OSError, TimeoutError) as failed:
            last = f"{type(failed).__name__}: {failed}"
        else:
            if addresses:
                return Endpoint(addresses[0], port or DEFAULT_PORT, f"dns: {name}")
            last = "no address"
        if not wait or loop.time() >= deadline:
            raise e.DnsFailure(
                f"cluster DNS could not resolve {name} ({last})"
                + ("" if domain else "; no cluster domain in resolv.conf's search list: not in a pod?"),
                hint=f"kubectl get service {service} -n {namespace}",
            )
        if progress:
            progress(f"waiting for DNS name {name}: {last}")
        await asyncio.sleep(min(0.2 * 2 ** min(attempt, 4), max(0.0, deadline - loop.time())))
        attempt += 1
