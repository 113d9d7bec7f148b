"""`arkouda-k8s register`: the registrar alone, as a sidecar next to a running arkouda_server."""

from __future__ import annotations

import argparse
import asyncio
import os

from arkouda_k8s import logs
from arkouda_k8s.errors import ExitCode
from arkouda_k8s.kube import KubeClient, load_api_config
from arkouda_k8s.lifecycle import on_stop_signals
from arkouda_k8s.registrar import httpd
from arkouda_k8s.registrar.daemon import Registrar
from arkouda_k8s.registrar.identity import pod_identity
from arkouda_k8s.settings import Settings


def run(settings: Settings, _args: argparse.Namespace) -> int:
    return asyncio.run(serve(settings))


async def serve(settings: Settings) -> int:
    """Publish until SIGTERM/SIGINT, then withdraw; the exit code says how the withdrawal went."""
    log = logs.get_logger("registrar")
    config = await load_api_config(settings)
    log.info("starting", api=config.source, settings=settings.public())
    async with KubeClient(config, component="registrar") as kube:
        pod = await pod_identity(settings, kube)
        registrar = Registrar(settings, kube, pod, server_token=os.environ.get("ARKOUDA_SERVER_TOKEN") or None)
        remove_handlers = on_stop_signals(lambda _sig: registrar.stop(), component="registrar")
        runner = None
        if settings.health_port:
            runner = await httpd.serve(settings.health_port, healthz=registrar.healthz, metrics=registrar.metrics_text)
        try:
            await registrar.run()
        finally:
            remove_handlers()
            if runner is not None:
                await runner.cleanup()
    return ExitCode.OK
