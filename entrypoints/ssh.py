"""ssh for the locales: key pair checks, sshd configuration, the host-key pin and the GASNet ssh wrapper.

One key pair per release lives in a `kubernetes.io/ssh-auth` Secret mounted in every pod. It is at
once every pod's client key, every pod's authorized key and every pod's sshd host key, so a client
can pin the one host key with a single wildcard known_hosts line and run with
`StrictHostKeyChecking yes` (DESIGN.md §2.7).

The order of work in an entrypoint:

    pair = load_key_pair(settings.ssh_key_dir)          # every key problem is reported here
    keys = install_keys(pair, Path(settings.ssh_home).expanduser())
    prepare_privilege_separation_dir()                    # only does something as root
    config = write_sshd_config(run_dir, host_key=keys.private_key, authorized_keys=keys.authorized_keys,
                               pid_file=run_dir / "sshd.pid",
                               strict_modes=strict_modes_problem(keys.authorized_keys) is None)
    sshd_command(config)                                  # run it in the foreground, forward signals
    write_gasnet_ssh_wrapper(..., known_hosts=keys.known_hosts, identity=keys.private_key, port=...)

Everything here runs as the image's non-root user; nothing needs root, and what root needs in
addition (the /run/sshd directory) is prepared by `prepare_privilege_separation_dir`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from arkouda_k8s.errors import ArkoudaK8sError, ExitCode

SSHD = "/usr/sbin/sshd"  # absolute: sshd re-executes itself for every connection and refuses a relative path
SSH_KEYGEN = "ssh-keygen"
PRIVILEGE_SEPARATION_DIR = Path("/run/sshd")

# Names a private key may have in the mounted Secret directory, in the order they are tried:
# the `kubernetes.io/ssh-auth` Secret key first, then the names ssh-keygen gives.
PRIVATE_KEY_NAMES = ("ssh-privatekey", "id_ed25519", "id_ecdsa", "id_rsa")
_PUBLIC_KEY_NAMES = {"ssh-privatekey": ("ssh-publickey", "ssh-privatekey.pub")}

# Key types OpenSSH 9 accepts both as a user key and as a host key without extra configuration.
_KEY_FILE_NAMES = {
    "ssh-ed25519": "id_ed25519",
    "ecdsa-sha2-nistp256": "id_ecdsa",
    "ecdsa-sha2-nistp384": "id_ecdsa",
    "ecdsa-sha2-nistp521": "id_ecdsa",
    "ssh-rsa": "id_rsa",
}
_MIN_RSA_BITS = 2048

_HOW_TO_MAKE_THE_PAIR = (
    "create one with: ssh-keygen -t ed25519 -N '' -C arkouda -f key && "
    "kubectl create secret generic <release>-ssh --type=kubernetes.io/ssh-auth "
    "--from-file=ssh-privatekey=key --from-file=ssh-publickey=key.pub"
)


class SshSetupError(ArkoudaK8sError):
    """The ssh set-up of a pod cannot go on; the message names the file and the fix."""

    exit_code = ExitCode.LAUNCH_FAILED


class SshKeyError(SshSetupError):
    """The mounted key pair is missing, unreadable or not a usable OpenSSH key: nothing was started."""

    exit_code = ExitCode.USAGE


class SshdConfigError(SshSetupError):
    """`sshd -t` refused the configuration we wrote."""


class SshdUnreachableError(SshSetupError):
    """An sshd did not answer with an ssh banner before the deadline."""


@dataclass(frozen=True)
class KeyPair:
    """A checked key pair: the private key's bytes and its public key line."""

    private_key_file: Path  # where the private key was found
    public_key_file: Path | None  # where the public key was read; None when derived with ssh-keygen -y
    private_key: bytes = field(repr=False)
    public_key: str  # "ssh-ed25519 AAAA… comment", one line, no newline
    key_type: str  # "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"
    bits: int
    fingerprint: str  # "SHA256:…", safe to log

    @property
    def file_name(self) -> str:
        """The name ssh gives a key of this type (id_ed25519, id_ecdsa, id_rsa)."""
        return _KEY_FILE_NAMES[self.key_type]


