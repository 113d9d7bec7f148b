"""Unknown fields: what a real server does with a field its Go types do not have.

kube-apiserver decodes bodies into typed structs, so a field that is not in the schema never reaches
storage. With `fieldValidation=Strict` (what kubectl sends) the request fails with 400 "strict decoding
error: unknown field ..."; with `Warn` (the default since 1.27) the field is dropped and each drop is a
`Warning` header; with `Ignore` it is dropped silently. A client that writes a misspelt field therefore
never reads it back, here as on a cluster.

The schemas are kube-apiserver 1.28's OpenAPI, as packaged by kubernetes-validate (a dev dependency);
without it, nothing is pruned and nothing is rejected.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

JSON = dict[str, Any]
VERSION_DIR = "v1.28.0-local-strict"


@functools.cache
def _definitions() -> JSON | None:
    try:
        from kubernetes_validate import utils
    except ImportError:
        return None
    data: JSON = utils.schema_contents(f"kubernetes-json-schema/{VERSION_DIR}/_definitions.json", "1.28")
    return data.get("$defs") or {}


@functools.cache
def _schema(api_version: str, kind: str) -> JSON | None:
    if _definitions() is None:
        return None
    from kubernetes_validate import utils

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema: JSON = utils.schema_contents(
            f"kubernetes-json-schema/{VERSION_DIR}/{kind.lower()}-{group_version}.json", "1.28"
        )
    except (FileNotFoundError, OSError, ValueError):
        return None
    return schema


def _resolve(schema: JSON) -> JSON:
    definitions = _definitions() or {}
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


def _walk(value: Any, schema: JSON, path: str, found: list[str], prune: bool) -> None:
    schema = _resolve(schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    for branch in schema.get("allOf", []):
        _walk(value, branch, path, found, prune)
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key in list(value):
            here = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                _walk(value[key], properties[key], here, found, prune)
            elif isinstance(extra, dict):
                _walk(value[key], extra, here, found, prune)
            elif properties is not None and extra is False:
                found.append(here)
                if prune:
                    del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk(item, schema["items"], f"{path}[{index}]", found, prune)


def unknown_fields(obj: JSON, prune: bool) -> list[str]:
    """Paths of the fields 1.28's schema lacks ("spec.template.spec.containers[0].imag"), dropped if `prune`."""
    schema = _schema(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if schema is None:
        return []
    found: list[str] = []
    _walk(obj, schema, "", found, prune)
    return found


def warning(path: str) -> str:
    return "299 - " + json.dumps(f'unknown field "{path}"')
