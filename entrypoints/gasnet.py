"""The launch of arkouda_server: its command line and a minimal, explicit environment.

The Chapel/GASNet launcher copies every variable of the launching process onto each remote command
line as `-E NAME=value` (visible in `ps` on every locale, carried through ssh), so the environment
is built from nothing: what the runtime needs, the GASNet ssh-spawner settings of DESIGN.md §2.6,
and the GASNET_*/CHPL_RT_*/ARKOUDA_* settings the operator gave — never an API token, a
credential or anything secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arkouda_k8s import logs
from arkouda_k8s.settings import Settings

# Variables of ours that must never reach the launch environment, whatever their prefix.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|(^|_)KEY($|_)|AUTH", re.IGNORECASE)
_PASS_THROUGH = ("GASNET_", "CHPL_RT_", "CHPL_", "ARKOUDA_")
_RUNTIME = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR")
_OURS = {
    "ARKOUDA_SERVER_PATH",
    "ARKOUDA_INSTANCE",
    "ARKOUDA_K8S_LOG_LEVEL",
    "ARKOUDA_K8S_LOG_FORMAT",
    "ARKOUDA_SERVER_TOKEN",
}


@dataclass(frozen=True)
class SshLaunch:
    """How GASNet reaches the locales (None for a single-locale server)."""

    hosts: list[str]  # locale 0 (this pod) first, then the locales sorted by pod name
    wrapper: Path  # GASNET_SSH_CMD: strict host-key checking with the pinned key
    identity: Path
    known_hosts: Path
    port: int


def server_command(settings: Settings, num_locales: int) -> list[str]:
    command = [
        settings.arkouda_server,
        "-nl",
        str(num_locales),
        f"--ServerPort={settings.server_port}",
        f"--memTrack={str(settings.mem_track).lower()}",
        f"--authenticate={str(settings.authenticate).lower()}",
        f"--logLevel={settings.server_log_level}",
    ]
    if settings.metrics:
        command.append("--ServerDaemon.daemonTypes=ServerDaemonType.DEFAULT,ServerDaemonType.METRICS")
    return command


def launch_environment(
    settings: Settings, ssh: SshLaunch | None, own_ip: str | None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    env = {name: environ[name] for name in _RUNTIME if environ.get(name)}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    for name, value in environ.items():
        if (
            name.startswith(_PASS_THROUGH)
            and name not in _OURS
            and not _SECRET_NAME.search(name)
            and not logs.contains_secret(value)
        ):
            env[name] = value
    if settings.threads_per_locale:
        env["CHPL_RT_NUM_THREADS_PER_LOCALE"] = str(settings.threads_per_locale)
    if settings.metrics:
        env["METRICS_SERVER_PORT"] = str(settings.metrics_target_port)
    if ssh is not None:
        hosts = " ".join(ssh.hosts)  # hosts only: ':' separates hosts for GASNet; the port is in the options
        env.update(
            {
                "GASNET_SPAWNFN": "S",
                "GASNET_SSH_SERVERS": hosts,
                "SSH_SERVERS": hosts,
                "GASNET_MASTERIP": str(own_ip),
                "GASNET_SUPERNODE_MAXSIZE": "1",
                "GASNET_SSH_CMD": str(ssh.wrapper),
                "GASNET_SSH_OPTIONS": (
                    f"-p {ssh.port} -i {ssh.identity} -o BatchMode=yes "
                    f"-o UserKnownHostsFile={ssh.known_hosts} -o StrictHostKeyChecking=yes"
                ),
            }
        )
    return env
