"""Loopback "pods": real OpenSSH sshd processes, each on its own 127.x.y.z address, as the current user.

Each host is set up exactly as a locale pod sets itself up (arkouda_k8s.entrypoints.ssh): the key
pair is read from a directory laid out like the mounted `kubernetes.io/ssh-auth` Secret, copied into
the host's own ~/.ssh, and sshd gets its own config, host key, authorized_keys, pid file and log in
a temporary directory. The client side (what the server pod has) is the same pair installed once
more, its known_hosts pin and the GASNET_SSH_CMD wrapper.

    async with start_hosts(3) as hosts:            # or the `loopback_hosts` pytest fixture
        run([hosts.client.wrapper, hosts[0].address, "true"])

Addresses: 127.0.0.0/8 is all loopback on Linux, so every host gets its own IP with no root and no
routing. The prefix is derived from the pid (parallel test processes use different /24s) and each
address is checked free before use; an sshd that still loses a bind race is restarted on the next
address. Processes are stopped by pid: the sshd we started and every process started through it
(per-connection sshd, sessions, the commands they run), never by name. Nothing is left behind: the
temporary directory is removed at close.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from arkouda_k8s.entrypoints.ssh import (
    SSHD,
    InstalledKeys,
    KeyPair,
    SshdUnreachableError,
    install_keys,
    known_hosts_pin,
    load_key_pair,
    prepare_privilege_separation_dir,
    sshd_command,
    strict_modes_problem,
    wait_for_sshd,
    write_gasnet_ssh_wrapper,
    write_sshd_config,
)

HostKey = Literal["shared", "per-host"]

DEFAULT_PORT = 2222
_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
_BIND_RETRIES = 8


class LoopbackError(RuntimeError):
    """A loopback host could not be started; the message holds the address and sshd's own log."""


# --- keys -----------------------------------------------------------------------------------------


def make_key_dir(directory: Path, *, comment: str = "arkouda-k8s-test") -> Path:
    """A fresh ed25519 pair (`ssh-keygen -t ed25519 -N ''`) laid out like a mounted ssh-auth Secret.

    The files are `ssh-privatekey` and `ssh-publickey`, mode 0644 as a Secret volume shows them by
    default, so the code under test meets the same "too open" files a pod does.
    """
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / "ssh-privatekey"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    public = directory / "ssh-publickey"
    Path(str(private) + ".pub").rename(public)
    private.chmod(0o644)
    public.chmod(0o644)
    return directory


def new_key_pair(directory: Path, *, comment: str = "arkouda-k8s-test") -> KeyPair:
    """A fresh key pair in Secret layout under `directory`, loaded and checked; pin it with known_hosts_pin."""
    return load_key_pair(make_key_dir(directory, comment=comment))


# --- processes, by pid --------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), fields[0], int(fields[19])


def _is_alive(pid: int, started: int) -> bool:
    info = _stat(pid)
    return info is not None and info[1] != "Z" and info[2] == started


def process_tree(pid: int) -> dict[int, int]:
    """The process and all its live descendants: {pid: start time} (the start time guards against pid reuse)."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        info = _stat(int(entry.name))
        if info is None or info[1] == "Z":
            continue
        children.setdefault(info[0], []).append(int(entry.name))
        started[int(entry.name)] = info[2]
    tree: dict[int, int] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in started and current not in tree:
            tree[current] = started[current]
            todo.extend(children.get(current, ()))
    return tree


def _signal_all(tree: dict[int, int], sig: signal.Signals) -> None:
    for pid, started in tree.items():
        if _is_alive(pid, started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


def stop_process_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process and everything below it, by pid; SIGKILL what is left after the grace period."""
    # Snapshot first: once sshd is gone its children are re-parented and no longer findable from it.
    tree = process_tree(process.pid)
    _signal_all(tree, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE
    while time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)
        if process.returncode is not None and not any(_is_alive(p, s) for p, s in tree.items()):
            return
    _signal_all(tree, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_GRACE)


