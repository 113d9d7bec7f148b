"""OpenAPI documents: what kubectl asks for before create/apply (filled in with the kubectl tests)."""

from __future__ import annotations

from typing import Any

from arkouda_k8s.testing.kube.resources import Registry

JSON = dict[str, Any]


def document(registry: Registry, parts: list[str]) -> JSON | None:
    del registry, parts
    return None
