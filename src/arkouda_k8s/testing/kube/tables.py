"""Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for (Accept: ...;as=Table).

Generic resources get the default convertor's columns (Name, Created At); the kinds people look at
with kubectl get the columns kube-apiserver prints for them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from arkouda_k8s.testing.kube.resources import ResourceType

JSON = dict[str, Any]
Column = tuple[str, str, str, Callable[[JSON], Any]]  # name, type, format, cell


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _name(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _age(obj: JSON) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    try:
        created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = int((datetime.now(UTC) - created).total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _pod_ready(obj: JSON) -> str:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    total = len((obj.get("spec") or {}).get("containers") or [])
    ready = sum(1 for s in statuses if s.get("ready"))
    if not statuses:
        conditions = (obj.get("status") or {}).get("conditions") or []
        ready = total if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions) else 0
    return f"{ready}/{total}"


def _pod_status(obj: JSON) -> str:
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for s in (obj.get("status") or {}).get("containerStatuses") or []:
        reason = ((s.get("state") or {}).get("waiting") or {}).get("reason")
        if reason:
            return str(reason)
    return str((obj.get("status") or {}).get("phase", ""))


def _ports(obj: JSON) -> str:
    ports = (obj.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _slice_ports(obj: JSON) -> str:
    return ",".join(str(p.get("port")) for p in obj.get("ports") or []) or "<unset>"


def _slice_endpoints(obj: JSON) -> str:
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return ",".join(addresses) or "<unset>"


def _endpoints(obj: JSON) -> str:
    out = []
    for subset in obj.get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or [{}]:
                out.append(f"{address.get('ip')}:{port.get('port')}" if port else str(address.get("ip")))
    return ",".join(out) or "<none>"


NAME: Column = ("Name", "string", "name", _name)
AGE: Column = ("Age", "string", "", _age)
COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "pods"): [
        NAME,
        ("Ready", "string", "", _pod_ready),
        ("Status", "string", "", _pod_status),
        ("Restarts", "string", "", lambda o: "0"),
        AGE,
    ],
    ("", "services"): [
        NAME,
        ("Type", "string", "", lambda o: (o.get("spec") or {}).get("type", "")),
        ("Cluster-IP", "string", "", lambda o: (o.get("spec") or {}).get("clusterIP", "")),
        ("External-IP", "string", "", lambda o: "<none>"),
        ("Port(s)", "string", "", _ports),
        AGE,
    ],
    ("discovery.k8s.io", "endpointslices"): [
        NAME,
        ("AddressType", "string", "", lambda o: o.get("addressType", "")),
        ("Ports", "string", "", _slice_ports),
        ("Endpoints", "string", "", _slice_endpoints),
        AGE,
    ],
    ("", "endpoints"): [NAME, ("Endpoints", "string", "", _endpoints), AGE],
    ("", "namespaces"): [NAME, ("Status", "string", "", lambda o: (o.get("status") or {}).get("phase", "")), AGE],
    ("", "configmaps"): [
        NAME,
        ("Data", "integer", "", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
        AGE,
    ],
    ("", "secrets"): [
        NAME,
        ("Type", "string", "", lambda o: o.get("type", "")),
        ("Data", "integer", "", lambda o: len(o.get("data") or {})),
        AGE,
    ],
}


def _ready_replicas(obj: JSON) -> str:
    status = obj.get("status") or {}
    return f"{status.get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 0)}"


COLUMNS[("apps", "deployments")] = [
    NAME,
    ("Ready", "string", "", _ready_replicas),
    ("Up-to-date", "integer", "", lambda o: (o.get("status") or {}).get("updatedReplicas", 0)),
    ("Available", "integer", "", lambda o: (o.get("status") or {}).get("availableReplicas", 0)),
    AGE,
]
COLUMNS[("apps", "statefulsets")] = [NAME, ("Ready", "string", "", _ready_replicas), AGE]
COLUMNS[("", "serviceaccounts")] = [NAME, ("Secrets", "integer", "", lambda o: len(o.get("secrets") or [])), AGE]
COLUMNS[("rbac.authorization.k8s.io", "rolebindings")] = [
    NAME,
    ("Role", "string", "", lambda o: f"{(o.get('roleRef') or {}).get('kind')}/{(o.get('roleRef') or {}).get('name')}"),
    AGE,
]
DEFAULT: list[Column] = [NAME, ("Created At", "date", "", lambda o: (o.get("metadata") or {}).get("creationTimestamp"))]


def to_table(rt: ResourceType, body: JSON) -> JSON:
    columns = COLUMNS.get((rt.group, rt.name), DEFAULT)
    is_list = body.get("kind", "").endswith("List") and "items" in body
    objects = body["items"] if is_list else [body]
    rows = []
    for obj in objects:
        partial = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {},
        }
        rows.append({"cells": [cell(obj) for _, _, _, cell in columns], "object": partial})
    meta = (
        dict(body.get("metadata") or {})
        if is_list
        else {"resourceVersion": (body.get("metadata") or {}).get("resourceVersion", "")}
    )
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": [
            {"name": name, "type": kind, "format": fmt, "description": "", "priority": 0}
            for name, kind, fmt, _ in columns
        ],
        "rows": rows,
    }
