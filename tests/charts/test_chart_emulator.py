"""The rendered manifests on the API emulator with RBAC on (HTTPS, bearer tokens, as on a cluster):
every object is accepted, the Role binds exactly the server pod's ServiceAccount, and the server
entrypoint's and the registrar's own API calls, made under that identity from the rendered pod's
environment, are all allowed and all within the Role."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from chartkit import LOCALE, MULTI, SINGLE, UMBRELLA, Helm, Obj, env_of, is_hook, kind_name, of_kind, render, role_rules

from arkouda_k8s import settings as s
from arkouda_k8s.testing.kube.emulator import KubeEmulator
from arkouda_k8s.testing.kube.rbac import Attributes

NS = "analytics"
RELEASE = "ak"
FORBIDDEN = 403


async def _apply(emulator: KubeEmulator, objects: list[Obj], namespace: str = NS) -> None:
    """Create every object over HTTP as the admin, the way `helm install` sends them."""
    from kubernetes_asyncio.client import ApiClient, CoreV1Api, V1Namespace, V1ObjectMeta
    from kubernetes_asyncio.client.exceptions import ApiException
    from kubernetes_asyncio.utils import create_from_dict

    async with ApiClient(emulator.configuration()) as api:
        try:
            await CoreV1Api(api).create_namespace(V1Namespace(metadata=V1ObjectMeta(name=namespace)))
        except ApiException as exists:  # the second release of a namespace
            if exists.status != 409:
                raise
        for obj in objects:
            await create_from_dict(api, obj, namespace=namespace)


async def _stored(emulator: KubeEmulator, obj: Obj) -> Obj:
    meta = obj["metadata"]
    return await emulator.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        (UMBRELLA, {}),
        (
            UMBRELLA,
            {
                "arkouda-multilocale-server": {
                    "server": {"metrics": {"collectMetrics": True}},
                    "registrar": {"endpointsApi": "both"},
                }
            },
        ),
        (UMBRELLA, {"global": {"numLocales": 5, "persistence": {"enabled": True, "type": "pvc"}}}),
        (SINGLE, {"server": {"metrics": {"collectMetrics": True, "service": {"name": "ak-metrics"}}}}),
    ],
    ids=["umbrella", "umbrella-metrics-endpoints", "umbrella-pvc", "single-metrics-service"],
)
async def test_every_object_accepted_with_rbac_on(
    kube_emulator_tls_rbac: KubeEmulator, helm3: Helm, chart: str, values: dict[str, Any]
) -> None:
    emulator = kube_emulator_tls_rbac
    objects = render(helm3, chart, release=RELEASE, namespace=NS, values=values)
    await _apply(emulator, objects)
    for obj in objects:
        stored = await _stored(emulator, obj)
        assert stored["metadata"]["uid"], kind_name(obj)
        assert stored["metadata"]["labels"] == obj["metadata"]["labels"], kind_name(obj)
    created = [r for r in emulator.request_log if r.verb == "create" and r.namespace == NS]
    assert len(created) == len(objects) and {r.status for r in created} == {201}
    service = next(o for o in of_kind(objects, "Service") if o["metadata"]["name"] == RELEASE)
    stored = await _stored(emulator, service)
    assert stored["spec"].get("clusterIP") and "selector" not in stored["spec"]


async def test_role_binds_exactly_the_server_identity(kube_emulator_tls_rbac: KubeEmulator, helm3: Helm) -> None:
    emulator = kube_emulator_tls_rbac
    values = {"arkouda-multilocale-server": {"registrar": {"endpointsApi": "both"}}}
    objects = render(helm3, UMBRELLA, release=RELEASE, namespace=NS, values=values)
    await _apply(emulator, objects)
    server = _identity(emulator, f"{RELEASE}-server")
    locale = _identity(emulator, f"{RELEASE}-locale")

    def allowed(identity: Any, group: str, resource: str, verb: str, name: str = "", namespace: str = NS) -> bool:
        attrs = Attributes(verb, True, group, "v1", resource, "", namespace, name)
        return emulator.authz.allowed(identity, attrs)

    granted = role_rules(objects)
    for group, resource, verb in granted:
        name = RELEASE if resource in ("services", "endpoints") and verb != "create" else ""
        assert allowed(server, group, resource, verb, name), f"the server may not {verb} {resource}"
        assert not allowed(locale, group, resource, verb, name), f"a locale pod may {verb} {resource}"
        assert not allowed(server, group, resource, verb, name, namespace="default"), "rights leak out of the namespace"
    refused = [
        ("", "services", "create", ""),
        ("", "services", "delete", RELEASE),
        ("", "services", "get", "kubernetes"),
        ("", "services", "patch", "someone-else"),
        ("", "secrets", "get", f"{RELEASE}-ssh"),
        ("", "pods", "delete", ""),
        ("", "pods", "create", ""),
        ("apps", "statefulsets", "get", ""),
        ("rbac.authorization.k8s.io", "roles", "update", ""),
    ]
    for group, resource, verb, name in refused:
        assert not allowed(server, group, resource, verb, name), f"the server may {verb} {resource} {name}"
    assert not allowed(server, "", "namespaces", "list", namespace="")


def _identity(emulator: KubeEmulator, account: str) -> Any:
    identity = emulator.authn.authenticate("Bearer " + emulator.service_account_token(NS, account))
    assert identity is not None and identity.user == f"system:serviceaccount:{NS}:{account}"
    return identity


async def _start_pods(emulator: KubeEmulator, objects: list[Obj], pending: str = "") -> dict[str, Obj]:
    """What the StatefulSet controller, the scheduler and the kubelet would do: every pod Running and
    Ready, except `pending`, which is created but left Pending."""
    pods = {}
    for index, workload in enumerate(o for o in of_kind(objects, "StatefulSet")):
        template = workload["spec"]["template"]
        for ordinal in range(workload["spec"]["replicas"]):
            name = f"{workload['metadata']['name']}-{ordinal}"
            pods[name] = await emulator.create_pod(
                NS, name, labels=template["metadata"]["labels"], spec=template["spec"]
            )
            if name != pending:
                pods[name] = await emulator.set_pod_ready(NS, name, ip=pod_ip(index, ordinal))
    return pods


def pod_ip(workload_index: int, ordinal: int) -> str:
    return f"10.0.{workload_index}.{10 + ordinal}"  # data only: nothing dials these addresses


def _pod_environment(workload: Obj, pod: Obj, kubeconfig: Path, key_dir: Path) -> dict[str, str]:
    """The server container's environment as the kubelet would give it (downward API filled in)."""
    env = {}
    downward = {
        "metadata.name": pod["metadata"]["name"],
        "metadata.namespace": NS,
        "metadata.uid": pod["metadata"]["uid"],
        "status.podIP": pod["status"]["podIP"],
    }
    for name, value in env_of(workload["spec"]["template"]["spec"]["containers"][0]).items():
        env[name] = downward[value.removeprefix("fieldRef:")] if value.startswith("fieldRef:") else value
    env["KUBECONFIG"] = str(kubeconfig)  # the pod's service-account token, handed over as a kubeconfig
    env["SSH_KEY_DIR"] = str(key_dir)
    return env


