"""Who the registrar publishes: this pod (downward API), with its UID read from the API if not given."""

from __future__ import annotations

from arkouda_k8s.errors import SettingsError
from arkouda_k8s.kube import PODS, KubeClient, NotFound
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.settings import Settings, require


async def pod_identity(settings: Settings, kube: KubeClient) -> PodIdentity:
    require(
        settings,
        "pod_name",
        "pod_ip",
        why="the registrar publishes this pod's IP and makes the pod the owner of what it publishes "
        "(set them from the downward API: metadata.name and status.podIP)",
    )
    namespace = settings.namespace or kube.namespace
    uid = settings.pod_uid
    if not uid:
        try:
            pod = await kube.get(PODS, str(settings.pod_name), namespace)
        except NotFound:
            raise SettingsError(
                f"POD_NAME={settings.pod_name!r}: no such pod in namespace {namespace}; set POD_NAME and POD_UID "
                "from the downward API (metadata.name, metadata.uid)"
            ) from None
        uid = str(pod["metadata"]["uid"])
    return PodIdentity(
        name=str(settings.pod_name), uid=uid, ip=str(settings.pod_ip), namespace=namespace, instance=settings.instance
    )
