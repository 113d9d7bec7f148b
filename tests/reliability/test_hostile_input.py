"""Hostile and broken input: a malformed kubeconfig, bad key files in the ssh Secret, an arkouda_server that
answers garbage or never, our EndpointSlice edited by someone else into a bad shape.

Each must end in a named error with its documented exit code — before anything started where the input
is a setting — or be repaired; and nothing may be left half-published.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from arkouda_k8s.errors import ExitCode, SettingsError
from arkouda_k8s.kube import load_api_config
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.registrar.health import ZmqProbe
from arkouda_k8s.settings import KUBE_API, load
from arkouda_k8s.testing.loopback import make_key_dir, openssh_problem
from arkouda_k8s.testing.pytest_plugin import require_component
from arkouda_k8s.testing.standin.fixtures import free_port, start_standin

from .kit import (
    NS,
    POD_IP,
    Cluster,
    SwitchProbe,
    open_cluster,
    remember_log,
    remember_secret,
    run_cli,
    settle,
)

JSON = dict[str, Any]

# --- a malformed kubeconfig: exit 2, naming KUBECONFIG ----------------------------------------------------

_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
GOOD: JSON = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "c",
    "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": _CA}}],
    "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u", "namespace": "team-a"}}],
    "users": [{"name": "u", "user": {"token": "kubeconfig-token-0123456789"}}],
}


def _changed(change: Callable[[JSON], object]) -> str:
    config = copy.deepcopy(GOOD)
    change(config)
    return yaml.safe_dump(config)


def _cluster(config: JSON) -> JSON:
    return dict(config["clusters"][0]["cluster"])


KUBECONFIGS: dict[str, str | bytes] = {
    "binary-garbage": b"\x00\xff\xfe{{{ not: yaml: [",
    "a-yaml-list": "- a\n- b\n",
    "a-yaml-scalar": "hello\n",
    "empty": "",
    "no-clusters-no-contexts": "apiVersion: v1\nkind: Config\n",
    "current-context-missing": _changed(lambda c: c.update({"current-context": "nope"})),
    "context-names-a-missing-cluster": _changed(lambda c: c["contexts"][0]["context"].update({"cluster": "nope"})),
    "context-names-a-missing-user": _changed(lambda c: c["contexts"][0]["context"].update({"user": "nope"})),
    "clusters-not-a-list": _changed(lambda c: c.update({"clusters": {"a": 1}})),
    "insecure-skip-tls-verify": _changed(
        lambda c: c["clusters"][0]["cluster"].update({"insecure-skip-tls-verify": True})
    ),
    "insecure-skip-tls-verify-as-text": _changed(
        lambda c: c["clusters"][0]["cluster"].update({"insecure-skip-tls-verify": "true"})
    ),
    "ca-file-missing": _changed(
        lambda c: c["clusters"][0].update(
            {"cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": "/nonexistent/ca.crt"}}
        )
    ),
    "ca-data-not-base64": _changed(
        lambda c: c["clusters"][0]["cluster"].update({"certificate-authority-data": "!!!not base64"})
    ),
    "token-file-missing": _changed(lambda c: c["users"][0].update({"user": {"tokenFile": "/nonexistent/token"}})),
    "server-not-a-url": _changed(lambda c: c["clusters"][0]["cluster"].update({"server": "not a url"})),
    "no-server": _changed(lambda c: c["clusters"][0]["cluster"].pop("server")),
    "namespace-not-a-dns-label": _changed(
        lambda c: c["contexts"][0]["context"].update({"namespace": "Not_A_Namespace!"})
    ),
}
KUBECONFIG_BUGS: dict[str, str] = {}  # all fixed: none known


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n, marks=[pytest.mark.xfail(strict=True, reason=KUBECONFIG_BUGS[n])] if n in KUBECONFIG_BUGS else []
        )
        for n in KUBECONFIGS
    ],
)
async def test_a_malformed_kubeconfig_is_a_settings_error_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / "kubeconfig"
    content = KUBECONFIGS[name]
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    settings = load(KUBE_API, None, {"KUBECONFIG": str(path)})
    with pytest.raises(SettingsError) as bad:
        await load_api_config(settings, serviceaccount_dir=tmp_path / "not-in-a-pod")
    message = str(bad.value)
    assert bad.value.exit_code == ExitCode.USAGE
    assert "KUBECONFIG" in message and str(path) in message
    assert "\n" not in message, "one line"
    assert "kubeconfig-token-0123456789" not in message


@pytest.mark.parametrize("name", ["binary-garbage", "insecure-skip-tls-verify"])
def test_commands_exit_2_on_a_malformed_kubeconfig(tmp_path: Path, name: str) -> None:
    path = tmp_path / "kubeconfig"
    content = KUBECONFIGS[name]
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    env = {"KUBECONFIG": str(path), "POD_NAME": "arkouda-server-0", "POD_IP": POD_IP, "POD_UID": "u-1"}
    for command in ("register", "resolve"):
        done = run_cli(command, env=env, cwd=tmp_path)
        assert done.returncode == ExitCode.USAGE, (command, done.stdout, done.stderr)
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert errors and "KUBECONFIG" in errors[-1], done.stderr


# --- the ssh Secret: missing, unreadable, not OpenSSH: exit 2 before sshd starts --------------------------


def _keygen(path: Path, *args: str) -> Path:
    flags = list(args) if "-N" in args else [*args, "-N", ""]
    subprocess.run(["ssh-keygen", "-q", *flags, "-C", "t", "-f", str(path)], check=True, capture_output=True)
    remember_secret(path.read_text())
    return path


def _secret(tmp: Path, name: str, content: bytes) -> Path:
    directory = tmp / "secret"
    directory.mkdir(exist_ok=True)
    (directory / name).write_bytes(content)
    return directory


def _bad_secret(kind: str, tmp: Path) -> tuple[Path, str]:
    """A key directory broken in one way, and what the error must say."""
    if kind == "missing-directory":
        return tmp / "no-such-secret", "SSH_KEY_DIR"
    if kind == "empty-directory":
        (tmp / "secret").mkdir()
        return tmp / "secret", "no private key in"
    if kind == "empty-file":
        return _secret(tmp, "ssh-privatekey", b""), "is empty"
    if kind == "a-directory-where-the-key-belongs":
        (tmp / "secret" / "ssh-privatekey").mkdir(parents=True)
        return tmp / "secret", "is not a regular file"
    if kind == "garbage":
        return _secret(tmp, "ssh-privatekey", b"hello, this is not a key\n"), "not an OpenSSH or PEM private key"
    if kind == "putty":
        return _secret(tmp, "ssh-privatekey", b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"), "PuTTY key"
    if kind == "public-key-as-private":
        public = _keygen(tmp / "k", "-t", "ed25519").with_suffix(".pub").read_bytes()
        return _secret(tmp, "ssh-privatekey", public), "holds a public key where the private key belongs"
    if kind == "damaged-openssh":
        lines = _keygen(tmp / "k", "-t", "ed25519").read_text().splitlines()
        return _secret(tmp, "ssh-privatekey", "\n".join([lines[0], lines[1], lines[-1]]).encode() + b"\n"), "damaged"
    if kind == "passphrase":
        key = _keygen(tmp / "k", "-t", "ed25519", "-N", "correct horse battery").read_bytes()
        return _secret(tmp, "ssh-privatekey", key), "protected by a passphrase"
    if kind == "short-rsa":
        key = _keygen(tmp / "k", "-t", "rsa", "-b", "1024").read_bytes()
        return _secret(tmp, "id_rsa", key), "1024-bit RSA key"
    raise AssertionError(kind)


BAD_SECRETS = [
    "missing-directory",
    "empty-directory",
    "empty-file",
    "a-directory-where-the-key-belongs",
    "garbage",
    "putty",
    "public-key-as-private",
    "damaged-openssh",
    "passphrase",
    "short-rsa",
]


@pytest.mark.parametrize("kind", BAD_SECRETS)
def test_the_locale_refuses_a_bad_ssh_secret_before_sshd_starts(tmp_path: Path, kind: str) -> None:
    require_component("sshd", openssh_problem())
    key_dir, says = _bad_secret(kind, tmp_path)
    home = tmp_path / "home" / ".ssh"
    done = run_cli(
        "locale",
        env={"SSH_KEY_DIR": str(key_dir), "SSH_HOME": str(home), "POD_IP": "127.0.0.1", "SSH_PORT": str(free_port())},
        cwd=tmp_path,
    )
    (tmp_path / "locale.log").write_text(done.stdout + done.stderr)
    remember_log(tmp_path / "locale.log")
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert says in done.stderr, done.stderr
    assert "sshd_started" not in done.stderr and not (home / "sshd").exists(), "sshd was set up anyway"


def test_the_server_refuses_a_bad_ssh_secret_before_anything_starts(tmp_path: Path) -> None:
    require_component("sshd", openssh_problem())
    key_dir, says = _bad_secret("putty", tmp_path)
    home = tmp_path / "home" / ".ssh"
    env = {
        "SSH_KEY_DIR": str(key_dir),
        "SSH_HOME": str(home),
        "POD_IP": "127.0.0.1",
        "POD_NAME": "arkouda-server-0",
        "NUMLOCALES": "2",
        "KUBECONFIG": str(tmp_path / "kubeconfig"),
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(GOOD))  # valid, and never read: the key is checked first
    done = run_cli("server", env=env, cwd=tmp_path)
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert says in done.stderr
    assert not (home / "sshd").exists()


def test_a_key_the_user_cannot_read_is_refused_by_the_locale_before_sshd_starts(request: pytest.FixtureRequest) -> None:
    """As the images run it: a non-root user, the Secret's files owned by root with mode 0600."""
    require_component("sshd", openssh_problem())
    if os.geteuid() != 0:
        pytest.skip("needs root to make a file this user cannot read (the suite runs as root in CI)")
    import pwd

    setpriv = shutil.which("setpriv")
    require_component("setpriv", None if setpriv else "setpriv is not installed (util-linux)")
    user = pwd.getpwnam("daemon")
    scratch = Path(tempfile.mkdtemp(prefix="arkouda-k8s-unreadable-"))  # pytest's tmp is root-only (0700)
    scratch.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(scratch, ignore_errors=True))
    key_dir = make_key_dir(scratch / "secret")
    remember_secret((key_dir / "ssh-privatekey").read_text())
    (key_dir / "ssh-privatekey").chmod(0o600)
    home = scratch / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    done = subprocess.run(
        [
            str(setpriv),
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "--",
            sys.executable,
            "-m",
            "arkouda_k8s",
            "locale",
        ],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "SSH_KEY_DIR": str(key_dir),
            "SSH_HOME": str(home / ".ssh"),
            "POD_IP": "127.0.0.1",
            "SSH_PORT": str(free_port()),
        },
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert f"is not readable by uid {user.pw_uid}" in done.stderr
    assert not (home / ".ssh" / "sshd").exists()


