"""Fixtures of the chart tests: the two real helm binaries (3.17 and 4.x), each with private state,
and a cache of renders so that a chart rendered with the same values is rendered once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from chartkit import Helm, Obj, Render, find_helm, render

from arkouda_k8s.testing.pytest_plugin import require_component

HELM_BINARIES = {"helm3": "helm", "helm4": "helm4"}
EXPECTED_MAJOR = {"helm3": "v3.", "helm4": "v4."}


def _helm(label: str, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    name = HELM_BINARIES[label]
    found = find_helm(name)
    require_component(name, None if found else f"{name} is not installed (./setup.sh puts it in .venv/bin)")
    assert found is not None
    helm = Helm(found, tmp_path_factory.mktemp(label))
    version = helm.version()
    assert version.startswith(EXPECTED_MAJOR[label]), f"{found} is {version}, expected {EXPECTED_MAJOR[label]}x"
    return helm


@pytest.fixture(scope="session")
def helm3(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return _helm("helm3", tmp_path_factory)


@pytest.fixture(scope="session")
def helm4(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return _helm("helm4", tmp_path_factory)


@pytest.fixture(scope="session", params=sorted(HELM_BINARIES))
def any_helm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Each test that takes it runs once with helm 3 and once with helm 4."""
    return _helm(request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def rendered(helm3: Helm) -> Render:
    """render(chart, release=..., namespace=..., values=...) with helm 3, cached for the session."""
    cache: dict[str, list[Obj]] = {}

    def cached(
        chart: str, *, release: str = "arkouda", namespace: str = "arkouda", values: Mapping[str, Any] | None = None
    ) -> list[Obj]:
        key = json.dumps([chart, release, namespace, values], sort_keys=True)
        if key not in cache:
            cache[key] = render(helm3, chart, release=release, namespace=namespace, values=values)
        return [json.loads(json.dumps(o)) for o in cache[key]]  # a copy: tests may not change the cache

    return cached


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
