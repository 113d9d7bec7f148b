"""pytest plugin (entry point `arkouda_k8s`): the rule for components a test needs.

`require_component(name, problem)` skips a test whose component (sshd, helm, the arkouda client,
hadolint…) is missing on a developer's machine, but fails it where every component must be present:
when CI=true or ARKOUDA_K8S_REQUIRE_COMPONENTS=1 (set by .ci/run). A green CI can then never hide
a part of the suite that did not run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # looptime asks for the current event loop in every test, sync ones too; on Python 3.11 that
    # makes a loop nobody closes, and -W error turns its ResourceWarning into a failed session.
    # With the loop explicitly unset, asking fails quietly instead of creating one.
    asyncio.set_event_loop(None)


def components_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("ARKOUDA_K8S_REQUIRE_COMPONENTS") == "1"


def require_component(name: str, problem: str | None) -> None:
    """Skip (or, where components are required, fail) when `problem` says the component is missing."""
    if problem is None:
        return
    message = f"required component {name} is not available: {problem}"
    if components_required():
        pytest.fail(message + " (components are required here: CI=true or ARKOUDA_K8S_REQUIRE_COMPONENTS=1)")
    pytest.skip(message)


def find_tool(name: str) -> str | None:
    """A tool from the active virtual environment first (setup.sh installs helm there), then PATH."""
    import sys

    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


@pytest.fixture
def require() -> object:
    """The `require_component` function, as a fixture."""
    return require_component
