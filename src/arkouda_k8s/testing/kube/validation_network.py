"""Validation of Services, EndpointSlices and Endpoints: golden-checked paths, reasons and messages."""

from __future__ import annotations

from typing import Any

from arkouda_k8s.testing.kube import names
from arkouda_k8s.testing.kube.status import FieldErrors
from arkouda_k8s.testing.kube.validation import (
    PROTOCOLS,
    Context,
    dns1123_label_field,
    labels,
    non_special_ip,
    object_meta,
    object_meta_update,
    port_num_or_name,
    port_number,
    protocol,
)

JSON = dict[str, Any]


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
