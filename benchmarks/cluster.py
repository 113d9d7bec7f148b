"""The API under test: the built-in emulator in a process of its own, or any API given by a kubeconfig.

Both offer what the benchmarks need from a cluster:
- `kubeconfig(user)`: credentials for one benchmark identity (the emulator gives each its own user,
  so the request log tells whose requests are whose; another API gets the given kubeconfig for all);
- `client(user)`: a KubeClient (the product's API layer) for that identity;
- the kubelet's side: `create_pods`, `set_ready` (all at once, or spread over some seconds; returns
  the time.monotonic() of the last write), `delete_pods`;
- `requests(user, since=mark())`: what that user asked the API (the emulator's request log; None
  elsewhere: then the benchmarks count what the client sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arkouda_k8s.kube import PODS, AlreadyExists, KubeClient, NotFound, load_api_config
from arkouda_k8s.kube.resources import NAMESPACES
from arkouda_k8s.settings import load

ROOT = Path(__file__).resolve().parents[1]
# Pods of the benchmark are bound to a node that does not exist: no kubelet of a real cluster touches
# them, the benchmark plays the kubelet (their status is written through the API).
NODE = "arkouda-bench-no-such-node"


class BenchmarkError(RuntimeError):
    """A benchmark could not run; the message says which step failed and what was seen."""


@dataclass(frozen=True)
class Request:
    verb: str
    resource: str
    status: int
    time: float  # time.time() when the emulator logged it (a watch: when it ended)
    path: str


def data_ip(i: int) -> str:
    """The i-th pod IP: data in the API only, nothing ever dials it (network rule: loopback only)."""
    return f"10.244.{i // 250}.{i % 250 + 1}"


async def kube_client(kubeconfig: Path, component: str) -> KubeClient:
    config = await load_api_config(load(["kubeconfig"], None, {"KUBECONFIG": str(kubeconfig)}))
    return KubeClient(config, component=component)


class Cluster(ABC):
    """What the benchmarks need from an API server (see the module docstring)."""

    workdir: Path
    has_request_log: bool

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def kubeconfig(self, user: str, namespace: str | None = None) -> Path: ...

    @abstractmethod
    async def namespace(self, name: str) -> str:
        """Create a namespace for the benchmarks (a unique one on a real cluster); returns its name."""

    @abstractmethod
    async def create_pods(self, namespace: str, names: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
        """Pending pods (as a controller creates them), bound to no real node; name → uid."""

    @abstractmethod
    async def set_ready(self, namespace: str, pods: Sequence[tuple[str, str]], spread: float) -> float:
        """Pods (name, ip) turn Running + Ready; returns the time.monotonic() of the last write."""

    @abstractmethod
    async def delete_pods(self, namespace: str, names: Sequence[str]) -> None: ...

    async def mark(self) -> int:
        return 0

    async def requests(self, user: str, since: int) -> list[Request] | None:
        return None

    async def client(self, user: str, component: str = "benchmark") -> KubeClient:
        kube = await kube_client(await self.kubeconfig(user), component)
        await kube.__aenter__()
        return kube

    @property
    @abstractmethod
    def description(self) -> str: ...


class EmulatorCluster(Cluster):
    """`python -m benchmarks.emulator_process`, driven over its stdin/stdout."""

    has_request_log = True

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.url = ""
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._kubeconfigs: dict[str, Path] = {}

    @property
    def description(self) -> str:
        return f"built-in API emulator, its own process, HTTPS + RBAC, {self.url}"

    async def start(self) -> None:
        with open(self.workdir / "emulator.log", "wb") as log:  # noqa: ASYNC230  (opened once; the child writes it)
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.emulator_process",
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                limit=64 * 1024 * 1024,
            )
        self.url = str(await self._answer("start"))

    async def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def call(self, op: str, **args: Any) -> Any:
        if self._process is None or self._process.stdin is None:
            raise BenchmarkError(f"emulator command {op}: the emulator is not running")
        async with self._lock:
            self._process.stdin.write(json.dumps({"op": op, "args": args}).encode() + b"\n")
            await self._process.stdin.drain()
            return await self._answer(op)

    async def _answer(self, op: str) -> Any:
        assert self._process is not None
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 600)
        if not line:
            log = (self.workdir / "emulator.log").read_text(errors="replace")[-3000:]
            raise BenchmarkError(f"emulator command {op}: the emulator process ended; its log:\n{log}")
        answer = json.loads(line)
        if "error" in answer:
            raise BenchmarkError(f"emulator command {op}: {answer['error']}")
        return answer["ok"]

    async def kubeconfig(self, user: str, namespace: str | None = None) -> Path:
        key = f"{user}@{namespace or ''}"
        if key not in self._kubeconfigs:
            path = self.workdir / f"kubeconfig-{user}-{namespace or 'default'}"
            self._kubeconfigs[key] = Path(await self.call("identity", user=user, path=str(path), namespace=namespace))
        return self._kubeconfigs[key]

    async def namespace(self, name: str) -> str:
        await self.call("namespace", name=name)
        return name

    async def create_pods(self, namespace: str, names: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
        uids: dict[str, str] = await self.call("create_pods", namespace=namespace, names=list(names), labels=labels)
        return uids

    async def set_ready(self, namespace: str, pods: Sequence[tuple[str, str]], spread: float) -> float:
        return float(await self.call("set_ready", namespace=namespace, pods=[list(p) for p in pods], spread=spread))

    async def delete_pods(self, namespace: str, names: Sequence[str]) -> None:
        await self.call("delete_pods", namespace=namespace, names=list(names))

    async def mark(self) -> int:
        return int(await self.call("mark"))

    async def requests(self, user: str, since: int) -> list[Request] | None:
        rows = await self.call("requests", user=user, since=since)
        return [Request(r["verb"], r["resource"], r["status"], r["time"], r["path"]) for r in rows]


class ExternalCluster(Cluster):
    """Any API server, through the kubeconfig given; everything is made in namespaces of its own."""

    has_request_log = False
    PARALLEL_WRITES = 32  # in flight at once when creating or deleting many pods

    def __init__(self, workdir: Path, kubeconfig: Path) -> None:
        self.workdir = workdir
        self.path = kubeconfig
        self.suffix = secrets.token_hex(3)
        self.host = "?"
        self._admin: KubeClient | None = None
        self._namespaces: list[str] = []

    @property
    def description(self) -> str:
        return f"the API of {self.path} ({self.host})"

    async def start(self) -> None:
        self._admin = await self.client("admin")
        self.host = self._admin.config.host

    async def close(self) -> None:
        if self._admin is None:
            return
        for name in self._namespaces:
            with contextlib.suppress(NotFound):
                await self._admin.delete(NAMESPACES, name)
        await self._admin.close()
        self._admin = None

    async def kubeconfig(self, user: str, namespace: str | None = None) -> Path:
        return self.path

    async def namespace(self, name: str) -> str:
        assert self._admin is not None
        unique = f"{name}-{self.suffix}"
        with contextlib.suppress(AlreadyExists):
            await self._admin.create(
                NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique}}
            )
        self._namespaces.append(unique)
        return unique

    async def _bounded(self, calls: Sequence[Any]) -> list[Any]:
        gate = asyncio.Semaphore(self.PARALLEL_WRITES)

        async def one(call: Any) -> Any:
            async with gate:
                return await call

        return list(await asyncio.gather(*(one(c) for c in calls)))

    async def create_pods(self, namespace: str, names: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
        assert self._admin is not None
        kube = self._admin
        bodies = [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "labels": dict(labels)},
                "spec": {"nodeName": NODE, "containers": [{"name": "main", "image": "arkouda-k8s:bench"}]},
            }
            for name in names
        ]
        created = await self._bounded([kube.create(PODS, body, namespace) for body in bodies])
        return {c["metadata"]["name"]: c["metadata"]["uid"] for c in created}

    async def set_ready(self, namespace: str, pods: Sequence[tuple[str, str]], spread: float) -> float:
        """Status writes through the API; "all at once" is every write in flight together. The time is
        when the last answer came: the write landed before, so a delay measured from it can come out
        shorter than the true one, by up to a round trip (even below zero)."""
        assert self._admin is not None
        kube = self._admin
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

        async def ready(name: str, ip: str, delay: float) -> None:
            await asyncio.sleep(delay)
            status = {
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
            }
            await kube.patch_status(PODS, name, {"status": status}, namespace)

        await asyncio.gather(*(ready(name, ip, random.uniform(0, spread) if spread > 0 else 0.0) for name, ip in pods))
        return time.monotonic()

    async def delete_pods(self, namespace: str, names: Sequence[str]) -> None:
        assert self._admin is not None
        kube = self._admin

        async def delete(name: str) -> None:
            with contextlib.suppress(NotFound):
                await kube.delete(PODS, name, namespace)

        await self._bounded([delete(name) for name in names])
