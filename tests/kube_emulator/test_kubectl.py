"""A real kubectl (1.32, the one setup.sh installs) against the emulator: get, create -f, apply -f, delete.

kubectl reads discovery, then the OpenAPI v3 documents (to learn that the server validates fields), then
sends its requests; apply computes a strategic merge patch from its built-in types and stores the
last-applied-configuration annotation. Charts rendered by helm must apply as they would on a cluster.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.pytest_plugin import find_tool, require_component

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  level: "1"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.25"}
"""


@pytest.fixture
def kubectl() -> str:
    found = find_tool("kubectl")
    require_component("kubectl", None if found else "kubectl is not installed (./setup.sh installs it)")
    assert found is not None
    return found


async def _run(*argv: str, kubeconfig: Path, stdin: str | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        "--kubeconfig",
        str(kubeconfig),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode() if stdin else None), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _json(text: str) -> Any:
    return json.loads(text)


async def test_kubectl_get_namespaces(kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config")
    code, out, err = await _run(kubectl, "get", "namespaces", kubeconfig=config)
    assert code == 0, err
    assert out.split()[:3] == ["NAME", "STATUS", "AGE"]
    assert {"default", "kube-system"} <= {line.split()[0] for line in out.splitlines()[1:]}


async def test_kubectl_create_get_and_delete(kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="default")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    code, out, err = await _run(kubectl, "create", "-f", str(manifest), kubeconfig=config)
    assert code == 0, err
    assert out.splitlines() == ["configmap/settings created", "service/web created", "deployment.apps/web created"]
    code, out, err = await _run(kubectl, "get", "deployment", "web", "-o", "json", kubeconfig=config)
    assert code == 0, err
    deployment = _json(out)
    assert deployment["spec"]["replicas"] == 2 and deployment["metadata"]["generation"] == 1
    code, out, err = await _run(kubectl, "create", "-f", str(manifest), kubeconfig=config)
    assert code != 0
    assert 'Error from server (AlreadyExists): error when creating "' in err
    code, out, err = await _run(kubectl, "delete", "-f", str(manifest), kubeconfig=config)
    assert code == 0, err
    assert out.splitlines() == [
        'configmap "settings" deleted',
        'service "web" deleted',
        'deployment.apps "web" deleted',
    ]
    assert await kube_emulator.list("apps/v1", "Deployment", "default") == []


async def test_kubectl_apply_creates_then_patches(kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="default")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    code, out, err = await _run(kubectl, "apply", "-f", str(manifest), kubeconfig=config)
    assert code == 0, err
    assert out.splitlines() == ["configmap/settings created", "service/web created", "deployment.apps/web created"]
    manifest.write_text(MANIFEST.replace('level: "1"', 'level: "2"').replace("replicas: 2", "replicas: 3"))
    code, out, err = await _run(kubectl, "apply", "-f", str(manifest), kubeconfig=config)
    assert code == 0, err
    assert out.splitlines() == [
        "configmap/settings configured",
        "service/web unchanged",
        "deployment.apps/web configured",
    ]
    settings = await kube_emulator.get("v1", "ConfigMap", "default", "settings")
    assert settings["data"] == {"level": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in settings["metadata"]["annotations"]
    managers = {(e["manager"], e["operation"]) for e in settings["metadata"]["managedFields"]}
    assert ("kubectl-client-side-apply", "Update") in managers
    deployment = await kube_emulator.get("apps/v1", "Deployment", "default", "web")
    assert deployment["spec"]["replicas"] == 3 and deployment["metadata"]["generation"] == 2


async def test_kubectl_server_side_apply(kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="default")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    code, out, err = await _run(kubectl, "apply", "--server-side", "-f", str(manifest), kubeconfig=config)
    assert code == 0, err
    assert out.splitlines() == [
        "configmap/settings serverside-applied",
        "service/web serverside-applied",
        "deployment.apps/web serverside-applied",
    ]
    settings = await kube_emulator.get("v1", "ConfigMap", "default", "settings")
    assert [(e["manager"], e["operation"]) for e in settings["metadata"]["managedFields"]] == [("kubectl", "Apply")]


async def test_kubectl_shows_the_real_forbidden_message(
    kube_emulator_tls_rbac: KubeEmulator, kubectl: str, tmp_path: Path
) -> None:
    kube_emulator_tls_rbac.add_token("alice-token-value", "alice", "alice", ["developers"])
    config = kube_emulator_tls_rbac.write_kubeconfig(
        tmp_path / "config", token="alice-token-value", namespace="default"
    )
    code, _, err = await _run(kubectl, "get", "pods", kubeconfig=config)
    assert code != 0
    assert (
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        'in the namespace "default"'
    ) in err


async def test_kubectl_sees_endpoints_deprecation_warning(
    kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path
) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="default")
    code, _, err = await _run(kubectl, "get", "endpoints", kubeconfig=config)
    assert code == 0
    assert "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice" in err


@pytest.mark.parametrize("chart", ["arkouda", "arkouda-server", "arkouda-multilocale-server", "arkouda-locale"])
async def test_rendered_charts_apply(
    kube_emulator_tls_rbac: KubeEmulator, kubectl: str, tmp_path: Path, chart: str
) -> None:
    helm = find_tool("helm")
    require_component("helm", None if helm else "helm is not installed (./setup.sh installs it)")
    assert helm is not None
    if not (ROOT / "charts" / chart / "Chart.yaml").is_file():
        pytest.skip(f"chart {chart} is not in this checkout")
    render = await asyncio.create_subprocess_exec(
        helm,
        "template",
        "demo",
        str(ROOT / "charts" / chart),
        "--namespace",
        "default",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    rendered, problem = await render.communicate()
    assert render.returncode == 0, problem.decode()
    config = kube_emulator_tls_rbac.write_kubeconfig(tmp_path / "config", namespace="default")
    code, out, err = await _run(kubectl, "apply", "-f", "-", kubeconfig=config, stdin=rendered.decode())
    assert code == 0, err
    applied = [line for line in out.splitlines() if line.endswith(" created")]
    assert applied and len(applied) == rendered.decode().count("\nkind: ")


async def test_kubectl_typed_commands_send_protobuf(
    kube_emulator_tls_rbac: KubeEmulator, kubectl: str, tmp_path: Path
) -> None:
    config = kube_emulator_tls_rbac.write_kubeconfig(tmp_path / "config")
    for argv, said in (
        (["create", "namespace", "team"], "namespace/team created"),
        (["create", "configmap", "cfg", "-n", "team", "--from-literal=a=b"], "configmap/cfg created"),
        (["create", "secret", "generic", "s", "-n", "team", "--from-literal=p=q"], "secret/s created"),
        (["create", "serviceaccount", "robot", "-n", "team"], "serviceaccount/robot created"),
        (
            ["create", "role", "reader", "-n", "team", "--verb=get,list", "--resource=pods"],
            "role.rbac.authorization.k8s.io/reader created",
        ),
        (
            ["create", "rolebinding", "rb", "-n", "team", "--role=reader", "--serviceaccount=team:robot"],
            "rolebinding.rbac.authorization.k8s.io/rb created",
        ),
    ):
        code, out, err = await _run(kubectl, *argv, kubeconfig=config)
        assert code == 0, err
        assert out.strip() == said
    secret = await kube_emulator_tls_rbac.get("v1", "Secret", "team", "s")
    assert secret["data"] == {"p": "cQ=="} and secret["type"] == "Opaque"
    robot = "system:serviceaccount:team:robot"
    code, out, _ = await _run(
        kubectl, "auth", "can-i", "list", "pods", "-n", "team", f"--as={robot}", kubeconfig=config
    )
    assert out.strip() == "yes"
    code, out, _ = await _run(
        kubectl, "auth", "can-i", "list", "secrets", "-n", "team", f"--as={robot}", kubeconfig=config
    )
    assert out.strip() == "no"
    code, _, err = await _run(kubectl, "get", "secrets", "-n", "team", f"--as={robot}", kubeconfig=config)
    assert code != 0 and f'User "{robot}" cannot list resource "secrets"' in err


async def test_kubectl_scale_uses_the_scale_subresource(
    kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path
) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="default")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    assert (await _run(kubectl, "apply", "-f", str(manifest), kubeconfig=config))[0] == 0
    code, out, err = await _run(kubectl, "scale", "deployment", "web", "--replicas=5", kubeconfig=config)
    assert code == 0, err
    assert out.strip() == "deployment.apps/web scaled"
    assert (await kube_emulator.get("apps/v1", "Deployment", "default", "web"))["spec"]["replicas"] == 5


async def test_kubectl_get_prints_server_side_columns(
    kube_emulator: KubeEmulator, kubectl: str, tmp_path: Path
) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="default")
    await kube_emulator.create_pod("default", "locale-0")
    await kube_emulator.set_pod_ready("default", "locale-0", ip="198.51.100.3")
    code, out, err = await _run(kubectl, "get", "pods", kubeconfig=config)
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[:4] == ["locale-0", "1/1", "Running", "0"]