async def _as_server_pod(
    emulator: KubeEmulator,
    helm3: Helm,
    tmp_path: Path,
    chart: str,
    values: dict[str, Any],
    pending: str = "",
    extra_env: dict[str, str] | None = None,
) -> tuple[list[Obj], s.Settings, str]:
    objects = [o for o in render(helm3, chart, release=RELEASE, namespace=NS, values=values) if not is_hook(o)]
    await _apply(emulator, objects)
    pods = await _start_pods(emulator, objects, pending)
    server = next(
        o for o in of_kind(objects, "StatefulSet") if o["metadata"]["labels"]["app.kubernetes.io/component"] == "server"
    )
    account = server["spec"]["template"]["spec"]["serviceAccountName"]
    kubeconfig = emulator.write_kubeconfig(
        tmp_path / "kubeconfig", token=emulator.service_account_token(NS, account), namespace=NS
    )
    (tmp_path / "ssh").mkdir()
    env = _pod_environment(server, pods[f"{server['metadata']['name']}-0"], kubeconfig, tmp_path / "ssh")
    env.update(extra_env or {})  # test pacing only (e.g. RECONCILE_PERIOD); the chart does not set these
    names = (*s.IDENTITY, *s.PUBLISH, *s.KUBE_API, *s.SERVER, *s.LOCALES, *s.SSH, "register")
    settings = s.load(names, environ=env)  # the rendered environment passes every rule
    return objects, settings, f"system:serviceaccount:{NS}:{account}"


def _check_log(emulator: KubeEmulator, user: str, objects: list[Obj]) -> set[tuple[str, str, str]]:
    requests = [r for r in emulator.request_log if r.user == user]
    assert requests, f"{user} made no request"
    forbidden = [f"{r.verb} {r.resource} {r.name}" for r in requests if r.status == FORBIDDEN]
    assert not forbidden, f"forbidden for {user}: {forbidden}"
    used = emulator.permissions_used(user)
    assert used <= role_rules(objects), f"used but not granted: {used - role_rules(objects)}"
    return used


