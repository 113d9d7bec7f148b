"""The one place that talks to the Kubernetes API (through kubernetes_asyncio).

    config = await load_api_config(settings)        # in-cluster, kubeconfig, K8S_HOST + token or cert
    async with KubeClient(config, component="registrar") as kube:
        svc = await kube.get(SERVICES, "arkouda")

Everything above this package (registrar, resolver, entrypoints) gets, through it: TLS that is
always verified, jittered exponential backoff on 5xx / timeouts / connection errors, Retry-After
on 429, the token re-read from its file on 401, 403 as an immediate error naming the verb,
resource and namespace, and watches that re-list on 410 and never hang silently.
"""

from arkouda_k8s.kube.client import ApiStats, KubeClient, ObjectList
from arkouda_k8s.kube.config import ApiConfig, load_api_config
from arkouda_k8s.kube.errors import (
    AlreadyExists,
    ApiError,
    ApiUnavailable,
    Conflict,
    Expired,
    Forbidden,
    Invalid,
    NoCredentials,
    NotFound,
    PortForwardFailed,
    TlsRefused,
    Unauthorized,
)
from arkouda_k8s.kube.resources import ENDPOINT_SLICES, ENDPOINTS, POD_PORTFORWARD, PODS, SERVICES, Resource
from arkouda_k8s.kube.retry import RetryPolicy
from arkouda_k8s.kube.watch import WatchEvent, list_and_watch

__all__ = [
    "ENDPOINTS",
    "ENDPOINT_SLICES",
    "PODS",
    "POD_PORTFORWARD",
    "SERVICES",
    "AlreadyExists",
    "ApiConfig",
    "ApiError",
    "ApiStats",
    "ApiUnavailable",
    "Conflict",
    "Expired",
    "Forbidden",
    "Invalid",
    "KubeClient",
    "NoCredentials",
    "NotFound",
    "ObjectList",
    "PortForwardFailed",
    "Resource",
    "RetryPolicy",
    "TlsRefused",
    "Unauthorized",
    "WatchEvent",
    "list_and_watch",
    "load_api_config",
]
