"""`arkouda-k8s demo`: the whole lifecycle on this machine, with no cluster.

1. the built-in Kubernetes API emulator (HTTPS, on loopback), or the API of --kubeconfig;
2. N−1 locale "pods": real `arkouda-k8s locale` processes (real sshd) on loopback addresses
   127.x.y.2…, marked Ready in the API when their sshd answers (as a kubelet probe would);
3. the server "pod": `arkouda-k8s server` on 127.x.y.1 — it waits for the locales through the
   API, launches arkouda_server (the stand-in, or --arkouda-server) over ssh, and publishes it;
4. `arkouda_k8s.connect("arkouda")` with the real arkouda client, as a notebook would, and
   get_config();
5. SIGTERM to the server entrypoint, and the withdrawal seen in the API.

A timeline shows each step with the elapsed milliseconds and the API objects that exist then.
Everything it starts is stopped and every temporary file removed, also on Ctrl-C at any moment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import ENDPOINT_SLICES, PODS, SERVICES, KubeClient, load_api_config
from arkouda_k8s.settings import Settings, load

NAMESPACE = "arkouda-demo"
SERVICE = "arkouda"
LOCALE_LABELS = {
    "app.kubernetes.io/name": "arkouda",
    "app.kubernetes.io/instance": "demo",
    "app.kubernetes.io/component": "locale",
}


class DemoFailed(ArkoudaK8sError):
    pass


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)

    def step(self, text: str, objects: str = "") -> None:
        ms = (time.monotonic() - self.started) * 1000
        print(f"{ms:8.0f} ms  {text:<58} {objects}", flush=True)


def run(_settings: Settings, args: argparse.Namespace) -> int:
    if args.locales < 1:
        print("arkouda-k8s demo: error: --locales must be at least 1", file=sys.stderr)
        return ExitCode.USAGE
    try:
        return asyncio.run(Demo(args.locales, args.demo_server, args.demo_kubeconfig).main())
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return 130


class Demo:
    def __init__(self, locales: int, server_path: str | None, kubeconfig: str | None) -> None:
        self.num_locales = locales
        self.server_path = server_path
        self.kubeconfig = Path(kubeconfig) if kubeconfig else None
        self.timeline = Timeline()
        self.children: list[subprocess.Popen[bytes]] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="arkouda-k8s-demo-"))
        self.subnet = _free_loopback_subnet()
        self.kube: KubeClient | None = None

    async def main(self) -> int:
        loop = asyncio.get_running_loop()
        interrupted = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupted.set)
        work = asyncio.ensure_future(self._lifecycle())
        stopper = asyncio.ensure_future(interrupted.wait())
        try:
            await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
                print("interrupted: stopping everything the demo started", file=sys.stderr)
                return 130
            return work.result()
        finally:
            stopper.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            self._stop_children()
            shutil.rmtree(self.tmp, ignore_errors=True)

    async def _lifecycle(self) -> int:
        async with self._api() as kubeconfig:
            settings = load(["kubeconfig"], None, {"KUBECONFIG": str(kubeconfig)})
            config = await load_api_config(settings)
            async with KubeClient(config, component="demo") as kube:
                self.kube = kube
                return await self._run(kubeconfig)

    @contextlib.asynccontextmanager
    async def _api(self) -> AsyncIterator[Path]:
        if self.kubeconfig is not None:
            self.timeline.step(f"using the API of {self.kubeconfig}")
            yield self.kubeconfig
            return
        from arkouda_k8s.testing.kube import KubeEmulator

        emulator = KubeEmulator(tls=True, allow_loopback_endpoints=True)
        await emulator.start()
        try:
            kubeconfig = emulator.write_kubeconfig(self.tmp / "kubeconfig", namespace=NAMESPACE)
            self.timeline.step(f"API emulator serving {emulator.url} (TLS)")
            yield kubeconfig
        finally:
            await emulator.stop()

    async def _objects(self) -> str:
        assert self.kube is not None
        services = await self.kube.list(SERVICES, NAMESPACE)
        slices = await self.kube.list(ENDPOINT_SLICES, NAMESPACE)
        parts = [f"service/{s['metadata']['name']}" for s in services.items]
        for item in slices.items:
            ready = all((e.get("conditions") or {}).get("ready") for e in item.get("endpoints") or [])
            parts.append(f"endpointslice/{item['metadata']['name']}({'ready' if ready else 'not ready'})")
        return "objects: " + (", ".join(parts) or "none")

    async def _run(self, kubeconfig: Path) -> int:
        assert self.kube is not None
        kube = self.kube
        await _ensure_namespace(kube)
        key_dir = self._make_key_pair()
        self.timeline.step(f"ssh key pair generated ({key_dir.name})", await self._objects())
        ips = [f"{self.subnet}.{i + 1}" for i in range(self.num_locales)]
        server_ip, locale_ips = ips[0], ips[1:]
        port = _free_port(server_ip)
        # The locale pods exist before their processes run (the scheduler made them); Pending.
        for i in range(len(locale_ips)):
            await self._create_pod(f"arkouda-locale-{i}", labels=LOCALE_LABELS)
        server_uid = await self._create_pod(
            "arkouda-server-0", labels={**LOCALE_LABELS, "app.kubernetes.io/component": "server"}
        )
        await self._set_running(["arkouda-server-0"], [server_ip])
        # The server first: it waits for its locales through the API — install order does not matter.
        env = self._common_env(kubeconfig, key_dir, "server")
        env.update(
            {
                "POD_NAME": "arkouda-server-0",
                "POD_UID": server_uid,
                "POD_IP": server_ip,
                "NUMLOCALES": str(self.num_locales),
                "EXTERNAL_SERVICE_TARGET_PORT": str(port),
                "EXTERNAL_SERVICE_PORT": str(port),
                "LOCALE_SELECTOR": "app.kubernetes.io/instance=demo,app.kubernetes.io/component=locale",
                "ARKOUDA_SERVER_PATH": self.server_path or _standin(),
                "SHUTDOWN_TIMEOUT": "8",
                "LOCALE_TIMEOUT": "60",
            }
        )
        server = self._spawn(["server"], env, "server")
        self.timeline.step(
            f"server entrypoint started on {server_ip} (waits for {len(locale_ips)} locales)", await self._objects()
        )
        for i, ip in enumerate(locale_ips):
            env = self._common_env(kubeconfig, key_dir, f"locale-{i}")
            env.update({"POD_NAME": f"arkouda-locale-{i}", "POD_IP": ip})
            self._spawn(["locale"], env, f"locale-{i}")
        await asyncio.gather(*(_wait_tcp(ip, 2222, 20) for ip in locale_ips))
        await self._set_running([f"arkouda-locale-{i}" for i in range(len(locale_ips))], locale_ips)
        self.timeline.step(
            f"{len(locale_ips)} locale pods Ready, sshd on {', '.join(locale_ips) or '-'}", await self._objects()
        )
        endpoint = await self._wait_published(server, timeout=30)
        self.timeline.step(f"published: {endpoint}", await self._objects())
        config = await asyncio.to_thread(_connect_like_a_notebook, kubeconfig)
        self.timeline.step(f'arkouda_k8s.connect("{SERVICE}") -> connected')
        hosts = [loc.get("name") for loc in config.get("LocaleConfigs", [])]
        print(
            f"           get_config(): arkoudaVersion={config.get('arkoudaVersion')} "
            f"numLocales={config.get('numLocales')} ServerPort={config.get('ServerPort')} hosts={hosts}",
            flush=True,
        )
        server.send_signal(signal.SIGTERM)
        self.timeline.step("SIGTERM to the server entrypoint", await self._objects())
        code = await asyncio.to_thread(server.wait, 20)
        self.timeline.step(f"server entrypoint exited with {code}: withdrawn", await self._objects())
        if code != 0:
            raise DemoFailed(f"the server entrypoint exited with {code}; its log is above")
        return ExitCode.OK

    def _make_key_pair(self) -> Path:
        key_dir = self.tmp / "ssh-secret"
        key_dir.mkdir(mode=0o700)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "arkouda-demo",
                "-f",
                str(key_dir / "ssh-privatekey"),
            ],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        (key_dir / "ssh-privatekey.pub").rename(key_dir / "ssh-publickey")
        return key_dir

    def _common_env(self, kubeconfig: Path, key_dir: Path, pod: str) -> dict[str, str]:
        home = self.tmp / pod
        home.mkdir(mode=0o700, exist_ok=True)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "KUBECONFIG": str(kubeconfig),
            "POD_NAMESPACE": NAMESPACE,
            "ARKOUDA_INSTANCE": "demo",
            "SSH_KEY_DIR": str(key_dir),
            "SSH_HOME": str(home / ".ssh"),
            "SSH_PORT": "2222",
            "ARKOUDA_K8S_LOG_FORMAT": "json",
            "ARKOUDA_K8S_LOG_LEVEL": "warning",
            "CHPL_RT_OVERSUBSCRIBED": "yes",
        }

    def _spawn(self, argv: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        child = subprocess.Popen(
            [sys.executable, "-m", "arkouda_k8s", *argv],
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.children.append(child)
        return child

    def _stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)  # anything the group left behind
            if child.poll() is None:
                child.wait(5)

    async def _create_pod(self, name: str, *, labels: dict[str, str]) -> str:
        assert self.kube is not None
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "spec": {"nodeName": "loopback", "containers": [{"name": "main", "image": "arkouda-k8s:demo"}]},
        }
        created = await self.kube.create(PODS, pod, NAMESPACE)
        return str(created["metadata"]["uid"])

    async def _set_running(self, names: list[str], ips: list[str]) -> None:
        assert self.kube is not None
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for name, ip in zip(names, ips, strict=True):
            status = {
                "status": {
                    "phase": "Running",
                    "podIP": ip,
                    "podIPs": [{"ip": ip}],
                    "hostIP": "127.0.0.1",
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
                }
            }
            await self.kube.patch_status(PODS, name, status, NAMESPACE)

    async def _wait_published(self, server: subprocess.Popen[bytes], *, timeout: float) -> str:
        from arkouda_k8s.resolver.lookup import ready_endpoint

        assert self.kube is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise DemoFailed(
                    f"the server entrypoint exited with {server.returncode} before publishing:\n"
                    + (self.tmp / "server.log").read_text(errors="replace")[-3000:]
                )
            slices = await self.kube.list(
                ENDPOINT_SLICES, NAMESPACE, label_selector=f"kubernetes.io/service-name={SERVICE}"
            )
            found = ready_endpoint(slices.items)
            if found:
                return f"tcp://{found[0]}:{found[1]}"
            await asyncio.sleep(0.05)
        raise DemoFailed(
            f"not published within {timeout:g} s; the server log:\n"
            + (self.tmp / "server.log").read_text(errors="replace")[-3000:]
        )


def _connect_like_a_notebook(kubeconfig: Path) -> dict[str, Any]:
    import arkouda as ak

    import arkouda_k8s

    os.environ["KUBECONFIG"] = str(kubeconfig)
    with contextlib.redirect_stdout(sys.stderr):  # the arkouda client prints its own banner
        arkouda_k8s.connect(SERVICE, NAMESPACE, timeout=20)
        config: dict[str, Any] = ak.get_config()
        ak.disconnect()
    return config


async def _ensure_namespace(kube: KubeClient) -> None:
    from arkouda_k8s.kube import AlreadyExists
    from arkouda_k8s.kube.resources import NAMESPACES

    with contextlib.suppress(AlreadyExists):
        await kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})


def _standin() -> str:
    beside = Path(sys.executable).parent / "arkouda-server-standin"
    return str(beside) if beside.exists() else "arkouda-server-standin"


def _free_loopback_subnet() -> str:
    """127.B.C (three octets) where nothing listens on .1–.9 port 2222: the demo's pods."""
    rng = random.Random()  # noqa: S311  (picking a test subnet, not a secret)
    for _ in range(50):
        subnet = f"127.{rng.randint(100, 250)}.{rng.randint(1, 250)}"
        try:
            with socket.socket() as probe:
                probe.bind((f"{subnet}.1", 2222))
        except OSError:
            continue
        return subnet
    raise DemoFailed("no free loopback subnet found for the demo's pods")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _wait_tcp(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if time.monotonic() > deadline:
                raise DemoFailed(f"sshd on {host}:{port} did not start within {timeout:g} s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
