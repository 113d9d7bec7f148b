"""The locale's ssh set-up as a non-root user, as the images run it: sshd on port 2222, no /run/sshd, no PAM.

The suite runs as root here, so the set-up runs under `setpriv` as an existing unprivileged user.
'nobody' does not serve: Debian's nsswitch asks nss-systemd, which gives nobody the password '!*',
and sshd (UsePAM no) refuses a locked account before looking at keys.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from arkouda_k8s.entrypoints.ssh import install_keys, load_key_pair, wait_for_sshd, write_gasnet_ssh_wrapper
from arkouda_k8s.testing.loopback import LoopbackHosts, make_key_dir, stop_process_tree
from arkouda_k8s.testing.pytest_plugin import require_component

SET_UP = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from arkouda_k8s.entrypoints import ssh

    key_dir, home, address = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    pair = ssh.load_key_pair(key_dir)
    keys = ssh.install_keys(pair, home / ".ssh")
    privsep = ssh.prepare_privilege_separation_dir()
    run_dir = keys.ssh_home / "sshd"
    run_dir.mkdir(mode=0o700)
    problem = ssh.strict_modes_problem(keys.authorized_keys)
    config = ssh.write_sshd_config(
        run_dir,
        host_key=keys.private_key,
        authorized_keys=keys.authorized_keys,
        listen_address=address,
        pid_file=run_dir / "sshd.pid",
        strict_modes=problem is None,
    )
    print(json.dumps({"uid": os.geteuid(), "privsep": privsep and str(privsep), "command": ssh.sshd_command(config)}))
    """
)

LOAD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from arkouda_k8s.entrypoints import ssh
    try:
        ssh.load_key_pair(Path(sys.argv[1]))
    except ssh.SshKeyError as error:
        print(error)
    """
)


def unprivileged_user() -> pwd.struct_passwd:
    """An unprivileged user sshd accepts: one with a login shell if there is one (it runs our command), else daemon."""
    shells = set(Path("/etc/shells").read_text().split()) if Path("/etc/shells").exists() else set()
    users = [u for u in pwd.getpwall() if u.pw_uid not in (0, 65534) and os.access(u.pw_shell, os.X_OK)]
    with_shell = sorted((u for u in users if u.pw_shell in shells), key=lambda u: u.pw_uid)
    if with_shell:
        return with_shell[0]
    return pwd.getpwnam("daemon")


@pytest.fixture
def as_user() -> Iterator[tuple[pwd.struct_passwd, list[str], Path]]:
    """(the user, the setpriv prefix that runs a command as that user, a scratch directory it may use)."""
    if os.geteuid() != 0:
        pytest.skip("the suite already runs as a non-root user: every loopback test exercises that case")
    setpriv = shutil.which("setpriv")
    require_component("setpriv", None if setpriv else "setpriv is not installed (Debian package util-linux)")
    assert setpriv is not None
    user = unprivileged_user()
    prefix = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]
    scratch = Path(tempfile.mkdtemp(prefix="arkouda-k8s-non-root-"))
    scratch.chmod(0o755)
    try:
        yield user, prefix, scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_as(prefix: list[str], home: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    return subprocess.run(
        [*prefix, sys.executable, "-c", script, *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_locale_sshd_set_up_and_login_as_a_non_root_user(
    as_user: tuple[pwd.struct_passwd, list[str], Path], loopback_hosts: LoopbackHosts
) -> None:
    user, prefix, scratch = as_user
    # The Secret as a pod sees it: files owned by root, mode 0644.
    key_dir = make_key_dir(scratch / "secret")
    home = scratch / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    address = loopback_hosts.unreachable()  # an address of this test's own, nothing listening yet

    done = run_as(prefix, home, SET_UP, str(key_dir), str(home), address)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["uid"] == user.pw_uid
    assert said["privsep"] is None  # as non-root, /run/sshd is neither needed nor touched

    log = (scratch / "sshd.log").open("wb")
    sshd = subprocess.Popen([*prefix, *said["command"]], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(wait_for_sshd(address, 2222, timeout=15))
        finally:
            loop.close()
        status = Path(f"/proc/{sshd.pid}/status").read_text()
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == [str(user.pw_uid)] * 4  # sshd itself runs unprivileged

        # the server pod's side: the same pair, the pin and the GASNet wrapper
        client = install_keys(load_key_pair(key_dir), scratch / "client" / ".ssh")
        wrapper = write_gasnet_ssh_wrapper(
            scratch / "client" / "gasnet-ssh", known_hosts=client.known_hosts, identity=client.private_key, port=2222
        )
        login = subprocess.run(
            [str(wrapper), f"{user.pw_name}@{address}", "id", "-u"], capture_output=True, text=True, timeout=60
        )
        sshd_log = (scratch / "sshd.log").read_text()
        assert f"Server listening on {address} port 2222." in sshd_log
        assert f"Accepted publickey for {user.pw_name} from 127." in sshd_log, sshd_log + login.stderr
        if "nologin" not in user.pw_shell:
            assert (login.returncode, login.stdout) == (0, f"{user.pw_uid}\n"), login.stderr
    finally:
        stop_process_tree(sshd)
        log.close()
    assert sshd.returncode is not None


def test_a_key_the_user_cannot_read_is_named_before_sshd_starts(
    as_user: tuple[pwd.struct_passwd, list[str], Path],
) -> None:
    user, prefix, scratch = as_user
    key_dir = make_key_dir(scratch / "secret")
    (key_dir / "ssh-privatekey").chmod(0o600)  # owned by root: a Secret without a defaultMode/fsGroup fit
    done = run_as(prefix, scratch, LOAD, str(key_dir))
    assert done.returncode == 0, done.stderr
    message = done.stdout.strip()
    assert f"private key {key_dir / 'ssh-privatekey'} is not readable by uid {user.pw_uid}" in message
    assert "defaultMode" in message and "fsGroup" in message
