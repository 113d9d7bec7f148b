"""`arkouda-k8s server`: the multi-locale server pod (locale 0).

sshd → wait for the locale pods through the API → probe their sshd → build GASNET_SSH_SERVERS from
their IPs (own IP first) and the pinned-host-key ssh wrapper → launch `arkouda_server -nl N` with
a minimal environment → publish it (the registrar, in this event loop) → on SIGTERM, withdraw and
stop it in order; when a locale pod goes away, withdraw, stop the server and exit 7 naming it.
"""

from __future__ import annotations

import argparse
import asyncio

from arkouda_k8s import logs
from arkouda_k8s.entrypoints import ssh, sshd
from arkouda_k8s.entrypoints.gasnet import SshLaunch, launch_environment, server_command
from arkouda_k8s.entrypoints.locales import LocaleWatch
from arkouda_k8s.entrypoints.process import ChildProcess
from arkouda_k8s.entrypoints.supervise import supervise
from arkouda_k8s.errors import ExitCode
from arkouda_k8s.kube import KubeClient, load_api_config
from arkouda_k8s.lifecycle import on_stop_signals, unless_stopped
from arkouda_k8s.registrar.identity import pod_identity
from arkouda_k8s.settings import Settings, require, require_executable

SSHD_PROBE_TIMEOUT = 30.0  # a Ready locale pod whose sshd does not answer within this is an error


def run(settings: Settings, _args: argparse.Namespace) -> int:
    require(
        settings,
        "pod_ip",
        why="it is GASNET_MASTERIP, the first GASNet host and the published address "
        "(set it from the downward API: status.podIP)",
    )
    keys = sshd.install(settings)  # a bad key is an error here, before anything starts
    require_executable(settings, "arkouda_server")
    return asyncio.run(_serve(settings, keys))


async def _serve(settings: Settings, keys: ssh.InstalledKeys) -> int:
    pod_ip = str(settings.pod_ip)
    log = logs.get_logger("entrypoint", pod=settings.pod_name, service=settings.service_name)
    stop = asyncio.Event()
    remove = on_stop_signals(lambda _sig: stop.set(), component="entrypoint")
    pod_sshd = await sshd.start(settings, keys, listen_address=pod_ip)
    try:
        config = await load_api_config(settings)
        log.info("starting", api=config.source, num_locales=settings.num_locales, settings=settings.public())
        async with KubeClient(config, component="entrypoint") as kube:
            namespace = settings.namespace or kube.namespace
            pod = await pod_identity(settings, kube) if settings.register else None
            watch = LocaleWatch(kube, namespace, settings.locale_selector, settings.num_locales - 1)
            try:
                locales = await unless_stopped(watch.wait_ready(settings.locale_timeout), stop)
                if locales is None:
                    log.info("stopped", phase="waiting_for_locales")
                    return ExitCode.OK
                log.info("locales_ready", locales=[f"{loc.name}={loc.ip}" for loc in locales])
                probes = asyncio.gather(
                    *(ssh.wait_for_sshd(loc.ip, settings.ssh_port, timeout=SSHD_PROBE_TIMEOUT) for loc in locales)
                )
                if await unless_stopped(probes, stop) is None and locales:
                    log.info("stopped", phase="probing_locale_sshd")
                    return ExitCode.OK
                wrapper = ssh.write_gasnet_ssh_wrapper(
                    keys.ssh_home / "gasnet-ssh",
                    known_hosts=keys.known_hosts,
                    identity=keys.private_key,
                    port=settings.ssh_port,
                )
                launch = SshLaunch(
                    hosts=[pod_ip, *(loc.ip for loc in locales)],
                    wrapper=wrapper,
                    identity=keys.private_key,
                    known_hosts=keys.known_hosts,
                    port=settings.ssh_port,
                )
                server = ChildProcess(
                    "arkouda_server",
                    server_command(settings, settings.num_locales),
                    env=launch_environment(settings, launch, pod_ip),
                )
                return await supervise(
                    settings,
                    server,
                    kube=kube if pod else None,
                    pod=pod,
                    stop=stop,
                    locale_lost=watch.lost(locales) if locales else None,
                )
            finally:
                await watch.close()
    finally:
        remove()
        await pod_sshd.process.stop(asyncio.get_running_loop().time() + 3)