# --- addresses ----------------------------------------------------------------------------------

_taken: set[str] = set()  # addresses handed out by this process and not yet released
_taken_lock = threading.Lock()
_last_octet = itertools.cycle(range(1, 255))


def default_prefix(pid: int | None = None) -> str:
    """A /24 of 127.0.0.0/8 of this process's own, so parallel test processes rarely meet: 127.A.B."""
    pid = os.getpid() if pid is None else pid
    return f"127.{64 + (pid // 250) % 160}.{1 + pid % 250}."


def _port_free(address: str, port: int) -> bool:
    # SO_REUSEADDR like sshd: connections in TIME_WAIT do not stop sshd, only a listener does.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                return False
            raise
    return True


def _take_address(prefix: str, port: int) -> str:
    with _taken_lock:
        for _ in range(254):
            address = prefix + str(next(_last_octet))
            if address not in _taken and _port_free(address, port):
                _taken.add(address)
                return address
    raise LoopbackError(f"no free loopback address left in {prefix}0/24 for port {port}: too many hosts at once")


def _release_address(address: str) -> None:
    with _taken_lock:
        _taken.discard(address)


def take_address(port: int = 2222, prefix: str | None = None) -> str:
    """A loopback address of this process's own where nothing listens on `port` (a test pod's IP)."""
    return _take_address(prefix or default_prefix(), port)


def release_address(address: str) -> None:
    _release_address(address)


# --- hosts --------------------------------------------------------------------------------------


@dataclass
class LoopbackHost:
    """One loopback "pod": a real sshd on address:port."""

    name: str
    address: str
    port: int
    directory: Path
    config: Path
    log: Path
    keys: InstalledKeys  # the pod's own ~/.ssh (copied from the Secret-like key directory)
    host_key: HostKey
    host_public_key: str  # what the sshd presents; equals the shared public key when host_key="shared"
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def processes(self) -> dict[int, int]:
        """This pod's processes: the sshd and everything started through it, {pid: start time}."""
        return process_tree(self.pid) if self.alive() else {}

    def log_text(self) -> str:
        """What sshd wrote so far (-e: everything goes to this log)."""
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """Stop this "pod" as a deleted pod stops: its sshd and every process started through it, by pid."""
        if self.process.returncode is None:
            stop_process_tree(self.process)
        _release_address(self.address)


@dataclass(frozen=True)
class ClientSide:
    """What the server pod holds to reach the hosts: the installed pair, the pin and the GASNET_SSH_CMD wrapper."""

    key_dir: Path  # the Secret-like directory the pair came from
    pair: KeyPair
    keys: InstalledKeys  # identity (keys.private_key) and the pinned known_hosts (keys.known_hosts)
    wrapper: Path  # GASNET_SSH_CMD
    port: int

    @property
    def known_hosts_line(self) -> str:
        return known_hosts_pin(self.pair.public_key)

    def ssh_command(self, host: str, *command: str) -> list[str]:
        """An ssh command line through the wrapper, as GASNet runs it: `wrapper host command…`."""
        return [str(self.wrapper), host, *command]


