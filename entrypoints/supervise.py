"""Run arkouda_server with its registrar until something ends it, then stop everything in order.

What ends it, and what follows:
- SIGTERM / SIGINT: withdraw → `shutdown` over ZMQ → wait → SIGTERM → SIGKILL, within
  --shutdown-timeout; exit 0, or 5 when the withdrawal did not complete;
- the server exits on its own: withdraw, exit with its code (its last lines in the error);
- a locale pod goes away: withdraw, stop the server (Chapel has no locale fault tolerance), exit 7
  naming the locale;
- the registrar gives up (a live foreign owner of the name, RBAC): stop the server, exit with the
  registrar's code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.entrypoints.process import ChildProcess
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import KubeClient
from arkouda_k8s.registrar import httpd
from arkouda_k8s.registrar.daemon import Registrar
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.registrar.publish import WithdrawIncomplete
from arkouda_k8s.settings import Settings

WITHDRAW_SHARE = 0.4  # of --shutdown-timeout for the withdrawal; the rest stops the server


class ServerFailed(ArkoudaK8sError):
    """arkouda_server exited before it ever answered; the exit code is the server's own."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.exit_code = returncode if returncode > 0 else ExitCode.LAUNCH_FAILED  # type: ignore[assignment]


async def shutdown_over_zmq(host: str, port: int, timeout: float) -> None:
    from arkouda_k8s import wire

    probe = await wire.probe(host, port, timeout=timeout)
    await wire.shutdown(host, port, protocol=probe.protocol, timeout=timeout)


async def supervise(
    settings: Settings,
    server: ChildProcess,
    *,
    kube: KubeClient | None,
    pod: PodIdentity | None,
    stop: asyncio.Event,
    locale_lost: Awaitable[Any] | None = None,
) -> int:
    """Start the server and the registrar; return the exit code once everything has stopped."""
    log = logs.get_logger("entrypoint", service=settings.service_name, pod=settings.pod_name)
    loop = asyncio.get_running_loop()
    registrar = None
    if kube is not None and pod is not None:
        registrar = Registrar(settings, kube, pod, withdraw_timeout=settings.shutdown_timeout * WITHDRAW_SHARE)
    health = None
    if registrar is not None and settings.health_port:
        # The pod's readiness probe and Prometheus read the registrar's /healthz and /metrics.
        health = await httpd.serve(settings.health_port, healthz=registrar.healthz, metrics=registrar.metrics_text)
    await server.start()
    waits: dict[str, asyncio.Future[Any]] = {
        "stop": asyncio.ensure_future(stop.wait()),
        "server_exit": asyncio.ensure_future(server.wait()),
    }
    if registrar is not None:
        waits["registrar"] = asyncio.ensure_future(registrar.run())
    if locale_lost is not None:
        waits["locale_lost"] = asyncio.ensure_future(locale_lost)
    try:
        done, _ = await asyncio.wait(waits.values(), return_when=asyncio.FIRST_COMPLETED)
        why = next(name for name, fut in waits.items() if fut in done)
        deadline = loop.time() + settings.shutdown_timeout
        code = ExitCode.OK
        failure: BaseException | None = None
        if why == "registrar":
            failure = waits["registrar"].exception()
            if failure is None:  # the registrar stopped without being asked: treat as a failure
                failure = ArkoudaK8sError("the registrar stopped unexpectedly")
            log.error("registrar_failed", error=str(failure))
        elif why == "locale_lost":
            lost = waits["locale_lost"].result()
            log.error(
                "locale_lost",
                locale=getattr(lost, "name", str(lost)),
                ip=getattr(lost, "ip", None),
                note="Chapel has no locale fault tolerance: stopping the server",
            )
            code = ExitCode.LOCALE_LOST
        elif why == "server_exit":
            rc = waits["server_exit"].result()
            rc = 128 - rc if rc < 0 else rc  # killed by a signal: the shell's 128+N, as Kubernetes reports it
            published = registrar is not None and registrar.counters.publishes > 0
            event = "server_exited" if published else "server_failed_to_start"
            log.error(event, returncode=rc, output=server.tail()) if rc else log.info(event, returncode=rc)
            code = rc
        else:
            log.info("stopping", phase=registrar.phase if registrar else "running")
        # 1. withdraw (the registrar knows what it published)
        if registrar is not None and not waits["registrar"].done():
            registrar.stop()
            try:
                await waits["registrar"]
            except WithdrawIncomplete as incomplete:
                log.error("withdraw_incomplete", error=str(incomplete))
                code = code or ExitCode.WITHDRAW_INCOMPLETE
            except Exception as failed:
                failure = failure or failed
        # 2. stop the server: ask it, then signals
        if server.returncode is None:
            rc = await server.stop(
                deadline,
                ask=lambda: shutdown_over_zmq(
                    settings.probe_host, settings.server_port, min(2.0, settings.probe_timeout * 2)
                ),
            )
            log.info("server_stopped", returncode=rc)
        if failure is not None:
            code = code or getattr(failure, "exit_code", ExitCode.FAILURE)
            if why == "registrar" and isinstance(failure, ArkoudaK8sError):
                raise failure
        if why == "server_exit" and code and not (registrar and registrar.counters.publishes):
            raise ServerFailed(
                f"arkouda_server exited with {code} before it answered: {server.tail(8) or '(no output)'}", int(code)
            ) from None
        return int(code)
    finally:
        for fut in waits.values():
            if not fut.done():
                fut.cancel()
        for fut in waits.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fut
        if server.returncode is None:
            await server.stop(loop.time() + 1.0)
        if health is not None:
            await health.cleanup()
