"""A real ssh from this machine to real sshd "pods" on loopback addresses, through the GASNET_SSH_CMD wrapper."""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import socket
from pathlib import Path

import pytest

from arkouda_k8s.entrypoints.ssh import SSHD, install_keys, write_gasnet_ssh_wrapper
from arkouda_k8s.testing import loopback
from arkouda_k8s.testing.loopback import LoopbackError, LoopbackHosts, new_key_pair, process_tree


async def run(*argv: str, timeout: float = 30) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


async def wait_for_session(host: loopback.LoopbackHost, command: str) -> dict[int, int]:
    """The host's process tree once `command` runs in it (started through ssh)."""
    while True:
        tree = host.processes()
        if any(command in command_line(pid) for pid in tree):
            return tree
        await asyncio.sleep(0.02)


def gone(pid: int, started: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0] == "Z" or int(fields[19]) != started  # a zombie waiting for pid 1, or another process


async def test_pinned_ssh_reaches_every_host(loopback_hosts: LoopbackHosts) -> None:
    hosts = await loopback_hosts(3)
    assert len({h.address for h in hosts}) == 3
    assert all(h.address.startswith("127.") and h.port == 2222 for h in hosts)
    for host in hosts:
        code, out, err = await run(*loopback_hosts.client.ssh_command(host.address, "echo", "ok", "$SSH_CONNECTION"))
        assert code == 0, err
        said, _client_ip, _client_port, server_ip, server_port = out.split()
        assert (said, server_ip, server_port) == ("ok", host.address, "2222")
        assert f"Accepted publickey for {pwd.getpwuid(os.geteuid()).pw_name} from 127." in host.log_text()


async def test_a_host_with_another_host_key_is_refused(loopback_hosts: LoopbackHosts) -> None:
    (stranger,) = await loopback_hosts(1, host_key="per-host")
    assert stranger.host_public_key.split()[1] != loopback_hosts.client.pair.public_key.split()[1]
    code, out, err = await run(*loopback_hosts.client.ssh_command(stranger.address, "echo", "ok"))
    assert code == 255
    assert out == ""
    assert "Host key verification failed." in err
    assert f"Host key for [{stranger.address}]:2222 has changed and you have requested strict checking." in err


async def test_the_wrapper_wins_over_the_spawners_own_option(loopback_hosts: LoopbackHosts) -> None:
    """GASNet adds -o 'StrictHostKeyChecking no' before the user's options: the wrapper's come first."""
    (stranger,) = await loopback_hosts(1, host_key="per-host")
    spawner_style = [str(loopback_hosts.client.wrapper), "-o", "StrictHostKeyChecking no", stranger.address, "true"]
    code, _, err = await run(*spawner_style)
    assert code == 255 and "Host key verification failed." in err
    # Without the wrapper the same options connect to the stranger: pinning through options alone fails.
    identity = str(loopback_hosts.client.keys.private_key)
    known = str(loopback_hosts.client.keys.known_hosts)
    plain = ["ssh", "-o", "StrictHostKeyChecking no", "-o", "StrictHostKeyChecking=yes"]
    plain += ["-o", f"UserKnownHostsFile={known}", "-o", "BatchMode=yes", "-i", identity, "-p", "2222"]
    code, out, err = await run(*plain, stranger.address, "echo", "connected")
    assert (code, out) == (0, "connected\n"), err


async def test_a_wrong_client_key_is_denied(loopback_hosts: LoopbackHosts, tmp_path: Path) -> None:
    (host,) = await loopback_hosts(1)
    intruder = install_keys(new_key_pair(tmp_path / "intruder"), tmp_path / "intruder-home" / ".ssh")
    wrapper = write_gasnet_ssh_wrapper(
        tmp_path / "intruder-ssh",
        known_hosts=loopback_hosts.client.keys.known_hosts,  # knows the host, is not known by it
        identity=intruder.private_key,
        port=host.port,
    )
    code, out, err = await run(str(wrapper), host.address, "echo", "ok")
    assert code == 255 and out == ""
    assert f"@{host.address}: Permission denied (publickey)." in err


async def test_an_address_without_sshd_refuses_the_connection(loopback_hosts: LoopbackHosts) -> None:
    nowhere = loopback_hosts.unreachable()
    assert nowhere.startswith("127.")
    code, _, err = await run(*loopback_hosts.client.ssh_command(nowhere, "true"))
    assert code == 255
    assert f"ssh: connect to host {nowhere} port 2222: Connection refused" in err


async def test_strict_modes_follow_the_directory(ssh_key_pair: Path) -> None:
    """StrictModes yes where the path allows it logs in; forced under /tmp, sshd refuses the key."""
    with LoopbackHosts(key_pair=ssh_key_pair) as under_tmp:
        (forced,) = await under_tmp(1, strict_modes=True)
        code, _, err = await run(*under_tmp.client.ssh_command(forced.address, "true"))
        assert code == 255 and "Permission denied (publickey)" in err
        assert "bad ownership or modes for directory /tmp" in forced.log_text()
    if os.geteuid() != 0:
        return  # a directory outside /tmp whose every parent is safe needs root here (/run)
    with LoopbackHosts(key_pair=ssh_key_pair, root=Path("/run")) as safe:
        (host,) = await safe(1)
        assert "StrictModes yes" in host.config.read_text()
        code, out, err = await run(*safe.client.ssh_command(host.address, "echo", "ok"))
        assert (code, out) == (0, "ok\n"), err