class LoopbackHosts:
    """Starts and owns loopback hosts; `close()` stops every one (by pid) and removes the temporary directory.

    Async face: `await hosts.start(3)` or `await hosts(3)`; sync face: `hosts.start_sync(3)` (outside a
    running event loop). Closing is synchronous and safe to call twice.
    """

    def __init__(
        self,
        *,
        key_pair: KeyPair | Path | None = None,
        base_ip: str | None = None,
        port: int = DEFAULT_PORT,
        root: Path | None = None,
    ) -> None:
        if base_ip is not None and (not base_ip.startswith("127.") or not base_ip.endswith(".")):
            raise ValueError(f"base_ip must be a loopback prefix such as '127.0.10.', not {base_ip!r}")
        self.prefix = base_ip or default_prefix()
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="arkouda-k8s-loopback-", dir=root))
        self.hosts: list[LoopbackHost] = []
        self._unreachable: list[str] = []
        self._names = itertools.count(1)
        self._closed = False
        try:
            if key_pair is None:
                key_dir = make_key_dir(self.root / "secret")
                pair = load_key_pair(key_dir)
            elif isinstance(key_pair, Path):
                key_dir, pair = key_pair, load_key_pair(key_pair)
            else:
                key_dir, pair = key_pair.private_key_file.parent, key_pair
            client_dir = self.root / "client"
            keys = install_keys(pair, client_dir / ".ssh")
            wrapper = write_gasnet_ssh_wrapper(
                client_dir / "gasnet-ssh", known_hosts=keys.known_hosts, identity=keys.private_key, port=port
            )
            self.client = ClientSide(key_dir=key_dir, pair=pair, keys=keys, wrapper=wrapper, port=port)
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    # -- starting --

    async def start(
        self, k: int = 1, *, host_key: HostKey = "shared", strict_modes: bool | None = None, timeout: float = 15.0
    ) -> list[LoopbackHost]:
        """Start k hosts at once and wait until each sshd listens and answers with its banner.

        `host_key="per-host"` gives each sshd a host key of its own, which the client's pin refuses.
        `strict_modes` forces sshd's StrictModes; by default it is what the entrypoint chooses
        (yes unless the temporary directory forces no).
        """
        if k < 0:
            raise ValueError("k must be >= 0")
        if self._closed:
            raise LoopbackError("these loopback hosts are closed")
        prepare_privilege_separation_dir()  # only does something as root
        started = await asyncio.gather(
            *(self._start_one(host_key, strict_modes, timeout) for _ in range(k)), return_exceptions=True
        )
        failures = [s for s in started if isinstance(s, BaseException)]
        hosts = [s for s in started if isinstance(s, LoopbackHost)]
        if failures:
            for host in hosts:
                host.kill()
            raise failures[0]
        return hosts

    async def __call__(
        self, k: int = 1, *, host_key: HostKey = "shared", strict_modes: bool | None = None, timeout: float = 15.0
    ) -> list[LoopbackHost]:
        return await self.start(k, host_key=host_key, strict_modes=strict_modes, timeout=timeout)

    def start_sync(
        self, k: int = 1, *, host_key: HostKey = "shared", strict_modes: bool | None = None, timeout: float = 15.0
    ) -> list[LoopbackHost]:
        # A private loop, not asyncio.run: asyncio.run resets the thread's current loop, which
        # pytest-asyncio's own loop bookkeeping does not expect in a sync test.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self.start(k, host_key=host_key, strict_modes=strict_modes, timeout=timeout))
        finally:
            loop.close()

    def unreachable(self) -> str:
        """A loopback address of this test's own where nothing listens on the port: ssh gets 'Connection refused'."""
        address = _take_address(self.prefix, self.port)
        self._unreachable.append(address)
        return address

    async def _start_one(self, host_key: HostKey, strict_modes: bool | None, timeout: float) -> LoopbackHost:
        deadline = time.monotonic() + timeout
        name = f"host-{next(self._names)}"
        for _ in range(_BIND_RETRIES):
            address = _take_address(self.prefix, self.port)
            try:
                host = self._launch(name, address, host_key, strict_modes)
            except BaseException:
                _release_address(address)
                raise
            self.hosts.append(host)
            try:
                await _wait_listening(host, deadline)
            except _LostBindRace:
                host.kill()  # another process took the address between our check and sshd's bind
                self.hosts.remove(host)
                shutil.rmtree(host.directory, ignore_errors=True)
                continue
            except BaseException:
                host.kill()
                raise
            return host
        raise LoopbackError(f"{name}: sshd lost the bind race {_BIND_RETRIES} times in a row in {self.prefix}0/24")

    def _launch(self, name: str, address: str, host_key: HostKey, strict_modes: bool | None) -> LoopbackHost:
        directory = self.root / f"{name}-{address}"
        directory.mkdir(mode=0o700)
        keys = install_keys(self.client.pair, directory / ".ssh")
        if host_key == "shared":
            key_file, public = keys.private_key, self.client.pair.public_key
        else:
            other = new_key_pair(directory / "other-host-key", comment=f"{name}-own-host-key")
            key_file = directory / "ssh_host_ed25519_key"
            key_file.write_bytes(other.private_key)
            key_file.chmod(0o600)
            public = other.public_key
        config = write_sshd_config(
            directory,
            host_key=key_file,
            authorized_keys=keys.authorized_keys,
            listen_address=address,
            port=self.port,
            pid_file=directory / "sshd.pid",
            # A temporary directory sits under /tmp (mode 1777): sshd's StrictModes refuses that.
            strict_modes=strict_modes_problem(keys.authorized_keys) is None if strict_modes is None else strict_modes,
        )
        log = directory / "sshd.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                sshd_command(config), stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
            )
        return LoopbackHost(
            name=name,
            address=address,
            port=self.port,
            directory=directory,
            config=config,
            log=log,
            keys=keys,
            host_key=host_key,
            host_public_key=public,
            process=process,
        )

    # -- stopping --

    def close(self) -> None:
        """Stop every host by pid and remove the temporary directory."""
        if self._closed:
            return
        self._closed = True
        for host in self.hosts:
            host.kill()
        for address in self._unreachable:
            _release_address(address)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LoopbackHosts:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> LoopbackHosts:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __getitem__(self, index: int) -> LoopbackHost:
        return self.hosts[index]

    def __len__(self) -> int:
        return len(self.hosts)

    def __iter__(self) -> Iterator[LoopbackHost]:
        return iter(self.hosts)


