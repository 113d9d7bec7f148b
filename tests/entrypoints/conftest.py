"""End-to-end bed: the API emulator (HTTPS, RBAC, the server's service account), loopback pods running
the real entrypoints with real sshd, the arkouda_server stand-in, and the real arkouda client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from arkouda_k8s.kube import ApiConfig, KubeClient
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.loopback import make_key_dir, openssh_problem
from arkouda_k8s.testing.pods import LoopbackPods, PodProcess, free_port
from arkouda_k8s.testing.pytest_plugin import require_component

NS = "arkouda"
SA = "arkouda-server"
SERVER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "create", "patch", "delete"]},
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"],
    },
]


@dataclass
class Bed:
    emulator: KubeEmulator
    kube: KubeClient  # admin: the test's own view of the cluster
    pods: LoopbackPods  # the server pod runs as the service account, through its own kubeconfig
    tmp: Path
    admin_kubeconfig: Path

    async def ours(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for api_version, kind in (("discovery.k8s.io/v1", "EndpointSlice"), ("v1", "Service")):
            names = [i["metadata"]["name"] for i in await self.emulator.list(api_version, kind, NS)]
            if names:
                found[kind] = names
        return found

    async def ready_slice(self, timeout: float = 30, server: PodProcess | None = None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for item in await self.emulator.list("discovery.k8s.io/v1", "EndpointSlice", NS):
                if any((e.get("conditions") or {}).get("ready") for e in item.get("endpoints") or []):
                    return item
            if server is not None and server.process.poll() is not None:
                pytest.fail(f"the server entrypoint exited with {server.process.returncode}:\n{server.log_text()}")
            await asyncio.sleep(0.05)
        pytest.fail("no ready EndpointSlice in time" + (f"; server log:\n{server.log_text()}" if server else ""))

    async def start_server(self, num_locales: int, **env: str) -> PodProcess:
        return await self.pods.start_server(
            "arkouda-server-0", num_locales=num_locales, port=free_port(), env={"SHUTDOWN_TIMEOUT": "6", **env}
        )


@pytest_asyncio.fixture
async def bed(tmp_path: Path) -> AsyncIterator[Bed]:
    require_component("sshd", openssh_problem())
    emulator = KubeEmulator(tls=True, rbac=True, allow_loopback_endpoints=True)
    await emulator.start()
    pods: LoopbackPods | None = None
    try:
        await emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        server_token = await emulator.bind_role(NS, SA, SERVER_RULES, role="server")
        admin = emulator.write_kubeconfig(tmp_path / "admin.kubeconfig", namespace=NS)
        server_identity = emulator.write_kubeconfig(tmp_path / "server.kubeconfig", token=server_token, namespace=NS)
        config = ApiConfig(
            host=emulator.url, namespace=NS, source="test admin", ca_file=emulator.ca_file, token=emulator.admin_token
        )
        async with KubeClient(config, component="test") as kube:
            key_dir = make_key_dir(tmp_path / "ssh-secret")
            pods = LoopbackPods(
                kube, namespace=NS, kubeconfig=server_identity, key_dir=key_dir, workdir=tmp_path, instance="e2e"
            )
            yield Bed(emulator, kube, pods, tmp_path, admin)
            await asyncio.to_thread(pods.stop_all)
    finally:
        if pods is not None:
            with contextlib.suppress(Exception):
                pods.stop_all()
        await emulator.stop()
