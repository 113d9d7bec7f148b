"""hadolint on every Dockerfile of images/, shellcheck on every shell script there."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from imagekit import IMAGE_NAMES, IMAGES, ROOT

from arkouda_k8s.testing.pytest_plugin import find_tool, require_component

HADOLINT_CONFIG = IMAGES / ".hadolint.yaml"


def _tool(name: str) -> str:
    found = find_tool(name)
    require_component(name, None if found else f"{name} is not installed (./setup.sh installs it in .venv/bin)")
    assert found is not None
    return found


def shell_scripts() -> list[Path]:
    """Every shell script under images/ and tests/images/: *.sh, or a file whose shebang is sh or bash."""
    found = []
    for folder in (IMAGES, ROOT / "tests" / "images"):
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            with path.open("rb") as f:
                first = f.readline()
            if path.suffix == ".sh" or first.startswith((b"#!/bin/sh", b"#!/bin/bash", b"#!/usr/bin/env bash")):
                found.append(path)
    return found


@pytest.mark.parametrize("image", IMAGE_NAMES)
def test_hadolint_clean(image: str) -> None:
    dockerfile = IMAGES / image / "Dockerfile"
    done = subprocess.run(
        [_tool("hadolint"), "--no-color", "--config", str(HADOLINT_CONFIG), str(dockerfile)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"hadolint {dockerfile.relative_to(ROOT)}:\n{done.stdout}{done.stderr}"
    assert done.stdout == "", done.stdout  # not even an info-level finding


def test_hadolint_finds_what_it_should() -> None:
    """The check has teeth: the same hadolint and config reject a Dockerfile with the usual mistakes."""
    bad = "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\nCMD echo hi\n"
    done = subprocess.run(
        [_tool("hadolint"), "--no-color", "--config", str(HADOLINT_CONFIG), "-"],
        input=bad,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    for rule in ("DL3007", "DL3015", "DL3009", "DL3002", "DL3025"):
        assert rule in done.stdout, done.stdout


def test_hadolint_config_ignores_only_apt_pins() -> None:
    config = yaml.safe_load(HADOLINT_CONFIG.read_text(encoding="utf-8"))
    assert config == {"ignored": ["DL3008"]}
    # Inline ignores are allowed for one thing only: a build stage that builds as root.
    for image in IMAGE_NAMES:
        lines = (IMAGES / image / "Dockerfile").read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "hadolint ignore" in line:
                assert line.strip() == "# hadolint ignore=DL3002", f"images/{image}/Dockerfile:{number + 1}: {line}"
                assert lines[number + 1] == "USER 0:0", f"images/{image}/Dockerfile:{number + 2}"


def test_the_shell_scripts_are_the_known_ones() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    assert {
        "images/build.sh",
        "images/scripts/arkouda-full-stack.sh",
        "images/scripts/arkouda-runtime.sh",
        "images/scripts/install-arkouda-client.sh",
    } <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shellcheck_clean(script: Path) -> None:
    done = subprocess.run(
        [_tool("shellcheck"), "--norc", "--external-sources", str(script)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, f"shellcheck {script.relative_to(ROOT)}:\n{done.stdout}{done.stderr}"
