"""The resolver against the API emulator: strategies, waiting by watch, staged errors, reads only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from arkouda_k8s.errors import SettingsError
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.resolver import errors as e
from arkouda_k8s.resolver.api import aresolve, resolve
from arkouda_k8s.settings import Settings, load
from arkouda_k8s.testing.kube import KubeEmulator

NS = "team-a"
READER_RULES = [
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
]


@dataclass
class Env:
    emulator: KubeEmulator
    tmp: Path
    kubeconfig: Path  # a reader service account, namespace team-a as the context's

    def settings(self, kubeconfig: Path | None = None) -> Settings:
        return load(["kubeconfig"], None, {"KUBECONFIG": str(kubeconfig or self.kubeconfig)})

    async def publish(
        self,
        name: str = "arkouda",
        ip: str = "192.0.2.20",
        port: int = 5555,
        *,
        ready: bool = True,
        namespace: str = NS,
    ) -> None:
        pod = o.PodIdentity(name=f"{name}-server-0", uid=f"uid-{name}", ip=ip, namespace=namespace)
        spec = o.ServiceSpec(name, (o.Port("arkouda", port, port),))
        await self.emulator.create(
            {**o.service(spec, pod), "metadata": {**o.service(spec, pod)["metadata"], "namespace": namespace}}
        )
        es = o.endpoint_slice(spec, pod, ready=ready)
        es["metadata"].pop("ownerReferences")  # no such pod in this test: keep the GC away
        es["metadata"]["name"] = f"{name}-abcde"
        await self.emulator.create(es)

    def writes(self) -> list[str]:
        return [
            f"{r.verb} {r.resource}"
            for r in self.emulator.request_log
            if r.user.startswith("system:serviceaccount:") and r.verb not in ("get", "list", "watch")
        ]


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    emulator = KubeEmulator(tls=True, rbac=True)
    await emulator.start()
    try:
        for ns in (NS, "team-b"):
            await emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            await emulator.create(
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "notebook", "namespace": ns}}
            )
        token = await emulator.bind_role(NS, "notebook", READER_RULES, role="reader")
        kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig", token=token, namespace=NS)
        yield Env(emulator, tmp_path, kubeconfig)
    finally:
        await emulator.stop()


async def test_api_strategy_finds_the_ready_endpoint_by_service_name(env: Env) -> None:
    await env.publish()
    for name in ("arkouda", f"arkouda.{NS}", f"arkouda.{NS}.svc", f"arkouda.{NS}.svc.cluster.example"):
        ep = await aresolve(name, timeout=5, wait=False, settings=env.settings())
        assert (ep.host, ep.port) == ("192.0.2.20", 5555)
        assert ep.source.startswith("api: EndpointSlice of Service team-a/arkouda")
    assert env.writes() == []


async def test_the_namespace_argument_and_the_name_suffix(env: Env) -> None:
    await env.publish(namespace="team-b", ip="192.0.2.21")
    with pytest.raises(e.ApiRefused):  # the reader has no rights in team-b, and mode=api forbids DNS
        await aresolve("arkouda", "team-b", timeout=5, wait=False, mode="api", settings=env.settings())
    admin = env.emulator.write_kubeconfig(env.tmp / "admin", namespace=NS)
    ep = await aresolve("arkouda.team-b", timeout=5, wait=False, settings=env.settings(admin))
    assert ep.host == "192.0.2.21"
    ep = await aresolve("arkouda", "team-b", timeout=5, wait=False, settings=env.settings(admin))
    assert ep.host == "192.0.2.21"


async def test_direct_and_the_environment_override(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    ep = await aresolve("tcp://127.0.0.1:6000", timeout=1, settings=env.settings())
    assert (ep.host, ep.port, ep.source) == ("127.0.0.1", 6000, "direct")
    monkeypatch.setenv("ARKOUDA_SERVER", "tcp://127.0.0.2:6001")
    ep = await aresolve("arkouda", timeout=1, settings=env.settings())
    assert (ep.host, ep.port) == ("127.0.0.2", 6001)
    monkeypatch.delenv("ARKOUDA_SERVER")
    with pytest.raises(SettingsError, match="mode='direct' needs tcp://HOST:PORT"):
        await aresolve("arkouda", timeout=1, mode="direct", settings=env.settings())


async def test_waits_by_watch_for_a_server_published_later(env: Env) -> None:
    async def publish_later() -> None:
        await asyncio.sleep(2)
        await env.publish()

    started = time.monotonic()
    later = asyncio.create_task(publish_later())
    ep = await aresolve("arkouda", timeout=20, settings=env.settings())
    await later
    assert ep.host == "192.0.2.20"
    assert time.monotonic() - started >= 2
    for _ in range(100):  # the emulator logs a watch when it notices the client closed it
        watches = [r for r in env.emulator.request_log if r.resource == "endpointslices" and r.verb == "watch"]
        if watches:
            break
        await asyncio.sleep(0.02)
    lists = [r for r in env.emulator.request_log if r.resource == "endpointslices" and r.verb == "list"]
    assert len(lists) == 1  # one list, then a watch: no polling
    assert len(watches) == 1
    assert env.writes() == []


async def test_service_not_found_is_its_own_stage(env: Env) -> None:
    with pytest.raises(e.ServiceNotFound) as raised:
        await aresolve("nothing", timeout=1, settings=env.settings())
    assert "there is no Service 'nothing' in namespace 'team-a'" in str(raised.value)
    assert "kubectl get services -n team-a" in str(raised.value)


async def test_registered_but_not_ready_shows_the_conditions(env: Env) -> None:
    await env.publish(ready=False)
    with pytest.raises(e.NotReady) as raised:
        await aresolve("arkouda", timeout=1, settings=env.settings())
    text = str(raised.value)
    assert "registered but not ready" in text
    assert "arkouda-abcde: 192.0.2.20 {'ready': False" in text
    assert "kubectl get service,endpointslices -n team-a" in text


async def test_no_credentials_falls_back_to_dns_and_says_so(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(env.tmp))  # no ~/.kube/config
    nothing = load(["kubeconfig"], None, {})
    resolv = env.tmp / "resolv.conf"
    resolv.write_text("search team-a.svc.corp.internal svc.corp.internal corp.internal\n")
    asked: list[str] = []

    async def dns(host: str) -> list[str]:
        asked.append(host)
        return ["127.0.0.9"]

    ep = await aresolve(
        "arkouda",
        "team-a",
        timeout=2,
        settings=nothing,
        dns_resolver=dns,
        resolv_conf=resolv,
        serviceaccount_dir=env.tmp / "no-sa",
    )
    assert asked == ["arkouda.team-a.svc.corp.internal"]
    assert (ep.host, ep.port, ep.source) == ("127.0.0.9", 5555, "dns: arkouda.team-a.svc.corp.internal")
    with pytest.raises(e.NoApiCredentials):
        await aresolve("arkouda", timeout=1, mode="api", settings=nothing, serviceaccount_dir=env.tmp / "no-sa")


async def test_403_falls_back_to_dns(env: Env) -> None:
    token = env.emulator.service_account_token("team-b", "notebook")  # no Role in team-b
    kubeconfig = env.emulator.write_kubeconfig(env.tmp / "b", token=token, namespace="team-b")
    resolv = env.tmp / "resolv.conf"
    resolv.write_text("search team-b.svc.k8s.example svc.k8s.example k8s.example\n")

    async def dns(host: str) -> list[str]:
        return ["127.0.0.8"] if host == "arkouda.team-b.svc.k8s.example" else []

    ep = await aresolve("arkouda", timeout=2, settings=env.settings(kubeconfig), dns_resolver=dns, resolv_conf=resolv)
    assert ep.host == "127.0.0.8"
    assert [r.status for r in env.emulator.request_log if r.user.endswith("team-b:notebook")] == [403]


async def test_dns_failure_is_its_own_stage(env: Env) -> None:
    async def nxdomain(host: str) -> list[str]:
        raise OSError(f"Name or service not known: {host}")

    with pytest.raises(e.DnsFailure, match=r"cluster DNS could not resolve arkouda\.team-a\.svc"):
        await aresolve(
            "arkouda",
            "team-a",
            timeout=0.5,
            mode="dns",
            dns_resolver=nxdomain,
            resolv_conf=env.tmp / "none",
            serviceaccount_dir=env.tmp / "no-sa",
        )


async def test_sync_resolve_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    # The API server runs on its own loop in a thread, as a real one is elsewhere: this loop is the
    # notebook's, blocked by the synchronous call for its duration.
    emulator = KubeEmulator().start_in_thread()
    try:
        emulator.run(emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        env = Env(emulator, tmp_path, emulator.write_kubeconfig(tmp_path / "admin", namespace=NS))
        emulator.run(env.publish())
        assert asyncio.get_running_loop().is_running()
        ep = resolve("arkouda", timeout=5, wait=False, settings=env.settings())  # as in a Jupyter cell
        assert ep.host == "192.0.2.20"
    finally:
        emulator.stop_in_thread()


def test_sync_resolve_works_without_a_loop(tmp_path: Path) -> None:
    ep = resolve("tcp://127.0.0.1:5999", timeout=1)
    assert ep.url == "tcp://127.0.0.1:5999"