def test_too_open_key_files_and_home_are_used_through_private_copies(tmp_path: Path) -> None:
    """A Secret volume shows its files 0644 (or wider): that is how pods get them, so they are accepted — the
    copies sshd and ssh use are 0600 in a 0700 ~/.ssh, even when SSH_HOME was world-writable before."""
    require_component("sshd", openssh_problem())
    from arkouda_k8s.entrypoints import sshd as pod_sshd

    key_dir = make_key_dir(tmp_path / "secret")
    remember_secret((key_dir / "ssh-privatekey").read_text())
    (key_dir / "ssh-privatekey").chmod(0o666)
    home = tmp_path / "home" / ".ssh"
    home.mkdir(parents=True)
    home.chmod(0o777)
    (home / "id_ed25519").write_text("stale")
    (home / "id_ed25519").chmod(0o666)
    settings = load(("ssh_key_dir", "ssh_home"), None, {"SSH_KEY_DIR": str(key_dir), "SSH_HOME": str(home)})
    keys = pod_sshd.install(settings)
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    for path in (keys.private_key, keys.public_key, keys.authorized_keys, keys.known_hosts):
        assert oct(path.stat().st_mode & 0o777) == "0o600", path


# --- an arkouda_server that answers garbage, or never --------------------------------------------------------


