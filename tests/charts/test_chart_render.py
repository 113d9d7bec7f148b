"""Every chart, with its defaults and every variant: valid Kubernetes objects (strict schemas of 1.28 and
of the newest bundled version), labelled, namespaced, uniquely named, and pods that are non-root,
probed and given time to withdraw."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest
from chartkit import Obj, Render, env_of, is_hook, kind_name, pod_specs
from variants import CASES, VARIANTS

OLDEST = "1.28.0"
NEWEST = kubernetes_validate.latest_version()
REQUIRED_LABELS = (
    "helm.sh/chart",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)
NAMESPACE = "analytics"
RELEASE = "arkouda"

pytestmark = pytest.mark.parametrize(("chart", "variant"), CASES, ids=[f"{c}:{v}" for c, v in CASES])


def _objects(rendered: Render, chart: str, variant: str) -> list[Obj]:
    values = VARIANTS[chart][variant]
    namespace = NAMESPACE
    # The seed's values hard-code external.namespace: arkouda; install them where they point.
    external = values.get("external") or {}
    if external.get("namespace"):
        namespace = external["namespace"]
    objects = rendered(chart, release=RELEASE, namespace=namespace, values=values)
    assert objects, f"{chart} rendered nothing with {variant}"
    return objects


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
def test_valid_against_kubernetes_schemas(rendered: Render, chart: str, variant: str, version: str) -> None:
    problems = [
        f"{kind_name(obj)}: {problem}"
        for obj in _objects(rendered, chart, variant)
        if (problem := _schema_problem(obj, version))
    ]
    assert not problems, "\n".join(problems)


_VALIDATED: dict[str, str | None] = {}  # the same object recurs in many variants: validate it once


def _schema_problem(obj: Obj, version: str) -> str | None:
    key = version + json.dumps(obj, sort_keys=True)
    if key not in _VALIDATED:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
            _VALIDATED[key] = None
        except kubernetes_validate.ValidationError as invalid:
            _VALIDATED[key] = str(invalid.message)
    return _VALIDATED[key]


def test_every_object_labelled_and_namespaced(rendered: Render, chart: str, variant: str) -> None:
    objects = _objects(rendered, chart, variant)
    for obj in objects:
        meta = obj["metadata"]
        labels = meta.get("labels") or {}
        missing = [k for k in REQUIRED_LABELS if not labels.get(k)]
        assert not missing, f"{kind_name(obj)} lacks labels {missing}"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/part-of"] == "arkouda"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert meta.get("namespace"), f"{kind_name(obj)} has no namespace"
    for owner, _spec in pod_specs(objects):
        if owner["kind"] != "Pod":
            template_labels = owner["spec"]["template"]["metadata"]["labels"]
            selector = owner["spec"]["selector"]["matchLabels"]
            assert selector.items() <= template_labels.items(), f"{kind_name(owner)} selector misses its pods"
            missing = [k for k in REQUIRED_LABELS if k not in template_labels]
            assert not missing, f"pods of {kind_name(owner)} lack labels {missing}"


def test_names_unique_and_within_limits(rendered: Render, chart: str, variant: str) -> None:
    objects = _objects(rendered, chart, variant)
    names = [kind_name(o) for o in objects]
    assert len(names) == len(set(names)), f"duplicate objects: {sorted(names)}"
    for obj in objects:
        limit = 52 if obj["kind"] == "StatefulSet" else 63
        assert len(obj["metadata"]["name"]) <= limit, kind_name(obj)


def test_pods_run_restricted(rendered: Render, chart: str, variant: str) -> None:
    for owner, spec in pod_specs(_objects(rendered, chart, variant)):
        pod_ctx = spec.get("securityContext") or {}
        assert pod_ctx.get("runAsNonRoot") is True, kind_name(owner)
        assert pod_ctx.get("runAsUser", 0) > 0 and pod_ctx.get("runAsGroup", 0) > 0, kind_name(owner)
        assert (pod_ctx.get("seccompProfile") or {}).get("type") == "RuntimeDefault", kind_name(owner)
        assert spec.get("enableServiceLinks") is False, f"{kind_name(owner)}: service links pollute the env"
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container.get("securityContext") or {}
            where = f"{kind_name(owner)} container {container['name']}"
            assert ctx.get("allowPrivilegeEscalation") is False, where
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not ctx.get("capabilities", {}).get("add"), where
            assert not ctx.get("privileged"), where
            assert ctx.get("readOnlyRootFilesystem") is True, where
            mounts = {m["mountPath"] for m in container.get("volumeMounts") or []}
            if not is_hook(owner):
                assert "/tmp" in mounts, f"{where}: a read-only root filesystem needs a writable /tmp"
            if container.get("workingDir"):
                assert container["workingDir"] in mounts, f"{where}: its working directory must be writable"


def test_grace_period_above_shutdown_timeout(rendered: Render, chart: str, variant: str) -> None:
    checked = 0
    for owner, spec in pod_specs(_objects(rendered, chart, variant)):
        for container in spec["containers"]:
            env = env_of(container)
            if "SHUTDOWN_TIMEOUT" in env:
                checked += 1
                assert spec["terminationGracePeriodSeconds"] > float(env["SHUTDOWN_TIMEOUT"]), kind_name(owner)
    servers = [o for o, _ in pod_specs(_objects(rendered, chart, variant)) if _component(o) == "server"]
    assert checked == len(servers), "every server container must say its SHUTDOWN_TIMEOUT"


def test_probes(rendered: Render, chart: str, variant: str) -> None:
    for owner, spec in pod_specs(_objects(rendered, chart, variant)):
        if is_hook(owner):
            continue
        container = spec["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container.get("ports") or []}
        probe = container.get("readinessProbe")
        assert probe, f"{kind_name(owner)} has no readiness probe"
        assert not container.get("livenessProbe"), "a liveness restart would kill arkouda_server and its data"
        env = env_of(container)
        if _component(owner) == "locale":
            assert ports[probe["tcpSocket"]["port"]] == int(env["SSH_PORT"])
        elif env["REGISTRAR_HEALTH_PORT"] != "0":
            assert probe["httpGet"]["path"] == "/healthz"
            assert ports[probe["httpGet"]["port"]] == int(env["REGISTRAR_HEALTH_PORT"])
        else:
            assert ports[probe["tcpSocket"]["port"]] == int(env["EXTERNAL_SERVICE_TARGET_PORT"])


def test_resources_from_values(rendered: Render, chart: str, variant: str) -> None:
    values: dict[str, Any] = VARIANTS[chart][variant]
    for owner, spec in pod_specs(_objects(rendered, chart, variant)):
        if is_hook(owner):
            continue
        resources = spec["containers"][0].get("resources")
        assert resources and resources.get("limits") and resources.get("requests"), kind_name(owner)
        wanted = (values.get("server") or {}).get("resources")
        if wanted:
            assert resources == wanted, kind_name(owner)


def _component(obj: Obj) -> str:
    return str(obj["metadata"]["labels"]["app.kubernetes.io/component"])
