"""`import arkouda_k8s` is cheap (no kubernetes_asyncio, zmq or arkouda), and the install is the real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

HEAVY = ("kubernetes_asyncio", "zmq", "arkouda", "aiohttp", "structlog", "yaml")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_loads_none_of_the_heavy_packages() -> None:
    loaded = _modules_after("import arkouda_k8s")
    assert "arkouda_k8s" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_connect_is_there_and_loads_the_resolver_on_first_use() -> None:
    loaded = _modules_after("import arkouda_k8s; arkouda_k8s.connect; arkouda_k8s.resolve")
    assert "arkouda_k8s.resolver.api" in loaded
    assert "arkouda" not in loaded  # the arkouda client itself loads only when connect() runs


def test_the_three_folders_install_inside_the_package_not_at_top_level() -> None:
    import arkouda_k8s.entrypoints
    import arkouda_k8s.registrar
    import arkouda_k8s.resolver

    for module in (arkouda_k8s.registrar, arkouda_k8s.resolver, arkouda_k8s.entrypoints):
        assert module.__name__.startswith("arkouda_k8s.")
    code = "import importlib.util as u; print([u.find_spec(n) is None for n in ('registrar', 'resolver')])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/", check=True)
    assert done.stdout.strip() == "[True, True]"


def test_ci_tests_the_non_editable_install() -> None:
    import arkouda_k8s

    location = Path(arkouda_k8s.__file__).resolve()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if os.environ.get("CI", "").lower() == "true":
        assert site in location.parents, f"CI must test the installed wheel, not {location}"
    else:
        assert location.name == "__init__.py"
