"""Registration latency: the stand-in starts answering → a separate watcher sees a ready EndpointSlice.

The registrar runs for real: the `arkouda-k8s register` sidecar as a subprocess (`python -m arkouda_k8s
register`, default settings, its real ZMQ probe on 127.0.0.1), with an API identity of its own. It is
started first and the stand-in only once the registrar has claimed the Service (seen by the watcher):
the registrar is then waiting for the server, its probe queued, as it does in a pod. The stand-in
(`arkouda-server-standin -nl 1`) binds at once; "starts answering" is the moment its banner line,
printed right after the bind, reaches the benchmark. The end is the moment the benchmark's own watch
(the product's list_and_watch, another identity) delivers a slice with a ready endpoint.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from arkouda_k8s.kube import ENDPOINT_SLICES, SERVICES
from benchmarks.cluster import BenchmarkError
from benchmarks.harness import SERVER_POD, SERVER_POD_IP, Session
from benchmarks.processes import RegistrarProcess, Standin, free_port
from benchmarks.watcher import Watcher, has_ready_endpoint, is_empty

SERVICE = "arkouda-bench"


@dataclass
class ServiceWatchers:
    """The separate watcher of one Service name: its EndpointSlices and the Service itself."""

    service: str
    slices: Watcher
    services: Watcher

    @classmethod
    async def open(cls, session: Session, service: str) -> ServiceWatchers:
        kube = await session.client("watcher")
        slices = Watcher(
            kube, ENDPOINT_SLICES, session.namespace, label_selector=f"kubernetes.io/service-name={service}"
        )
        services = Watcher(kube, SERVICES, session.namespace, field_selector=f"metadata.name={service}")
        await slices.start()
        await services.start()
        return cls(service, slices, services)

    async def stop(self) -> None:
        await self.slices.stop()
        await self.services.stop()

    async def until_clean(self) -> None:
        """Nothing of the previous run left: no slice, no Service."""
        await self.slices.until(is_empty, "no EndpointSlice")
        await self.services.until(lambda objects: self.service not in objects, f"Service {self.service} gone")


@dataclass
class Publication:
    registrar: RegistrarProcess
    standin: Standin
    bound: float  # time.monotonic(): the stand-in's banner arrived
    seen: float  # time.monotonic(): the watcher saw a ready endpoint

    @property
    def register_ms(self) -> float:
        return (self.seen - self.bound) * 1000

    async def close(self) -> None:
        await self.registrar.kill()
        await self.standin.stop()


async def registrar_environment(session: Session, user: str, service: str, port: int) -> dict[str, str]:
    """What the chart gives the sidecar (downward API + settings); product defaults for everything else."""
    return {
        "KUBECONFIG": str(await session.cluster.kubeconfig(user)),
        "NAMESPACE": session.namespace,
        "POD_NAME": SERVER_POD,
        "POD_UID": session.server_uid,
        "POD_IP": SERVER_POD_IP,
        "EXTERNAL_SERVICE_NAME": service,
        "EXTERNAL_SERVICE_TARGET_PORT": str(port),
        "PROBE_HOST": "127.0.0.1",
        "ARKOUDA_K8S_LOG_FORMAT": "json",
        "ARKOUDA_K8S_LOG_LEVEL": "info",
    }


async def publish(session: Session, watchers: ServiceWatchers, *, user: str, label: str) -> Publication:
    """Start the registrar, then the stand-in; measure bind → ready slice seen. The caller closes it."""
    port = free_port()
    logs: Path = session.workdir / label
    env = await registrar_environment(session, user, watchers.service, port)
    registrar = RegistrarProcess(env, logs.with_suffix(".registrar.log"))
    standin = Standin(port, logs.with_suffix(".standin.log"))
    claimed = watchers.services.when(lambda objects: watchers.service in objects)
    await registrar.start()
    try:
        try:
            await watchers.services.wait(claimed, f"Service {watchers.service} claimed by the registrar")
        except BenchmarkError as failed:
            raise BenchmarkError(f"{failed}\nthe registrar's log:\n{registrar.log_tail()}") from None
        ready = watchers.slices.when(has_ready_endpoint)
        await standin.start()
        bound = await standin.wait_bound()
        try:
            seen = await watchers.slices.wait(ready, "a ready endpoint")
        except BenchmarkError as failed:
            raise BenchmarkError(f"{failed}\nthe registrar's log:\n{registrar.log_tail()}") from None
    except BaseException:
        with contextlib.suppress(Exception):
            await Publication(registrar, standin, 0.0, 0.0).close()
        raise
    return Publication(registrar, standin, bound, seen)
