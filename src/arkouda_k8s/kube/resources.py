"""The API resources arkouda-k8s reads and writes, and how kubernetes_asyncio names their calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    api_version: str
    api_class: str  # the kubernetes_asyncio API class
    method_suffix: str  # read_<suffix>, create_<suffix>, ...; list_<suffix> lists one namespace
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def describe(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


PODS = Resource("pods", "Pod", "v1", "CoreV1Api", "namespaced_pod")
SERVICES = Resource("services", "Service", "v1", "CoreV1Api", "namespaced_service")
ENDPOINTS = Resource("endpoints", "Endpoints", "v1", "CoreV1Api", "namespaced_endpoints")
ENDPOINT_SLICES = Resource(
    "endpointslices", "EndpointSlice", "discovery.k8s.io/v1", "DiscoveryV1Api", "namespaced_endpoint_slice"
)
NAMESPACES = Resource("namespaces", "Namespace", "v1", "CoreV1Api", "namespace", namespaced=False)
# A connect subresource: `get` (WebSocket) on pods/portforward; describe() gives kubectl's "pods/portforward".
POD_PORTFORWARD = Resource("pods/portforward", "PodPortForwardOptions", "v1", "CoreV1Api", "namespaced_pod_portforward")