@contextlib.asynccontextmanager
async def tiny_rep(reply: bytes | None) -> AsyncIterator[int]:
    """A ZMQ REP on 127.0.0.1 that answers every request with `reply` (None: receives and never answers)."""
    import zmq
    import zmq.asyncio

    context = zmq.asyncio.Context()
    sock = context.socket(zmq.REP)
    sock.setsockopt(zmq.LINGER, 0)
    port = sock.bind_to_random_port("tcp://127.0.0.1")

    async def serve() -> None:
        while True:
            await sock.recv_multipart()
            if reply is None:
                await asyncio.Event().wait()
            await sock.send(reply)

    task = asyncio.create_task(serve())
    try:
        yield port
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        sock.close(linger=0)
        context.term()


@contextlib.asynccontextmanager
async def not_zmq(greeting: bytes) -> AsyncIterator[int]:
    """Something else holds the port: it accepts, says `greeting` and hangs up."""

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _registrar_with_probe(cluster: Cluster, port: int) -> Any:
    probe = ZmqProbe("127.0.0.1", port, timeout=0.3)
    return await cluster.registrar(probe, EXTERNAL_SERVICE_TARGET_PORT=str(port), EXTERNAL_SERVICE_PORT=str(port))


async def test_a_server_answering_garbage_counts_as_alive_and_is_withdrawn_cleanly(tmp_path: Path) -> None:
    """Any reply proves arkouda_server alive (health.py): even bytes that are neither protocol."""
    async with open_cluster(tmp_path) as cluster, tiny_rep(b"\xff\xfe\x00 not arkouda at all") as port:
        cluster.port = port
        registrar = await _registrar_with_probe(cluster, port)
        task = asyncio.create_task(registrar.run())
        await asyncio.wait_for(registrar.is_published.wait(), 10)
        await settle(lambda: cluster.slice_is(ready=True))
        await cluster.assert_clean(published=True, what="published")
        await asyncio.sleep(0.3)
        registrar.stop()
        await asyncio.wait_for(task, 10)
        await cluster.assert_clean(published=False, what="withdrawn")


