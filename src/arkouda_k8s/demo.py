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
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arkouda_k8s import logs
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import ENDPOINT_SLICES, SERVICES, KubeClient, load_api_config
from arkouda_k8s.settings import Settings, load

if TYPE_CHECKING:
    from arkouda_k8s.testing.pods import LoopbackPods, PodProcess

NAMESPACE = "arkouda-demo"
SERVICE = "arkouda"


class DemoFailed(ArkoudaK8sError):
    pass


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)

    def step(self, text: str, objects: str = "") -> None:
        ms = (time.monotonic() - self.started) * 1000
        print(f"{ms:8.0f} ms  {text:<62} {objects}", flush=True)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.source.get("log_level") == "default":
        logs.configure("warning", settings.log_format)  # the timeline is the output; logs only when wrong
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
        self.tmp = Path(tempfile.mkdtemp(prefix="arkouda-k8s-demo-"))
        self.kube: KubeClient | None = None
        self.pods: LoopbackPods | None = None

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
            if self.pods is not None:
                self.pods.stop_all()
            shutil.rmtree(self.tmp, ignore_errors=True)

    async def _lifecycle(self) -> int:
        async with self._api() as kubeconfig:
            settings = load(["kubeconfig"], None, {"KUBECONFIG": str(kubeconfig)})
            config = await load_api_config(settings)
            async with KubeClient(config, component="demo") as kube:
                self.kube = kube
                try:
                    return await self._run(kubeconfig)
                finally:
                    if self.pods is not None:
                        await asyncio.to_thread(self.pods.stop_all)

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
            self.timeline.step(f"API emulator serving {emulator.url} (TLS, loopback endpoints allowed)")
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
        return "| " + (", ".join(parts) or "no Service, no EndpointSlice")

    async def _run(self, kubeconfig: Path) -> int:
        from arkouda_k8s.testing.pods import LoopbackPods, free_port

        assert self.kube is not None
        await _ensure_namespace(self.kube)
        key_dir = self._make_key_pair()
        self.pods = LoopbackPods(
            self.kube,
            namespace=NAMESPACE,
            kubeconfig=kubeconfig,
            key_dir=key_dir,
            workdir=self.tmp,
            instance="demo",
        )
        self.timeline.step("ssh key pair generated (the chart makes it a Secret)", await self._objects())
        # The server first: it waits for its locales through the API, so install order does not matter.
        server_env = {"SHUTDOWN_TIMEOUT": "8", "LOCALE_TIMEOUT": "60"}
        if self.server_path:
            server_env["ARKOUDA_SERVER_PATH"] = self.server_path
        server = await self.pods.start_server(
            "arkouda-server-0", num_locales=self.num_locales, port=free_port(), env=server_env
        )
        self.timeline.step(
            f"server pod {server.ip}: entrypoint waits for {self.num_locales - 1} locale pods", await self._objects()
        )
        locales = await asyncio.gather(
            *(self.pods.start_locale(f"arkouda-locale-{i}") for i in range(self.num_locales - 1))
        )
        self.timeline.step(
            f"{len(locales)} locale pods Ready, sshd on {', '.join(p.ip for p in locales) or '-'}",
            await self._objects(),
        )
        endpoint = await self._wait_published(server, timeout=60)
        self.timeline.step(f"arkouda_server launched over ssh and published: {endpoint}", await self._objects())
        config = await asyncio.to_thread(_connect_like_a_notebook, kubeconfig)
        self.timeline.step(f'arkouda_k8s.connect("{SERVICE}"): connected with the arkouda client')
        hosts = [loc.get("name") for loc in config.get("LocaleConfigs", [])]
        print(
            f"           get_config(): arkoudaVersion={config.get('arkoudaVersion')} "
            f"numLocales={config.get('numLocales')} ServerPort={config.get('ServerPort')} hosts={hosts}",
            flush=True,
        )
        server.signal(signal.SIGTERM)
        self.timeline.step("SIGTERM to the server entrypoint", await self._objects())
        code = await asyncio.to_thread(server.wait, 20)
        self.timeline.step(f"server entrypoint exited with {code}: withdrawn", await self._objects())
        if code != 0:
            raise DemoFailed(f"the server entrypoint exited with {code}:\n{server.log_text()[-3000:]}")
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

    async def _wait_published(self, server: PodProcess, *, timeout: float) -> str:
        from arkouda_k8s.resolver.lookup import ready_endpoint

        assert self.kube is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise DemoFailed(
                    f"the server entrypoint exited with {server.process.returncode} before publishing:\n"
                    + server.log_text()[-3000:]
                )
            slices = await self.kube.list(
                ENDPOINT_SLICES, NAMESPACE, label_selector=f"kubernetes.io/service-name={SERVICE}"
            )
            found = ready_endpoint(slices.items)
            if found:
                return f"tcp://{found[0]}:{found[1]}"
            await asyncio.sleep(0.05)
        pods = self.pods.pods if self.pods else []
        logs_of_all = "\n".join(f"--- {pod.name} ---\n{pod.log_text()[-2000:]}" for pod in pods)
        raise DemoFailed(f"not published within {timeout:g} s; the pods' logs:\n" + logs_of_all)


def _connect_like_a_notebook(kubeconfig: Path) -> dict[str, Any]:
    import arkouda as ak

    import arkouda_k8s

    os.environ["KUBECONFIG"] = str(kubeconfig)
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():  # the client prints its own banner
        # The pip-installed 2020.7.7 client calls itself 2020.7.7 and the server says 2020.07.07: same version.
        warnings.filterwarnings("ignore", message="Version mismatch", category=RuntimeWarning)
        arkouda_k8s.connect(SERVICE, NAMESPACE, timeout=20)
        config: dict[str, Any] = ak.get_config()
        ak.disconnect()
        ak.client.socket.close(linger=0)  # the 2020.7.7 client never closes its socket
    return config


async def _ensure_namespace(kube: KubeClient) -> None:
    from arkouda_k8s.kube import AlreadyExists
    from arkouda_k8s.kube.resources import NAMESPACES

    with contextlib.suppress(AlreadyExists):
        await kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
