"""Loopback "pods": the real entrypoints as processes on loopback addresses, their Pod objects in an API.

    pods = LoopbackPods(kube, namespace="arkouda", kubeconfig=path, key_dir=secret_dir, workdir=tmp)
    locale = await pods.start_locale("arkouda-locale-0")        # Pending → `arkouda-k8s locale` → Ready
    server = await pods.start_server("arkouda-server-0", num_locales=3, env={...})
    ...
    pods.stop_all()                                               # SIGTERM, then SIGKILL, by process group

Each pod gets its own loopback IP (127.A.B.x), its own HOME and ~/.ssh, and a log file. The Pod
object is created Pending (as a scheduler would), then marked Running + Ready with its IP when its
process is up — for a locale, when its sshd answers, as a kubelet's TCP probe would. Used by the
demo, the end-to-end tests, the benchmarks and the reliability suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from arkouda_k8s.kube import PODS, KubeClient
from arkouda_k8s.testing.loopback import process_tree, release_address, take_address

LOCALE_LABELS = {"app.kubernetes.io/name": "arkouda", "app.kubernetes.io/component": "locale"}
SERVER_LABELS = {"app.kubernetes.io/name": "arkouda", "app.kubernetes.io/component": "server"}
SSH_PORT = 2222


def standin_path() -> str:
    beside = Path(sys.executable).parent / "arkouda-server-standin"
    return str(beside) if beside.exists() else "arkouda-server-standin"


@dataclass
class PodProcess:
    name: str
    ip: str
    uid: str
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def kill_group(self) -> None:
        """SIGKILL the pod's processes: the entrypoint, its group and every descendant (sshd runs in a
        session of its own), as the end of a container would."""
        tree = process_tree(self.process.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


class LoopbackPods:
    def __init__(
        self,
        kube: KubeClient,
        *,
        namespace: str,
        kubeconfig: Path,
        key_dir: Path,
        workdir: Path,
        instance: str = "test",
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.kubeconfig = kubeconfig
        self.key_dir = key_dir
        self.workdir = workdir
        self.instance = instance
        self.extra_env = dict(extra_env or {})
        self.pods: list[PodProcess] = []
        self._addresses: list[str] = []

    @property
    def locale_selector(self) -> str:
        return f"app.kubernetes.io/instance={self.instance},app.kubernetes.io/component=locale"

    def address(self) -> str:
        ip = take_address(SSH_PORT)
        self._addresses.append(ip)
        return ip

    async def create_pod(self, name: str, labels: Mapping[str, str]) -> str:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {**labels, "app.kubernetes.io/instance": self.instance},
            },
            "spec": {"nodeName": "loopback", "containers": [{"name": "main", "image": "arkouda-k8s:test"}]},
        }
        created = await self.kube.create(PODS, pod, self.namespace)
        return str(created["metadata"]["uid"])

    async def set_running(self, name: str, ip: str, *, ready: bool = True) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now}],
        }
        await self.kube.patch_status(PODS, name, {"status": status}, self.namespace)

    def environment(self, name: str, ip: str, uid: str, **more: str) -> dict[str, str]:
        home = self.workdir / name
        home.mkdir(mode=0o700, exist_ok=True)
        (home / "tmp").mkdir(mode=0o700, exist_ok=True)  # TMPDIR: whatever a pod leaves goes with the workdir
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(home / "tmp"),
            "KUBECONFIG": str(self.kubeconfig),
            "POD_NAMESPACE": self.namespace,
            "POD_NAME": name,
            "POD_UID": uid,
            "POD_IP": ip,
            "ARKOUDA_INSTANCE": self.instance,
            "SSH_KEY_DIR": str(self.key_dir),
            "SSH_HOME": str(home / ".ssh"),
            "SSH_PORT": str(SSH_PORT),
            "ARKOUDA_K8S_LOG_FORMAT": "json",
            "CHPL_RT_OVERSUBSCRIBED": "yes",
            **self.extra_env,
            **more,
        }

    def spawn(self, argv: list[str], env: dict[str, str], name: str, ip: str, uid: str) -> PodProcess:
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "arkouda_k8s", *argv],
                env=env,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        pod = PodProcess(name, ip, uid, process, log, env)
        self.pods.append(pod)
        return pod

    async def start_locale(
        self, name: str, *, ready: bool = True, timeout: float = 20, env: Mapping[str, str] | None = None
    ) -> PodProcess:
        """A locale pod: its object, its `arkouda-k8s locale` process, Ready once its sshd answers."""
        ip = self.address()
        uid = await self.create_pod(name, LOCALE_LABELS)
        pod = self.spawn(["locale"], self.environment(name, ip, uid, **(env or {})), name, ip, uid)
        await wait_tcp(ip, SSH_PORT, timeout, pod)
        if ready:
            await self.set_running(name, ip)
        return pod

    async def start_server(
        self, name: str, *, num_locales: int, port: int, env: Mapping[str, str] | None = None, command: str = "server"
    ) -> PodProcess:
        """The server pod (Running + Ready: the entrypoint runs in it) and its entrypoint process."""
        ip = self.address()
        uid = await self.create_pod(name, SERVER_LABELS)
        await self.set_running(name, ip)
        more = {
            "NUMLOCALES": str(num_locales),
            "EXTERNAL_SERVICE_TARGET_PORT": str(port),
            "EXTERNAL_SERVICE_PORT": str(port),
            "LOCALE_SELECTOR": self.locale_selector,
            "ARKOUDA_SERVER_PATH": standin_path(),
            # The stand-in listens on 127.0.0.1 and GASNET_MASTERIP; a real arkouda_server listens on every
            # interface, so the pod IP must be reachable for a single-locale server too.
            "ARKOUDA_STANDIN_BIND": ip,
            **(env or {}),
        }
        return self.spawn([command], self.environment(name, ip, uid, **more), name, ip, uid)

    def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM every pod (their entrypoints stop in order), then SIGKILL whatever is left of each one's
        process tree — snapshot first: once an entrypoint is gone its children cannot be found from it."""
        trees = {pod.process.pid: process_tree(pod.process.pid) for pod in self.pods if pod.process.poll() is None}
        for pod in self.pods:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pod.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for pod in self.pods:
            with contextlib.suppress(subprocess.TimeoutExpired):
                pod.process.wait(max(0.1, deadline - time.monotonic()))
            pod.kill_group()
            for pid in trees.get(pod.process.pid, {}):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if pod.process.poll() is None:
                pod.process.wait(5)
        for ip in self._addresses:
            release_address(ip)
        self._addresses.clear()


async def wait_tcp(host: str, port: int, timeout: float, pod: PodProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if pod is not None and pod.process.poll() is not None:
                raise RuntimeError(
                    f"{pod.name} exited with {pod.process.returncode}:\n{pod.log_text()[-2000:]}"
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:g} s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return


def free_port(host: str = "127.0.0.1") -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
