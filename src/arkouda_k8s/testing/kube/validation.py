"""Validation with kube-apiserver's field paths, cause reasons and messages (pkg/apis/*/validation).

Checks run in the order the real validators run them, because a 422's message lists the causes in
that order. Covered: ObjectMeta for every kind; Service, EndpointSlice, Endpoints (golden-checked);
Pod, Namespace, ConfigMap, Secret, ServiceAccount, RBAC and apps/v1 Deployment/StatefulSet for what
charts and our components write.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arkouda_k8s.testing.kube import names
from arkouda_k8s.testing.kube.selectors import label_selector_from_object
from arkouda_k8s.testing.kube.status import FieldErrors

JSON = dict[str, Any]
NameRule = Callable[[str], list[str]]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


@dataclass(frozen=True)
class Context:
    allow_loopback_endpoints: bool = False


# --- ObjectMeta ---


def object_meta(obj: JSON, namespaced: bool, name_rule: NameRule, errs: FieldErrors) -> None:
    meta = obj.get("metadata") or {}
    name, generate = meta.get("name") or "", meta.get("generateName") or ""
    if generate:
        for msg in name_rule(names.mask_trailing_dash(generate)):
            errs.invalid("metadata.generateName", generate, msg)
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    else:
        for msg in name_rule(name):
            errs.invalid("metadata.name", name, msg)
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errs.required("metadata.namespace")
        else:
            for msg in names.dns1123_label(namespace):
                errs.invalid("metadata.namespace", namespace, msg)
    elif namespace:
        errs.forbidden("metadata.namespace", "not allowed on this type")
    generation = meta.get("generation")
    if isinstance(generation, int) and generation < 0:
        errs.invalid("metadata.generation", generation, "must be greater than or equal to 0")
    labels(meta.get("labels"), "metadata.labels", errs)
    annotation_keys(meta.get("annotations"), errs)
    owner_references(meta.get("ownerReferences"), errs)
    for i, finalizer in enumerate(meta.get("finalizers") or []):
        for msg in names.qualified_name(str(finalizer)):
            errs.invalid(f"metadata.finalizers[{i}]", finalizer, msg)


def labels(values: JSON | None, path: str, errs: FieldErrors) -> None:
    for key, value in (values or {}).items():
        for msg in names.qualified_name(key):
            errs.invalid(path, key, msg)
        for msg in names.label_value(str(value)):
            errs.invalid(path, value, msg)


def annotation_keys(values: JSON | None, errs: FieldErrors) -> None:
    total = 0
    for key, value in (values or {}).items():
        for msg in names.qualified_name(key.lower()):
            errs.invalid("metadata.annotations", key, msg)
        total += len(key) + len(str(value))
    if total > 256 * 1024:
        errs.too_long("metadata.annotations", 256 * 1024)


def owner_references(refs: list[JSON] | None, errs: FieldErrors) -> None:
    controllers = 0
    for ref in refs or []:
        api_version = str(ref.get("apiVersion") or "")
        if not api_version.rsplit("/", 1)[-1]:
            errs.invalid("metadata.ownerReferences.apiVersion", api_version, "version must not be empty")
        if not ref.get("kind"):
            errs.invalid("metadata.ownerReferences.kind", ref.get("kind") or "", "kind must not be empty")
        if not ref.get("name"):
            errs.invalid("metadata.ownerReferences.name", ref.get("name") or "", "name must not be empty")
        if not ref.get("uid"):
            errs.invalid("metadata.ownerReferences.uid", ref.get("uid") or "", "uid must not be empty")
        if ref.get("controller"):
            controllers += 1
    if controllers > 1:
        errs.invalid("metadata.ownerReferences", refs, "Only one reference can have Controller set to true")


def object_meta_update(new: JSON, old: JSON, errs: FieldErrors) -> None:
    new_meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    for key in ("name", "namespace", "uid"):
        if (new_meta.get(key) or "") != (old_meta.get(key) or ""):
            errs.invalid(f"metadata.{key}", new_meta.get(key) or "", "field is immutable")


# --- small helpers ---


def dns1123_label_field(value: str, path: str, errs: FieldErrors) -> None:
    for msg in names.dns1123_label(value):
        errs.invalid(path, value, msg)


def port_number(value: Any, path: str, errs: FieldErrors) -> None:
    if not isinstance(value, int) or not 1 <= value <= 65535:
        errs.invalid(path, value, "must be between 1 and 65535, inclusive")


def port_num_or_name(value: Any, path: str, errs: FieldErrors) -> None:
    if isinstance(value, str):
        for msg in names.port_name(value):
            errs.invalid(path, value, msg)
    else:
        port_number(value, path, errs)


def protocol(value: Any, path: str, errs: FieldErrors) -> None:
    if not value:
        errs.required(path)
    elif value not in PROTOCOLS:
        errs.not_supported(path, value, PROTOCOLS)


def non_special_ip(address: str, path: str, errs: FieldErrors, ctx: Context) -> None:
    ip = names.parse_ip(address)
    if ip is None:
        errs.invalid(path, address, "must be a valid IP address")
        return
    if ip.is_unspecified:
        errs.invalid(path, address, f"may not be unspecified ({address})")
    if ip.is_loopback and not ctx.allow_loopback_endpoints:
        errs.invalid(path, address, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if ip.is_link_local and not ip.is_multicast:
        errs.invalid(path, address, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if ip.is_multicast and (str(ip).startswith("224.0.0.") or str(ip).startswith("ff02:")):
        errs.invalid(path, address, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")


# --- Service ---


def service(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1035_label, errs)
    spec = obj.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports") or []
    if not ports and not headless and kind != "ExternalName":
        errs.required("spec.ports")
    if kind == "ExternalName":
        if spec.get("clusterIP") not in (None, "") or spec.get("clusterIPs"):
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        external = spec.get("externalName") or ""
        if not external:
            errs.required("spec.externalName")
    seen: set[str] = set()
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            errs.required(f"{path}.name")
        elif name:
            dns1123_label_field(name, f"{path}.name", errs)
            if name in seen:
                errs.duplicate(f"{path}.name", name)
            seen.add(name)
        port_number(port.get("port"), f"{path}.port", errs)
        protocol(port.get("protocol"), f"{path}.protocol", errs)
        port_num_or_name(port.get("targetPort"), f"{path}.targetPort", errs)
    labels(spec.get("selector"), "spec.selector", errs)
    affinity = spec.get("sessionAffinity")
    if affinity not in (None, "None", "ClientIP"):
        errs.not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"])
    if kind not in ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"):
        errs.not_supported("spec.type", kind, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"])
    for i, ip in enumerate(spec.get("clusterIPs") or []):
        if ip != "None" and names.parse_ip(str(ip)) is None:
            errs.invalid(f"spec.clusterIPs[{i}]", ip, "must be empty, 'None', or a valid IP address")
    keys: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        key = (port.get("port"), port.get("protocol"))
        if key in keys:
            errs.duplicate(f"spec.ports[{i}]", f"{key[0]}/{key[1]}")
        keys.add(key)
    for i, port in enumerate(ports):
        node_port = port.get("nodePort")
        if node_port and kind == "ClusterIP":
            errs.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
    return errs


def service_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if old_spec.get("type") != "ExternalName" and new_spec.get("type") != "ExternalName":
        old_ips, new_ips = old_spec.get("clusterIPs") or [], new_spec.get("clusterIPs") or []
        if old_ips and new_ips and old_ips[0] != new_ips[0]:
            errs.invalid("spec.clusterIPs[0]", new_ips[0], "may not change once set")
    return errs


# --- discovery.k8s.io/v1 EndpointSlice ---

ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]


def endpoint_slice(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    address_type = obj.get("addressType") or ""
    if not address_type:
        errs.required("addressType")
    elif address_type not in ADDRESS_TYPES:
        errs.not_supported("addressType", address_type, ADDRESS_TYPES)
    endpoints = obj.get("endpoints") or []
    if len(endpoints) > 1000:
        errs.too_many("endpoints", len(endpoints), 1000)
    else:
        for i, endpoint in enumerate(endpoints):
            _slice_endpoint(endpoint, i, address_type, errs, ctx)
    ports = obj.get("ports") or []
    if len(ports) > 20000:
        errs.too_many("ports", len(ports), 20000)
        return errs
    seen: set[str] = set()
    for i, port in enumerate(ports):
        name = port.get("name") or ""
        if name:
            dns1123_label_field(name, f"ports[{i}].name", errs)
        if name in seen:
            errs.duplicate(f"ports[{i}].name", name)
        seen.add(name)
        if port.get("protocol") is None:
            errs.required(f"ports[{i}].protocol")
        elif port["protocol"] not in PROTOCOLS:
            errs.not_supported(f"ports[{i}].protocol", port["protocol"], PROTOCOLS)
    return errs


def _slice_endpoint(endpoint: JSON, i: int, address_type: str, errs: FieldErrors, ctx: Context) -> None:
    path = f"endpoints[{i}].addresses"
    addresses = endpoint.get("addresses") or []
    if not addresses:
        errs.required(path, "must contain at least 1 address")
    elif len(addresses) > 100:
        errs.too_many(path, len(addresses), 100)
    for j, address in enumerate(addresses):
        address = str(address)
        here = f"{path}[{j}]"
        if address_type == "IPv4":
            ip = names.parse_ip(address)
            if ip is None or ip.version != 4:
                errs.invalid(here, address, "must be a valid IPv4 address")
            non_special_ip(address, here, errs, ctx)
        elif address_type == "IPv6":
            ip = names.parse_ip(address)
            if ip is None or ip.version != 6:
                errs.invalid(here, address, "must be a valid IPv6 address")
            non_special_ip(address, here, errs, ctx)
        elif address_type == "FQDN":
            for msg in names.dns1123_subdomain(address):
                errs.invalid(here, address, msg)
    hostname = endpoint.get("hostname")
    if hostname is not None:
        dns1123_label_field(hostname, f"endpoints[{i}].hostname", errs)


# --- core/v1 Endpoints ---


def endpoints(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    for i, subset in enumerate(obj.get("subsets") or []):
        path = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.required(path, "must specify `addresses` or `notReadyAddresses`")
        for group in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(subset.get(group) or []):
                ip = str(address.get("ip") or "")
                here = f"{path}.{group}[{j}]"
                if names.parse_ip(ip) is None:
                    errs.invalid(f"{here}.ip", ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
                if address.get("hostname"):
                    dns1123_label_field(address["hostname"], f"{here}.hostname", errs)
                non_special_ip(ip, f"{here}.ip", errs, ctx)
        ports = subset.get("ports") or []
        for j, port in enumerate(ports):
            here = f"{path}.ports[{j}]"
            name = port.get("name") or ""
            if len(ports) > 1 and not name:
                errs.required(f"{here}.name")
            elif name:
                dns1123_label_field(name, f"{here}.name", errs)
            port_number(port.get("port"), f"{here}.port", errs)
            protocol(port.get("protocol"), f"{here}.protocol", errs)
    return errs


# --- Pod and pod templates ---

RESTART_POLICIES = ["Always", "Never", "OnFailure"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]


def pod_spec(spec: JSON, path: str, errs: FieldErrors, restart_policies: list[str] = RESTART_POLICIES) -> None:
    volumes: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name") or ""
        if not name:
            errs.required(f"{path}.volumes[{i}].name")
        else:
            dns1123_label_field(name, f"{path}.volumes[{i}].name", errs)
            if name in volumes:
                errs.duplicate(f"{path}.volumes[{i}].name", name)
            volumes.add(name)
    containers = spec.get("containers") or []
    if not containers:
        errs.required(f"{path}.containers")
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            _container(c, f"{path}.{group}[{i}]", seen, volumes, errs)
    policy = spec.get("restartPolicy")
    if policy not in restart_policies:
        errs.not_supported(f"{path}.restartPolicy", policy, restart_policies)
    dns = spec.get("dnsPolicy")
    if dns not in DNS_POLICIES:
        errs.not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES)
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        errs.invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0")
    if spec.get("serviceAccountName"):
        for msg in names.dns1123_subdomain(spec["serviceAccountName"]):
            errs.invalid(f"{path}.serviceAccountName", spec["serviceAccountName"], msg)
    labels(spec.get("nodeSelector"), f"{path}.nodeSelector", errs)


def _container(c: JSON, path: str, seen: set[str], volumes: set[str], errs: FieldErrors) -> None:
    name = c.get("name") or ""
    if not name:
        errs.required(f"{path}.name")
    else:
        dns1123_label_field(name, f"{path}.name", errs)
        if name in seen:
            errs.duplicate(f"{path}.name", name)
        seen.add(name)
    if not c.get("image"):
        errs.required(f"{path}.image")
    policy = c.get("imagePullPolicy")
    if policy not in PULL_POLICIES:
        errs.not_supported(f"{path}.imagePullPolicy", policy, PULL_POLICIES)
    port_names: set[str] = set()
    for j, port in enumerate(c.get("ports") or []):
        here = f"{path}.ports[{j}]"
        if port.get("name"):
            for msg in names.port_name(port["name"]):
                errs.invalid(f"{here}.name", port["name"], msg)
            if port["name"] in port_names:
                errs.duplicate(f"{here}.name", port["name"])
            port_names.add(port["name"])
        if port.get("containerPort") is None:
            errs.required(f"{here}.containerPort")
        else:
            port_number(port.get("containerPort"), f"{here}.containerPort", errs)
        protocol(port.get("protocol"), f"{here}.protocol", errs)
    for j, env in enumerate(c.get("env") or []):
        if not env.get("name"):
            errs.required(f"{path}.env[{j}].name")
    for j, mount in enumerate(c.get("volumeMounts") or []):
        here = f"{path}.volumeMounts[{j}]"
        if not mount.get("name"):
            errs.required(f"{here}.name")
        elif mount["name"] not in volumes:
            errs.items.append(_not_found(f"{here}.name", mount["name"]))
        if not mount.get("mountPath"):
            errs.required(f"{here}.mountPath")


def _not_found(path: str, value: str) -> Any:
    from arkouda_k8s.testing.kube.status import FieldError

    return FieldError("FieldValueNotFound", path, value)


def pod(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    pod_spec(obj.get("spec") or {}, "spec", errs)
    return errs


_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


def pod_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    new_spec, old_spec = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    for group in ("containers", "initContainers"):
        new_spec[group] = [{**c, "image": None} for c in new_spec.get(group) or []]
        old_spec[group] = [{**c, "image": None} for c in old_spec.get(group) or []]
    for key in _POD_MUTABLE:
        new_spec.pop(key, None)
        old_spec.pop(key, None)
    if new_spec != old_spec:
        errs.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
            "(allow it to be set to 1 if it was previously negative)",
        )
    return errs


# --- Namespace, ConfigMap, Secret, ServiceAccount ---


def namespace(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, False, names.dns1123_label, errs)
    return errs


_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _config_keys(data: JSON | None, path: str, errs: FieldErrors) -> None:
    for key in data or {}:
        problems = []
        if len(key) > 253:
            problems.append(names.max_len_error(253))
        if not _CONFIG_KEY.match(key):
            problems.append(
                names.regex_error(
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                    "[-._a-zA-Z0-9]+",
                    "key.name",
                    "KEY_NAME",
                    "key-name",
                )
            )
        if key in (".", ".."):
            problems.append(f"must not be '{key}'")
        elif key.startswith(".."):
            problems.append("must not start with '..'")
        for msg in problems:
            errs.invalid(path, key, msg)


def config_map(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    _config_keys(obj.get("data"), "data", errs)
    _config_keys(obj.get("binaryData"), "binaryData", errs)
    for key in obj.get("data") or {}:
        if key in (obj.get("binaryData") or {}):
            errs.invalid("data", key, "duplicate of key present in binaryData")
    return errs


_SECRET_REQUIRED = {
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
}


def secret(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    data = obj.get("data") or {}
    _config_keys(data, "data", errs)
    kind = obj.get("type") or "Opaque"
    for key in _SECRET_REQUIRED.get(kind, ()):
        if key not in data:
            errs.required(f"data[{key}]")
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if kind == "kubernetes.io/service-account-token" and not annotations.get("kubernetes.io/service-account.name"):
        errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    return errs


def secret_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
        errs.invalid("type", new.get("type"), "field is immutable")
    if old.get("immutable") and (new.get("data") != old.get("data") or not new.get("immutable")):
        errs.forbidden("data", "field is immutable when `immutable` is set")
    return errs


def config_map_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    if old.get("immutable") and (new.get("data") != old.get("data") or not new.get("immutable")):
        errs.forbidden("data", "field is immutable when `immutable` is set")
    return errs


def service_account(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    return errs


# --- RBAC ---


def _rules(obj: JSON, namespaced: bool, errs: FieldErrors) -> None:
    for i, rule in enumerate(obj.get("rules") or []):
        path = f"rules[{i}]"
        if not rule.get("verbs"):
            errs.required(f"{path}.verbs", "verbs must contain at least one value")
        if rule.get("nonResourceURLs"):
            if namespaced:
                errs.invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "namespaced rules cannot apply to non-resource URLs",
                )
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                errs.invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            continue
        if not rule.get("apiGroups"):
            errs.required(f"{path}.apiGroups", "resource rules must supply at least one api group")
        if not rule.get("resources"):
            errs.required(f"{path}.resources", "resource rules must supply at least one resource")


def role(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.path_segment_name, errs)
    _rules(obj, True, errs)
    return errs


def cluster_role(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, False, names.path_segment_name, errs)
    _rules(obj, False, errs)
    return errs


def _binding(obj: JSON, namespaced: bool, errs: FieldErrors) -> None:
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        errs.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", ["rbac.authorization.k8s.io"])
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.not_supported("roleRef.kind", ref.get("kind") or "", kinds)
    if not ref.get("name"):
        errs.required("roleRef.name")
    else:
        for msg in names.path_segment_name(ref["name"]):
            errs.invalid("roleRef.name", ref["name"], msg)
    for i, subject in enumerate(obj.get("subjects") or []):
        path = f"subjects[{i}]"
        if not subject.get("name"):
            errs.required(f"{path}.name")
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            if subject.get("apiGroup"):
                errs.not_supported(f"{path}.apiGroup", subject["apiGroup"], [""])
            if not namespaced and not subject.get("namespace"):
                errs.required(f"{path}.namespace")
        elif kind in ("User", "Group"):
            if subject.get("apiGroup") != "rbac.authorization.k8s.io":
                errs.not_supported(f"{path}.apiGroup", subject.get("apiGroup") or "", ["rbac.authorization.k8s.io"])
        else:
            errs.not_supported(f"{path}.kind", kind or "", ["ServiceAccount", "User", "Group"])


def role_binding(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.path_segment_name, errs)
    _binding(obj, True, errs)
    return errs


def cluster_role_binding(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, False, names.path_segment_name, errs)
    _binding(obj, False, errs)
    return errs


def binding_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    if new.get("roleRef") != old.get("roleRef"):
        errs.invalid("roleRef", new.get("roleRef"), "cannot change roleRef")
    return errs


# --- apps/v1 ---


def _workload(obj: JSON, errs: FieldErrors) -> None:
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        errs.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    selector = spec.get("selector")
    template = spec.get("template") or {}
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector:
        errs.required("spec.selector")
    else:
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            errs.invalid("spec.selector", selector, "empty selector is invalid for deployment")
        elif not label_selector_from_object(selector).matches(template_labels):
            errs.invalid(
                "spec.template.metadata.labels", template_labels, "`selector` does not match template `labels`"
            )
    labels(template_labels, "spec.template.metadata.labels", errs)
    pod_spec(template.get("spec") or {}, "spec.template.spec", errs, restart_policies=["Always"])


def deployment(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    _workload(obj, errs)
    return errs


def statefulset(obj: JSON, ctx: Context) -> FieldErrors:
    errs = FieldErrors()
    object_meta(obj, True, names.dns1123_subdomain, errs)
    _workload(obj, errs)
    policy = (obj.get("spec") or {}).get("podManagementPolicy")
    if policy not in ("OrderedReady", "Parallel"):
        errs.not_supported("spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"])
    return errs


def workload_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    new_sel = (new.get("spec") or {}).get("selector")
    if new_sel != (old.get("spec") or {}).get("selector"):
        errs.invalid("spec.selector", new_sel, "field is immutable")
    return errs


def statefulset_update(new: JSON, old: JSON) -> FieldErrors:
    errs = workload_update(new, old)
    mutable = (
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    )
    new_rest = {k: v for k, v in (new.get("spec") or {}).items() if k not in mutable}
    old_rest = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable}
    if new_rest != old_rest:
        errs.forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
            "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        )
    return errs


def generic(namespaced: bool, name_rule: NameRule = names.dns1123_subdomain) -> Callable[[JSON, Context], FieldErrors]:
    def validate(obj: JSON, ctx: Context) -> FieldErrors:
        errs = FieldErrors()
        object_meta(obj, namespaced, name_rule, errs)
        return errs

    return validate


def generic_update(new: JSON, old: JSON) -> FieldErrors:
    errs = FieldErrors()
    object_meta_update(new, old, errs)
    return errs
