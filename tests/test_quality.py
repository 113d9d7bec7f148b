"""The quality gates, run as part of the suite: ruff, ruff format, mypy --strict, the import contracts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arkouda_k8s.testing.pytest_plugin import find_tool, require_component

ROOT = Path(__file__).resolve().parents[1]
PYTHON_TREES = ["src", "registrar", "resolver", "entrypoints", "tests", "benchmarks"]


def _tool(name: str) -> str:
    found = find_tool(name)
    require_component(name, None if found else f"{name} is not installed (./setup.sh installs it)")
    assert found is not None
    return found


def _trees() -> list[str]:
    return [t for t in PYTHON_TREES if (ROOT / t).is_dir()]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as it installs (registrar/, resolver/, entrypoints/ inside arkouda_k8s), for mypy and
    import-linter, which follow files on disk rather than setuptools' editable-install finder."""
    stage = tmp_path_factory.mktemp("stage")
    shutil.copytree(ROOT / "src" / "arkouda_k8s", stage / "arkouda_k8s", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("registrar", "resolver", "entrypoints"):
        shutil.copytree(ROOT / folder, stage / "arkouda_k8s" / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return stage


def test_ruff_check() -> None:
    done = subprocess.run([_tool("ruff"), "check", *_trees()], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format() -> None:
    done = subprocess.run([_tool("ruff"), "format", "--check", *_trees()], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(300)
def test_mypy_strict(staged: Path) -> None:
    done = subprocess.run(
        [
            _tool("mypy"),
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(staged / ".mypy_cache"),
            "-p",
            "arkouda_k8s",
        ],
        cwd=staged,
        capture_output=True,
        text=True,
    )
    report = (
        done.stdout.replace("arkouda_k8s/registrar/", "registrar/")
        .replace("arkouda_k8s/resolver/", "resolver/")
        .replace("arkouda_k8s/entrypoints/", "entrypoints/")
    )
    assert done.returncode == 0, report + done.stderr


def test_import_contracts(staged: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(staged)}
    done = subprocess.run(
        [_tool("lint-imports"), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=staged,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: " in done.stdout and " broken" in done.stdout


def test_python_is_the_venv_one() -> None:
    assert Path(sys.executable).exists()