async def test_teardown_stops_every_process_by_pid_and_removes_the_directory(ssh_key_pair: Path) -> None:
    with LoopbackHosts(key_pair=ssh_key_pair) as hosts:
        started = await hosts(2)
        root = hosts.root
        # a long-lived session on each host, like a GASNet locale started through ssh
        sessions = [
            await asyncio.create_subprocess_exec(
                *hosts.client.ssh_command(h.address, "sleep", "300"), stdin=asyncio.subprocess.DEVNULL
            )
            for h in started
        ]
        trees: dict[int, int] = {}
        for host in started:
            trees.update(await wait_for_session(host, "sleep"))
        assert len(trees) >= 6  # per host: sshd, its per-connection sshd(s), the sleep
    assert all(gone(pid, start) for pid, start in trees.items())
    assert all(h.process.returncode is not None for h in started)
    assert not root.exists()
    for session in sessions:  # the sessions end because their hosts went away
        assert await asyncio.wait_for(session.wait(), 30) == 255


async def test_killing_one_host_ends_its_sessions_only(loopback_hosts: LoopbackHosts) -> None:
    first, second = await loopback_hosts(2)
    session = await asyncio.create_subprocess_exec(
        *loopback_hosts.client.ssh_command(first.address, "sleep", "300"), stdin=asyncio.subprocess.DEVNULL
    )
    tree = await wait_for_session(first, "sleep")
    first.kill()
    assert await asyncio.wait_for(session.wait(), 30) == 255
    assert all(gone(pid, start) for pid, start in tree.items())
    assert not first.alive() and second.alive()
    code, _, err = await run(*loopback_hosts.client.ssh_command(first.address, "true"))
    assert code == 255 and "Connection refused" in err
    code, out, _ = await run(*loopback_hosts.client.ssh_command(second.address, "echo", "ok"))
    assert (code, out) == (0, "ok\n")


def test_sync_face(ssh_key_pair: Path) -> None:
    with LoopbackHosts(key_pair=ssh_key_pair) as hosts:
        (host,) = hosts.start_sync(1)
        assert host.alive() and len(hosts) == 1 and hosts[0] is host
        pid = host.pid
        started = process_tree(pid)[pid]
    assert gone(pid, started)


async def test_start_hosts_context_manager() -> None:
    async with loopback.start_hosts(2) as hosts:
        assert len(hosts) == 2 and all(h.alive() for h in hosts)
        root = hosts.root
    assert not root.exists() and not any(h.alive() for h in hosts)


async def test_addresses_do_not_collide_between_instances(ssh_key_pair: Path) -> None:
    with LoopbackHosts(key_pair=ssh_key_pair) as one, LoopbackHosts(key_pair=ssh_key_pair) as two:
        addresses = [h.address for h in await one(2)] + [h.address for h in await two(2)]
        addresses += [one.unreachable(), two.unreachable()]
    assert len(set(addresses)) == len(addresses)


async def test_an_address_taken_behind_our_back_is_skipped(ssh_key_pair: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process binds the address between our check and sshd's bind: sshd moves to the next one."""
    prefix = f"127.{230 + os.getpid() % 20}.{1 + os.getpid() % 250}."  # outside default_prefix's range
    monkeypatch.setattr(loopback, "_last_octet", itertools.cycle(range(1, 255)))
    monkeypatch.setattr(loopback, "_port_free", lambda _address, _port: True)  # the check misses the squatter
    with socket.socket() as squatter, LoopbackHosts(key_pair=ssh_key_pair, base_ip=prefix) as hosts:
        squatter.bind((prefix + "1", 2222))
        squatter.listen()
        (host,) = await hosts(1)
        assert host.address == prefix + "2"
        assert hosts.hosts == [host]  # the sshd that lost the race is gone, its directory too
        assert [p.name for p in hosts.root.iterdir() if p.name.startswith("host-")] == [host.directory.name]
        code, out, _ = await run(*hosts.client.ssh_command(host.address, "echo", "ok"))
        assert (code, out) == (0, "ok\n")


async def test_an_sshd_that_cannot_start_is_reported_with_its_log(
    ssh_key_pair: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LoopbackHosts(key_pair=ssh_key_pair) as hosts:
        monkeypatch.setattr(loopback, "sshd_command", lambda config: [SSHD, "-D", "-e", "-f", f"{config}.x"])
        with pytest.raises(LoopbackError, match=r"sshd for host-1 \(127\.[0-9.]+:2222\) exited with 1"):
            await hosts(1)
        assert hosts.hosts and not any(h.alive() for h in hosts)


def test_base_ip_must_be_loopback() -> None:
    with pytest.raises(ValueError, match="loopback prefix"):
        LoopbackHosts(base_ip="10.0.0.")
