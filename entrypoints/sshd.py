"""A pod's sshd: the release's key pair installed in a private ~/.ssh, sshd on the high port as this user."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arkouda_k8s.entrypoints import ssh
from arkouda_k8s.entrypoints.process import ChildProcess
from arkouda_k8s.settings import Settings


@dataclass
class PodSshd:
    keys: ssh.InstalledKeys
    process: ChildProcess


def install(settings: Settings) -> ssh.InstalledKeys:
    """Check and copy the mounted key pair; every key problem is reported here, before anything starts."""
    pair = ssh.load_key_pair(Path(settings.ssh_key_dir))
    return ssh.install_keys(pair, Path(settings.ssh_home).expanduser())


async def start(settings: Settings, keys: ssh.InstalledKeys, *, listen_address: str) -> PodSshd:
    ssh.prepare_privilege_separation_dir()
    run_dir = keys.ssh_home / "sshd"
    run_dir.mkdir(mode=0o700, exist_ok=True)
    config = ssh.write_sshd_config(
        run_dir,
        host_key=keys.private_key,
        authorized_keys=keys.authorized_keys,
        listen_address=listen_address,
        port=settings.ssh_port,
        pid_file=run_dir / "sshd.pid",
        strict_modes=ssh.strict_modes_problem(keys.authorized_keys) is None,
    )
    process = ChildProcess("sshd", ssh.sshd_command(config))
    await process.start()
    return PodSshd(keys, process)
