"""Multi-locale launches over real OpenSSH to loopback sshd "pods": what works, and what a user sees
when it does not (../arkouda-golden/gasnet-ssh-spawner.md: the messages and the exit statuses)."""

from __future__ import annotations

import json
import os
import pwd
import signal
import time
from pathlib import Path
from typing import Any

from standinkit import killed_by, shell_status, wait_for_file

from arkouda_k8s import wire
from arkouda_k8s.testing.loopback import LoopbackHosts, make_key_dir
from arkouda_k8s.testing.standin.fixtures import StandinProcess, StartStandin

SERVER_NAME = "arkouda-server-0"


def gasnet_env(
    hosts: LoopbackHosts,
    addresses: list[str],
    tmp_path: Path,
    *,
    identity: Path | None = None,
    known_hosts: Path | None = None,
    options: str = "",
    ssh_cmd: Path | None = None,
) -> dict[str, str]:
    """The launch environment of DESIGN.md §2.6 for these hosts; known_hosts is always a file of the test's."""
    client = hosts.client
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "GASNET_SPAWNFN": "S",
        "GASNET_SSH_SERVERS": " ".join(addresses),
        "GASNET_MASTERIP": addresses[0],
        "GASNET_SSH_OPTIONS": (
            f"-p {client.port} -i {identity or client.keys.private_key} -o LogLevel=ERROR -o BatchMode=yes "
            f"-o UserKnownHostsFile={known_hosts or client.keys.known_hosts} {options}"
        ).strip(),
        "ARKOUDA_STANDIN_HOSTNAME": SERVER_NAME,
        "ARKOUDA_STANDIN_RECORD": str(tmp_path / "record.json"),
    }
    if ssh_cmd is not None:
        env["GASNET_SSH_CMD"] = str(ssh_cmd)
    return env


def launch(standin_factory: StartStandin, env: dict[str, str], num_locales: int, *, wait: bool) -> StandinProcess:
    return standin_factory("-nl", str(num_locales), env=env, inherit_env=False, wait=wait, timeout=60)


def read_record(tmp_path: Path) -> dict[str, Any]:
    wait_for_file(tmp_path / "record.json", timeout=30)
    record = json.loads((tmp_path / "record.json").read_text())
    assert isinstance(record, dict)
    return record


def empty_known_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "empty_known_hosts"
    path.write_text("")
    return path


def strict_wrapper(tmp_path: Path, known_hosts: Path) -> Path:
    """A GASNET_SSH_CMD that puts strict host-key checking first (the only way it can work)."""
    path = tmp_path / "strict-ssh"
    path.write_text(f'#!/bin/sh\nexec ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile={known_hosts} "$@"\n')
    path.chmod(0o700)
    return path


