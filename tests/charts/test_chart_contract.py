"""The rendered pods fit the runtime contract of the entrypoints and the registrar (settings.py names):
the environment they read, the Service the registrar adopts, the locale selector, the ssh Secret
mount, shared storage at one path, numLocales with one meaning, names that never collide."""

from __future__ import annotations

from typing import Any

import pytest
from chartkit import (
    LOCALE,
    MULTI,
    SINGLE,
    UMBRELLA,
    Helm,
    HelmFailed,
    Obj,
    Render,
    env_of,
    is_hook,
    kind_name,
    of_kind,
    one,
    render,
)
from seed_values import SEED_LOCALE, SEED_SERVER, SEED_SINGLE

from arkouda_k8s import settings as s

# What the server pod's entrypoint and registrar must be told (name → settings option it fills).
SERVER_ENV = {
    "POD_NAME": "pod_name",
    "POD_NAMESPACE": "namespace",
    "POD_IP": "pod_ip",
    "POD_UID": "pod_uid",
    "ARKOUDA_INSTANCE": "instance",
    "EXTERNAL_SERVICE_NAME": "service_name",
    "EXTERNAL_SERVICE_PORT": "service_port",
    "EXTERNAL_SERVICE_TARGET_PORT": "server_port",
    "COLLECT_METRICS": "metrics",
    "ENDPOINTS_API": "endpoints_api",
    "REGISTRAR_HEALTH_PORT": "health_port",
    "SHUTDOWN_TIMEOUT": "shutdown_timeout",
    "AUTHENTICATE": "authenticate",
    "MEMTRACK": "mem_track",
    "LOG_LEVEL": "server_log_level",
    "ARKOUDA_K8S_LOG_LEVEL": "log_level",
}
MULTI_SERVER_ENV = {
    **SERVER_ENV,
    "NUMLOCALES": "num_locales",
    "LOCALE_SELECTOR": "locale_selector",
    "LOCALE_TIMEOUT": "locale_timeout",
    "SSH_KEY_DIR": "ssh_key_dir",
    "SSH_PORT": "ssh_port",
    "SSH_HOME": "ssh_home",
    "CHPL_RT_NUM_THREADS_PER_LOCALE": "threads_per_locale",
}
LOCALE_ENV = {"SSH_KEY_DIR": "ssh_key_dir", "SSH_PORT": "ssh_port", "SSH_HOME": "ssh_home"}
DOWNWARD = {
    "POD_NAME": "fieldRef:metadata.name",
    "POD_NAMESPACE": "fieldRef:metadata.namespace",
    "POD_IP": "fieldRef:status.podIP",
    "POD_UID": "fieldRef:metadata.uid",
}


def _workload(objects: list[Obj], component: str) -> Obj:
    found = [o for o in of_kind(objects, "StatefulSet") if _labels(o)["app.kubernetes.io/component"] == component]
    assert len(found) == 1, f"expected one {component} StatefulSet, found {[kind_name(o) for o in found]}"
    return found[0]


def _labels(obj: Obj) -> dict[str, str]:
    return dict(obj["metadata"].get("labels") or {})