async def test_server_entrypoint_discovers_its_locales_under_its_identity(
    kube_emulator_tls_rbac: KubeEmulator, helm3: Helm, tmp_path: Path
) -> None:
    from arkouda_k8s.entrypoints.locales import LocaleWatch
    from arkouda_k8s.kube import KubeClient, load_api_config
    from arkouda_k8s.registrar.identity import pod_identity

    emulator = kube_emulator_tls_rbac
    late = f"{RELEASE}-locale-2"  # Pending when the server starts: it must list, then watch
    objects, settings, user = await _as_server_pod(
        emulator, helm3, tmp_path, UMBRELLA, {"global": {"numLocales": 4}}, pending=late
    )
    config = await load_api_config(settings, serviceaccount_dir=tmp_path / "no-service-account")
    async with KubeClient(config, component="entrypoint") as kube:
        pod = await pod_identity(settings, kube)
        assert pod.instance == RELEASE and pod.namespace == NS
        watch = LocaleWatch(kube, NS, settings.locale_selector, settings.num_locales - 1)
        try:
            waiting = asyncio.create_task(watch.wait_ready(10))
            # A request is logged when it ends: once the list is, the watch starts from its resourceVersion.
            await _until(lambda: any(r.user == user and r.verb == "list" for r in emulator.request_log))
            await emulator.set_pod_ready(NS, late, ip=pod_ip(0, 2))
            locales = await waiting
        finally:
            await watch.close()
    assert [loc.name for loc in locales] == [f"{RELEASE}-locale-{i}" for i in range(3)]
    used = _check_log(emulator, user, objects)
    # The watch is not in the log: the emulator records a request when it ends, and a watch the client
    # closes ends in a cancellation it does not record (test_role_binds_... checks watch is granted).
    assert ("", "pods", "list") in used  # (pods get: POD_UID comes from the downward API, no read needed)


# Requests a client ends by closing them are not in the emulator's log (it records a request when the
# server side ends); the registrar's own EndpointSlice watches end at their timeoutSeconds and are logged.
ENTRYPOINT_ONLY = {("", "pods", "list"), ("", "pods", "watch")}  # used by the discovery test above


