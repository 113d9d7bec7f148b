"""A cluster for registrar tests: the API emulator over HTTPS with RBAC on, a namespace, the server pod,
and a service account whose Role grants what the registrar needs (as the charts do)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from arkouda_k8s.kube import ApiConfig, KubeClient, RetryPolicy
from arkouda_k8s.registrar.daemon import Registrar
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.settings import Settings, load
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.probe import SwitchProbe

NS = "arkouda"
POD = "arkouda-server-0"
POD_IP = "192.0.2.10"  # TEST-NET-1: data in the API only, nothing ever dials it
SA = "arkouda-server"
SA_USER = f"system:serviceaccount:{NS}:{SA}"

REGISTRAR_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "create", "patch", "update", "delete"]},
    {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "create", "patch", "update", "delete"]},
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"],
    },
]


@dataclass
class Cluster:
    emulator: KubeEmulator
    tmp: Path
    pod: PodIdentity
    token_file: Path
    clients: list[KubeClient] = field(default_factory=list)

    def config(self, *, token_file: Path | None = None) -> ApiConfig:
        token_file = token_file or self.token_file
        return ApiConfig(
            host=self.emulator.url,
            namespace=NS,
            source="test service account",
            ca_file=self.emulator.ca_file,
            token=token_file.read_text().strip(),
            token_file=token_file,
        )

    async def client(self, *, token_file: Path | None = None, budget: float = 10.0) -> KubeClient:
        kube = KubeClient(
            self.config(token_file=token_file),
            component="test",
            retry=RetryPolicy(base=0.02, cap=0.3, budget=budget, request_timeout=3.0),
        )
        await kube.__aenter__()
        self.clients.append(kube)
        return kube

    def settings(self, **env: str) -> Settings:
        from arkouda_k8s.settings import KUBE_API, PUBLISH

        base = {
            "EXTERNAL_SERVICE_NAME": "arkouda",
            "PROBE_PERIOD": "0.05",
            "PROBE_FAILURES": "2",
            "RECONCILE_PERIOD": "1",
            "SHUTDOWN_TIMEOUT": "5",
            "EXTERNAL_SERVICE_TARGET_PORT": "5555",
        }
        return load([*PUBLISH, *KUBE_API], None, {**base, **env})

    async def registrar(self, probe: Any = None, *, pod: PodIdentity | None = None, **env: str) -> Registrar:
        kube = await self.client()
        return Registrar(self.settings(**env), kube, pod or self.pod, probe=probe or SwitchProbe())

    async def ours(self) -> dict[str, list[str]]:
        """Every object in the namespace that arkouda-k8s manages (slices, Services, Endpoints)."""
        found: dict[str, list[str]] = {}
        for api_version, kind in (("discovery.k8s.io/v1", "EndpointSlice"), ("v1", "Service"), ("v1", "Endpoints")):
            items = await self.emulator.list(api_version, kind, NS)
            names = [
                i["metadata"]["name"]
                for i in items
                if (i["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "arkouda-k8s"
            ]
            if names:
                found[kind] = names
        return found

    async def slices(self) -> list[dict[str, Any]]:
        return await self.emulator.list("discovery.k8s.io/v1", "EndpointSlice", NS)


@pytest_asyncio.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    emulator = KubeEmulator(tls=True, rbac=True)
    await emulator.start()
    try:
        await emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        token = await emulator.bind_role(NS, SA, REGISTRAR_RULES, role="registrar")
        pod = await emulator.create_pod(NS, POD, labels={"app.kubernetes.io/component": "server"})
        await emulator.set_pod_ready(NS, POD, ip=POD_IP)
        token_file = tmp_path / "token"
        token_file.write_text(token)
        identity = PodIdentity(name=POD, uid=pod["metadata"]["uid"], ip=POD_IP, namespace=NS, instance="rel")
        cluster = Cluster(emulator, tmp_path, identity, token_file)
        yield cluster
        for kube in cluster.clients:
            await kube.close()
    finally:
        await emulator.stop()


async def wait_for(condition: Any, timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll an async condition until it is truthy (tests only; the product uses watches)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(registrar: Registrar) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(registrar.run())
    try:
        yield task
    finally:
        if not task.done():
            registrar.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
