"""Rendering the charts with the real helm binaries, and reading the rendered objects back.

Used by the chart tests here, and meant for any test that needs the rendered manifests (the RBAC
comparison with the API emulator's request log reads `role_rules`). Every helm run gets its own
HELM_CACHE_HOME / HELM_CONFIG_HOME / HELM_DATA_HOME, so nothing of the user's helm state is read or
written, and KUBECONFIG points at a file that does not exist: helm template never needs a cluster.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
# The charts, by the name of their directory; the umbrella's parts are linked into charts/arkouda/charts/.
SINGLE = "arkouda-server"
LOCALE = "arkouda-locale"
MULTI = "arkouda-multilocale-server"
UMBRELLA = "arkouda"
ALL_CHARTS = (SINGLE, LOCALE, MULTI, UMBRELLA)

Obj = dict[str, Any]
RuleTriple = tuple[str, str, str]  # (apiGroup, resource, verb)
Render = Callable[..., list[Obj]]  # the `rendered` fixture: render(chart, release=, namespace=, values=)


class HelmFailed(AssertionError):
    """helm exited with an error; the message holds its command line and its stderr."""

    def __init__(self, args: Sequence[str], done: subprocess.CompletedProcess[str]) -> None:
        self.stderr = done.stderr
        self.returncode = done.returncode
        super().__init__(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr.strip()}")


@dataclass(frozen=True)
class Helm:
    """One helm binary with a private state directory."""

    binary: str
    home: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
        env.update(
            HELM_CACHE_HOME=str(self.home / "cache"),
            HELM_CONFIG_HOME=str(self.home / "config"),
            HELM_DATA_HOME=str(self.home / "data"),
            KUBECONFIG=str(self.home / "no-such-kubeconfig"),
        )
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [self.binary, *args]
        done = subprocess.run(command, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise HelmFailed(command, done)
        return done

    def version(self) -> str:
        return self.run("version", "--short").stdout.strip()


def chart_path(chart: str) -> str:
    return str(CHARTS / chart)


def values_args(values: Mapping[str, Any] | None, workdir: Path) -> list[str]:
    """`--values FILE` for a values mapping (a file, not --set, so types survive exactly)."""
    if not values:
        return []
    handle, name = tempfile.mkstemp(suffix=".yaml", dir=workdir)
    with os.fdopen(handle, "w") as out:
        yaml.safe_dump(dict(values), out)
    return ["--values", name]


def template_args(
    chart: str,
    *,
    release: str = "arkouda",
    namespace: str = "arkouda",
    values: Mapping[str, Any] | None = None,
    workdir: Path,
    extra: Sequence[str] = (),
) -> list[str]:
    return ["template", release, chart_path(chart), "--namespace", namespace, *values_args(values, workdir), *extra]


def render(
    helm: Helm,
    chart: str,
    *,
    release: str = "arkouda",
    namespace: str = "arkouda",
    values: Mapping[str, Any] | None = None,
    extra: Sequence[str] = (),
) -> list[Obj]:
    """The objects `helm template` renders (hooks included), in helm's order."""
    done = helm.run(
        *template_args(chart, release=release, namespace=namespace, values=values, workdir=helm.home, extra=extra)
    )
    return parse_manifests(done.stdout)


def parse_manifests(text: str) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def kind_name(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: Iterable[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o.get("kind") == kind]


def one(objects: Iterable[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in of_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}{' ' + name if name else ''}, found {[kind_name(o) for o in found]}"
    return found[0]


def is_hook(obj: Obj) -> bool:
    return "helm.sh/hook" in ((obj.get("metadata") or {}).get("annotations") or {})


def workloads(objects: Iterable[Obj]) -> list[Obj]:
    return [o for o in objects if o.get("kind") in ("StatefulSet", "Deployment", "DaemonSet", "Job")]


def pod_specs(objects: Iterable[Obj]) -> list[tuple[Obj, Obj]]:
    """(owner object, pod spec) of every pod the objects make: workload templates and bare pods."""
    out = []
    for obj in objects:
        if obj.get("kind") == "Pod":
            out.append((obj, obj["spec"]))
        elif obj.get("kind") in ("StatefulSet", "Deployment", "DaemonSet", "Job"):
            out.append((obj, obj["spec"]["template"]["spec"]))
    return out


def env_of(container: Obj) -> dict[str, Any]:
    """A container's environment: plain values as strings, downward-API fields as 'fieldRef:<path>'."""
    env: dict[str, Any] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "valueFrom" in item and "fieldRef" in item["valueFrom"]:
            env[item["name"]] = "fieldRef:" + item["valueFrom"]["fieldRef"]["fieldPath"]
        else:
            env[item["name"]] = item.get("valueFrom")
    return env


def role_rules(objects: Iterable[Obj]) -> set[RuleTriple]:
    """Every (apiGroup, resource, verb) the rendered Roles grant, flattened; resourceNames are ignored
    here (see `role_rules_with_names`). Fails when a ClusterRole or ClusterRoleBinding was rendered."""
    objects = list(objects)
    cluster = [kind_name(o) for o in objects if o.get("kind") in ("ClusterRole", "ClusterRoleBinding")]
    assert not cluster, f"cluster-scoped RBAC rendered: {cluster}"
    return {(g, r, v) for g, r, v, _names in role_rules_with_names(objects)}


def role_rules_with_names(objects: Iterable[Obj]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    """(apiGroup, resource, verb, resourceNames) of every rule of every rendered Role."""
    out = set()
    for role in of_kind(objects, "Role"):
        for rule in role.get("rules") or []:
            names = tuple(sorted(rule.get("resourceNames") or ()))
            for group in rule.get("apiGroups") or [""]:
                for resource in rule.get("resources") or []:
                    for verb in rule.get("verbs") or []:
                        out.add((group, resource, verb, names))
    return out


def rendered_role_rules(
    helm: Helm, chart: str = UMBRELLA, *, release: str = "arkouda", values: Mapping[str, Any] | None = None
) -> set[RuleTriple]:
    """The Role rules of a chart as rendered with these values: what the RBAC comparison checks."""
    return role_rules(render(helm, chart, release=release, values=values))


def find_helm(name: str) -> str | None:
    from arkouda_k8s.testing.pytest_plugin import find_tool

    return find_tool(name)
