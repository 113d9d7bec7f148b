"""The launch environment is built, not inherited: GASNet settings in, secrets out."""

from __future__ import annotations

from pathlib import Path

from arkouda_k8s import logs
from arkouda_k8s.entrypoints.gasnet import SshLaunch, launch_environment, server_command
from arkouda_k8s.settings import load

SSH = SshLaunch(
    hosts=["198.51.100.1", "198.51.100.2", "198.51.100.3"],
    wrapper=Path("/h/.ssh/gasnet-ssh"),
    identity=Path("/h/.ssh/id_ed25519"),
    known_hosts=Path("/h/.ssh/known_hosts"),
    port=2222,
)


def test_gasnet_environment_per_design() -> None:
    settings = load(["threads_per_locale"], None, {"CHPL_RT_NUM_THREADS_PER_LOCALE": "4"})
    env = launch_environment(settings, SSH, "198.51.100.1", {"PATH": "/usr/bin", "HOME": "/h"})
    assert env["GASNET_SPAWNFN"] == "S"
    assert env["GASNET_SSH_SERVERS"] == env["SSH_SERVERS"] == "198.51.100.1 198.51.100.2 198.51.100.3"
    assert env["GASNET_MASTERIP"] == "198.51.100.1"
    assert env["GASNET_SUPERNODE_MAXSIZE"] == "1"
    assert env["GASNET_SSH_CMD"] == "/h/.ssh/gasnet-ssh"
    assert "-p 2222" in env["GASNET_SSH_OPTIONS"] and "StrictHostKeyChecking=yes" in env["GASNET_SSH_OPTIONS"]
    assert env["CHPL_RT_NUM_THREADS_PER_LOCALE"] == "4"


def test_no_secret_and_nothing_unrelated_is_inherited() -> None:
    logs.register_secret("registered-value-1234567")
    parent = {
        "PATH": "/usr/bin",
        "HOME": "/h",
        "KUBERNETES_SERVICE_HOST": "203.0.113.1",
        "SSL_TOKEN": "t0ken-value",
        "TOKEN_FILE": "/var/run/token",
        "CERT_FILE": "/c",
        "KEY_FILE": "/k",
        "ARKOUDA_SERVER_TOKEN": "abc",
        "AWS_SECRET_ACCESS_KEY": "x",
        "GASNET_WORKERIP": "198.51.100.0",
        "CHPL_RT_OVERSUBSCRIBED": "yes",
        "GASNET_SSH_KEY_PASSWORD": "pw",
        "ARKOUDA_SERVER_CONNECTION_INFO": "/tmp/info",
        "ARKOUDA_SNEAKY": "registered-value-1234567",
    }
    env = launch_environment(load([]), SSH, "198.51.100.1", parent)
    assert env["GASNET_WORKERIP"] == "198.51.100.0"
    assert env["CHPL_RT_OVERSUBSCRIBED"] == "yes"
    assert env["ARKOUDA_SERVER_CONNECTION_INFO"] == "/tmp/info"
    for leaked in (
        "KUBERNETES_SERVICE_HOST",
        "SSL_TOKEN",
        "TOKEN_FILE",
        "CERT_FILE",
        "KEY_FILE",
        "ARKOUDA_SERVER_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "GASNET_SSH_KEY_PASSWORD",
        "ARKOUDA_SNEAKY",
    ):
        assert leaked not in env


def test_single_locale_has_no_ssh_settings() -> None:
    env = launch_environment(load([]), None, None, {"PATH": "/usr/bin"})
    assert not [k for k in env if k.startswith(("GASNET_SSH", "SSH_SERVERS", "GASNET_SPAWNFN"))]


def test_server_command_carries_the_seed_flags() -> None:
    settings = load(
        ["authenticate", "mem_track", "server_log_level", "server_port", "arkouda_server"],
        None,
        {
            "AUTHENTICATE": "true",
            "MEMTRACK": "false",
            "LOG_LEVEL": "DEBUG",
            "EXTERNAL_SERVICE_TARGET_PORT": "6000",
            "ARKOUDA_SERVER_PATH": "/opt/arkouda_server",
        },
    )
    assert server_command(settings, 3) == [
        "/opt/arkouda_server",
        "-nl",
        "3",
        "--ServerPort=6000",
        "--memTrack=false",
        "--authenticate=true",
        "--logLevel=LogLevel.DEBUG",
    ]
