"""The GASNet spawner without sshd: local locales (GASNET_SPAWNFN=L), an ssh stand-in that records
its command line, too few hosts. The real-ssh cases are in test_standin_ssh.py."""

from __future__ import annotations

import json
import os
import shlex
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from standinkit import exchange, killed_by, shell_status, wait_for_file

from arkouda_k8s import wire
from arkouda_k8s.testing.standin.fixtures import StandinProcess, StartStandin
from arkouda_k8s.testing.standin.spawner import SpawnSettings, ssh_command

FAKE_SSH = """#!/bin/sh
# ssh for tests: answers -V like OpenSSH, records its arguments (NUL-separated), runs the remote command here
if [ "$1" = "-V" ]; then echo "OpenSSH_9.2p1 (fake for tests)" >&2; exit 0; fi
printf '%s\\0' "$@" > "{log}/ssh.$$"
eval "remote=\\${{$#}}"
exec /bin/sh -c "$remote"
"""
NOT_OPENSSH = """#!/bin/sh
if [ "$1" = "-V" ]; then echo "some other ssh" >&2; exit 0; fi
printf '%s\\0' "$@" > "{log}/ssh.$$"
eval "remote=\\${{$#}}"
exec /bin/sh -c "$remote"
"""


def base_env(**more: str) -> dict[str, str]:
    """A small explicit environment (no SSH_CONNECTION of the developer's session reaches the locales)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), **more}


def write_script(path: Path, text: str, log: Path) -> Path:
    path.write_text(text.format(log=log))
    path.chmod(0o755)
    return path


def read_record(path: Path) -> dict[str, Any]:
    wait_for_file(path)
    record = json.loads(path.read_text())
    assert isinstance(record, dict)
    return record


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def wait_gone(pids: list[int], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if not gone(p)]}"
        time.sleep(0.05)


def locale_pids(record: dict[str, Any]) -> list[int]:
    return [int(locale["pid"]) for locale in record["locales"]]


@pytest.fixture
def local_cluster(standin_factory: StartStandin, tmp_path: Path) -> tuple[StandinProcess, dict[str, Any]]:
    record = tmp_path / "record.json"
    env = base_env(
        GASNET_SPAWNFN="L",
        ARKOUDA_STANDIN_RECORD=str(record),
        ARKOUDA_STANDIN_HOSTNAME="arkouda-server-0",
        MARKER="the-server-environment",
    )
    server = standin_factory("-nl", "3", env=env, inherit_env=False)
    return server, read_record(record)


def test_three_local_locales_are_in_getconfig(local_cluster: tuple[StandinProcess, dict[str, Any]]) -> None:
    server, _record = local_cluster
    config = wire.probe_sync("127.0.0.1", server.port, timeout=5).config
    assert config is not None
    assert config["numLocales"] == 3
    assert [loc["id"] for loc in config["LocaleConfigs"]] == [0, 1, 2]
    assert config["LocaleConfigs"][0]["name"] == "arkouda-server-0"


def test_each_locale_receives_the_environment_as_dash_e_arguments(
    local_cluster: tuple[StandinProcess, dict[str, Any]],
) -> None:
    _server, record = local_cluster
    assert record["server"]["environ"]["MARKER"] == "the-server-environment"
    for locale in record["locales"]:
        assert locale["env"]["MARKER"] == "the-server-environment"
        argv = locale["argv"]
        assert argv[argv.index("MARKER=the-server-environment") - 1] == "-E"
        cmdline = Path(f"/proc/{locale['pid']}/cmdline").read_bytes().split(b"\0")
        assert b"MARKER=the-server-environment" in cmdline  # what `ps` shows on that host


def test_shutdown_ends_every_locale(local_cluster: tuple[StandinProcess, dict[str, Any]]) -> None:
    server, record = local_cluster
    assert wire.shutdown_sync("127.0.0.1", server.port, protocol=wire.Protocol.PLAIN, timeout=5).startswith(
        "shutdown server"
    )
    assert server.wait() == 0
    wait_gone(locale_pids(record))


def test_sigterm_ends_every_locale(local_cluster: tuple[StandinProcess, dict[str, Any]]) -> None:
    server, record = local_cluster
    server.signal(signal.SIGTERM)
    assert shell_status(server.wait()) == 143
    wait_gone(locale_pids(record))


def test_locales_die_with_a_killed_server(local_cluster: tuple[StandinProcess, dict[str, Any]]) -> None:
    # SIGKILL leaves no time to tear anything down: the locales leave when their connection to it closes.
    server, record = local_cluster
    server.signal(signal.SIGKILL)
    assert killed_by(server.wait(), signal.SIGKILL)
    wait_gone(locale_pids(record))


def test_a_dead_locale_stops_the_server(local_cluster: tuple[StandinProcess, dict[str, Any]]) -> None:
    server, record = local_cluster
    os.kill(int(record["locales"][1]["pid"]), signal.SIGKILL)
    assert killed_by(server.wait(), signal.SIGTERM)  # exit status 143, as the real spawner's `kill <pid>` does
    assert "connection to localhost failed." in server.stdout_lines
    wait_gone(locale_pids(record))


def test_the_spawner_puts_its_options_before_the_users(standin_factory: StartStandin, tmp_path: Path) -> None:
    ssh = write_script(tmp_path / "fake-ssh", FAKE_SSH, tmp_path)
    env = base_env(
        GASNET_SPAWNFN="S",
        GASNET_SSH_SERVERS="127.0.0.11 127.0.0.12",
        GASNET_SSH_CMD=str(ssh),
        GASNET_SSH_OPTIONS="-p 2222 -o 'StrictHostKeyChecking yes' -o BatchMode=yes",
    )
    server = standin_factory("-nl", "2", env=env, inherit_env=False)
    calls = sorted(p.read_bytes().split(b"\0")[:-1] for p in tmp_path.glob("ssh.*"))
    assert [call[-2] for call in calls] == [b"127.0.0.11", b"127.0.0.12"]  # every host, the first included
    for call in calls:
        words = [word.decode() for word in call]
        assert words[:-2] == [
            "-o",
            "StrictHostKeyChecking no",  # first: ssh keeps it, the user's "yes" below is ignored
            "-o",
            "FallBackToRsh no",
            "-p",
            "2222",
            "-o",
            "StrictHostKeyChecking yes",
            "-o",
            "BatchMode=yes",
        ]
        remote = words[-1]
        assert remote.startswith(f"cd {shlex.quote(os.getcwd())} ; ")
        assert "arkouda_k8s.testing.standin.locale" in remote
        assert "-E 'GASNET_SSH_SERVERS=127.0.0.11 127.0.0.12'" in remote
    assert exchange(server.port, "noop") == "noop"


def test_a_command_that_is_not_openssh_gets_no_spawner_options(standin_factory: StartStandin, tmp_path: Path) -> None:
    ssh = write_script(tmp_path / "other-ssh", NOT_OPENSSH, tmp_path)
    env = base_env(GASNET_SPAWNFN="S", GASNET_SSH_SERVERS="127.0.0.11,127.0.0.12", GASNET_SSH_CMD=str(ssh))
    standin_factory("-nl", "2", env=env, inherit_env=False)
    for path in tmp_path.glob("ssh.*"):
        assert path.read_bytes().split(b"\0")[0] in (b"127.0.0.11", b"127.0.0.12")


@pytest.mark.parametrize("variable", ["GASNET_SSH_SERVERS", "SSH_SERVERS"])
def test_too_few_hosts_aborts_with_the_gasnet_message(
    standin_factory: StartStandin, tmp_path: Path, variable: str
) -> None:
    server = standin_factory(
        "-nl", "2", env=base_env(**{variable: "127.0.0.1"}), inherit_env=False, cwd=tmp_path, wait=False
    )
    code = server.wait()
    assert killed_by(code, signal.SIGABRT)
    assert shell_status(code) == 134
    assert server.stderr_lines == [
        "*** GASNET ERROR: Not enough machines in environment variable SSH_SERVERS to satisfy request for (2).",
        "Only (1) machines available: 127.0.0.1",
        "*** FATAL ERROR: Error spawning SPMD worker threads. Exiting...",
    ]
    assert not list(tmp_path.glob("core*"))


def test_no_hosts_at_all(standin_factory: StartStandin) -> None:
    server = standin_factory("-nl", "2", env=base_env(), inherit_env=False, wait=False)
    assert shell_status(server.wait()) == 134
    assert server.stderr_lines[0] == "*** GASNET ERROR: Environment variable SSH_SERVERS is missing."


def test_hosts_are_split_on_every_gasnet_separator() -> None:
    settings = SpawnSettings.from_env(4, {"GASNET_SSH_SERVERS": " 127.0.0.1,127.0.0.2/127.0.0.3;127.0.0.4:127.0.0.5 "})
    assert settings.servers == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert settings.master_ip == "127.0.0.1"
    assert SpawnSettings.from_env(1, {"GASNET_SSH_SERVERS": "a", "GASNET_MASTERIP": "198.51.100.7"}).master_ip == (
        "127.0.0.1"  # the address is data here: locales connect back on loopback only
    )


def test_ssh_command_word_splitting_is_the_shells() -> None:
    settings = SpawnSettings.from_env(
        1,
        {
            "GASNET_SSH_SERVERS": "h",
            "GASNET_SSH_CMD": "/opt/my ssh",
            "GASNET_SSH_OPTIONS": "-o 'UserKnownHostsFile /tmp/a b' -p 2222",
            "GASNET_SSH_REMOTE_PATH": "/work dir",
        },
    )
    command = ssh_command(settings, "h", ["python3", "-E", "A=b c"], openssh=True)
    assert command == [
        "/opt/my",
        "ssh",
        "-o",
        "StrictHostKeyChecking no",
        "-o",
        "FallBackToRsh no",
        "-o",
        "UserKnownHostsFile /tmp/a b",
        "-p",
        "2222",
        "h",
        "cd '/work dir' ; python3 -E 'A=b c'",
    ]
