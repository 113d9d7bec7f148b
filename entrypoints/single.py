"""`arkouda-k8s single`: a single-locale server pod — `arkouda_server -nl 1`, no ssh, published."""

from __future__ import annotations

import argparse
import asyncio

from arkouda_k8s import logs
from arkouda_k8s.entrypoints.gasnet import launch_environment, server_command
from arkouda_k8s.entrypoints.process import ChildProcess
from arkouda_k8s.entrypoints.supervise import supervise
from arkouda_k8s.kube import KubeClient, load_api_config
from arkouda_k8s.lifecycle import on_stop_signals
from arkouda_k8s.registrar.identity import pod_identity
from arkouda_k8s.settings import Settings, require_executable


def run(settings: Settings, _args: argparse.Namespace) -> int:
    require_executable(settings, "arkouda_server")  # before anything starts
    return asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> int:
    log = logs.get_logger("entrypoint", pod=settings.pod_name, service=settings.service_name)
    stop = asyncio.Event()
    remove = on_stop_signals(lambda _sig: stop.set(), component="entrypoint")
    server = ChildProcess(
        "arkouda_server", server_command(settings, 1), env=launch_environment(settings, None, settings.pod_ip)
    )
    try:
        if not settings.register:
            log.info("starting", register=False)
            return await supervise(settings, server, kube=None, pod=None, stop=stop)
        config = await load_api_config(settings)
        log.info("starting", api=config.source, settings=settings.public())
        async with KubeClient(config, component="entrypoint") as kube:
            pod = await pod_identity(settings, kube)
            return await supervise(settings, server, kube=kube, pod=pod, stop=stop)
    finally:
        remove()
