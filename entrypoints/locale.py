"""`arkouda-k8s locale`: a locale pod is an sshd that GASNet starts the Chapel locale process through.

Copy the key pair from the mounted Secret into a private ~/.ssh, write the sshd configuration
(the shared key is the host key; keys only; the high port, so it runs as the non-root user), run
sshd in the foreground, pass SIGTERM/SIGINT on to it and exit with its status.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from arkouda_k8s import logs
from arkouda_k8s.entrypoints import sshd
from arkouda_k8s.entrypoints.ssh import InstalledKeys
from arkouda_k8s.lifecycle import on_stop_signals
from arkouda_k8s.settings import Settings


def run(settings: Settings, _args: argparse.Namespace) -> int:
    keys = sshd.install(settings)  # a bad key is an error here, before sshd starts
    return asyncio.run(_serve(settings, keys))


async def _serve(settings: Settings, keys: InstalledKeys) -> int:
    log = logs.get_logger("locale", pod=settings.pod_name)
    listen = settings.pod_ip or "0.0.0.0"
    pod_sshd = await sshd.start(settings, keys, listen_address=listen)
    log.info("sshd_started", listen=f"{listen}:{settings.ssh_port}", pid=pod_sshd.process.pid)
    remove = on_stop_signals(lambda _sig: pod_sshd.process.signal_group(signal.SIGTERM), component="locale")
    try:
        code = await pod_sshd.process.wait()
    finally:
        remove()
        if pod_sshd.process.returncode is None:
            await pod_sshd.process.stop(asyncio.get_running_loop().time() + 5)
    log.info("sshd_exited", returncode=code)
    return 128 - code if code < 0 else code