@pytest.mark.parametrize("endpoints_api", ["endpointslice", "both"])
@pytest.mark.parametrize("chart", [UMBRELLA, SINGLE])
async def test_registrar_uses_exactly_the_role(
    kube_emulator_tls_rbac: KubeEmulator, helm3: Helm, tmp_path: Path, chart: str, endpoints_api: str
) -> None:
    """The real registrar (claim the chart's Service, publish, repair drift, withdraw; then the server
    pod is replaced and a new registrar takes over) as the server pod's ServiceAccount, with only
    arkouda_server replaced by a probe that says it answers: no request is forbidden, and every
    right of the Role is used (the entrypoint's locale discovery aside, checked above)."""
    emulator = kube_emulator_tls_rbac
    values: dict[str, Any] = {
        "server": {"metrics": {"collectMetrics": True}},
        "registrar": {"endpointsApi": endpoints_api},
    }
    if chart == UMBRELLA:
        values = {"arkouda-multilocale-server": values}
    objects, settings, user = await _as_server_pod(
        emulator, helm3, tmp_path, chart, values, extra_env={"RECONCILE_PERIOD": "0.05"}
    )
    await _run_registrar(emulator, settings, tmp_path, drift=True)
    pod_name = str(settings.pod_name)
    service = await emulator.get("v1", "Service", NS, RELEASE)
    assert service["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm", "adopted, not replaced"
    assert not await emulator.list("discovery.k8s.io/v1", "EndpointSlice", NS, f"kubernetes.io/service-name={RELEASE}")

    # The pod is replaced (same name, new UID): the new registrar finds the Service annotated with the
    # old pod, checks that pod is gone, and takes the Service over.
    template = await emulator.get("v1", "Pod", NS, pod_name)
    await emulator.delete_pod(NS, pod_name, grace_period_seconds=0)
    await emulator.create_pod(NS, pod_name, labels=template["metadata"]["labels"], spec=template["spec"])
    reborn = await emulator.set_pod_ready(NS, pod_name, ip=str(settings.pod_ip))
    assert reborn["metadata"]["uid"] != template["metadata"]["uid"]
    await _run_registrar(emulator, replace(settings, pod_uid=reborn["metadata"]["uid"]), tmp_path, drift=False)

    used = _check_log(emulator, user, objects)
    unused = role_rules(objects) - used - ENTRYPOINT_ONLY
    assert not unused, f"the Role grants what the registrar never used: {sorted(unused)}"
    assert ("", "services", "create") not in used and ("", "services", "delete") not in used


async def _run_registrar(emulator: KubeEmulator, settings: s.Settings, tmp_path: Path, *, drift: bool) -> None:
    from arkouda_k8s.kube import KubeClient, load_api_config
    from arkouda_k8s.registrar.daemon import Registrar
    from arkouda_k8s.registrar.identity import pod_identity

    slices = f"kubernetes.io/service-name={RELEASE}"
    config = await load_api_config(settings, serviceaccount_dir=tmp_path / "no-service-account")
    async with KubeClient(config, component="registrar") as kube:
        pod = await pod_identity(settings, kube)
        registrar = Registrar(settings, kube, pod, probe=ServerAnswers())  # type: ignore[arg-type]
        running = asyncio.create_task(registrar.run())
        await asyncio.wait_for(registrar.is_published.wait(), 10)
        (published,) = await emulator.list("discovery.k8s.io/v1", "EndpointSlice", NS, slices)
        assert [e["conditions"]["ready"] for e in published["endpoints"]] == [True]
        if drift:
            # Someone changes what the registrar wrote; it notices (watch, reconcile) and puts it back.
            name = published["metadata"]["name"]
            wrong = [{"addresses": ["198.51.100.9"], "conditions": {"ready": False}}]
            await emulator.patch("discovery.k8s.io/v1", "EndpointSlice", NS, name, {"endpoints": wrong})
            await _until_async(lambda: _slice_ready(emulator, name, str(settings.pod_ip)))
            await emulator.delete("discovery.k8s.io/v1", "EndpointSlice", NS, name)  # and then deletes it
            await _until_async(lambda: _new_slice_ready(emulator, name, str(settings.pod_ip)))
            if registrar.publisher.write_endpoints:
                bad = {"subsets": [{"addresses": [{"ip": "198.51.100.9"}], "ports": [{"name": "arkouda", "port": 1}]}]}
                await emulator.patch("v1", "Endpoints", NS, RELEASE, bad)
                await _until_async(lambda: _endpoints_at(emulator, str(settings.pod_ip)))
            # its slice watch ends at its timeoutSeconds (the reconcile period, at least 1 s): then it is logged
            await _until(
                lambda: any(r.verb == "watch" and r.resource == "endpointslices" for r in emulator.request_log)
            )
        registrar.stop()
        await asyncio.wait_for(running, 10)


async def _slice_ready(emulator: KubeEmulator, name: str, ip: str) -> bool:
    current = await emulator.get("discovery.k8s.io/v1", "EndpointSlice", NS, name)
    endpoints = current.get("endpoints") or []
    return len(endpoints) == 1 and endpoints[0]["addresses"] == [ip] and endpoints[0]["conditions"]["ready"] is True


async def _new_slice_ready(emulator: KubeEmulator, deleted: str, ip: str) -> bool:
    listed = await emulator.list("discovery.k8s.io/v1", "EndpointSlice", NS, f"kubernetes.io/service-name={RELEASE}")
    names = [sl["metadata"]["name"] for sl in listed]
    return len(names) == 1 and names[0] != deleted and await _slice_ready(emulator, names[0], ip)


async def _endpoints_at(emulator: KubeEmulator, ip: str) -> bool:
    current = await emulator.get("v1", "Endpoints", NS, RELEASE)
    return [a["ip"] for subset in current.get("subsets") or [] for a in subset.get("addresses") or []] == [ip]


class ServerAnswers:
    """Stands in for the probe of arkouda_server: it always answers (the registrar's ServerProbe)."""

    async def first_answer(self) -> None:
        return None

    async def check(self) -> float:
        return 0.001

    async def __call__(self) -> float:  # the earlier form of a probe: a callable
        return 0.001


async def _until_async(condition: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for the condition"
        await asyncio.sleep(0.01)


async def _until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for the condition"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("chart", [LOCALE, MULTI])
async def test_standalone_parts_apply_in_any_order(
    kube_emulator_tls_rbac: KubeEmulator, helm3: Helm, chart: str
) -> None:
    emulator = kube_emulator_tls_rbac
    server = render(helm3, MULTI, release="ak", namespace=NS, values={"locale": {"instance": "ak-locales"}})
    locales = render(helm3, LOCALE, release="ak-locales", namespace=NS)
    first, second = (locales, server) if chart == LOCALE else (server, locales)
    await _apply(emulator, first)
    await _apply(emulator, second)
    for obj in first + second:
        assert (await _stored(emulator, obj))["metadata"]["uid"]
