"""End to end, no mocks of our own code: the emulator + loopback pods (real sshd) + the stand-in + the real
arkouda 2020.7.7 client."""

from __future__ import annotations

import asyncio
import json
import signal
import warnings
from pathlib import Path
from typing import Any

from arkouda_k8s.errors import ExitCode
from arkouda_k8s.testing.loopback import make_key_dir
from arkouda_k8s.testing.pods import free_port

from .conftest import NS, Bed


def _connect_and_get_config(kubeconfig: Path) -> dict[str, Any]:
    """What a notebook does, in a worker thread: connect by name, ask the config, disconnect."""
    import arkouda as ak

    import arkouda_k8s
    from arkouda_k8s.settings import load

    settings = load(["kubeconfig"], None, {"KUBECONFIG": str(kubeconfig)})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        arkouda_k8s.connect("arkouda", NS, timeout=20, settings=settings)
        config: dict[str, Any] = ak.get_config()
        ak.disconnect()
        ak.client.socket.close(linger=0)  # the 2020.7.7 client never closes its socket
    # The real 2020.7.7 client compares its dist version (2020.7.7) with the server's 2020.07.07.
    assert all("Version mismatch" in str(w.message) for w in seen), [str(w.message) for w in seen]
    return config


async def _wait_exit(pod: Any, timeout: float = 20) -> int:
    return int(await asyncio.to_thread(pod.wait, timeout))


async def test_server_waits_for_locales_launches_publishes_and_withdraws_on_sigterm(bed: Bed) -> None:
    server = await bed.start_server(3)
    await asyncio.sleep(1)  # the locale pods turn Ready a second after the server starts waiting
    locales = [await bed.pods.start_locale(f"arkouda-locale-{i}") for i in range(2)]
    published = await bed.ready_slice(server=server)
    assert published["endpoints"][0]["addresses"] == [server.ip]
    config = await asyncio.to_thread(_connect_and_get_config, bed.admin_kubeconfig)
    assert config["numLocales"] == 3
    assert [loc["name"] for loc in config["LocaleConfigs"]][1:] == [loc.ip for loc in locales]
    server.signal(signal.SIGTERM)
    assert await _wait_exit(server) == 0, server.log_text()
    assert await bed.ours() == {}
    assert "withdrawn" in server.log_text()


async def test_a_killed_locale_withdraws_stops_the_server_and_names_the_locale(bed: Bed) -> None:
    server = await bed.start_server(3)
    locales = [await bed.pods.start_locale(f"arkouda-locale-{i}") for i in range(2)]
    await bed.ready_slice(server=server)
    # The locale pod goes away: its process dies and the API says so.
    locales[1].kill_group()
    await bed.emulator.delete_pod(NS, "arkouda-locale-1", grace_period_seconds=0)
    code = await _wait_exit(server)
    assert code == ExitCode.LOCALE_LOST, server.log_text()
    lost = [
        json.loads(line) for line in server.log_text().splitlines() if line.startswith("{") and '"locale_lost"' in line
    ]
    assert lost and lost[0]["locale"] == "arkouda-locale-1"
    assert await bed.ours() == {}


async def test_locales_never_ready_the_deadline_names_them_and_nothing_is_published(bed: Bed) -> None:
    await bed.pods.create_pod("arkouda-locale-0", {"app.kubernetes.io/component": "locale"})
    await bed.pods.create_pod("arkouda-locale-1", {"app.kubernetes.io/component": "locale"})
    server = await bed.start_server(3, LOCALE_TIMEOUT="2")
    code = await _wait_exit(server)
    assert code == ExitCode.LOCALES_NOT_READY, server.log_text()
    log = server.log_text()
    assert "0 of 2 locale pods ready" in log
    assert "arkouda-locale-0: Pending" in log and "arkouda-locale-1: Pending" in log
    assert await bed.ours() == {}


async def test_a_wrong_ssh_key_surfaces_as_the_entrypoint_error_with_the_ssh_message(bed: Bed) -> None:
    locale = await bed.pods.start_locale("arkouda-locale-0")
    other = make_key_dir(bed.tmp / "other-key")
    # The locale accepts another key than the release's: the server's key is refused.
    authorized = Path(locale.env["SSH_HOME"]) / "authorized_keys"
    authorized.write_text((other / "ssh-publickey").read_text())
    server = await bed.start_server(2)
    code = await _wait_exit(server)
    log = server.log_text()
    assert code not in (0, None), log
    assert "Permission denied (publickey)" in log
    assert "arkouda_server exited with" in log and "before it answered" in log
    assert await bed.ours() == {}


async def test_a_locale_presenting_another_host_key_is_refused(bed: Bed) -> None:
    other = make_key_dir(bed.tmp / "impostor-key")
    await bed.pods.start_locale("arkouda-locale-0", env={"SSH_KEY_DIR": str(other)})
    server = await bed.start_server(2)
    code = await _wait_exit(server)
    log = server.log_text()
    assert code not in (0, None), log
    assert "Host key verification failed." in log
    assert await bed.ours() == {}


async def test_the_launch_environment_carries_no_secret(bed: Bed) -> None:
    record = bed.tmp / "standin-record.json"
    token = bed.emulator.service_account_token(NS, "arkouda-server")
    secrets = {
        "SSL_TOKEN": "seed-token-0123456789",
        "ARKOUDA_SERVER_TOKEN": "arkouda-token-9876543210",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-abcdefghij",
        "GASNET_LEAK": token,
    }
    locale = await bed.pods.start_locale("arkouda-locale-0")
    server = await bed.start_server(2, ARKOUDA_STANDIN_RECORD=str(record), **secrets)
    await bed.ready_slice(server=server)
    received = record.read_text()
    for name, value in secrets.items():
        assert value not in received, f"{name} reached the launch environment"
    assert "KUBECONFIG" not in received and "kubeconfig" not in received
    data = json.loads(received)
    locale_env = data["locales"][-1]["env"]
    assert locale_env["GASNET_SSH_SERVERS"] == f"{server.ip} {locale.ip}"
    assert "StrictHostKeyChecking=yes" in locale_env["GASNET_SSH_OPTIONS"]
    server.signal(signal.SIGTERM)
    assert await _wait_exit(server) == 0


async def test_the_single_locale_entrypoint_publishes_serves_health_and_withdraws(bed: Bed) -> None:
    import aiohttp

    health = free_port()
    server = await bed.pods.start_server(
        "arkouda-single-0",
        num_locales=1,
        port=free_port(),
        command="single",
        env={"REGISTRAR_HEALTH_PORT": str(health)},
    )
    published = await bed.ready_slice(server=server)
    assert published["endpoints"][0]["addresses"] == [server.ip]
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{health}/healthz") as answer:
        assert answer.status == 200  # the charts' readiness probe
        assert (await answer.text()).startswith("ok: published")
    config = await asyncio.to_thread(_connect_and_get_config, bed.admin_kubeconfig)
    assert config["numLocales"] == 1
    server.signal(signal.SIGTERM)
    assert await _wait_exit(server) == 0, server.log_text()
    assert await bed.ours() == {}
