"""The mounted key pair: found, checked (every bad file named with its fix) and installed privately."""

from __future__ import annotations

import datetime
import stat
import subprocess
from pathlib import Path

import pytest

from arkouda_k8s.entrypoints.ssh import (
    InstalledKeys,
    KeyPair,
    SshKeyError,
    SshSetupError,
    install_keys,
    known_hosts_pin,
    load_key_pair,
    write_known_hosts,
)
from arkouda_k8s.errors import ExitCode
from arkouda_k8s.testing.loopback import make_key_dir, openssh_problem
from arkouda_k8s.testing.pytest_plugin import require_component


@pytest.fixture(autouse=True)
def _openssh() -> None:
    require_component("sshd", openssh_problem())


def keygen(path: Path, *args: str) -> Path:
    """ssh-keygen into `path` (plus path.pub), no passphrase unless args give one."""
    flags = list(args) if "-N" in args else [*args, "-N", ""]
    subprocess.run(["ssh-keygen", "-q", *flags, "-C", "test", "-f", str(path)], check=True, capture_output=True)
    return path


def key_dir_with(tmp_path: Path, name: str, content: bytes) -> Path:
    directory = tmp_path / "secret"
    directory.mkdir(exist_ok=True)
    (directory / name).write_bytes(content)
    return directory


def load_error(directory: Path) -> str:
    with pytest.raises(SshKeyError) as caught:
        load_key_pair(directory)
    assert caught.value.exit_code == ExitCode.USAGE
    return str(caught.value)


# --- good pairs ---


def test_secret_layout_with_mode_0644_loads(ssh_key_pair: Path) -> None:
    # A Secret volume shows 0644 files; ssh-keygen would refuse them for their owner: irrelevant here.
    assert stat.S_IMODE((ssh_key_pair / "ssh-privatekey").stat().st_mode) == 0o644
    pair = load_key_pair(ssh_key_pair)
    assert pair.private_key_file == ssh_key_pair / "ssh-privatekey"
    assert pair.public_key_file == ssh_key_pair / "ssh-publickey"
    assert pair.key_type == "ssh-ed25519"
    assert pair.bits == 256
    assert pair.fingerprint.startswith("SHA256:")
    assert pair.public_key == (ssh_key_pair / "ssh-publickey").read_text().strip()
    assert pair.private_key.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert "PRIVATE" not in repr(pair)  # the key's bytes never show in a repr (or a log of it)


