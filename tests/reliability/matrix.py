"""The fault matrix: one row per (component, API call, fault), and how each row is run.

A row names the component (the in-process Registrar, the entrypoint's LocaleWatch and pod identity,
the resolver's aresolve), the call the fault hits (verb and resource, as the emulator sees them), the
fault, when it is armed and what must follow: `converge` (published when it should be, withdrawn when
it should be) or the documented give-up (`exit:N`, N from arkouda_k8s.errors.ExitCode). Every row ends
with an audit of every object in the namespace and a check that the fault was really met.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import pytest

from arkouda_k8s.entrypoints.locales import LocaleWatch
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import RetryPolicy
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.registrar.identity import pod_identity
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.registrar.publish import WithdrawIncomplete
from arkouda_k8s.resolver import errors as resolve_errors
from arkouda_k8s.resolver import portforward
from arkouda_k8s.resolver.api import aresolve
from arkouda_k8s.settings import IDENTITY, load

from .kit import (
    FAST_RETRY,
    LOCALE_SELECTOR,
    NS,
    POD,
    POD_IP,
    PORT,
    READER_USER,
    SA_USER,
    SERVICE,
    Cluster,
    SwitchProbe,
    eventually,
    open_cluster,
    settle,
)

LATENCY = 5.0  # the "5 s latency" rows
PARTITION = 10.0  # the "10 s partition" rows
# One request may take longer than a 5 s latency; the rest of the policy stays fast.
PATIENT = RetryPolicy(base=0.02, cap=0.3, budget=30.0, request_timeout=8.0)


@dataclass(frozen=True)
class Case:
    id: str
    component: str  # registrar | locales | identity | resolver | port-forward (the resolver's mode)
    fault: str  # 500 503 429 401 401x reset latency partition closed 410 410-event lost 403
    verb: str | None = None
    resource: str | None = None
    # registrar: start | published | withdraw; locales: start | waiting | running; resolver: start | waiting
    when: str = "start"
    then: str = ""  # registrar, published: drift (someone edits our slice) | flap (the server stops answering a while)
    expect: str = "converge"  # converge | exit:N | withdraw-incomplete
    n: int = 1
    env: tuple[tuple[str, str], ...] = ()
    helm: bool = False  # a Service made by Helm exists (adopted with get + patch)
    orphan: bool = False  # a slice of a dead pod is there at start
    slow: bool = False
    bug: str = ""  # a known product bug: the row is expected to fail (xfail strict) until it is fixed

    @property
    def watch(self) -> bool:
        return self.verb == "watch"


ES, SVC, EP, PODS = "endpointslices", "services", "endpoints", "pods"
PF = "pods/portforward"
BOTH = (("ENDPOINTS_API", "both"),)

CASES = [
    # --- the registrar: claiming the name and publishing ---
    Case("reg-get-svc-500", "registrar", "500", "get", SVC, n=2),
    Case("reg-get-svc-reset", "registrar", "reset", "get", SVC),
    Case("reg-create-svc-503", "registrar", "503", "create", SVC, n=3),
    Case("reg-create-svc-429", "registrar", "429", "create", SVC),
    Case("reg-create-svc-401-rotated", "registrar", "401", "create", SVC),
    Case("reg-create-svc-lost-response", "registrar", "lost", "create", SVC),
    Case("reg-patch-svc-503-adopt-helm", "registrar", "503", "patch", SVC, n=2, helm=True),
    Case("reg-patch-svc-401-rotated-adopt-helm", "registrar", "401", "patch", SVC, helm=True),
    Case("reg-list-es-orphans-503", "registrar", "503", "list", ES, n=2, orphan=True),
    Case("reg-list-es-orphans-reset", "registrar", "reset", "list", ES),
    Case("reg-get-pod-orphan-owner-500", "registrar", "500", "get", PODS, orphan=True),
    Case("reg-delete-es-orphan-429", "registrar", "429", "delete", ES, orphan=True),
    Case("reg-create-es-500", "registrar", "500", "create", ES, n=2),
    Case("reg-create-es-503", "registrar", "503", "create", ES, n=5),
    Case("reg-create-es-429", "registrar", "429", "create", ES),
    Case("reg-create-es-401-rotated", "registrar", "401", "create", ES),
    Case("reg-create-es-401-twice", "registrar", "401x", "create", ES, n=2),
    Case("reg-create-es-reset", "registrar", "reset", "create", ES, n=2),
    Case("reg-create-es-lost-response", "registrar", "lost", "create", ES),
    Case("reg-create-es-403-gives-up", "registrar", "403", "create", ES, expect=f"exit:{ExitCode.API_FORBIDDEN}"),
    Case("reg-create-ep-503", "registrar", "503", "create", EP, n=2, env=BOTH),
    Case("reg-create-ep-401-rotated", "registrar", "401", "create", EP, env=BOTH),
    # --- the registrar, published: watch, repair, health ---
    Case("reg-watch-es-closed", "registrar", "closed", "watch", ES, when="published", then="drift"),
    Case("reg-watch-es-410", "registrar", "410", "watch", ES, when="published", then="drift"),
    Case("reg-watch-es-410-event", "registrar", "410-event", "watch", ES, when="published", then="drift"),
    Case("reg-watch-es-503", "registrar", "503", "watch", ES, when="published", then="drift", n=2),
    Case("reg-watch-es-reset", "registrar", "reset", "watch", ES, when="published", then="drift"),
    Case("reg-watch-es-401-rotated", "registrar", "401", "watch", ES, when="published", then="drift"),
    Case("reg-update-es-repair-503", "registrar", "503", "update", ES, when="published", then="drift", n=2),
    Case("reg-update-es-repair-429", "registrar", "429", "update", ES, when="published", then="drift"),
    Case("reg-update-es-repair-409", "registrar", "409", "update", ES, when="published", then="drift"),
    Case("reg-patch-es-flap-500", "registrar", "500", "patch", ES, when="published", then="flap", n=2),
    Case("reg-patch-es-flap-429", "registrar", "429", "patch", ES, when="published", then="flap"),
    Case("reg-patch-es-flap-401-rotated", "registrar", "401", "patch", ES, when="published", then="flap"),
    Case("reg-patch-es-flap-reset", "registrar", "reset", "patch", ES, when="published", then="flap"),
    # --- the registrar, withdrawing ---
    Case("reg-withdraw-patch-es-503", "registrar", "503", "patch", ES, when="withdraw", n=2),
    Case("reg-withdraw-patch-es-reset", "registrar", "reset", "patch", ES, when="withdraw"),
    Case("reg-withdraw-delete-es-500", "registrar", "500", "delete", ES, when="withdraw", n=2),
    Case("reg-withdraw-delete-es-429", "registrar", "429", "delete", ES, when="withdraw"),
    Case("reg-withdraw-delete-es-401-rotated", "registrar", "401", "delete", ES, when="withdraw"),
    Case("reg-withdraw-delete-es-lost-response", "registrar", "lost", "delete", ES, when="withdraw"),
    Case("reg-withdraw-list-es-503", "registrar", "503", "list", ES, when="withdraw"),
    Case("reg-withdraw-get-svc-503", "registrar", "503", "get", SVC, when="withdraw"),
    Case("reg-withdraw-delete-svc-503", "registrar", "503", "delete", SVC, when="withdraw", n=2),
    Case("reg-withdraw-delete-svc-401-rotated", "registrar", "401", "delete", SVC, when="withdraw"),
    Case("reg-withdraw-delete-svc-reset", "registrar", "reset", "delete", SVC, when="withdraw"),
    Case("reg-withdraw-delete-ep-500", "registrar", "500", "delete", EP, when="withdraw", env=BOTH),
    # --- the entrypoint: its pod, then its locales (list, then watch) ---
    Case("ident-get-pod-503", "identity", "503", "get", PODS, n=3),
    Case("ident-get-pod-401-rotated", "identity", "401", "get", PODS),
    Case("loc-list-pods-503", "locales", "503", "list", PODS, n=3),
    Case("loc-list-pods-429", "locales", "429", "list", PODS),
    Case("loc-list-pods-reset", "locales", "reset", "list", PODS),
    Case("loc-list-pods-401-rotated", "locales", "401", "list", PODS),
    Case("loc-watch-pods-closed", "locales", "closed", "watch", PODS, when="waiting"),
    Case("loc-watch-pods-410", "locales", "410", "watch", PODS, when="waiting"),
    Case("loc-watch-pods-410-event", "locales", "410-event", "watch", PODS, when="waiting"),
    Case("loc-watch-pods-reset", "locales", "reset", "watch", PODS, when="waiting"),
    Case("loc-watch-pods-500", "locales", "500", "watch", PODS, when="waiting", n=2),
    Case("loc-watch-pods-401-rotated", "locales", "401", "watch", PODS, when="waiting"),
    Case("loc-lost-watch-closed", "locales", "closed", "watch", PODS, when="running"),
    Case("loc-lost-watch-410-event", "locales", "410-event", "watch", PODS, when="running"),
    Case("loc-lost-watch-503", "locales", "503", "watch", PODS, when="running", n=2),
    # --- the resolver: reads only ---
    Case("res-list-es-503", "resolver", "503", "list", ES, n=3),
    Case("res-list-es-429", "resolver", "429", "list", ES),
    Case("res-list-es-reset", "resolver", "reset", "list", ES),
    Case("res-list-es-401-rotated", "resolver", "401", "list", ES),
    Case("res-watch-es-closed", "resolver", "closed", "watch", ES, when="waiting"),
    Case("res-watch-es-410", "resolver", "410", "watch", ES, when="waiting"),
    Case("res-watch-es-410-event", "resolver", "410-event", "watch", ES, when="waiting"),
    Case("res-watch-es-503", "resolver", "503", "watch", ES, when="waiting"),
    Case("res-watch-es-401-rotated", "resolver", "401", "watch", ES, when="waiting"),
    Case("res-get-svc-503-staged-error", "resolver", "503", "get", SVC, expect=f"exit:{ExitCode.NOT_FOUND}"),
    # --- the resolver's port-forward: one WebSocket upgrade per connection ---
    Case("pf-get-portforward-503", "port-forward", "503", "get", PF, n=2),
    Case("pf-get-portforward-429", "port-forward", "429", "get", PF),
    Case("pf-get-portforward-reset", "port-forward", "reset", "get", PF),
    Case("pf-get-portforward-401-rotated", "port-forward", "401", "get", PF),
    Case("pf-get-portforward-403-refused", "port-forward", "403", "get", PF, expect=f"exit:{ExitCode.NOT_FOUND}"),
    # --- slow: 5 s of latency, 10 s of partition ---
    Case("reg-create-es-latency-5s", "registrar", "latency", "create", ES, slow=True),
    Case(
        "reg-withdraw-delete-es-latency-5s",
        "registrar",
        "latency",
        "delete",
        ES,
        when="withdraw",
        env=(("SHUTDOWN_TIMEOUT", "15"),),  # a slow API, and a deadline that allows for it
        slow=True,
    ),
    Case("loc-watch-pods-latency-5s", "locales", "latency", "watch", PODS, when="waiting", slow=True),
    Case("res-list-es-latency-5s", "resolver", "latency", "list", ES, slow=True),
    Case("reg-publish-partition-10s", "registrar", "partition", slow=True),
    Case("loc-waiting-partition-10s", "locales", "partition", when="waiting", slow=True),
    Case("res-waiting-partition-10s", "resolver", "partition", when="waiting", slow=True),
    Case("pf-get-portforward-latency-5s", "port-forward", "latency", "get", PF, slow=True),
    Case(
        "reg-withdraw-partition-10s-gives-up",
        "registrar",
        "partition",
        when="withdraw",
        expect="withdraw-incomplete",
        slow=True,
    ),
]


async def inject(case: Case, cluster: Cluster) -> None:
    """Arm the row's fault; for a watch, also end the open watch so that the next one meets it."""
    f = cluster.faults
    kind = case.fault
    target: dict[str, Any] = {"verb": case.verb, "resource": case.resource}
    if kind in ("500", "503", "504", "403", "409", "410"):
        f.http(int(kind), case.n, **target)
    elif kind == "429":
        f.http(429, case.n, retry_after=1, **target)
    elif kind == "401x":  # 401 from the server without a rotation: the file is re-read, the same token works
        f.http(401, case.n, **target)
    elif kind == "401":
        reader = case.component in ("resolver", "port-forward")
        f.rotate_when(verb=str(case.verb), resource=str(case.resource), reader=reader)
    elif kind == "reset":
        f.reset(case.n, **target)
    elif kind == "lost":
        f.lose_response(verb=str(case.verb), resource=str(case.resource), hold=FAST_RETRY.request_timeout + 1.5)
    elif kind == "latency":
        f.latency(LATENCY, **target)
    elif kind == "partition":
        f.partition(PARTITION)
    elif kind not in ("closed", "410-event"):
        raise AssertionError(f"unknown fault {kind}")
    if case.watch:
        if kind == "410-event":
            await f.expire_watches()
        else:
            await f.close_watches()