def _container(workload: Obj) -> Obj:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Equality-based label selector (what LOCALE_SELECTOR holds) against a label set."""
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _settings_accept(env: dict[str, Any], names: dict[str, str]) -> None:
    """Every plain value passes the rule of the settings option it fills (as the entrypoint checks it)."""
    for var, option in names.items():
        value = env[var]
        if isinstance(value, str) and not value.startswith("fieldRef:") and option != "ssh_key_dir":
            s.OPTIONS[option].parse(value)  # raises ValueError with the rule


def test_multi_locale_server_environment(rendered: Render) -> None:
    objects = rendered(UMBRELLA, release="ak", namespace="ns1")
    server = _container(_workload(objects, "server"))
    env = env_of(server)
    assert server["args"] == ["server"]
    missing = sorted(set(MULTI_SERVER_ENV) - set(env))
    assert not missing, f"the server pod lacks {missing}"
    assert {k: env[k] for k in DOWNWARD} == DOWNWARD
    assert env["ARKOUDA_INSTANCE"] == "ak"
    assert env["EXTERNAL_SERVICE_NAME"] == "ak"
    assert env["ENDPOINTS_API"] == "endpointslice"
    assert float(env["SHUTDOWN_TIMEOUT"]) == 20
    _settings_accept(env, MULTI_SERVER_ENV)


def test_single_server_environment(rendered: Render) -> None:
    objects = rendered(SINGLE, release="solo", namespace="ns1")
    server = _container(_workload(objects, "server"))
    env = env_of(server)
    assert server["args"] == ["single"]
    missing = sorted(set(SERVER_ENV) - set(env))
    assert not missing, f"the server pod lacks {missing}"
    assert not {"NUMLOCALES", "LOCALE_SELECTOR", "SSH_KEY_DIR"} & set(env), "a single-locale server has no locales"
    assert {k: env[k] for k in DOWNWARD} == DOWNWARD
    _settings_accept(env, SERVER_ENV)


def test_locale_environment(rendered: Render) -> None:
    objects = rendered(UMBRELLA, release="ak", namespace="ns1")
    locale = _container(_workload(objects, "locale"))
    env = env_of(locale)
    assert locale["args"] == ["locale"]
    assert {k: env[k] for k in DOWNWARD} == DOWNWARD
    _settings_accept(env, LOCALE_ENV)


@pytest.mark.parametrize("num_locales", [1, 2, 5])
def test_num_locales_means_total_in_every_chart(rendered: Render, num_locales: int) -> None:
    umbrella = rendered(UMBRELLA, values={"global": {"numLocales": num_locales}})
    assert _workload(umbrella, "locale")["spec"]["replicas"] == num_locales - 1
    assert env_of(_container(_workload(umbrella, "server")))["NUMLOCALES"] == str(num_locales)
    alone = rendered(LOCALE, values={"server": {"numLocales": num_locales}})
    assert _workload(alone, "locale")["spec"]["replicas"] == num_locales - 1
    server = rendered(MULTI, values={"server": {"numLocales": num_locales}})
    assert env_of(_container(_workload(server, "server")))["NUMLOCALES"] == str(num_locales)


def test_global_num_locales_wins_over_a_part(rendered: Render) -> None:
    objects = rendered(
        UMBRELLA,
        values={"global": {"numLocales": 4}, "arkouda-locale": {"server": {"numLocales": 9}}},
    )
    assert _workload(objects, "locale")["spec"]["replicas"] == 3


def test_locale_selector_matches_exactly_the_release_locales(rendered: Render) -> None:
    objects = rendered(UMBRELLA, release="ak")
    selector = env_of(_container(_workload(objects, "server")))["LOCALE_SELECTOR"]
    locale_pods = _workload(objects, "locale")["spec"]["template"]["metadata"]["labels"]
    server_pod = _workload(objects, "server")["spec"]["template"]["metadata"]["labels"]
    assert _selector_matches(selector, locale_pods)
    assert not _selector_matches(selector, server_pod)
    for test_pod in of_kind(objects, "Pod"):
        assert not _selector_matches(selector, _labels(test_pod)), kind_name(test_pod)
    other = rendered(UMBRELLA, release="other")
    assert not _selector_matches(selector, _workload(other, "locale")["spec"]["template"]["metadata"]["labels"])


def test_server_alone_finds_a_separate_locale_release(rendered: Render) -> None:
    locales = rendered(LOCALE, release="ak-locales")
    server = rendered(MULTI, release="ak", values={"locale": {"instance": "ak-locales"}})
    env = env_of(_container(_workload(server, "server")))
    assert _selector_matches(
        env["LOCALE_SELECTOR"], _workload(locales, "locale")["spec"]["template"]["metadata"]["labels"]
    )
    secret = one(locales, "Secret")["metadata"]["name"]
    assert _ssh_volume(_workload(server, "server"))["secret"]["secretName"] == secret


def _ssh_volume(workload: Obj) -> Obj:
    spec = workload["spec"]["template"]["spec"]
    mount_dir = env_of(spec["containers"][0])["SSH_KEY_DIR"]
    mount = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == mount_dir]
    assert len(mount) == 1 and mount[0]["readOnly"] is True, "the ssh Secret must be mounted read-only at SSH_KEY_DIR"
    return dict(next(v for v in spec["volumes"] if v["name"] == mount[0]["name"]))


@pytest.mark.parametrize(
    "values",
    [
        {},
        {
            "arkouda-locale": {"ssh": {"existingSecret": "k"}},
            "arkouda-multilocale-server": {"ssh": {"existingSecret": "k"}},
        },
    ],
    ids=["generated", "existing"],
)
def test_every_pod_mounts_the_same_ssh_secret(rendered: Render, values: dict[str, Any]) -> None:
    objects = rendered(UMBRELLA, release="ak", values=values)
    names = set()
    for component in ("server", "locale"):
        workload = _workload(objects, component)
        volume = _ssh_volume(workload)
        names.add(volume["secret"]["secretName"])
        assert volume["secret"]["defaultMode"] == 0o440
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"], "0440 needs the fsGroup"
        # SSH_HOME is created by the entrypoint inside an emptyDir mounted at its parent (the user owns it).
        home = env_of(pod["containers"][0])["SSH_HOME"]
        parent = home.rsplit("/", 1)[0]
        mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == parent)
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert volume["emptyDir"]["medium"] == "Memory"
    assert len(names) == 1, f"server and locales mount different ssh Secrets: {names}"
    generated = of_kind(objects, "Secret")
    if values:
        assert not generated and names == {"k"}
    else:
        assert [g["metadata"]["name"] for g in generated] == list(names)


def test_registrar_adopts_the_chart_service(rendered: Render) -> None:
    """The Service is selector-less, carries the release label the registrar checks before adopting it,
    and has exactly the ports the registrar would give it (so adopting it changes nothing)."""
    for chart in (UMBRELLA, SINGLE):
        objects = rendered(chart, release="ak", values=_metrics_values(chart))
        env = env_of(_container(_workload(objects, "server")))
        service = one(objects, "Service", env["EXTERNAL_SERVICE_NAME"])
        assert "selector" not in service["spec"], "the registrar writes the endpoints: no selector"
        assert _labels(service)["app.kubernetes.io/instance"] == env["ARKOUDA_INSTANCE"]
        ports = {(p["name"], p["port"], p["targetPort"], p["protocol"]) for p in service["spec"]["ports"]}
        assert ports == {
            ("arkouda", int(env["EXTERNAL_SERVICE_PORT"]), int(env["EXTERNAL_SERVICE_TARGET_PORT"]), "TCP"),
            ("metrics", int(env["METRICS_SERVICE_PORT"]), int(env["METRICS_SERVICE_TARGET_PORT"]), "TCP"),
        }
        container_ports = {p["name"]: p["containerPort"] for p in _container(_workload(objects, "server"))["ports"]}
        assert container_ports["arkouda"] == int(env["EXTERNAL_SERVICE_TARGET_PORT"])
        assert container_ports["metrics"] == int(env["METRICS_SERVICE_TARGET_PORT"])


def _metrics_values(chart: str) -> dict[str, Any]:
    metrics = {"server": {"metrics": {"collectMetrics": True}}}
    return {"arkouda-multilocale-server": metrics} if chart == UMBRELLA else metrics


def test_metrics_under_a_service_of_its_own(rendered: Render) -> None:
    objects = rendered(
        MULTI, values={"server": {"metrics": {"collectMetrics": True, "service": {"name": "ak-metrics"}}}}
    )
    env = env_of(_container(_workload(objects, "server")))
    assert env["METRICS_SERVICE_NAME"] == "ak-metrics"
    metrics = one(objects, "Service", "ak-metrics")
    assert "selector" not in metrics["spec"]
    assert [p["name"] for p in metrics["spec"]["ports"]] == ["metrics"]
    main = one(objects, "Service", env["EXTERNAL_SERVICE_NAME"])
    assert [p["name"] for p in main["spec"]["ports"]] == ["arkouda"]


@pytest.mark.parametrize(
    ("persistence", "volume_key"),
    [
        ({"enabled": True, "hostPath": "/mnt/arkouda", "path": "/data"}, "hostPath"),
        ({"enabled": True, "type": "pvc", "path": "/data"}, "persistentVolumeClaim"),
        ({"enabled": True, "type": "pvc", "existingClaim": "shared", "path": "/data"}, "persistentVolumeClaim"),
    ],
    ids=["hostpath", "pvc", "existing-claim"],
)
def test_storage_at_the_same_path_in_every_pod(rendered: Render, persistence: dict[str, Any], volume_key: str) -> None:
    objects = rendered(UMBRELLA, release="ak", values={"global": {"persistence": persistence}})
    sources = []
    for component in ("server", "locale"):
        pod = _workload(objects, component)["spec"]["template"]["spec"]
        mount = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/data"]
        assert len(mount) == 1, f"{component} does not mount the storage at /data"
        volume = next(v for v in pod["volumes"] if v["name"] == mount[0]["name"])
        sources.append(volume[volume_key])
    assert sources[0] == sources[1], f"server and locales mount different storage: {sources}"
    claims = of_kind(objects, "PersistentVolumeClaim")
    if volume_key == "persistentVolumeClaim" and "existingClaim" not in persistence:
        assert [c["metadata"]["name"] for c in claims] == [sources[0]["claimName"]]
        assert claims[0]["spec"]["accessModes"] == ["ReadWriteMany"]
    else:
        assert not claims


def test_one_image_for_server_and_locales(rendered: Render) -> None:
    objects = rendered(UMBRELLA, values={"global": {"releaseVersion": "v2024.04.19"}})
    images = {_container(_workload(objects, c))["image"] for c in ("server", "locale")}
    assert images == {"ghcr.io/arkouda-k8s/arkouda-udp-server:v2024.04.19"}
    dirs = {_container(_workload(objects, c))["workingDir"] for c in ("server", "locale")}
    assert len(dirs) == 1, "GASNet starts the remote locales in the launcher's directory: it must exist everywhere"


def test_two_releases_in_one_namespace_never_collide(rendered: Render) -> None:
    installs = [
        rendered(UMBRELLA, release="alpha", namespace="shared"),
        rendered(UMBRELLA, release="beta", namespace="shared"),
        rendered(SINGLE, release="solo", namespace="shared"),
        rendered(SINGLE, release="solo2", namespace="shared"),
        rendered(LOCALE, release="loc", namespace="shared"),
        rendered(MULTI, release="srv", namespace="shared", values={"locale": {"instance": "loc"}}),
    ]
    seen: dict[str, int] = {}
    for index, objects in enumerate(installs):
        for obj in objects:
            key = kind_name(obj)
            assert key not in seen, f"{key} of install {index} collides with install {seen[key]}"
            seen[key] = index
    # Release names that share a long prefix still give distinct names for both parts.
    long = "a" * 44
    names = {kind_name(o) for o in rendered(UMBRELLA, release=long + "-x")} & {
        kind_name(o) for o in rendered(UMBRELLA, release=long + "-y")
    }
    assert not names, f"collisions between long release names: {sorted(names)}"


def test_release_name_that_is_no_service_name(helm3: Helm) -> None:
    with pytest.raises(HelmFailed) as failed:
        render(helm3, UMBRELLA, release="1arkouda")
    assert "not a DNS-1035 label" in failed.value.stderr and "externalServiceName" in failed.value.stderr
    objects = render(
        helm3,
        UMBRELLA,
        release="1arkouda",
        values={"arkouda-multilocale-server": {"external": {"externalServiceName": "ak"}}},
    )
    assert one(objects, "Service", "ak")


@pytest.mark.parametrize(
    ("chart", "values", "message"),
    [
        (MULTI, {"terminationGracePeriodSeconds": 20}, "must be above registrar.shutdownTimeout"),
        (SINGLE, {"registrar": {"shutdownTimeout": 45}}, "must be above registrar.shutdownTimeout"),
        (MULTI, {"external": {"externalServiceTargetPort": 6000}}, "differs from server.port"),
        (
            SINGLE,
            {"external": {"headless": True, "serviceType": "LoadBalancer"}},
            "needs external.serviceType ClusterIP",
        ),
        (LOCALE, {"image": {"repository": "nginx"}}, "helm create"),
        (MULTI, {"image": {"repository": "nginx"}}, "helm create"),
        (UMBRELLA, {"arkouda-locale": {"ssh": {"existingSecret": "a"}}}, "differ"),
        (UMBRELLA, {"arkouda-multilocale-server": {"locale": {"instance": "elsewhere"}}}, "leave it empty"),
        (LOCALE, {"external": {"persistence": {"enabled": True, "hostPath": ""}}}, "hostPath is required"),
    ],
)
def test_contradictory_values_are_refused_with_the_fix(
    helm3: Helm, chart: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmFailed) as failed:
        render(helm3, chart, values=values)
    assert message in failed.value.stderr


@pytest.mark.parametrize(
    ("chart", "values", "expected_locale_pods"),
    [(LOCALE, SEED_LOCALE, 1), (MULTI, SEED_SERVER, None), (SINGLE, SEED_SINGLE, None)],
    ids=["seed-locale", "seed-server", "seed-single"],
)
def test_seed_values_files_still_install(
    rendered: Render, chart: str, values: dict[str, Any], expected_locale_pods: int | None
) -> None:
    objects = rendered(chart, namespace="arkouda", values=values)
    if expected_locale_pods is not None:
        # The one change of meaning: numLocales 2 is now the total (1 locale pod + the server).
        assert _workload(objects, "locale")["spec"]["replicas"] == expected_locale_pods
        return
    env = env_of(_container(_workload(objects, "server")))
    assert env["EXTERNAL_SERVICE_NAME"] == ("arkouda-single-locale" if chart == SINGLE else "arkouda")
    assert env["MEMTRACK"] == "true"
    if chart == MULTI:
        assert env["NUMLOCALES"] == "3" and env["LOG_LEVEL"] == "LogLevel.DEBUG"
        assert env["METRICS_SERVICE_NAME"] == "arkouda-metrics" and env["COLLECT_METRICS"] == "true"
        pod = _workload(objects, "server")["spec"]["template"]["spec"]
        assert any(v.get("hostPath", {}).get("path") == "/mnt/data/arkouda" for v in pod["volumes"])
    for obj in objects:
        assert obj["metadata"]["namespace"] == "arkouda"


def test_helm3_and_helm4_render_the_same(helm3: Helm, helm4: Helm) -> None:
    for chart in (SINGLE, LOCALE, MULTI, UMBRELLA):
        three, four = render(helm3, chart), render(helm4, chart)
        for objects in (three, four):
            for secret in of_kind(objects, "Secret"):
                secret["data"]["ssh-privatekey"] = "<generated>"
        assert three == four, f"{chart} renders differently with {helm3.version()} and {helm4.version()}"


def test_helm_test_pods(rendered: Render) -> None:
    objects = rendered(UMBRELLA, release="ak", namespace="ns1", values={"global": {"numLocales": 3}})
    tests = [o for o in of_kind(objects, "Pod") if is_hook(o)]
    assert {o["metadata"]["annotations"]["helm.sh/hook"] for o in tests} == {"test"}
    by_component = {o["metadata"]["name"]: o for o in tests}
    resolve = by_component["ak-server-test"]["spec"]["containers"][0]
    assert resolve["command"] == ["arkouda-k8s"]
    assert resolve["args"] == ["resolve", "ak", "--namespace", "ns1", "--wait", "60"]
    assert by_component["ak-server-test"]["spec"]["restartPolicy"] == "Never"
    sshd = by_component["ak-locale-test"]["spec"]["containers"][0]
    assert sshd["command"][:2] == ["python3", "-c"]
    compile(sshd["command"][2], "test-sshd", "exec")  # the probe script is valid Python
    assert sshd["command"][3:] == [
        "2222",
        "60",
        "ak-locale-0.ak-locale-headless.ns1.svc",
        "ak-locale-1.ak-locale-headless.ns1.svc",
    ]
    single = rendered(SINGLE, release="solo", namespace="ns1")
    resolve = one(single, "Pod")["spec"]["containers"][0]
    assert resolve["args"] == ["resolve", "solo", "--namespace", "ns1", "--wait", "60"]


def test_no_helm_create_leftovers() -> None:
    from chartkit import CHARTS

    for path in CHARTS.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".tpl", ".txt", ".json"):
            text = path.read_text()
            for leftover in (
                "repository: nginx",
                "image: nginx",
                "test-connection",
                "HorizontalPodAutoscaler",
                "kind: Ingress",
            ):
                assert leftover not in text, f"{path}: {leftover}"
    templates = {p.name for p in CHARTS.glob("*/templates/*")}
    assert not {"hpa.yaml", "ingress.yaml", "deployment.yaml"} & templates
