"""`arkouda-k8s kube-emulator`: serve the emulator until SIGTERM/SIGINT.

Prints exactly one line, `serving <url>`, on stdout once it answers; writes a kubeconfig with an
admin identity when --kubeconfig-out is given; exits 0 after a signal.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from arkouda_k8s.errors import ArkoudaK8sError
from arkouda_k8s.settings import Settings
from arkouda_k8s.testing.kube.auth import TokenFileError, read_token_file
from arkouda_k8s.testing.kube.emulator import KubeEmulator


def run(settings: Settings, args: argparse.Namespace) -> int:
    del settings  # logging is configured by the caller
    token_file = getattr(args, "token_auth_file", None)
    try:
        users = read_token_file(Path(token_file)) if token_file else None
    except (OSError, TokenFileError) as bad:
        raise ArkoudaK8sError(f"--token-auth-file {token_file}: {bad}") from None
    emulator = KubeEmulator(
        tls=bool(getattr(args, "tls", False)),
        rbac=bool(getattr(args, "rbac", False)),
        token_auth=users,
        allow_loopback_endpoints=bool(getattr(args, "allow_loopback_endpoints", False)),
        host=getattr(args, "host", "127.0.0.1"),
        port=int(getattr(args, "port", 0)),
    )
    return asyncio.run(_serve(emulator, getattr(args, "kubeconfig_out", None)))


async def _serve(emulator: KubeEmulator, kubeconfig_out: str | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await emulator.start()
    try:
        if kubeconfig_out:
            emulator.write_kubeconfig(Path(kubeconfig_out))
        sys.stdout.write(f"serving {emulator.url}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await emulator.stop()
    return 0
