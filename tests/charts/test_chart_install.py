"""`helm install` and `helm upgrade` of the umbrella chart against the API emulator: the generated ssh key
survives an upgrade (the chart's `lookup`), with helm 3 and helm 4."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chartkit import Helm, chart_path

from arkouda_k8s.testing.kube import KubeEmulator


async def _helm(helm: Helm, kubeconfig: Path, *args: str) -> str:
    env = {**helm.env(), "KUBECONFIG": str(kubeconfig)}
    process = await asyncio.create_subprocess_exec(
        helm.binary, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, f"helm {' '.join(args)}: {err.decode()}"
    return out.decode()


async def test_install_then_upgrade_keeps_the_generated_ssh_key(any_helm: Helm, tmp_path: Path) -> None:
    async with KubeEmulator(tls=True) as emulator:
        kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig", namespace="ak")
        await emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ak"}})
        chart = chart_path("arkouda")
        notes = await _helm(any_helm, kubeconfig, "install", "rel", chart, "-n", "ak", "--set", "global.numLocales=3")
        assert 'arkouda_k8s.connect("rel"' in notes
        first = await emulator.get("v1", "Secret", "ak", "rel-ssh")
        assert first["type"] == "kubernetes.io/ssh-auth"
        await _helm(any_helm, kubeconfig, "upgrade", "rel", chart, "-n", "ak", "--set", "global.numLocales=3")
        second = await emulator.get("v1", "Secret", "ak", "rel-ssh")
        assert second["data"]["ssh-privatekey"] == first["data"]["ssh-privatekey"]  # kept, not regenerated
        statefulsets = {s["metadata"]["name"] for s in await emulator.list("apps/v1", "StatefulSet", "ak")}
        assert len(statefulsets) == 2  # the server and the locales, from one install
        await _helm(any_helm, kubeconfig, "uninstall", "rel", "-n", "ak")
        left = [
            s["metadata"]["name"]
            for s in await emulator.list("v1", "Secret", "ak")
            if s["metadata"]["name"].startswith("rel")
        ]
        assert left == []