def test_ssh_keygen_names_are_found_and_the_public_key_derived_when_missing(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir()
    keygen(directory / "id_ecdsa", "-t", "ecdsa")
    expected = (directory / "id_ecdsa.pub").read_text().split()[:2]
    (directory / "id_ecdsa.pub").unlink()
    pair = load_key_pair(directory)
    assert pair.public_key_file is None
    assert pair.public_key.split()[:2] == expected
    assert pair.file_name == "id_ecdsa"


def test_ssh_privatekey_wins_over_ssh_keygen_names(tmp_path: Path) -> None:
    directory = make_key_dir(tmp_path / "secret")
    keygen(directory / "id_rsa", "-t", "rsa", "-b", "2048")
    assert load_key_pair(directory).private_key_file.name == "ssh-privatekey"


def test_pem_rsa_key_with_crlf_and_no_final_newline_loads(tmp_path: Path) -> None:
    key = keygen(tmp_path / "k", "-t", "rsa", "-b", "2048", "-m", "PEM").read_bytes()
    windows = key.rstrip(b"\n").replace(b"\n", b"\r\n")
    pair = load_key_pair(key_dir_with(tmp_path, "ssh-privatekey", windows))
    assert pair.key_type == "ssh-rsa"
    assert pair.bits == 2048
    assert b"\r" not in pair.private_key and pair.private_key.endswith(b"\n")


# --- bad pairs: one message each, naming the file and the fix ---


def test_missing_directory(tmp_path: Path) -> None:
    message = load_error(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message
    assert "SSH_KEY_DIR" in message and "kubernetes.io/ssh-auth" in message


def test_no_private_key_lists_what_is_there(tmp_path: Path) -> None:
    directory = key_dir_with(tmp_path, "ca.crt", b"x")
    message = load_error(directory)
    assert f"no private key in {directory}" in message
    assert "ssh-privatekey, id_ed25519, id_ecdsa, id_rsa" in message
    assert "found ca.crt" in message
    assert "ssh-keygen -t ed25519" in message


def test_empty_file(tmp_path: Path) -> None:
    message = load_error(key_dir_with(tmp_path, "ssh-privatekey", b"\n"))
    assert "ssh-privatekey is empty" in message


def test_a_directory_where_the_key_belongs(tmp_path: Path) -> None:
    directory = tmp_path / "secret"
    (directory / "id_ed25519").mkdir(parents=True)
    assert "id_ed25519 is not a regular file" in load_error(directory)


def test_garbage(tmp_path: Path) -> None:
    message = load_error(key_dir_with(tmp_path, "ssh-privatekey", b"hello, this is not a key\n"))
    assert "ssh-privatekey cannot be loaded" in message
    assert "not an OpenSSH or PEM private key" in message
    assert "ssh-keygen said: Load key" in message


def test_damaged_openssh_key(tmp_path: Path) -> None:
    key = keygen(tmp_path / "k", "-t", "ed25519").read_text().splitlines()
    damaged = "\n".join([key[0], key[1], key[-1]]) + "\n"  # cut in the middle, as a bad copy-paste does
    message = load_error(key_dir_with(tmp_path, "ssh-privatekey", damaged.encode()))
    assert "looks like an OpenSSH private key but is damaged" in message


def test_putty_key(tmp_path: Path) -> None:
    ppk = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\nPublic-Lines: 2\nAAAA\nAAAA\n"
    message = load_error(key_dir_with(tmp_path, "id_ed25519", ppk))
    assert "id_ed25519 is a PuTTY key" in message
    assert "puttygen key.ppk -O private-openssh" in message


def test_x509_certificate(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arkouda")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    message = load_error(key_dir_with(tmp_path, "ssh-privatekey", pem))
    assert "ssh-privatekey is an X.509 certificate, not an ssh private key" in message


def test_public_key_in_place_of_the_private_key(tmp_path: Path) -> None:
    public = keygen(tmp_path / "k", "-t", "ed25519").with_suffix(".pub").read_bytes()
    message = load_error(key_dir_with(tmp_path, "ssh-privatekey", public))
    assert "holds a public key where the private key belongs" in message


@pytest.mark.parametrize("fmt", ["openssh", "pem"])
def test_key_with_a_passphrase(tmp_path: Path, fmt: str) -> None:
    extra = ["-m", "PEM", "-t", "rsa", "-b", "2048"] if fmt == "pem" else ["-t", "ed25519"]
    key = keygen(tmp_path / "k", *extra, "-N", "correct horse").read_bytes()
    message = load_error(key_dir_with(tmp_path, "ssh-privatekey", key))
    assert "ssh-privatekey is protected by a passphrase" in message
    assert "ssh-keygen -p -N '' -f key" in message


def test_dsa_key(tmp_path: Path) -> None:
    key = keygen(tmp_path / "k", "-t", "dsa").read_bytes()
    message = load_error(key_dir_with(tmp_path, "id_rsa", key))
    assert "id_rsa is a DSA key" in message and "ed25519" in message


def test_short_rsa_key(tmp_path: Path) -> None:
    key = keygen(tmp_path / "k", "-t", "rsa", "-b", "1024").read_bytes()
    message = load_error(key_dir_with(tmp_path, "id_rsa", key))
    assert "is a 1024-bit RSA key; use at least 2048 bits" in message


def test_public_key_of_another_pair(tmp_path: Path) -> None:
    directory = make_key_dir(tmp_path / "secret")
    other = keygen(tmp_path / "other", "-t", "ed25519").with_suffix(".pub")
    (directory / "ssh-publickey").write_bytes(other.read_bytes())
    message = load_error(directory)
    assert f"public key {directory / 'ssh-publickey'} does not belong to private key" in message


# --- installing ---


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_install_keys_makes_a_private_ssh_home(ssh_key_pair: Path, tmp_path: Path) -> None:
    pair = load_key_pair(ssh_key_pair)
    keys = install_keys(pair, tmp_path / "home" / ".ssh")
    assert isinstance(keys, InstalledKeys)
    assert mode(keys.ssh_home) == 0o700
    for path in (keys.private_key, keys.public_key, keys.authorized_keys, keys.known_hosts):
        assert path.parent == keys.ssh_home
        assert mode(path) == 0o600, path
    assert keys.private_key.name == "id_ed25519"
    assert keys.private_key.read_bytes() == pair.private_key
    # every pod may ssh to every pod: its own public key is the authorized one
    assert keys.authorized_keys.read_text() == pair.public_key + "\n"
    assert keys.known_hosts.read_text() == known_hosts_pin(pair.public_key) + "\n"
    # and ssh itself accepts the installed private key (it refuses one others may read)
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(keys.private_key)], capture_output=True, text=True, check=True
    )
    assert derived.stdout.split()[:2] == pair.public_key.split()[:2]


def test_install_keys_tightens_what_was_there(ssh_key_pair: Path, tmp_path: Path) -> None:
    home = tmp_path / ".ssh"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / "authorized_keys").write_text("ssh-ed25519 AAAA stale\n")
    (home / "authorized_keys").chmod(0o666)
    keys = install_keys(load_key_pair(ssh_key_pair), home)
    assert mode(home) == 0o700
    assert mode(keys.authorized_keys) == 0o600
    assert "stale" not in keys.authorized_keys.read_text()


def test_install_keys_in_a_place_that_cannot_be_a_directory(ssh_key_pair: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SshSetupError, match=r"cannot prepare the ssh directory .*file/\.ssh"):
        install_keys(load_key_pair(ssh_key_pair), tmp_path / "file" / ".ssh")


# --- the pin ---


def test_known_hosts_pin_is_one_wildcard_line_without_the_comment(ssh_key_pair: Path, tmp_path: Path) -> None:
    pair: KeyPair = load_key_pair(ssh_key_pair)
    kind, body, comment = pair.public_key.split()
    assert known_hosts_pin(pair.public_key) == f"* {kind} {body}"
    written = write_known_hosts(tmp_path / "known_hosts", pair)
    assert written.read_text() == f"* {kind} {body}\n"
    assert comment not in written.read_text()


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("", "not an ssh public key line"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACB x", "not an ssh public key line"),
        ("ssh-ed25519 !!!notbase64", "base64 of the ssh-ed25519 public key is damaged"),
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB", "does not hold its type ssh-ed25519"),
    ],
)
def test_known_hosts_pin_refuses_what_is_not_a_public_key(line: str, says: str) -> None:
    with pytest.raises(SshKeyError, match=says):
        known_hosts_pin(line)
