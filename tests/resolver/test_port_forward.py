"""mode="port-forward": out of the cluster, the server pod is reached through the API (pods/portforward),
with the real arkouda 2020.7.7 client, under RBAC; and `arkouda-k8s resolve --mode port-forward`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from arkouda_k8s import wire
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.resolver import errors as e
from arkouda_k8s.resolver import portforward
from arkouda_k8s.resolver.api import aconnect, aresolve
from arkouda_k8s.settings import Settings, load
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.pods import free_port

NS = "team-a"
POD = "arkouda-server-0"
READER = [
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
]
FORWARDER = [*READER, {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]}]
NOTEBOOK_USER = f"system:serviceaccount:{NS}:notebook"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[KubeEmulator]:
    # Loopback endpoint addresses allowed: the test's "pod" is the stand-in on 127.0.0.1.
    async with KubeEmulator(tls=True, rbac=True, allow_loopback_endpoints=True) as emu:
        await emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        yield emu


def _forwarder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("arkouda-k8s-forward")]


@pytest.fixture(autouse=True)
def forwarders_closed() -> Iterator[None]:
    yield
    portforward.close_all()
    assert not _forwarder_threads()


async def _notebook(emulator: KubeEmulator, tmp: Path, rules: list[dict[str, Any]] = FORWARDER) -> Path:
    token = await emulator.bind_role(NS, "notebook", rules)
    return emulator.write_kubeconfig(tmp / "notebook.kubeconfig", token=token, namespace=NS)


def _settings(kubeconfig: Path) -> Settings:
    return load(["kubeconfig"], None, {"KUBECONFIG": str(kubeconfig)})


async def _publish(emulator: KubeEmulator, ip: str, port: int, *, target_ref: bool = True) -> None:
    """The server pod (scheduled, Running at `ip`) and what the registrar publishes for it."""
    created = await emulator.create_pod(NS, POD)
    await emulator.set_pod_ready(NS, POD, ip=ip)
    pod = o.PodIdentity(name=POD, uid=created["metadata"]["uid"], ip=ip, namespace=NS)
    spec = o.ServiceSpec("arkouda", (o.Port("arkouda", port, port),))
    service = o.service(spec, pod)
    await emulator.create({**service, "metadata": {**service["metadata"], "namespace": NS}})
    es = o.endpoint_slice(spec, pod, ready=True)
    es["metadata"]["name"] = "arkouda-abcde"
    if not target_ref:
        del es["endpoints"][0]["targetRef"]
    await emulator.create(es)


def _forwards(emulator: KubeEmulator) -> list[int]:
    return [r.status for r in emulator.request_log if r.subresource == "portforward" and r.user == NOTEBOOK_USER]


async def test_connect_through_a_port_forward_with_the_real_client(
    emulator: KubeEmulator, standin: Any, tmp_path: Path
) -> None:
    import arkouda as ak

    await _publish(emulator, standin.host, standin.port)
    settings = _settings(await _notebook(emulator, tmp_path))
    endpoint = await aresolve("arkouda", mode="port-forward", timeout=10, settings=settings)
    assert endpoint.host == "127.0.0.1" and endpoint.port != standin.port
    assert endpoint.source.startswith(f"port-forward to pod {NS}/{POD}:{standin.port}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Version mismatch", category=RuntimeWarning)
        await aconnect("arkouda", mode="port-forward", timeout=20, settings=settings)
        config = await asyncio.to_thread(ak.get_config)
        used = await asyncio.to_thread(ak.get_mem_used)
    assert config["ServerPort"] == standin.port
    assert int(used) >= 0
    ak.client.socket.close(linger=0)  # the 2020.7.7 client never closes its socket
    # The connect resolved again and reused the first forwarder; every WebSocket was the notebook's, under RBAC.
    assert ak.client.pspStr == endpoint.url
    forwarder = portforward.by_local_port(endpoint.port)
    assert forwarder is not None and forwarder.alive and forwarder.failures_in_row == 0
    assert _forwards(emulator) and set(_forwards(emulator)) == {101}
    assert {r.verb for r in emulator.request_log if r.user == NOTEBOOK_USER} <= {"get", "list", "watch"}


async def test_without_the_portforward_permission_the_refusal_is_named(
    emulator: KubeEmulator, standin: Any, tmp_path: Path
) -> None:
    await _publish(emulator, standin.host, standin.port)
    settings = _settings(await _notebook(emulator, tmp_path, READER))
    with pytest.raises(e.ApiRefused) as refused:
        await aresolve("arkouda", mode="port-forward", timeout=10, settings=settings)
    text = str(refused.value)
    assert 'cannot get resource "pods/portforward" in API group "" in the namespace "team-a"' in text
    assert "kubectl auth can-i get pods/portforward -n team-a" in text
    assert not _forwarder_threads()


async def test_an_endpoint_without_a_pod_cannot_be_forwarded(emulator: KubeEmulator, tmp_path: Path) -> None:
    await _publish(emulator, "127.0.0.1", 5599, target_ref=False)
    settings = _settings(await _notebook(emulator, tmp_path))
    with pytest.raises(e.ResolveError, match="names no pod"):
        await aresolve("arkouda", mode="port-forward", timeout=10, settings=settings)


async def test_a_server_that_is_gone_is_a_handshake_timeout_that_quotes_the_kubelet(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    silent = free_port()  # published, but nothing listens there
    await _publish(emulator, "127.0.0.1", silent)
    settings = _settings(await _notebook(emulator, tmp_path))
    with pytest.raises(e.HandshakeTimeout) as timed_out:
        await aconnect("arkouda", mode="port-forward", timeout=2.5, settings=settings)
    assert f"the port-forward says: port-forward to pod {NS}/{POD} port {silent}: error forwarding port" in str(
        timed_out.value
    )
    assert f"dial tcp4 127.0.0.1:{silent}: connect: connection refused" in str(timed_out.value)
    import arkouda as ak

    ak.client.socket.close(linger=0)
    # The client's reconnects did not become a stream of API requests: after three connections that
    # reached nothing, the forwarders stopped listening (one per resolve: connect resolved twice). Per
    # forwarder: the check at resolve time, the failures, and at most one connection accepted while
    # it was stopping.
    assert len(_forwards(emulator)) <= 2 * (1 + portforward.FAILURES_IN_ROW + 1)
    for _ in range(100):
        if not _forwarder_threads():
            break
        await asyncio.sleep(0.05)
    assert not _forwarder_threads()


async def test_a_forwarder_whose_pod_is_gone_stops_listening(
    emulator: KubeEmulator, standin: Any, tmp_path: Path
) -> None:
    await _publish(emulator, standin.host, standin.port)
    settings = _settings(await _notebook(emulator, tmp_path))
    endpoint = await aresolve("arkouda", mode="port-forward", timeout=10, settings=settings)
    forwarder = portforward.by_local_port(endpoint.port)
    assert forwarder is not None and forwarder.alive
    await emulator.delete_pod(NS, POD, grace_period_seconds=0)
    reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the API said 404: the connection is closed
    writer.close()
    for _ in range(100):
        if not forwarder.alive and not _forwarder_threads():
            break
        await asyncio.sleep(0.05)
    assert not forwarder.alive and not _forwarder_threads()
    assert forwarder.last_error is not None and f'pods "{POD}" not found' in forwarder.last_error
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", endpoint.port)


async def test_the_resolve_command_forwards_until_sigterm(emulator: KubeEmulator, standin: Any, tmp_path: Path) -> None:
    await _publish(emulator, standin.host, standin.port)
    kubeconfig = await _notebook(emulator, tmp_path)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arkouda_k8s",
        "resolve",
        "arkouda",
        "--mode",
        "port-forward",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        assert line.startswith("tcp://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        # Two round trips on fresh connections: each is a WebSocket of its own.
        for _ in range(2):
            result = await wire.probe("127.0.0.1", port, timeout=10)
            assert result.elapsed_ms > 0
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert code == 0, err
    assert f"forwarding to port-forward to pod {NS}/{POD}:{standin.port}" in err
    assert len(_forwards(emulator)) >= 3  # the check at resolve time, then one per connection