@pytest.mark.parametrize("server", ["never-answers", "nothing-listens", "not-zmq"])
async def test_a_server_that_never_answers_is_never_published(tmp_path: Path, server: str) -> None:
    async with contextlib.AsyncExitStack() as stack:
        cluster = await stack.enter_async_context(open_cluster(tmp_path))
        if server == "never-answers":
            port = await stack.enter_async_context(tiny_rep(None))
        elif server == "not-zmq":
            port = await stack.enter_async_context(not_zmq(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
        else:
            port = free_port()
        cluster.port = port
        registrar = await _registrar_with_probe(cluster, port)
        before = _open_fds()
        task = asyncio.create_task(registrar.run())
        await asyncio.sleep(2.0)  # a hundred probes at 20 ms
        assert not registrar.is_published.is_set()
        assert registrar.phase == "waiting"
        assert await cluster.slices() == []
        registrar.stop()
        await asyncio.wait_for(task, 10)
        await cluster.assert_clean(published=False, what="stopped while waiting")
        assert _open_fds() <= before + 2, "the probes leaked sockets"


async def test_a_server_that_freezes_is_marked_not_ready_and_its_slice_withdrawn(tmp_path: Path) -> None:
    standin = await asyncio.to_thread(start_standin, env={"ARKOUDA_STANDIN_FREEZE_AFTER": "1.5"})
    try:
        async with open_cluster(tmp_path) as cluster:
            cluster.port = standin.port
            registrar = await cluster.registrar(
                ZmqProbe("127.0.0.1", standin.port, timeout=0.3),
                EXTERNAL_SERVICE_TARGET_PORT=str(standin.port),
                EXTERNAL_SERVICE_PORT=str(standin.port),
                PROBE_PERIOD="0.2",
            )
            task = asyncio.create_task(registrar.run())
            await asyncio.wait_for(registrar.is_published.wait(), 10)
            assert await settle(lambda: cluster.slice_is(ready=False), timeout=10), "never marked not ready"
            await cluster.assert_clean(published=True, ready=False, what="frozen")
            registrar.stop()
            await asyncio.wait_for(task, 10)
            await cluster.assert_clean(published=False, what="withdrawn")
    finally:
        await asyncio.to_thread(standin.stop)


# --- our EndpointSlice edited by someone else into a bad shape: repaired -----------------------------------


def _edit(kind: str, item: JSON) -> JSON:
    item = copy.deepcopy(item)
    endpoint = item["endpoints"][0]
    if kind == "no-endpoints":
        item["endpoints"] = []
    elif kind == "foreign-address":
        endpoint["addresses"] = ["192.0.2.99"]
    elif kind == "second-endpoint":
        item["endpoints"].append({"addresses": ["192.0.2.98"], "conditions": {"ready": True}})
    elif kind == "not-ready":
        endpoint["conditions"] = {"ready": False, "serving": False, "terminating": False}
    elif kind == "terminating":
        endpoint["conditions"] = {"ready": False, "serving": True, "terminating": True}
    elif kind == "wrong-port":
        item["ports"] = [{"name": "arkouda", "port": 1, "protocol": "TCP"}]
    elif kind == "port-renamed":
        item["ports"] = [{"name": "http", "port": 5555, "protocol": "TCP"}]
    elif kind == "no-target-ref":
        endpoint.pop("targetRef", None)
    elif kind == "managed-by-label-removed":
        item["metadata"]["labels"].pop(o.SLICE_MANAGED_BY)
    elif kind == "owner-reference-removed":
        item["metadata"].pop("ownerReferences")
    else:
        raise AssertionError(kind)
    return item


SLICE_EDITS = [
    "no-endpoints",
    "foreign-address",
    "second-endpoint",
    "not-ready",
    "terminating",
    "wrong-port",
    "port-renamed",
    "no-target-ref",
    "managed-by-label-removed",
    "owner-reference-removed",
]
SLICE_EDIT_BUGS: dict[str, str] = {}  # all fixed: none known


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(
            k, marks=[pytest.mark.xfail(strict=True, reason=SLICE_EDIT_BUGS[k])] if k in SLICE_EDIT_BUGS else []
        )
        for k in SLICE_EDITS
    ],
)
async def test_our_slice_edited_into_a_bad_shape_is_repaired(tmp_path: Path, kind: str) -> None:
    async with open_cluster(tmp_path) as cluster:
        registrar = await cluster.registrar(SwitchProbe())
        task = asyncio.create_task(registrar.run())
        try:
            await asyncio.wait_for(registrar.is_published.wait(), 10)
            await settle(lambda: cluster.slice_is(ready=True))
            (ours,) = await cluster.our_slices()
            await cluster.emulator.update(_edit(kind, ours))
            await settle(lambda: cluster.slice_is(ready=True), timeout=5)
            await cluster.assert_clean(published=True, what=f"after someone made our slice {kind}")
            await asyncio.sleep(0.3)
            registrar.stop()
            await asyncio.wait_for(task, 10)
            await cluster.assert_clean(published=False, what="withdrawn")
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
    assert registrar.counters.repairs >= 1


__all__ = ["NS"]
