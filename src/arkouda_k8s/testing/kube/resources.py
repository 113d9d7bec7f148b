"""Every resource the emulator serves, as kube-apiserver 1.28 lists it in discovery.

Each row is data: group, version, plural, kind, scope, verbs, short names, subresources. A resource in
this table is stored, listed and watched like any other; the kinds arkouda-k8s uses also get the real
server's defaulting and validation (`kinds.py`). The core and discovery.k8s.io rows reproduce the
golden discovery documents byte for byte (`/work/shared/kube-golden/003`, `005`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arkouda_k8s.testing.kube.status import GroupKind, GroupResource

ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NS_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
SUB_GPU = ("get", "patch", "update")
CREATE = ("create",)


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # set when the subresource speaks another group's kind (Scale, Eviction)
    version: str | None = None
    stored: bool = False  # status-like: reads and writes a part of the parent object


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    name: str  # plural, as in URLs
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    storage_version_hash: str = ""
    subresources: tuple[Subresource, ...] = ()
    returns_deleted_object: bool = False  # DELETE answers the object, not a Status (genericregistry flag)
    stored: bool = True  # False: create-only review APIs (no storage), answered with 405 for reads

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> GroupResource:
        return GroupResource(self.group, self.name)

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, SUB_GPU, stored=True)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", SUB_GPU, group="autoscaling", version="v1")


def _r(
    group: str,
    version: str,
    name: str,
    kind: str,
    namespaced: bool,
    verbs: tuple[str, ...] = ALL,
    *,
    short: tuple[str, ...] = (),
    cat: tuple[str, ...] = (),
    svh: str = "",
    subs: tuple[Subresource, ...] = (),
    singular: str = "",
    returns_object: bool = False,
    stored: bool = True,
) -> ResourceType:
    return ResourceType(
        group, version, name, kind, namespaced, verbs, singular, short, cat, svh, subs, returns_object, stored
    )


CORE: tuple[ResourceType, ...] = (
    _r("", "v1", "bindings", "Binding", True, CREATE, stored=False),
    _r("", "v1", "componentstatuses", "ComponentStatus", False, ("get", "list"), short=("cs",), stored=False),
    _r("", "v1", "configmaps", "ConfigMap", True, short=("cm",), svh="qFsyl6wFWjQ="),
    _r("", "v1", "endpoints", "Endpoints", True, short=("ep",), svh="fWeeMqaN/OA=", singular="endpoints"),
    _r("", "v1", "events", "Event", True, short=("ev",), svh="r2yiGXH7wu8="),
    _r("", "v1", "limitranges", "LimitRange", True, short=("limits",), svh="EBKMFVe6cwo="),
    _r(
        "",
        "v1",
        "namespaces",
        "Namespace",
        False,
        NS_VERBS,
        short=("ns",),
        svh="Q3oi5N2YM8M=",
        subs=(Subresource("finalize", "Namespace", ("update",)), _status("Namespace")),
        returns_object=True,
    ),
    _r(
        "",
        "v1",
        "nodes",
        "Node",
        False,
        short=("no",),
        svh="XwShjMxG9Fs=",
        subs=(
            Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
            _status("Node"),
        ),
    ),
    _r(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        True,
        short=("pvc",),
        svh="QWTyNDq0dC4=",
        subs=(_status("PersistentVolumeClaim"),),
        returns_object=True,
    ),
    _r(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        False,
        short=("pv",),
        svh="HN/zwEC+JgM=",
        subs=(_status("PersistentVolume"),),
        returns_object=True,
    ),
    _r(
        "",
        "v1",
        "pods",
        "Pod",
        True,
        short=("po",),
        cat=("all",),
        svh="xPOwRZ+Yhw8=",
        subs=(
            Subresource("attach", "PodAttachOptions", ("create", "get")),
            Subresource("binding", "Binding", CREATE),
            Subresource("ephemeralcontainers", "Pod", SUB_GPU, stored=True),
            Subresource("eviction", "Eviction", CREATE, group="policy", version="v1"),
            Subresource("exec", "PodExecOptions", ("create", "get")),
            Subresource("log", "Pod", ("get",)),
            Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
            Subresource("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
            _status("Pod"),
        ),
        returns_object=True,
    ),
    _r("", "v1", "podtemplates", "PodTemplate", True, svh="LIXB2x4IFpk="),
    _r(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        True,
        short=("rc",),
        cat=("all",),
        svh="Jond2If31h0=",
        subs=(_scale(), _status("ReplicationController")),
    ),
    _r(
        "",
        "v1",
        "resourcequotas",
        "ResourceQuota",
        True,
        short=("quota",),
        svh="8uhSgffRX6w=",
        subs=(_status("ResourceQuota"),),
    ),
    _r("", "v1", "secrets", "Secret", True, svh="S6u1pOWzb84="),
    _r(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        True,
        short=("sa",),
        svh="pbx9ZvyFpBE=",
        subs=(Subresource("token", "TokenRequest", CREATE, group="authentication.k8s.io", version="v1"),),
        returns_object=True,
    ),
    _r(
        "",
        "v1",
        "services",
        "Service",
        True,
        short=("svc",),
        cat=("all",),
        svh="0/CO1lhkEBI=",
        subs=(
            Subresource("proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")),
            _status("Service"),
        ),
        returns_object=True,
    ),
)

NO_WATCH = ("create", "delete", "deletecollection", "get", "list", "patch", "update")

GROUPS: tuple[ResourceType, ...] = (
    _r(
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "APIService",
        False,
        cat=("api-extensions",),
        subs=(_status("APIService"),),
    ),
    _r("apps", "v1", "controllerrevisions", "ControllerRevision", True, svh="85nkx63pcBU="),
    _r(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        True,
        short=("ds",),
        cat=("all",),
        svh="dd7pWHUlMKQ=",
        subs=(_status("DaemonSet"),),
    ),
    _r(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        short=("deploy",),
        cat=("all",),
        svh="8aSe+NMegvE=",
        subs=(_scale(), _status("Deployment")),
        returns_object=True,
    ),
    _r(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        short=("rs",),
        cat=("all",),
        svh="P1RzHs8/mWQ=",
        subs=(_scale(), _status("ReplicaSet")),
        returns_object=True,
    ),
    _r(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        True,
        short=("sts",),
        cat=("all",),
        svh="H+vl74LkKdo=",
        subs=(_scale(), _status("StatefulSet")),
        returns_object=True,
    ),
    _r("events.k8s.io", "v1", "events", "Event", True, short=("ev",)),
    _r("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, CREATE, stored=False),
    _r("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, CREATE, stored=False),
    _r(
        "authorization.k8s.io",
        "v1",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        True,
        CREATE,
        stored=False,
    ),
    _r(
        "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, CREATE, stored=False
    ),
    _r("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False, CREATE, stored=False),
    _r("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False, CREATE, stored=False),
    _r(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        short=("hpa",),
        cat=("all",),
        subs=(_status("HorizontalPodAutoscaler"),),
    ),
    _r(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        short=("hpa",),
        cat=("all",),
        subs=(_status("HorizontalPodAutoscaler"),),
    ),
    _r("batch", "v1", "cronjobs", "CronJob", True, short=("cj",), cat=("all",), subs=(_status("CronJob"),)),
    _r("batch", "v1", "jobs", "Job", True, cat=("all",), subs=(_status("Job"),), returns_object=True),
    _r(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        False,
        short=("csr",),
        subs=(
            Subresource("approval", "CertificateSigningRequest", SUB_GPU, stored=True),
            _status("CertificateSigningRequest"),
        ),
    ),
    _r("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _r("networking.k8s.io", "v1", "ingresses", "Ingress", True, short=("ing",), subs=(_status("Ingress"),)),
    _r("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, short=("netpol",)),
    _r(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        True,
        short=("pdb",),
        subs=(_status("PodDisruptionBudget"),),
    ),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, svh="48tpQ8gZHFc="),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, svh="bYE5ZWDrJ44="),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, svh="eGsCzGH6b1g="),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True, svh="7FuwZcIIItM="),
    _r("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _r("storage.k8s.io", "v1", "csinodes", "CSINode", False),
    _r("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", True),
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, short=("sc",)),
    _r("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False, subs=(_status("VolumeAttachment"),)),
    _r(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
        cat=("api-extensions",),
    ),
    _r(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
        cat=("api-extensions",),
    ),
    _r(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        short=("crd", "crds"),
        cat=("api-extensions",),
        subs=(_status("CustomResourceDefinition"),),
        returns_object=True,
    ),
    _r("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, short=("pc",)),
    _r("coordination.k8s.io", "v1", "leases", "Lease", True),
    _r("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", False),
    _r("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, svh="Nx3SIv6I0mE="),
    _r("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "FlowSchema", False, subs=(_status("FlowSchema"),)),
    _r(
        "flowcontrol.apiserver.k8s.io",
        "v1beta3",
        "prioritylevelconfigurations",
        "PriorityLevelConfiguration",
        False,
        subs=(_status("PriorityLevelConfiguration"),),
    ),
    _r("flowcontrol.apiserver.k8s.io", "v1beta2", "flowschemas", "FlowSchema", False, subs=(_status("FlowSchema"),)),
    _r(
        "flowcontrol.apiserver.k8s.io",
        "v1beta2",
        "prioritylevelconfigurations",
        "PriorityLevelConfiguration",
        False,
        subs=(_status("PriorityLevelConfiguration"),),
    ),
)

# /apis lists groups in this order (the order kube-apiserver registers them; golden 004).
GROUP_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("apiregistration.k8s.io", ("v1",)),
    ("apps", ("v1",)),
    ("events.k8s.io", ("v1",)),
    ("authentication.k8s.io", ("v1",)),
    ("authorization.k8s.io", ("v1",)),
    ("autoscaling", ("v2", "v1")),
    ("batch", ("v1",)),
    ("certificates.k8s.io", ("v1",)),
    ("networking.k8s.io", ("v1",)),
    ("policy", ("v1",)),
    ("rbac.authorization.k8s.io", ("v1",)),
    ("storage.k8s.io", ("v1",)),
    ("admissionregistration.k8s.io", ("v1",)),
    ("apiextensions.k8s.io", ("v1",)),
    ("scheduling.k8s.io", ("v1",)),
    ("coordination.k8s.io", ("v1",)),
    ("node.k8s.io", ("v1",)),
    ("discovery.k8s.io", ("v1",)),
    ("flowcontrol.apiserver.k8s.io", ("v1beta3", "v1beta2")),
)


@dataclass
class Registry:
    """Lookups over the table: by URL (group, version, plural) and by (apiVersion, kind)."""

    types: tuple[ResourceType, ...] = CORE + GROUPS
    _by_path: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _by_kind: dict[tuple[str, str], ResourceType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rt in self.types:
            self._by_path[(rt.group, rt.version, rt.name)] = rt
            self._by_kind.setdefault((rt.api_version, rt.kind), rt)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def group_versions(self) -> set[tuple[str, str]]:
        return {(rt.group, rt.version) for rt in self.types}

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.types if rt.group == group and rt.version == version]

    def storage_key(self, rt: ResourceType) -> tuple[str, str]:
        """Objects of one group+plural share a store whatever the version they are read in."""
        return (rt.group, rt.name)


REGISTRY = Registry()
