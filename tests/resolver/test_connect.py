"""connect() with the real arkouda 2020.7.7 client against the stand-in, found by name through the API;
and `arkouda-k8s resolve` as a command."""

from __future__ import annotations

import asyncio
import sys
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from arkouda_k8s.registrar import objects as o
from arkouda_k8s.resolver import errors as e
from arkouda_k8s.resolver.api import aconnect
from arkouda_k8s.settings import Settings, load
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.pods import free_port

NS = "team-a"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[KubeEmulator]:
    # Loopback endpoint addresses allowed: the test's "pod" is the stand-in on 127.0.0.1.
    async with KubeEmulator(tls=True, allow_loopback_endpoints=True) as emu:
        await emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        yield emu


def _settings(emulator: KubeEmulator, tmp: Path) -> Settings:
    return load(["kubeconfig"], None, {"KUBECONFIG": str(emulator.write_kubeconfig(tmp / "kc", namespace=NS))})


async def _publish(emulator: KubeEmulator, ip: str, port: int, *, ready: bool = True) -> None:
    pod = o.PodIdentity(name="arkouda-server-0", uid="uid-0", ip=ip, namespace=NS)
    spec = o.ServiceSpec("arkouda", (o.Port("arkouda", port, port),))
    await emulator.create({**o.service(spec, pod), "metadata": {**o.service(spec, pod)["metadata"], "namespace": NS}})
    es = o.endpoint_slice(spec, pod, ready=ready)
    del es["metadata"]["ownerReferences"]
    es["metadata"]["name"] = "arkouda-abcde"
    await emulator.create(es)


def _close_client_socket() -> None:
    import arkouda as ak

    ak.client.socket.close(linger=0)  # the 2020.7.7 client never closes its socket


async def test_connect_waits_for_a_server_published_two_seconds_later(
    emulator: KubeEmulator, standin: Any, tmp_path: Path
) -> None:
    import arkouda as ak

    async def publish_later() -> None:
        await asyncio.sleep(2)
        await _publish(emulator, standin.host, standin.port)

    later = asyncio.create_task(publish_later())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Version mismatch", category=RuntimeWarning)
        await aconnect("arkouda", timeout=30, settings=_settings(emulator, tmp_path))
        config = await asyncio.to_thread(ak.get_config)
    await later
    assert config["ServerPort"] == standin.port
    assert any("connect" in line for line in standin.stdout_lines)
    _close_client_socket()
    # The test's own writes go straight into the emulator; every HTTP request is the resolver's: reads only.
    assert {r.verb for r in emulator.request_log if r.resource} <= {"get", "list", "watch"}


async def test_a_server_that_never_answers_is_a_handshake_timeout(emulator: KubeEmulator, tmp_path: Path) -> None:
    silent = free_port()  # published, but nothing listens there
    await _publish(emulator, "127.0.0.1", silent)
    with pytest.raises(e.HandshakeTimeout, match=f"arkouda_server at tcp://127.0.0.1:{silent}"):
        await aconnect("arkouda", timeout=2.5, settings=_settings(emulator, tmp_path))
    _close_client_socket()


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arkouda_k8s",
        "resolve",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_the_resolve_command_prints_the_url_or_the_failed_stage(emulator: KubeEmulator, tmp_path: Path) -> None:
    import os

    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "KUBECONFIG": str(emulator.write_kubeconfig(tmp_path / "kc", namespace=NS)),
    }
    code, out, err = await _cli("arkouda", env=env)
    assert code == 1 and out == ""
    assert "Service not found: there is no Service 'arkouda' in namespace 'team-a'" in err
    await _publish(emulator, "127.0.0.1", 5599)
    code, out, err = await _cli("arkouda", "-n", NS, "--wait", "5", env=env)
    assert (code, out) == (0, "tcp://127.0.0.1:5599\n"), err
    code, out, _ = await _cli("tcp://127.0.0.3:7000", env=env)
    assert (code, out) == (0, "tcp://127.0.0.3:7000\n")