def user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def wait_gone(host_processes: dict[int, int], pids: list[int], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while any(pid in host_processes for pid in pids):
        assert time.monotonic() < deadline, f"locales still running: {pids}"
        time.sleep(0.05)
        host_processes = {p: s for p, s in host_processes.items() if Path(f"/proc/{p}").exists()}


def failed(server: StandinProcess) -> int:
    code = server.wait(60)
    assert killed_by(code, signal.SIGTERM), server.output()
    assert shell_status(code) == 143
    assert not any("server listening" in line for line in server.stdout_lines)
    return code


def test_three_locales_over_three_sshds(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    hosts = loopback_hosts.start_sync(3)
    addresses = [h.address for h in hosts]
    server = launch(standin_factory, gasnet_env(loopback_hosts, addresses, tmp_path), 3, wait=True)
    config = wire.probe_sync(addresses[0], server.port, timeout=10).config  # it listens on GASNET_MASTERIP too
    assert config is not None
    assert config["numLocales"] == 3
    assert [loc["name"] for loc in config["LocaleConfigs"]] == [SERVER_NAME, addresses[1], addresses[2]]
    record = read_record(tmp_path)
    for host, locale in zip(hosts, record["locales"], strict=True):
        # Each locale runs on its host, started through ssh — locale 0 on the server's own host too.
        assert locale["pid"] in host.processes()
        assert locale["spawn_command"][:5] == ["ssh", "-o", "StrictHostKeyChecking no", "-o", "FallBackToRsh no"]
        assert locale["spawn_command"][-2] == host.address
        assert locale["env"]["GASNET_SSH_SERVERS"] == " ".join(addresses)  # the -E copy of the environment
    answer = wire.shutdown_sync("127.0.0.1", server.port, protocol=wire.Protocol.JSON, timeout=10)
    assert answer.startswith("shutdown server")
    assert server.wait(30) == 0
    for host, locale in zip(hosts, record["locales"], strict=True):
        wait_gone(host.processes(), [locale["pid"]])


def test_through_the_pinned_wrapper_of_the_entrypoints(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    addresses = [h.address for h in loopback_hosts.start_sync(2)]
    env = gasnet_env(loopback_hosts, addresses, tmp_path, ssh_cmd=loopback_hosts.client.wrapper)
    server = launch(standin_factory, env, 2, wait=True)
    config = wire.probe_sync("127.0.0.1", server.port, timeout=10).config
    assert config is not None
    assert config["numLocales"] == 2


def test_strict_checking_in_gasnet_ssh_options_alone_is_ignored(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    # Observed on the real spawner: its own -o 'StrictHostKeyChecking no' comes first and wins.
    addresses = [h.address for h in loopback_hosts.start_sync(2)]
    unknown = empty_known_hosts(tmp_path)
    env = gasnet_env(loopback_hosts, addresses, tmp_path, known_hosts=unknown, options="-o StrictHostKeyChecking=yes")
    server = launch(standin_factory, env, 2, wait=True)
    assert server.returncode is None
    assert wire.probe_sync("127.0.0.1", server.port, timeout=10).config is not None


def test_an_unknown_host_key_through_a_strict_wrapper_fails(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    addresses = [h.address for h in loopback_hosts.start_sync(2)]
    unknown = empty_known_hosts(tmp_path)
    wrapper = strict_wrapper(tmp_path, unknown)
    server = launch(standin_factory, gasnet_env(loopback_hosts, addresses, tmp_path, ssh_cmd=wrapper), 2, wait=False)
    failed(server)
    bad = [a for a in addresses if f"connection to {a} failed." in server.stdout_lines]
    assert bad, server.output()
    for address in bad:
        assert (
            f"No ED25519 host key is known for [{address}]:2222 and you have requested strict checking."
            in server.stderr_lines
        )
    assert "Host key verification failed." in server.stderr_lines


def test_a_host_with_another_host_key_is_refused_by_the_pinned_wrapper(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    addresses = [h.address for h in loopback_hosts.start_sync(2, host_key="per-host")]
    env = gasnet_env(loopback_hosts, addresses, tmp_path, ssh_cmd=loopback_hosts.client.wrapper)
    server = launch(standin_factory, env, 2, wait=False)
    failed(server)
    assert "Host key verification failed." in server.stderr_lines
    assert any(f"connection to {a} failed." in server.stdout_lines for a in addresses)


def test_a_key_that_is_not_authorized_fails_on_every_host(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    addresses = [h.address for h in loopback_hosts.start_sync(2)]
    stranger = make_key_dir(tmp_path / "stranger") / "ssh-privatekey"
    stranger.chmod(0o600)
    server = launch(standin_factory, gasnet_env(loopback_hosts, addresses, tmp_path, identity=stranger), 2, wait=False)
    failed(server)
    for address in addresses:
        assert f"{user()}@{address}: Permission denied (publickey)." in server.stderr_lines
        assert f"connection to {address} failed." in server.stdout_lines


def test_an_unreachable_host_fails(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    hosts = loopback_hosts.start_sync(2)
    nobody = loopback_hosts.unreachable()  # a loopback address of this test where nothing listens
    addresses = [hosts[0].address, nobody, hosts[1].address]
    server = launch(standin_factory, gasnet_env(loopback_hosts, addresses, tmp_path), 3, wait=False)
    failed(server)
    assert f"ssh: connect to host {nobody} port 2222: Connection refused" in server.stderr_lines
    assert f"connection to {nobody} failed." in server.stdout_lines


def test_a_killed_locale_stops_the_server(
    loopback_hosts: LoopbackHosts, standin_factory: StartStandin, tmp_path: Path
) -> None:
    hosts = loopback_hosts.start_sync(3)
    addresses = [h.address for h in hosts]
    server = launch(standin_factory, gasnet_env(loopback_hosts, addresses, tmp_path), 3, wait=True)
    record = read_record(tmp_path)
    victim = record["locales"][2]
    os.kill(victim["pid"], signal.SIGKILL)  # the locale process on the third host, by pid
    code = server.wait(60)
    assert killed_by(code, signal.SIGTERM), server.output()
    assert f"connection to {addresses[2]} failed." in server.stdout_lines
    for host, locale in zip(hosts, record["locales"], strict=True):
        wait_gone(host.processes(), [locale["pid"]])
