"""The one console script: every subcommand exists, `python -m arkouda_k8s` is the same CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from arkouda_k8s.cli import COMMANDS

SUBCOMMANDS = ["locale", "server", "single", "register", "resolve", "demo", "kube-emulator", "version"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arkouda_k8s", *argv], capture_output=True, text=True, timeout=60)


def test_every_subcommand_is_there_with_help() -> None:
    assert [c.name for c in COMMANDS] == SUBCOMMANDS
    top = _run("--help")
    assert top.returncode == 0
    for name in SUBCOMMANDS:
        assert name in top.stdout
        sub = _run(name, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "usage: arkouda-k8s " + name in sub.stdout


def test_version_matches_the_installed_distribution() -> None:
    from importlib.metadata import version

    done = _run("version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"arkouda-k8s {version('arkouda-k8s')}"


def test_the_console_script_is_the_same_cli() -> None:
    script = Path(sys.executable).parent / "arkouda-k8s"
    exe = str(script) if script.exists() else shutil.which("arkouda-k8s")
    assert exe, "the arkouda-k8s console script is not installed"
    done = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == _run("version").stdout


def test_unknown_subcommand_is_a_usage_error() -> None:
    done = _run("frobnicate")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
