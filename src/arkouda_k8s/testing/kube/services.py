"""Service allocations the real server makes on create: cluster IPs, IP families, node ports.

Cluster IPs come from 10.96.0.0/12 (kubeadm's default range), node ports from 30000-32767. They are
data only: nothing dials them. A headless Service with no selector gets both IP families and
RequireDualStack, exactly as the golden response shows (kube-golden/025).
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

JSON = dict[str, Any]
SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
NODE_PORTS = range(30000, 32768)


class ServiceAllocator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def allocate(self, obj: JSON, existing: list[JSON]) -> None:
        spec = obj.setdefault("spec", {})
        kind = spec.get("type", "ClusterIP")
        if kind == "ExternalName":
            return
        used = {ip for s in existing for ip in (s.get("spec") or {}).get("clusterIPs") or []}
        cluster_ip = spec.get("clusterIP") or ""
        if cluster_ip == "None":
            spec["clusterIPs"] = ["None"]
            if spec.get("selector"):
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
            else:
                spec.setdefault("ipFamilies", ["IPv4", "IPv6"])
                spec.setdefault("ipFamilyPolicy", "RequireDualStack")
        else:
            if not cluster_ip:
                cluster_ip = self._free_ip(used)
            spec["clusterIP"] = cluster_ip
            spec["clusterIPs"] = [cluster_ip]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        if kind in ("NodePort", "LoadBalancer"):
            taken = {p.get("nodePort") for s in existing for p in (s.get("spec") or {}).get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = self._free_port(taken)
                    taken.add(port["nodePort"])

    def keep_allocations(self, new: JSON, old: JSON) -> None:
        """An update that omits the allocated values keeps them (the service REST's patchAllocatedValues)."""
        new_spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        if new_spec.get("type", "ClusterIP") == "ExternalName":
            return
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if not new_spec.get(key) and old_spec.get(key):
                new_spec[key] = old_spec[key]
        old_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in old_spec.get("ports") or []}
        for port in new_spec.get("ports") or []:
            if not port.get("nodePort") and old_ports.get((port.get("port"), port.get("protocol"))):
                port["nodePort"] = old_ports[(port.get("port"), port.get("protocol"))]

    def _free_ip(self, used: set[str]) -> str:
        size = SERVICE_RANGE.num_addresses
        while True:
            candidate = str(SERVICE_RANGE.network_address + self.rng.randrange(2, size - 1))
            if candidate not in used:
                return candidate

    def _free_port(self, taken: set[Any]) -> int:
        while True:
            port = self.rng.choice(NODE_PORTS)
            if port not in taken:
                return port
