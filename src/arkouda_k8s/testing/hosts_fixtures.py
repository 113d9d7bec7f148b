"""pytest fixtures of the loopback test hosts (entry point `arkouda_k8s_hosts`).

- `ssh_key_pair`: a directory laid out like a mounted `kubernetes.io/ssh-auth` Secret, holding a
  fresh ed25519 pair (`ssh-privatekey`, `ssh-publickey`, mode 0644 like a Secret volume).
- `loopback_hosts`: a `LoopbackHosts` built on that pair. It is a sync fixture whose object starts
  hosts from async tests (`hosts = await loopback_hosts(3)`, `await loopback_hosts(1,
  host_key="per-host")`) or sync ones (`loopback_hosts.start_sync(3)`); `loopback_hosts.client`
  has the identity, the known_hosts pin and the GASNET_SSH_CMD wrapper; `loopback_hosts.unreachable()`
  is an address where nothing listens. Teardown stops every sshd (and what was started through
  it) by pid and removes the temporary directory. Being sync, the fixture works with any event
  loop scope.

Both skip (or fail where components are required) when OpenSSH is not installed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from arkouda_k8s.testing.loopback import LoopbackHosts, make_key_dir, openssh_problem
from arkouda_k8s.testing.pytest_plugin import require_component


@pytest.fixture
def ssh_key_pair() -> Iterator[Path]:
    """A fresh key pair in Secret layout: <dir>/ssh-privatekey and <dir>/ssh-publickey."""
    require_component("sshd", openssh_problem())
    scratch = Path(tempfile.mkdtemp(prefix="arkouda-k8s-secret-"))
    try:
        yield make_key_dir(scratch / "ssh-key")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def loopback_hosts(ssh_key_pair: Path) -> Iterator[LoopbackHosts]:
    """A factory of loopback sshd "pods" sharing the `ssh_key_pair`; all stopped by pid at teardown."""
    with LoopbackHosts(key_pair=ssh_key_pair) as hosts:
        yield hosts
