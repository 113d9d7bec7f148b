"""The registrar's life: wait for the server, publish it, keep it honest, withdraw it.

    registrar = Registrar(settings, kube, pod)
    task = asyncio.create_task(registrar.run())   # returns after stop() and a complete withdrawal
    ...
    registrar.stop()                              # SIGTERM, or the server exited
    await task

Phases: starting → waiting (a probe queued until the server binds) → publishing → published (probe every few
seconds, repair drift) → withdrawing → withdrawn. stop() in any phase ends in a withdrawal of
whatever was written (nothing, if the server never answered). The withdrawal has a deadline; past
it, WithdrawIncomplete says what was left behind (the garbage collector removes the slices when
the pod goes, because they are owned by it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import Awaitable, Callable
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.kube import (
    ENDPOINT_SLICES,
    ApiError,
    ApiUnavailable,
    Forbidden,
    Invalid,
    KubeClient,
    TlsRefused,
    list_and_watch,
)
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.registrar.health import HealthTracker, ServerNotAnswering, ServerProbe, ZmqProbe
from arkouda_k8s.registrar.metrics import Counters, render
from arkouda_k8s.registrar.publish import Published, Publisher, ServiceConflict, WithdrawIncomplete
from arkouda_k8s.settings import Settings


def service_specs(settings: Settings) -> list[o.ServiceSpec]:
    """The Services to publish: the client Service, and the metrics one when it has its own name."""
    main = [o.Port("arkouda", settings.service_port, settings.server_port)]
    specs = []
    metrics = o.Port("metrics", settings.metrics_port, settings.metrics_target_port)
    if settings.metrics and not settings.metrics_service_name:
        main.append(metrics)
    specs.append(o.ServiceSpec(settings.service_name, tuple(main)))
    if settings.metrics and settings.metrics_service_name:
        specs.append(o.ServiceSpec(settings.metrics_service_name, (metrics,)))
    return specs


class Registrar:
    def __init__(
        self,
        settings: Settings,
        kube: KubeClient,
        pod: o.PodIdentity,
        *,
        probe: ServerProbe | None = None,
        server_token: str | None = None,
        withdraw_timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.pod = pod
        self.publisher = Publisher(kube, pod, endpoints_api=settings.endpoints_api)
        self.specs = service_specs(settings)
        self.probe = probe or ZmqProbe(
            settings.probe_host, settings.server_port, timeout=settings.probe_timeout, token=server_token
        )
        self.health = HealthTracker(settings.probe_failures)
        self.counters = Counters()
        self.withdraw_timeout = withdraw_timeout or settings.shutdown_timeout
        self.phase = "starting"
        self.published: dict[str, Published] = {}
        self.is_published = asyncio.Event()
        self.removed: list[str] = []
        self._stop = asyncio.Event()
        self._t0 = asyncio.get_running_loop().time()
        self.log = logs.get_logger("registrar", service=settings.service_name, namespace=pod.namespace, pod=pod.name)

    # --- control ---

    def stop(self) -> None:
        """Withdraw and end run(); safe to call more than once, from a signal handler too."""
        if self._stop.is_set():
            self.log.info("already_stopping", phase=self.phase)
        self._stop.set()

    @property
    def ready(self) -> bool:
        return any(p.ready for p in self.published.values())

    def elapsed_ms(self) -> int:
        return round((asyncio.get_running_loop().time() - self._t0) * 1000)

    def healthz(self) -> tuple[bool, str]:
        age = self.kube.stats.seconds_since_success()
        if age is None:
            return False, "no successful API request yet"
        if age > self.settings.health_max_age:
            return False, f"last successful API request {age:.0f} s ago (limit {self.settings.health_max_age:.0f} s)"
        return True, f"ok: {self.phase}, last API sync {age:.1f} s ago"

    def metrics_text(self) -> str:
        return render(self.counters, self.kube.stats, self.health, ready=self.ready, phase=self.phase)

    # --- the life ---

    async def run(self) -> None:
        """Until stop(): publish when the server answers and keep it true; then withdraw."""
        active = asyncio.create_task(self._active(), name="registrar-active")
        stopper = asyncio.create_task(self._stop.wait(), name="registrar-stop")
        failure: BaseException | None = None
        try:
            await asyncio.wait({active, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not active.done():
                active.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await active
                except Exception as failed:  # conflict, forbidden…: still take back what we wrote
                    failure = failed
            if self.phase != "starting":
                try:
                    await self._withdraw()
                except WithdrawIncomplete as incomplete:
                    if failure is None:
                        raise
                    self.log.error("withdraw_incomplete", error=str(incomplete))
            self.phase = "withdrawn" if self.phase != "starting" else "stopped"
        if failure is not None:
            raise failure

    async def _active(self) -> None:
        for spec in self.specs:
            await self._api_step(functools.partial(self._delete_orphans, spec), "orphan_cleanup")
        self.phase = "claiming"
        for spec in self.specs:
            self.published[spec.name] = await self._api_step(functools.partial(self.publisher.claim, spec), "claim")
        self.phase = "waiting"
        await self._wait_for_server()
        self.phase = "publishing"
        for state in self.published.values():
            await self._api_step(functools.partial(self.publisher.publish, state, ready=True), "publish")
        self.phase = "published"
        self.counters.publishes += 1
        self.is_published.set()
        main = self.published[self.specs[0].name]
        self.log.info(
            "published",
            elapsed_ms=self.elapsed_ms(),
            address=self.pod.ip,
            port=self.settings.server_port,
            endpointslice=main.slice_name,
            service_created=main.service_created,
        )
        loops = [self._probe_loop(), self._reconcile_loop()]
        if self.publisher.write_slices:
            loops += [self._watch_slice(spec) for spec in self.specs]
        # A TaskGroup, not gather: when run() cancels us, every loop has stopped before the withdrawal
        # starts (a cancelled gather returns at once, with a slice watch still able to repair).
        try:
            async with asyncio.TaskGroup() as group:
                for loop in loops:
                    group.create_task(loop)
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # ServiceConflict, Forbidden…: the first failure, as itself

    async def _delete_orphans(self, spec: o.ServiceSpec) -> None:
        removed = await self.publisher.delete_orphans(spec.name)
        if removed:
            self.log.info("orphans_removed", endpointslices=removed)

    async def _wait_for_server(self) -> None:
        await self.probe.first_answer()
        self.log.info(
            "server_answering",
            elapsed_ms=self.elapsed_ms(),
            probe=f"{self.settings.probe_host}:{self.settings.server_port}",
        )

    async def _api_step(self, step: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Run an API step until it succeeds: the API may be down for a while; RBAC errors are fatal."""
        attempt = 0
        while True:
            try:
                return await step()
            except ServiceConflict as conflict:
                self.counters.conflicts += 1
                self.log.error("conflict", step=what, error=str(conflict))
                raise
            except (Forbidden, Invalid, TlsRefused):
                raise  # RBAC, or an object the API will never accept (a loopback address…): retrying cannot help
            except ApiError as failed:
                self.log.warning("api_step_failed", step=what, error=str(failed), attempt=attempt + 1)
                await asyncio.sleep(self.kube.retry.backoff(attempt + 3))
                attempt += 1

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.probe_period)
            try:
                latency: float | None = await self.probe.check()
            except ServerNotAnswering as silent:
                latency = None
                self.log.debug("probe_failed", error=str(silent), failures=self.health.failures_in_row + 1)
            change = self.health.record(latency)
            if change is not None:
                await self._set_ready(change)

    async def _set_ready(self, ready: bool) -> None:
        for state in self.published.values():
            state.ready = ready  # the desired state: repairs use it even if this write fails
            try:
                await self.publisher.set_ready(state, ready)
            except Forbidden:
                raise
            except ApiError as failed:
                self.log.warning("set_ready_failed", ready=ready, error=str(failed))
        self.log.info(
            "endpoint_ready" if ready else "endpoint_not_ready",
            elapsed_ms=self.elapsed_ms(),
            failures=self.health.failures_in_row,
        )

    async def _watch_slice(self, spec: o.ServiceSpec) -> None:
        state = self.published[spec.name]
        attempt = 0
        while True:
            try:
                async for event in list_and_watch(
                    self.kube,
                    ENDPOINT_SLICES,
                    self.pod.namespace,
                    label_selector=o.slice_selector(spec.name),
                    timeout_seconds=self._watch_period(),
                ):
                    attempt = 0
                    current = event.objects.get(state.slice_name or "")
                    # A create retried after a lost answer can leave a second slice of ours (generateName):
                    # one endpoint per pod, so any other slice this pod owns goes.
                    repaired = await self.publisher.delete_duplicates(state, event.objects)
                    if (
                        event.type != "SYNCED"
                        and event.object is not None
                        and event.object["metadata"]["name"] != state.slice_name
                        and current is not None
                    ):
                        continue  # another slice changed; ours is as it was
                    repaired += await self.publisher.repair_slice(state, current)
                    if repaired:
                        self.counters.repairs += 1
                        self.log.info("repaired", what=repaired, elapsed_ms=self.elapsed_ms())
            except Forbidden:
                raise
            except ApiError as failed:
                self.log.warning("watch_failed", error=str(failed), attempt=attempt + 1)
                await asyncio.sleep(self.kube.retry.backoff(attempt + 3))
                attempt += 1

    def _watch_period(self) -> int:
        """The watch renewal: the reconcile period, jittered by 10% so many servers do not renew together."""
        return max(1, round(self.settings.reconcile_period * random.uniform(0.9, 1.0)))  # noqa: S311

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reconcile_period)
            for state in self.published.values():
                try:
                    repaired = await self.publisher.repair_service(state)
                    if self.publisher.write_endpoints:
                        repaired += await self.publisher.repair_endpoints(state)
                except ServiceConflict:
                    raise
                except Forbidden as refused:
                    # e.g. the chart's Service was deleted and the Role (rightly) has no create: say so and keep
                    # the endpoint published; `helm upgrade` restores the Service.
                    self.log.error("repair_forbidden", error=str(refused))
                    continue
                except ApiError as failed:
                    self.log.warning("reconcile_failed", error=str(failed))
                    continue
                if repaired:
                    self.counters.repairs += 1
                    self.log.info("repaired", what=repaired, elapsed_ms=self.elapsed_ms())

    async def _withdraw(self) -> None:
        self.phase = "withdrawing"
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.withdraw_timeout
        try:
            async with asyncio.timeout_at(deadline):
                for spec in self.specs:
                    self.removed += await self.publisher.withdraw(
                        self.published.get(spec.name), spec, keep_service=self.settings.keep_service, deadline=deadline
                    )
        except (TimeoutError, ApiUnavailable, ApiError) as failed:
            left = self._leftovers()
            raise WithdrawIncomplete(
                f"withdrawal of Service {self.pod.namespace}/{self.settings.service_name} did not finish within "
                f"{self.withdraw_timeout:g} s ({type(failed).__name__}: {failed}); possibly left in the API: "
                f"{', '.join(left) or 'nothing known'}. The EndpointSlices are owned by pod {self.pod.name} and are "
                f"garbage-collected when it is deleted; check with: kubectl get endpointslices,services "
                f"-n {self.pod.namespace} -l app.kubernetes.io/managed-by=arkouda-k8s"
            ) from None
        self.is_published.clear()
        self.counters.withdrawals += 1
        self.log.info(
            "withdrawn",
            removed=self.removed,
            elapsed_ms=self.elapsed_ms(),
            withdraw_ms=round((loop.time() - started) * 1000),
        )

    def _leftovers(self) -> list[str]:
        known = []
        for name, state in self.published.items():
            if state.slice_name:
                known.append(f"endpointslice/{state.slice_name}")
            if state.endpoints:
                known.append(f"endpoints/{name}")
            if state.service_created and not self.settings.keep_service:
                known.append(f"service/{name}")
        return [k for k in known if k not in self.removed]
