"""kubeconfig files for the emulator: one cluster, one user (a bearer token), one context."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml


def render(
    server: str, token: str, ca_pem: str | None, namespace: str | None = None, name: str = "arkouda-k8s-emulator"
) -> str:
    cluster: dict[str, object] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    context: dict[str, object] = {"cluster": name, "user": f"{name}-user"}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": f"{name}-user", "user": {"token": token}}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(path: Path, text: str) -> Path:
    """Written 0600: a kubeconfig holds a credential."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
    return path
