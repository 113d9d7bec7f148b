"""Protobuf request bodies (application/vnd.kubernetes.protobuf) for the kinds kubectl's typed commands send.

client-go's typed clients send protobuf, so `kubectl create namespace|configmap|secret|serviceaccount|
role|rolebinding|clusterrole|clusterrolebinding|service|token` and `kubectl auth can-i|whoami` post
protobuf. This decodes the Kubernetes envelope (`k8s\\0` + runtime.Unknown) and the messages of those
kinds into the JSON the rest of the emulator speaks (field numbers from k8s.io/api generated.proto).
Responses stay JSON: those clients also accept it. Any other kind answers 415, naming JSON.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
MAGIC = b"k8s\x00"

# Field tables: number -> (json name, type). Types: str, bytes, int, bool, msg:<name>, map:str, map:bytes;
# a leading "*" marks a repeated field.
SCHEMAS: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {
        1: ("typeMeta", "msg:TypeMeta"),
        2: ("raw", "bytes"),
        3: ("contentEncoding", "str"),
        4: ("contentType", "str"),
    },
    "TypeMeta": {1: ("apiVersion", "str"), 2: ("kind", "str")},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "ObjectMeta": {
        1: ("name", "str"),
        2: ("generateName", "str"),
        3: ("namespace", "str"),
        5: ("uid", "str"),
        6: ("resourceVersion", "str"),
        7: ("generation", "int"),
        11: ("labels", "map:str"),
        12: ("annotations", "map:str"),
        13: ("ownerReferences", "*msg:OwnerReference"),
        14: ("finalizers", "*str"),
    },
    "OwnerReference": {
        1: ("kind", "str"),
        3: ("name", "str"),
        4: ("uid", "str"),
        5: ("apiVersion", "str"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "*str")},
    "ConfigMap": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map:str"),
        3: ("binaryData", "map:bytes"),
        4: ("immutable", "bool"),
    },
    "Secret": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map:bytes"),
        3: ("type", "str"),
        4: ("stringData", "map:str"),
        5: ("immutable", "bool"),
    },
    "ServiceAccount": {
        1: ("metadata", "msg:ObjectMeta"),
        3: ("imagePullSecrets", "*msg:LocalObjectReference"),
        4: ("automountServiceAccountToken", "bool"),
    },
    "LocalObjectReference": {1: ("name", "str")},
    "Role": {1: ("metadata", "msg:ObjectMeta"), 2: ("rules", "*msg:PolicyRule")},
    "ClusterRole": {1: ("metadata", "msg:ObjectMeta"), 2: ("rules", "*msg:PolicyRule")},
    "PolicyRule": {
        1: ("verbs", "*str"),
        2: ("apiGroups", "*str"),
        3: ("resources", "*str"),
        4: ("resourceNames", "*str"),
        5: ("nonResourceURLs", "*str"),
    },
    "RoleBinding": {1: ("metadata", "msg:ObjectMeta"), 2: ("subjects", "*msg:Subject"), 3: ("roleRef", "msg:RoleRef")},
    "ClusterRoleBinding": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("subjects", "*msg:Subject"),
        3: ("roleRef", "msg:RoleRef"),
    },
    "Subject": {1: ("kind", "str"), 2: ("apiGroup", "str"), 3: ("name", "str"), 4: ("namespace", "str")},
    "RoleRef": {1: ("apiGroup", "str"), 2: ("kind", "str"), 3: ("name", "str")},
    "Service": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "*msg:ServicePort"),
        2: ("selector", "map:str"),
        3: ("clusterIP", "str"),
        4: ("type", "str"),
        7: ("externalName", "str"),
        18: ("clusterIPs", "*str"),
    },
    "ServicePort": {
        1: ("name", "str"),
        2: ("protocol", "str"),
        3: ("port", "int"),
        4: ("targetPort", "msg:IntOrString"),
        5: ("nodePort", "int"),
    },
    "IntOrString": {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "str")},
    "SelfSubjectAccessReview": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "msg:ResourceAttributes"),
        2: ("nonResourceAttributes", "msg:NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", "str"),
        2: ("verb", "str"),
        3: ("group", "str"),
        4: ("version", "str"),
        5: ("resource", "str"),
        6: ("subresource", "str"),
        7: ("name", "str"),
    },
    "NonResourceAttributes": {1: ("path", "str"), 2: ("verb", "str")},
    "SelfSubjectRulesReview": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:SelfSubjectRulesReviewSpec")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "str")},
    "SelfSubjectReview": {1: ("metadata", "msg:ObjectMeta")},
    "TokenRequest": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:TokenRequestSpec")},
    "TokenRequestSpec": {1: ("audiences", "*str"), 4: ("expirationSeconds", "int")},
}


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf object the emulator can read."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            size, pos = _varint(data, pos)
            out.append((number, data[pos : pos + size]))
            pos += size
        elif wire == 1:
            out.append((number, int.from_bytes(data[pos : pos + 8], "little")))
            pos += 8
        elif wire == 5:
            out.append((number, int.from_bytes(data[pos : pos + 4], "little")))
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind == "str":
        return value.decode() if isinstance(value, bytes) else str(value)
    if kind == "bytes":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else ""
    if kind == "bool":
        return bool(value)
    if kind == "int":
        number = int(value) if isinstance(value, int) else 0
        return number - (1 << 64) if number >= 1 << 63 else number
    raise ProtobufError(f"unknown field type {kind}")


def decode_message(name: str, data: bytes) -> JSON:
    schema = SCHEMAS.get(name)
    if schema is None:
        raise ProtobufError(f"no schema for {name}")
    out: JSON = {}
    for number, value in _fields(data):
        if number not in schema:
            continue  # fields the emulator does not read (status, managedFields...)
        key, kind = schema[number]
        repeated = kind.startswith("*")
        kind = kind.lstrip("*")
        if kind.startswith("map:") and isinstance(value, bytes):
            entry = dict(_fields(value))
            out.setdefault(key, {})[_scalar("str", entry.get(1, b""))] = _scalar(kind[4:], entry.get(2, b""))
            continue
        if kind.startswith("msg:") and isinstance(value, bytes):
            item: Any = decode_message(kind[4:], value)
            if kind == "msg:IntOrString":
                item = item.get("strVal", "") if item.get("type") == 1 else item.get("intVal", 0)
        else:
            item = _scalar(kind, value)
            if not repeated and item in (0, "") and not isinstance(item, bool):
                continue  # Go prints these fields with omitempty: a zero value is an absent one
        if repeated:
            out.setdefault(key, []).append(item)
        else:
            out[key] = item
    return out


def decode(body: bytes) -> JSON:
    """A protobuf-encoded object as JSON, with its apiVersion and kind."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf magic number")
    unknown = decode_message("Unknown", body[len(MAGIC) :])
    type_meta = unknown.get("typeMeta") or {}
    kind = str(type_meta.get("kind", ""))
    if kind not in SCHEMAS:
        raise ProtobufError(f"the emulator reads protobuf only for {', '.join(_KINDS)}; send {kind or 'it'} as JSON")
    obj = decode_message(kind, base64.b64decode(unknown.get("raw", "")))
    _times(obj)
    return {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind, **obj}


def _times(obj: JSON) -> None:
    meta = obj.get("metadata") or {}
    for key in ("creationTimestamp", "deletionTimestamp"):
        stamp = meta.get(key)
        if isinstance(stamp, dict):
            meta[key] = datetime.fromtimestamp(stamp.get("seconds", 0), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_KINDS = (
    "Namespace",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "Service",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SelfSubjectReview",
    "TokenRequest",
)
