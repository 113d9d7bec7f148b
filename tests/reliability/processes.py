"""Real processes: the server entrypoint on loopback pods with real sshd and the stand-in, the registrar as a
sidecar, and what /proc says about them.

    async with open_process_bed(tmp_path) as bed:
        locale = (await bed.start_locales(1))[0]
        server = await bed.start_server(2)                 # `arkouda-k8s server`, NUMLOCALES=2
        await bed.ready_slice(server)
        server.signal(signal.SIGTERM)
        assert await wait_exit(server) == 0

The server pod reaches the API as its service account through K8S_HOST + TOKEN_FILE + CACERT_FILE,
the token file kept as kubelet keeps it (so it can be rotated under a running server).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from arkouda_k8s.kube import ApiConfig, KubeClient
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.testing.loopback import make_key_dir, openssh_problem, process_tree
from arkouda_k8s.testing.pods import LoopbackPods, PodProcess, free_port
from arkouda_k8s.testing.pytest_plugin import require_component

from .kit import NS, SA, SLICES, STATS, Cluster, open_cluster, remember_log, remember_secret

SERVER = "arkouda-server-1"  # the bed's own pod object is arkouda-server-0, with an IP nothing dials
SHUTDOWN_TIMEOUT = 6.0


@dataclass
class ProcessBed:
    cluster: Cluster
    pods: LoopbackPods
    key_dir: Path
    tmp: Path
    started: list[PodProcess] = field(default_factory=list)

    def api_env(self) -> dict[str, str]:
        """How the server pod reaches the API: its service account's rotating token, the CA."""
        return {
            "K8S_HOST": self.cluster.emulator.url,
            "TOKEN_FILE": str(self.cluster.token_file),
            "CACERT_FILE": str(self.cluster.emulator.ca_file),
        }

    async def start_locales(self, count: int) -> list[PodProcess]:
        found = []
        for i in range(count):
            name = f"arkouda-locale-{i}"
            pod = await self.pods.start_locale(name, env={"ARKOUDA_K8S_LOG_LEVEL": "debug"})
            self.cluster.allow(("", "pods"), name)
            remember_log(pod.log)
            self.started.append(pod)
            found.append(pod)
        return found

    async def start_server(
        self,
        num_locales: int,
        *,
        command: str = "server",
        scan_log: bool = True,
        env: Mapping[str, str] | None = None,
        **more: str | None,
    ) -> PodProcess:
        """`arkouda-k8s server` (or `single`) as a loopback pod; `more` adds variables (None: leave the default)."""
        port = free_port()
        server = await self.pods.start_server(
            SERVER,
            num_locales=num_locales,
            port=port,
            command=command,
            env={
                "SHUTDOWN_TIMEOUT": f"{SHUTDOWN_TIMEOUT:g}",
                "ARKOUDA_K8S_LOG_LEVEL": "debug",  # the secret scan reads every level
                **self.api_env(),
                **(env or {}),
                **{k: v for k, v in more.items() if v is not None},
            },
        )
        self.cluster.allow(("", "pods"), SERVER)
        self.cluster.pod = PodIdentity(name=SERVER, uid=server.uid, ip=server.ip, namespace=NS)
        self.cluster.port = port
        if scan_log:  # (a test that expects a leak scans the log itself)
            remember_log(server.log)
        self.started.append(server)
        return server

    async def ready_slice(self, server: PodProcess, timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await self.cluster.slice_is(ready=True):
            if server.process.poll() is not None:
                pytest.fail(f"the server entrypoint exited with {server.process.returncode}:\n{server.log_text()}")
            if loop.time() > deadline:
                pytest.fail(f"no ready EndpointSlice in time; server log:\n{server.log_text()[-4000:]}")
            await asyncio.sleep(0.05)

    async def service_exists(self) -> bool:
        return any(s["metadata"]["name"] == "arkouda" for s in await self.cluster.emulator.list("v1", "Service", NS))

    async def slices(self) -> list[Any]:
        return [s for s in await self.cluster.slices() if (SLICES, s["metadata"]["name"]) not in self.cluster.allowed]


@contextlib.asynccontextmanager
async def open_process_bed(tmp: Path, *, gc_delay: float = 0.1) -> AsyncIterator[ProcessBed]:
    require_component("sshd", openssh_problem())
    async with open_cluster(tmp, loopback=True, gc_delay=gc_delay) as cluster:
        emulator = cluster.emulator
        kubeconfig = emulator.write_kubeconfig(
            tmp / "server.kubeconfig", token=cluster.token_file.read_text().strip(), namespace=NS
        )
        key_dir = make_key_dir(tmp / "ssh-secret")
        remember_secret((key_dir / "ssh-privatekey").read_text())
        admin = ApiConfig(
            host=emulator.url, namespace=NS, source="test admin", ca_file=emulator.ca_file, token=emulator.admin_token
        )
        async with KubeClient(admin, component="test") as kube:
            pods = LoopbackPods(kube, namespace=NS, kubeconfig=kubeconfig, key_dir=key_dir, workdir=tmp, instance="rel")
            bed = ProcessBed(cluster, pods, key_dir, tmp)
            try:
                yield bed
            finally:
                await asyncio.to_thread(pods.stop_all)


# --- waiting on processes and reading them ----------------------------------------------------------


async def wait_exit(pod: PodProcess | subprocess.Popen[bytes], timeout: float = 30) -> int:
    process = pod.process if isinstance(pod, PodProcess) else pod
    try:
        return int(await asyncio.to_thread(process.wait, timeout))
    except subprocess.TimeoutExpired:
        text = pod.log_text() if isinstance(pod, PodProcess) else ""
        pytest.fail(f"still running {timeout:g} s later (a stop deadline not kept):\n{text[-4000:]}")


async def wait_log(pod: PodProcess, text: str, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in pod.log_text():
        if pod.process.poll() is not None:
            pytest.fail(f"{pod.name} exited with {pod.process.returncode} before logging {text!r}:\n{pod.log_text()}")
        if loop.time() > deadline:
            pytest.fail(f"{pod.name} did not log {text!r} within {timeout:g} s:\n{pod.log_text()[-4000:]}")
        await asyncio.sleep(0.02)


def events(log_text: str) -> list[dict[str, Any]]:
    found = []
    for line in log_text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
    return found


def proc_cmdline_and_environ(pid: int) -> tuple[str, str] | None:
    """What `ps e` shows of a process: its command line and its environment (None when it is gone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        environ = Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b"\n").decode(errors="replace")
    except OSError:
        return None
    STATS.processes += 1
    return cmdline, environ


def alive(tree: Mapping[int, int]) -> list[int]:
    """The processes of a snapshot (pid → start time) that still run (not a reused pid, not a zombie)."""
    left = []
    for pid, started in tree.items():
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[19]) == started:
            left.append(pid)
    return left


def descendants(pid: int) -> dict[int, int]:
    tree = process_tree(pid)
    tree.pop(pid, None)
    return tree


# --- the registrar alone, as a sidecar ---------------------------------------------------------------


def start_register(
    bed_or_cluster: Cluster, *, pod: PodIdentity, port: int, log: Path, **env: str
) -> subprocess.Popen[bytes]:
    """`arkouda-k8s register` for `pod`, probing arkouda_server on 127.0.0.1:`port`."""
    cluster = bed_or_cluster
    full = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(log.parent),
        "LANG": "C.UTF-8",
        "POD_NAME": pod.name,
        "POD_UID": pod.uid,
        "POD_IP": pod.ip,
        "NAMESPACE": NS,
        "EXTERNAL_SERVICE_TARGET_PORT": str(port),
        "EXTERNAL_SERVICE_PORT": str(port),
        "K8S_HOST": cluster.emulator.url,
        "TOKEN_FILE": str(cluster.token_file),
        "CACERT_FILE": str(cluster.emulator.ca_file),
        "PROBE_PERIOD": "0.2",
        "RECONCILE_PERIOD": "1",
        "SHUTDOWN_TIMEOUT": "5",
        "ARKOUDA_K8S_LOG_FORMAT": "json",
        "ARKOUDA_K8S_LOG_LEVEL": "debug",
        **env,
    }
    remember_log(log)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "arkouda_k8s", "register"],
            env=full,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


__all__ = ["SA", "SERVER"]