class _LostBindRace(Exception):
    pass


async def _wait_listening(host: LoopbackHost, deadline: float) -> None:
    """Wait for `Server listening on <address> port <port>.` in our sshd's own log, then for its banner.

    The log line proves that *our* sshd holds the address (a banner alone could come from another
    process's sshd that won the address); the banner proves it accepts connections.
    """
    listening = f"Server listening on {host.address} port {host.port}."
    while listening not in host.log_text():
        if not host.alive():
            text = host.log_text()
            if "Address already in use" in text:
                raise _LostBindRace
            raise LoopbackError(
                f"sshd for {host.name} ({host.address}:{host.port}) exited with {host.process.returncode}: "
                f"{text.strip() or '(no output)'} [config {host.config}]"
            )
        if time.monotonic() >= deadline:
            raise LoopbackError(
                f"sshd for {host.name} did not listen on {host.address}:{host.port} in time; log: {host.log_text()}"
            )
        await asyncio.sleep(0.01)
    try:
        await wait_for_sshd(host.address, host.port, timeout=max(0.1, deadline - time.monotonic()))
    except SshdUnreachableError as error:
        raise LoopbackError(f"{host.name}: {error}; sshd log: {host.log_text()}") from None


@contextlib.asynccontextmanager
async def start_hosts(
    k: int,
    *,
    key_pair: KeyPair | Path | None = None,
    base_ip: str | None = None,
    port: int = DEFAULT_PORT,
    host_key: HostKey = "shared",
) -> AsyncIterator[LoopbackHosts]:
    """`async with start_hosts(3) as hosts:` — k hosts started; all stopped and removed on exit."""
    with LoopbackHosts(key_pair=key_pair, base_ip=base_ip, port=port) as hosts:
        await hosts.start(k, host_key=host_key)
        yield hosts


def openssh_problem() -> str | None:
    """Why the loopback hosts cannot run here (for require_component), or None."""
    missing = [tool for tool in ("ssh", "ssh-keygen") if shutil.which(tool) is None]
    if not os.access(SSHD, os.X_OK):
        missing.insert(0, SSHD)
    if missing:
        return f"missing {', '.join(missing)} (install the Debian packages openssh-server and openssh-client)"
    return None