@dataclass(frozen=True)
class InstalledKeys:
    """The key pair copied into a private ~/.ssh."""

    ssh_home: Path
    private_key: Path
    public_key: Path
    authorized_keys: Path
    known_hosts: Path


# --- the key pair -------------------------------------------------------------------------------


def load_key_pair(key_dir: Path) -> KeyPair:
    """Find, read and check the private key in a mounted Secret directory, and its public key.

    The permissions of the mounted files do not matter (a Secret volume gives 0644 or whatever
    defaultMode says): the key is checked on a private 0600 copy and `install_keys` makes the copy
    sshd and ssh will use. Raises SshKeyError naming the file and the fix.
    """
    if not key_dir.is_dir():
        raise SshKeyError(
            f"ssh key directory {key_dir} does not exist or is not a directory: mount the release's "
            f"kubernetes.io/ssh-auth Secret there or set SSH_KEY_DIR / --ssh-key-dir ({_HOW_TO_MAKE_THE_PAIR})"
        )
    private_file = next((key_dir / n for n in PRIVATE_KEY_NAMES if (key_dir / n).exists()), None)
    if private_file is None:
        present = sorted(p.name for p in _listdir(key_dir) if not p.name.startswith(".."))
        raise SshKeyError(
            f"no private key in {key_dir}: expected one of {', '.join(PRIVATE_KEY_NAMES)}, found "
            f"{', '.join(present) or 'nothing'}; {_HOW_TO_MAKE_THE_PAIR}"
        )
    private_key = _normalized(_read_key_file(private_file, "private key"))
    _refuse_known_non_keys(private_file, private_key)
    derived, key_type, bits, fingerprint = _check_with_ssh_keygen(private_file, private_key)

    public_file = _public_key_file(private_file)
    if public_file is not None:
        given = _read_key_file(public_file, "public key").decode(errors="replace").strip()
        if _key_body(given) != _key_body(derived):
            raise SshKeyError(
                f"public key {public_file} does not belong to private key {private_file} "
                f"(fingerprint of the private key: {fingerprint}); put the matching pair in the Secret "
                f"or drop the public key (it is derived when missing)"
            )
        public_key = given.splitlines()[0].strip()
    else:
        public_key = derived
    return KeyPair(
        private_key_file=private_file,
        public_key_file=public_file,
        private_key=private_key,
        public_key=public_key,
        key_type=key_type,
        bits=bits,
        fingerprint=fingerprint,
    )


