"""`arkouda-k8s kube-emulator`: one `serving <url>` line, a kubeconfig, RBAC from a token file, exit 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import yaml

from arkouda_k8s.testing.pytest_plugin import find_tool, require_component


async def test_cli_serves_writes_kubeconfig_and_stops_on_sigterm(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('admin-token-value,admin,admin,"system:masters"\nalice-token-value,alice,alice,"developers"\n')
    config = tmp_path / "kubeconfig"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arkouda_k8s",
        "kube-emulator",
        "--tls",
        "--rbac",
        "--token-auth-file",
        str(tokens),
        "--kubeconfig-out",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line.startswith("serving https://127.0.0.1:") and line.endswith("\n")
        url = line.split()[1]
        kubeconfig = yaml.safe_load(config.read_text())
        assert kubeconfig["clusters"][0]["cluster"]["server"] == url
        assert kubeconfig["users"][0]["user"]["token"] == "admin-token-value"
        assert config.stat().st_mode & 0o077 == 0
        kubectl = find_tool("kubectl")
        require_component("kubectl", None if kubectl else "kubectl is not installed (./setup.sh installs it)")
        assert kubectl is not None
        get = await asyncio.create_subprocess_exec(
            kubectl,
            "--kubeconfig",
            str(config),
            "get",
            "namespaces",
            "-o",
            "name",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(get.communicate(), 60)
        assert get.returncode == 0, err.decode()
        assert "namespace/default" in out.decode().split()
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0
    rest = await process.stdout.read() if process.stdout else b""
    assert rest == b""  # exactly one line on stdout


async def test_cli_refuses_a_bad_token_file(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("only-two,columns\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arkouda_k8s",
        "kube-emulator",
        "--token-auth-file",
        str(tokens),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode != 0 and out == b""
    assert "tokens.csv line 1: needs at least 3 columns" in err.decode()
