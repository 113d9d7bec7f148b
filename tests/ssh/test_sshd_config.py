"""The sshd configuration (checked by the real `sshd -t`), StrictModes, /run/sshd and the GASNet wrapper."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from arkouda_k8s.entrypoints.ssh import (
    PRIVILEGE_SEPARATION_DIR,
    SSHD,
    InstalledKeys,
    SshdConfigError,
    check_sshd_config,
    install_keys,
    load_key_pair,
    prepare_privilege_separation_dir,
    sshd_command,
    strict_modes_problem,
    write_gasnet_ssh_wrapper,
    write_sshd_config,
)
from arkouda_k8s.testing.loopback import openssh_problem
from arkouda_k8s.testing.pytest_plugin import find_tool, require_component


@pytest.fixture
def keys(ssh_key_pair: Path, tmp_path: Path) -> InstalledKeys:
    require_component("sshd", openssh_problem())
    prepare_privilege_separation_dir()
    return install_keys(load_key_pair(ssh_key_pair), tmp_path / "home" / ".ssh")


def directives(config: Path) -> dict[str, str]:
    said: dict[str, str] = {}
    for line in config.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            said[key] = value
    return said


def test_config_is_accepted_by_sshd_and_says_what_it_must(keys: InstalledKeys, tmp_path: Path) -> None:
    config = write_sshd_config(
        tmp_path,
        host_key=keys.private_key,
        authorized_keys=keys.authorized_keys,
        pid_file=tmp_path / "sshd.pid",
        strict_modes=False,
    )
    said = directives(config)
    assert said["ListenAddress"] == "0.0.0.0:2222"
    assert said["Port"] == "2222"
    assert said["HostKey"] == str(keys.private_key)  # the shared pair is the host key
    assert said["AuthorizedKeysFile"] == str(keys.authorized_keys)
    for key, value in {
        "PubkeyAuthentication": "yes",
        "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no",
        "UsePAM": "no",
        "PermitRootLogin": "prohibit-password",
        "AllowTcpForwarding": "no",
        "X11Forwarding": "no",
        "PrintMotd": "no",
        "StrictModes": "no",
        "LogLevel": "INFO",
    }.items():
        assert said[key] == value, key
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # and the effective configuration, as sshd itself reads it
    effective = subprocess.run([SSHD, "-T", "-f", str(config)], capture_output=True, text=True, check=True).stdout
    assert (
        "port 2222" in effective
        and "listenaddress 0.0.0.0:2222" in effective
        and "passwordauthentication no" in effective
        and "usepam no" in effective
    )


def test_listen_address_and_port_and_strict_modes(keys: InstalledKeys, tmp_path: Path) -> None:
    config = write_sshd_config(
        tmp_path,
        host_key=keys.private_key,
        authorized_keys=keys.authorized_keys,
        listen_address="127.0.10.9",
        port=2299,
        pid_file=tmp_path / "sshd.pid",
        strict_modes=True,
    )
    said = directives(config)
    assert said["ListenAddress"] == "127.0.10.9:2299"
    assert said["StrictModes"] == "yes"


def test_ipv6_listen_address_is_bracketed(keys: InstalledKeys, tmp_path: Path) -> None:
    config = write_sshd_config(
        tmp_path,
        host_key=keys.private_key,
        authorized_keys=keys.authorized_keys,
        listen_address="::",
        pid_file=tmp_path / "sshd.pid",
        strict_modes=False,
    )
    assert directives(config)["ListenAddress"] == "[::]:2222"


def test_a_host_key_sshd_cannot_use_is_reported_with_sshds_words(keys: InstalledKeys, tmp_path: Path) -> None:
    loose = tmp_path / "loose_key"
    loose.write_bytes(keys.private_key.read_bytes())
    loose.chmod(0o644)
    with pytest.raises(SshdConfigError) as caught:
        write_sshd_config(
            tmp_path,
            host_key=loose,
            authorized_keys=keys.authorized_keys,
            pid_file=tmp_path / "sshd.pid",
            strict_modes=False,
        )
    message = str(caught.value)
    assert f"sshd refused the configuration {tmp_path / 'sshd_config'}" in message
    assert "are too open" in message and "no hostkeys available" in message


def test_a_path_sshd_config_cannot_express_is_refused(keys: InstalledKeys, tmp_path: Path) -> None:
    with pytest.raises(SshdConfigError, match=r"authorized_keys path .* holds a space"):
        write_sshd_config(
            tmp_path,
            host_key=keys.private_key,
            authorized_keys=tmp_path / "my keys",
            pid_file=tmp_path / "sshd.pid",
            strict_modes=False,
        )


def test_check_sshd_config_reports_a_bad_directive(tmp_path: Path) -> None:
    require_component("sshd", openssh_problem())
    config = tmp_path / "sshd_config"
    config.write_text("NoSuchDirective yes\n")
    with pytest.raises(SshdConfigError, match="Bad configuration option: NoSuchDirective"):
        check_sshd_config(config)


def test_sshd_command_runs_in_the_foreground_logging_to_stderr(tmp_path: Path) -> None:
    assert sshd_command(tmp_path / "c") == ["/usr/sbin/sshd", "-D", "-e", "-f", str(tmp_path / "c")]


# --- StrictModes: the same walk as sshd's safe_path() ---


def test_strict_modes_refuses_a_key_under_tmp(keys: InstalledKeys) -> None:
    problem = strict_modes_problem(keys.authorized_keys)
    assert problem is not None and "directory /tmp" in problem


def test_strict_modes_stops_at_the_home_directory(keys: InstalledKeys, tmp_path: Path) -> None:
    home = keys.ssh_home.parent
    home.chmod(0o755)
    assert strict_modes_problem(keys.authorized_keys, uid=os.geteuid(), home=home) is None
    keys.ssh_home.chmod(0o770)
    problem = strict_modes_problem(keys.authorized_keys, uid=os.geteuid(), home=home)
    assert problem is not None and f"directory {keys.ssh_home}" in problem
    keys.ssh_home.chmod(0o700)
    keys.authorized_keys.chmod(0o620)
    problem = strict_modes_problem(keys.authorized_keys, uid=os.geteuid(), home=home)
    assert problem == f"bad ownership or modes for file {keys.authorized_keys}"


# --- /run/sshd ---


def test_privilege_separation_dir_exists_when_root() -> None:
    made = prepare_privilege_separation_dir()
    if os.geteuid() == 0:
        assert made == PRIVILEGE_SEPARATION_DIR
        info = PRIVILEGE_SEPARATION_DIR.stat()
        assert stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022
    else:
        assert made is None  # verified: a non-root sshd (port 2222) runs without it


# --- the GASNET_SSH_CMD wrapper ---


def test_wrapper_puts_the_pinning_options_before_the_spawners(tmp_path: Path) -> None:
    show_argv = tmp_path / "show-argv"  # stands in for ssh: prints each argument on a line of its own
    show_argv.write_text('#!/bin/sh\nfor word in "$@"; do printf \'%s\\n\' "$word"; done\n')
    show_argv.chmod(0o755)
    wrapper = write_gasnet_ssh_wrapper(
        tmp_path / "gasnet-ssh",
        known_hosts=tmp_path / "known hosts",  # a space, to prove the quoting
        identity=tmp_path / "it's key",
        port=2222,
        ssh=str(show_argv),
    )
    assert stat.S_IMODE(wrapper.stat().st_mode) == 0o700
    # the spawner's own command: wrapper -o 'StrictHostKeyChecking no' <GASNET_SSH_OPTIONS> host cmd
    done = subprocess.run(
        [str(wrapper), "-o", "StrictHostKeyChecking no", "-o", "LogLevel=ERROR", "127.0.0.1", "cmd"],
        capture_output=True,
        text=True,
        check=True,
    )
    argv = done.stdout.splitlines()
    assert argv[:15] == [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={tmp_path / 'known hosts'}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "ConnectTimeout=10",
        "-i",
        str(tmp_path / "it's key"),
        "-p",
    ]
    assert argv[15:] == ["2222", "-o", "StrictHostKeyChecking no", "-o", "LogLevel=ERROR", "127.0.0.1", "cmd"]


def test_wrapper_is_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck = find_tool("shellcheck")
    require_component("shellcheck", None if shellcheck else "shellcheck is not installed (./setup.sh installs it)")
    assert shellcheck is not None
    wrapper = write_gasnet_ssh_wrapper(
        tmp_path / "gasnet-ssh", known_hosts=tmp_path / "kh", identity=tmp_path / "id", port=2222
    )
    done = subprocess.run([shellcheck, "--shell=sh", str(wrapper)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