def _listdir(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except OSError:
        return []


def _public_key_file(private_file: Path) -> Path | None:
    names = _PUBLIC_KEY_NAMES.get(private_file.name, (private_file.name + ".pub",))
    return next((private_file.parent / n for n in names if (private_file.parent / n).exists()), None)


def _read_key_file(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise SshKeyError(f"{what} {path} is not a regular file: the Secret must hold the key itself")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise SshKeyError(
            f"{what} {path} is not readable by uid {os.geteuid()}: give the Secret volume a defaultMode "
            f"such as 0440 and the pod an fsGroup this user belongs to (or run as the file's owner)"
        ) from None
    except OSError as error:
        raise SshKeyError(f"cannot read {what} {path}: {error.strerror}") from None
    if not data.strip():
        raise SshKeyError(f"{what} {path} is empty; {_HOW_TO_MAKE_THE_PAIR}")
    return data


def _normalized(key: bytes) -> bytes:
    # Secrets made on Windows or with `echo -n` carry CRLF or lack the final newline; OpenSSH
    # wants neither surprise, so the copy we use has plain LF line ends and a final newline.
    return key.replace(b"\r\n", b"\n").rstrip(b"\n") + b"\n"


def _refuse_known_non_keys(path: Path, key: bytes) -> None:
    """Name the usual wrong files exactly; ssh-keygen only says 'error in libcrypto' for them."""
    head = key.lstrip()[:64]
    if head.startswith(b"PuTTY-User-Key-File-"):
        raise SshKeyError(
            f"{path} is a PuTTY key (.ppk), not an OpenSSH private key: convert it with "
            f"`puttygen key.ppk -O private-openssh -o id_ed25519` and put that in the Secret"
        )
    if head.startswith(b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"):
        raise SshKeyError(
            f"{path} is an SSH.com (SECSH) private key, not an OpenSSH one: convert it with "
            f"`ssh-keygen -i -f key > id_rsa` or generate a new key; {_HOW_TO_MAKE_THE_PAIR}"
        )
    if head.startswith((b"-----BEGIN CERTIFICATE-----", b"-----BEGIN TRUSTED CERTIFICATE-----")):
        raise SshKeyError(
            f"{path} is an X.509 certificate, not an ssh private key: the ssh Secret holds an ssh key pair; "
            f"{_HOW_TO_MAKE_THE_PAIR}"
        )
    if head.startswith((b"ssh-", b"ecdsa-", b"sk-")):
        raise SshKeyError(
            f"{path} holds a public key where the private key belongs: put the private key under "
            f"ssh-privatekey and the public key under ssh-publickey"
        )
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in head or b"Proc-Type: 4,ENCRYPTED" in key[:200]:
        raise _encrypted(path)


def _encrypted(path: Path) -> SshKeyError:
    return SshKeyError(
        f"private key {path} is protected by a passphrase; GASNet runs ssh without a terminal "
        f"(BatchMode), so nobody can type it: remove it with `ssh-keygen -p -N '' -f key` "
        f"and update the Secret"
    )


def _check_with_ssh_keygen(path: Path, key: bytes) -> tuple[str, str, int, str]:
    """Derive the public key and its fingerprint from a private 0600 copy of the key.

    ssh-keygen refuses a private key file that others may read when it belongs to the caller
    (a Secret mounted 0644 for a pod running as its owner), hence the copy.
    """
    with tempfile.TemporaryDirectory(prefix="arkouda-k8s-key-") as scratch:
        copy = Path(scratch) / "key"
        _write_private(copy, key, 0o600)
        derived = _run_keygen(["-y", "-P", "", "-f", str(copy)], path, key)
        Path(scratch, "key.pub").write_text(derived + "\n")
        listing = _run_keygen(["-l", "-f", str(copy) + ".pub"], path, key)
    key_type = derived.split()[0]
    bits_text, fingerprint = listing.split()[:2]
    bits = int(bits_text)
    if key_type == "ssh-dss":
        raise SshKeyError(
            f"private key {path} is a DSA key, which OpenSSH 9 refuses by default; generate an ed25519 "
            f"key instead: {_HOW_TO_MAKE_THE_PAIR}"
        )
    if key_type not in _KEY_FILE_NAMES:
        raise SshKeyError(
            f"private key {path} has type {key_type}, which cannot serve as an sshd host key here "
            f"(security-key types need the hardware token); use ed25519: {_HOW_TO_MAKE_THE_PAIR}"
        )
    if key_type == "ssh-rsa" and bits < _MIN_RSA_BITS:
        raise SshKeyError(
            f"private key {path} is a {bits}-bit RSA key; use at least {_MIN_RSA_BITS} bits, or better an "
            f"ed25519 key: {_HOW_TO_MAKE_THE_PAIR}"
        )
    return derived, key_type, bits, fingerprint


def _run_keygen(args: list[str], path: Path, key: bytes) -> str:
    try:
        done = subprocess.run(
            [SSH_KEYGEN, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30, check=False
        )
    except FileNotFoundError:
        raise SshSetupError(
            f"{SSH_KEYGEN} is not installed: the image needs the openssh-client package to check {path}"
        ) from None
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip().splitlines()[0]
    said = done.stderr.strip().replace(str(Path(args[-1])), str(path))
    if "passphrase" in said:
        raise _encrypted(path)
    looks_like = "an OpenSSH private key" if key.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----") else None
    detail = f"it looks like {looks_like} but is damaged" if looks_like else "it is not an OpenSSH or PEM private key"
    raise SshKeyError(
        f"private key {path} cannot be loaded ({detail}; ssh-keygen said: {said}); {_HOW_TO_MAKE_THE_PAIR}"
    )


def _key_body(line: str) -> tuple[str, ...]:
    """Type and base64 of a public key line, without its comment."""
    return tuple(line.split()[:2])


# --- installing into ~/.ssh -----------------------------------------------------------------------


def install_keys(pair: KeyPair, ssh_home: Path) -> InstalledKeys:
    """Copy the pair into a private ~/.ssh (0700, files 0600), with authorized_keys and the known_hosts pin.

    authorized_keys holds the pair's own public key: every pod may ssh to every pod.
    """
    try:
        ssh_home.mkdir(mode=0o700, parents=True, exist_ok=True)
        ssh_home.chmod(0o700)  # mkdir's mode is filtered by the umask, and the directory may already exist
    except PermissionError:
        raise SshSetupError(
            f"cannot create or chmod 0700 the ssh directory {ssh_home} as uid {os.geteuid()}: point "
            f"SSH_HOME / --ssh-home at a directory this user owns (e.g. a subdirectory of an emptyDir)"
        ) from None
    except OSError as error:
        raise SshSetupError(f"cannot prepare the ssh directory {ssh_home}: {error.strerror}") from None
    private = ssh_home / pair.file_name
    public = ssh_home / (pair.file_name + ".pub")
    authorized = ssh_home / "authorized_keys"
    _write_private(private, pair.private_key, 0o600)
    _write_private(public, (pair.public_key + "\n").encode(), 0o600)
    _write_private(authorized, (pair.public_key + "\n").encode(), 0o600)
    known_hosts = write_known_hosts(ssh_home / "known_hosts", pair)
    return InstalledKeys(ssh_home, private, public, authorized, known_hosts)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write a file that is never, even for an instant, readable with wider permissions than `mode`."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)  # the file may have existed with other permissions
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as error:
        raise SshSetupError(
            f"cannot write {path} as uid {os.geteuid()}: {error.strerror} (a symbolic link or a file of another "
            f"user is in the way?); point SSH_HOME / --ssh-home at a directory this user owns"
        ) from None


def known_hosts_pin(public_key_line: str) -> str:
    """One known_hosts line that pins this host key for every host name, IP and port: `* <type> <base64>`."""
    parts = public_key_line.split()
    if len(parts) < 2 or parts[0] not in _KEY_FILE_NAMES:
        raise SshKeyError(f"not an ssh public key line: {public_key_line[:40]!r}… (want 'ssh-ed25519 AAAA…')")
    key_type, body = parts[0], parts[1]
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SshKeyError(f"the base64 of the {key_type} public key is damaged: {body[:20]}…") from None
    if blob[4 : 4 + len(key_type)] != key_type.encode():
        raise SshKeyError(f"the public key's blob does not hold its type {key_type}: the line is damaged")
    return f"* {key_type} {body}"


def write_known_hosts(path: Path, pair: KeyPair) -> Path:
    """Write the one-line known_hosts file that pins the shared host key."""
    _write_private(path, (known_hosts_pin(pair.public_key) + "\n").encode(), 0o600)
    return path


# --- sshd ---------------------------------------------------------------------------------------


def current_user() -> pwd.struct_passwd:
    """The passwd entry of this process's user; sshd and ssh both refuse to run without one."""
    try:
        return pwd.getpwuid(os.geteuid())
    except KeyError:
        raise SshSetupError(
            f"uid {os.geteuid()} has no passwd entry, and sshd and ssh need one: create the user in the image "
            f"(useradd) and run the pod with that runAsUser"
        ) from None


def strict_modes_problem(authorized_keys: Path, *, uid: int | None = None, home: Path | None = None) -> str | None:
    """Why sshd's `StrictModes yes` would refuse this authorized_keys file, or None when it would not.

    The same walk as OpenSSH's safe_path(): the file and every directory above it, up to the user's
    home (or to / when the file is not under it), must belong to root or the user and must not be
    group- or world-writable. A key under /tmp (mode 1777) or under an emptyDir mount (0777) fails:
    only then does the sshd configuration say `StrictModes no`.
    """
    if uid is None or home is None:
        user = current_user()
        uid = user.pw_uid if uid is None else uid
        home = Path(user.pw_dir) if home is None else home
    real = Path(os.path.realpath(authorized_keys))
    real_home = Path(os.path.realpath(home))
    try:
        info = real.stat()
    except OSError as error:
        return f"cannot stat {real}: {error.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"{real} is not a regular file"
    if info.st_uid not in (0, uid) or info.st_mode & 0o022:
        return f"bad ownership or modes for file {real}"
    for directory in real.parents:
        try:
            info = directory.stat()
        except OSError:
            return f"bad ownership or modes for directory {directory}"
        if info.st_uid not in (0, uid) or info.st_mode & 0o022:
            return f"bad ownership or modes for directory {directory} (mode {stat.filemode(info.st_mode)})"
        if directory == real_home:
            break
    return None


def prepare_privilege_separation_dir() -> Path | None:
    """Make sure /run/sshd exists when sshd will run as root; as any other user it is not needed.

    Checked on Debian 12's OpenSSH 9.2p1: started as root, `sshd -t` and `sshd -D` both stop with
    "Missing privilege separation directory: /run/sshd" when it is absent (Debian's ssh.service
    creates it; a container has no systemd). Started as a non-root user on port 2222, sshd does
    no privilege separation chroot and runs without it. The directory is left in place: it is the
    standard runtime directory of the package, and another sshd may be using it.
    """
    if os.geteuid() != 0:
        return None
    try:
        PRIVILEGE_SEPARATION_DIR.mkdir(mode=0o755, exist_ok=True)
    except OSError as error:
        raise SshSetupError(
            f"sshd runs as root and needs its privilege separation directory {PRIVILEGE_SEPARATION_DIR}, "
            f"which cannot be created ({error.strerror}); create it in the image (mkdir -p /run/sshd)"
        ) from None
    return PRIVILEGE_SEPARATION_DIR


def write_sshd_config(
    directory: Path,
    *,
    host_key: Path,
    authorized_keys: Path,
    listen_address: str = "0.0.0.0",
    port: int = 2222,
    pid_file: Path,
    strict_modes: bool,
    check: bool = True,
) -> Path:
    """Write `sshd_config` in `directory` for an sshd that runs as this user; check it with `sshd -t`.

    Keys only (no password, no keyboard-interactive, no PAM: PAM needs root), no forwarding of any
    kind, root only with a key. `strict_modes=False` only where the directory holding
    authorized_keys forces it (see strict_modes_problem). Raises SshdConfigError with sshd's words.
    """
    for what, path in (("host key", host_key), ("authorized_keys", authorized_keys), ("pid file", pid_file)):
        # sshd_config splits arguments on spaces and AuthorizedKeysFile expands %-tokens.
        if any(ch.isspace() for ch in str(path)) or any(ch in str(path) for ch in "%\"'#"):
            raise SshdConfigError(
                f"the {what} path {str(path)!r} holds a space, quote, '#' or '%', which sshd_config cannot "
                f"express: use a plain path"
            )
    listen = f"[{listen_address}]" if ":" in listen_address else listen_address
    lines = [
        "# Written by arkouda-k8s for the locale sshd; regenerated at every start.",
        f"Port {port}",
        f"ListenAddress {listen}:{port}",
        f"HostKey {host_key}",
        f"PidFile {pid_file}",
        f"AuthorizedKeysFile {authorized_keys}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "AllowStreamLocalForwarding no",
        "PermitTunnel no",
        "X11Forwarding no",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        # yes wherever the path allows it; no only when authorized_keys sits under a directory
        # others may write (/tmp, an emptyDir), which sshd would otherwise refuse outright.
        f"StrictModes {'yes' if strict_modes else 'no'}",
        "LogLevel INFO",
        "",
    ]
    config = directory / "sshd_config"
    _write_private(config, "\n".join(lines).encode(), 0o600)
    if check:
        check_sshd_config(config)
    return config


def check_sshd_config(config: Path) -> None:
    """Run `sshd -t -f <config>`: the configuration, the host key and (as root) /run/sshd are checked."""
    try:
        done = subprocess.run(
            [SSHD, "-t", "-f", str(config)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        raise SshdConfigError(f"{SSHD} is not installed: the image needs the openssh-server package") from None
    if done.returncode != 0:
        said = " / ".join(line for line in done.stderr.strip().splitlines() if line.strip() and "@@@" not in line)
        raise SshdConfigError(f"sshd refused the configuration {config}: {said or f'exit {done.returncode}'}")


def sshd_command(config: Path) -> list[str]:
    """sshd in the foreground (-D, so its pid is the one we started and signals reach it) logging to stderr (-e)."""
    return [SSHD, "-D", "-e", "-f", str(config)]


# --- the ssh client side ------------------------------------------------------------------------


def gasnet_ssh_options(*, known_hosts: Path, identity: Path, port: int, connect_timeout: int = 10) -> list[str]:
    """The ssh options that pin the host key and use our key only, in the order the wrapper gives them."""
    return [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",  # the pin is the only host key trusted
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"ConnectTimeout={connect_timeout}",
        "-i",
        str(identity),
        "-p",
        str(port),
    ]


def write_gasnet_ssh_wrapper(
    path: Path, *, known_hosts: Path, identity: Path, port: int, connect_timeout: int = 10, ssh: str = "ssh"
) -> Path:
    """Write the GASNET_SSH_CMD script (0700): ssh with the pinning options BEFORE the spawner's own.

    The GASNet ssh spawner runs `$GASNET_SSH_CMD -o 'StrictHostKeyChecking no' $GASNET_SSH_OPTIONS host cmd`
    and ssh keeps the first value it sees of each option, so pinning given in GASNET_SSH_OPTIONS is
    silently ignored (observed on a real build: ../arkouda-golden/gasnet-ssh-spawner.md).
    """
    options = gasnet_ssh_options(known_hosts=known_hosts, identity=identity, port=port, connect_timeout=connect_timeout)
    words = " ".join(shlex.quote(word) for word in [ssh, *options])
    script = (
        "#!/bin/sh\n"
        "# GASNET_SSH_CMD for arkouda_server, written by arkouda-k8s.\n"
        "# The GASNet spawner puts -o 'StrictHostKeyChecking no' before GASNET_SSH_OPTIONS and ssh keeps\n"
        "# the first value of each option: the pinning options must come first, so they are here.\n"
        f'exec {words} "$@"\n'
    )
    _write_private(path, script.encode(), 0o700)
    return path


# --- waiting for an sshd ------------------------------------------------------------------------


async def wait_for_sshd(host: str, port: int, *, timeout: float) -> None:
    """Wait until host:port answers with an ssh banner (`SSH-2.0-…`); SshdUnreachableError after `timeout` s.

    Connection refused, a reset or a close before the banner are retried until the deadline (an sshd
    still starting); an answer that is not ssh stops at once: something else holds the port.
    """
    deadline = time.monotonic() + timeout
    delay = 0.05
    seen = "nothing (no attempt finished)"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SshdUnreachableError(
                f"no sshd answered on {host}:{port} within {timeout:g} s: last attempt: {seen}; "
                f"check that the pod's sshd is running and listening on port {port}"
            )
        try:
            banner = await asyncio.wait_for(_read_banner(host, port), timeout=min(remaining, 3.0))
        except TimeoutError:
            seen = "timed out (no TCP answer or no banner)"
        except ConnectionRefusedError:
            seen = "connection refused"
        except OSError as error:
            seen = error.strerror or type(error).__name__
        else:
            if banner.startswith((b"SSH-2.0-", b"SSH-1.99-")):
                return
            if not banner:
                seen = "connection closed before the ssh banner"
            else:
                raise SshdUnreachableError(
                    f"{host}:{port} answered but is not an ssh server (first bytes {banner[:40]!r}): "
                    f"another program holds the port; give sshd its own port (SSH_PORT)"
                )
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.5)


async def _read_banner(host: str, port: int) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        # RFC 4253 §4.2 lets a server send other lines before its version line.
        first = b""
        for _ in range(5):
            line = await reader.readline()
            if line.startswith(b"SSH-"):
                return line
            if not line:
                break
            first = first or line
        return first
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