# --- the registrar ------------------------------------------------------------------------------------


async def _orphan(cluster: Cluster) -> str:
    dead = PodIdentity(name="arkouda-server-dead", uid="uid-of-a-dead-pod", ip="192.0.2.12", namespace=NS)
    item = o.endpoint_slice(o.ServiceSpec(SERVICE, (o.Port("arkouda", PORT, PORT),)), dead, ready=True)
    item["metadata"]["name"] = f"{SERVICE}-orphan"
    await cluster.emulator.create(item)
    return f"{SERVICE}-orphan"


async def run_registrar(case: Case, cluster: Cluster) -> None:
    env = dict(case.env)
    endpoints = env.get("ENDPOINTS_API") == "both"
    probe = SwitchProbe()
    if case.orphan:
        await _orphan(cluster)
    retry = PATIENT if case.fault == "latency" else FAST_RETRY
    registrar = await cluster.registrar(probe, retry=retry, env=env)
    if case.when == "start":
        await inject(case, cluster)
    task = asyncio.create_task(registrar.run())
    try:
        if case.expect.startswith("exit:"):
            with pytest.raises(ArkoudaK8sError) as failed:
                await asyncio.wait_for(task, 30)
            assert failed.value.exit_code == int(case.expect.removeprefix("exit:")), failed.value
            await cluster.assert_clean(published=False, what="after giving up")
            cluster.faults.assert_all_hit()
            return
        await asyncio.wait_for(registrar.is_published.wait(), 40)
        await settle(lambda: cluster.slice_is(ready=True))
        await cluster.assert_clean(published=True, endpoints=endpoints, what="published")
        if case.when == "published":
            await inject(case, cluster)
            if case.then == "drift":
                await cluster.edit_slice_badly()
                await settle(lambda: cluster.slice_is(ready=True))
            elif case.then == "flap":
                probe.answering = False
                await settle(lambda: cluster.slice_is(ready=False))
                await cluster.assert_clean(published=True, ready=False, endpoints=endpoints, what="not ready")
                probe.answering = True
                await settle(lambda: cluster.slice_is(ready=True))
            await cluster.assert_clean(published=True, endpoints=endpoints, what="after the fault")
        if case.when == "withdraw":
            await inject(case, cluster)
        registrar.stop()  # at once: a stop may meet a watch event or a repair in flight (test_stop_races.py)
        if case.expect == "withdraw-incomplete":
            await _gives_up_then_recovers(case, cluster, task)
            return
        await asyncio.wait_for(task, 30)
        await cluster.assert_clean(published=False, endpoints=endpoints, what="withdrawn")
        cluster.faults.assert_all_hit()
    finally:
        if not task.done():
            registrar.stop()
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def _gives_up_then_recovers(case: Case, cluster: Cluster, task: asyncio.Task[None]) -> None:
    """Withdrawal cut off by the API: exit 5 within the deadline, saying what was left; then the pod goes
    (its slice with it, by the garbage collector) and the next server pod takes the name over cleanly."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(WithdrawIncomplete) as incomplete:
        await asyncio.wait_for(task, 30)
    assert loop.time() - started < 5.0 + 2.0, "the withdrawal deadline (SHUTDOWN_TIMEOUT=5) was not kept"
    assert incomplete.value.exit_code == ExitCode.WITHDRAW_INCOMPLETE
    assert "endpointslice/" in str(incomplete.value) and f"service/{SERVICE}" in str(incomplete.value)
    cluster.faults.clear()
    await cluster.emulator.delete_pod(NS, POD, grace_period_seconds=0)
    await eventually(lambda: _none(cluster.slices), what="the garbage collector removing the dead pod's slice")
    reborn = await cluster.emulator.create_pod(NS, POD, labels={"app.kubernetes.io/component": "server"})
    await cluster.emulator.set_pod_ready(NS, POD, ip=POD_IP)
    cluster.pod = PodIdentity(name=POD, uid=reborn["metadata"]["uid"], ip=POD_IP, namespace=NS, instance="rel")
    successor = await cluster.registrar()
    running = asyncio.create_task(successor.run())
    await asyncio.wait_for(successor.is_published.wait(), 20)
    await cluster.assert_clean(published=True, what="taken over by the next server pod")
    successor.stop()
    await asyncio.wait_for(running, 20)
    await cluster.assert_clean(published=False, what="withdrawn by the next server pod")


async def _none(read: Any) -> bool:
    return not await read()


# --- the entrypoint: identity and locales -------------------------------------------------------------


async def run_identity(case: Case, cluster: Cluster) -> None:
    kube = await cluster.client()
    settings = load(IDENTITY, None, {"POD_NAME": POD, "POD_IP": POD_IP, "NAMESPACE": NS})  # no POD_UID: read it
    await inject(case, cluster)
    pod = await asyncio.wait_for(pod_identity(settings, kube), 30)
    assert (pod.name, pod.uid, pod.ip) == (POD, cluster.pod.uid, POD_IP)
    assert cluster.writes_by(SA_USER) == []
    await cluster.assert_clean(published=False, what="after reading the pod")
    cluster.faults.assert_all_hit()


async def run_locales(case: Case, cluster: Cluster) -> None:
    names = await cluster.create_locale_pods(2)
    kube = await cluster.client(retry=PATIENT if case.fault == "latency" else FAST_RETRY)
    watch = LocaleWatch(kube, NS, LOCALE_SELECTOR, 2)
    lists = cluster.requests(SA_USER, "list", "pods")
    try:
        if case.when == "start":
            await inject(case, cluster)
        waiting = asyncio.create_task(watch.wait_ready(40))
        if case.when == "waiting":
            if case.fault == "partition":
                await eventually(lambda: _listed(cluster, lists), what="the locale list")
            await inject(case, cluster)
            if case.fault in ("410", "410-event"):
                await eventually(lambda: _listed(cluster, lists + 1), what="a fresh list after 410")
        for i, name in enumerate(names):
            await cluster.emulator.set_pod_ready(NS, name, ip=f"192.0.2.{40 + i}")
        locales = await asyncio.wait_for(waiting, 45)
        assert [(loc.name, loc.ip) for loc in locales] == [(n, f"192.0.2.{40 + i}") for i, n in enumerate(names)]
        lost = asyncio.create_task(watch.lost(locales))
        if case.when == "running":
            await inject(case, cluster)
        await cluster.emulator.delete_pod(NS, names[1], grace_period_seconds=0)
        gone = await asyncio.wait_for(lost, 30)
        assert gone.name == names[1]
    finally:
        await watch.close()
    assert cluster.writes_by(SA_USER) == []
    await cluster.assert_clean(published=False, what="after watching the locales")
    cluster.faults.assert_all_hit()


async def _listed(cluster: Cluster, more_than: int) -> bool:
    return cluster.requests(SA_USER, "list", "pods") > more_than


# --- the resolver ---------------------------------------------------------------------------------------


async def run_resolver(case: Case, cluster: Cluster) -> None:
    settings = cluster.reader_settings()
    outside = cluster.tmp / "not-in-a-pod"
    if case.expect.startswith("exit:"):
        await inject(case, cluster)
        with pytest.raises(resolve_errors.ResolveError) as failed:
            await aresolve(SERVICE, NS, timeout=1.5, settings=settings, serviceaccount_dir=outside)
        assert failed.value.exit_code == int(case.expect.removeprefix("exit:"))
        assert isinstance(failed.value, resolve_errors.ServiceNotFound), failed.value
        assert "kubectl get services -n arkouda" in str(failed.value)
    elif case.when == "start":
        await cluster.publish_directly()
        await inject(case, cluster)
        endpoint = await aresolve(SERVICE, NS, timeout=30, settings=settings, serviceaccount_dir=outside)
        assert (endpoint.host, endpoint.port) == (POD_IP, PORT)
    else:
        lists = cluster.requests(READER_USER, "list", "endpointslices")
        task = asyncio.create_task(aresolve(SERVICE, NS, timeout=40, settings=settings, serviceaccount_dir=outside))
        try:
            await eventually(lambda: _reader_listed(cluster, lists), what="the resolver's first list")
            await inject(case, cluster)
            await cluster.publish_directly()
            endpoint = await asyncio.wait_for(task, 45)
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        assert (endpoint.host, endpoint.port) == (POD_IP, PORT)
    assert cluster.writes_by(READER_USER) == [], "the resolver must only read"
    await cluster.assert_clean(published=False, what="after resolving")
    cluster.faults.assert_all_hit()


async def run_port_forward(case: Case, cluster: Cluster) -> None:
    """aresolve(mode="port-forward"): the endpoint through the API, then the WebSocket check the fault meets."""
    outside = cluster.tmp / "not-in-a-pod"
    options: dict[str, Any] = {"settings": cluster.reader_settings(), "serviceaccount_dir": outside}
    await cluster.publish_directly()
    await inject(case, cluster)
    try:
        if case.expect.startswith("exit:"):
            with pytest.raises(resolve_errors.ResolveError) as failed:
                await aresolve(SERVICE, NS, mode="port-forward", timeout=10, **options)
            assert failed.value.exit_code == int(case.expect.removeprefix("exit:"))
            assert isinstance(failed.value, resolve_errors.ApiRefused), failed.value
            assert f"kubectl auth can-i get pods/portforward -n {NS}" in str(failed.value)
            assert not portforward.by_local_port(0)
        else:
            endpoint = await aresolve(SERVICE, NS, mode="port-forward", timeout=30, **options)
            assert (endpoint.host, endpoint.pod) == ("127.0.0.1", POD)
            assert portforward.by_local_port(endpoint.port) is not None
    finally:
        await asyncio.to_thread(portforward.close_all)
    log = cluster.emulator.request_log
    upgrades = [r.status for r in log if r.user == READER_USER and r.subresource == "portforward"]
    assert (101 in upgrades) == (case.expect == "converge"), upgrades
    assert cluster.writes_by(READER_USER) == [], "the resolver must only read"
    await cluster.assert_clean(published=False, what="after a port-forward")
    cluster.faults.assert_all_hit()


async def _reader_listed(cluster: Cluster, more_than: int) -> bool:
    return cluster.requests(READER_USER, "list", "endpointslices") > more_than


RUNNERS = {
    "registrar": run_registrar,
    "identity": run_identity,
    "locales": run_locales,
    "resolver": run_resolver,
    "port-forward": run_port_forward,
}


async def run_case(case: Case, tmp: Any) -> None:
    async with open_cluster(tmp, helm_service=case.helm) as cluster:
        await RUNNERS[case.component](case, cluster)
