"""The ssh key Secret the locale chart generates: the right type and key, a key OpenSSH's own
`ssh-keygen -y` reads (helm 3 and helm 4 both), and one the entrypoints' key loader accepts."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from chartkit import LOCALE, UMBRELLA, Helm, of_kind, one, render

from arkouda_k8s.testing.pytest_plugin import require_component


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    require_component("ssh-keygen", None if found else "ssh-keygen is not installed (Debian package openssh-client)")
    assert found is not None
    return found


def _mounted_secret(helm: Helm, chart: str, into: Path) -> Path:
    """The generated Secret written out the way a Secret volume shows it: one file per key."""
    secret = one(render(helm, chart, release="ak"), "Secret")
    assert secret["type"] == "kubernetes.io/ssh-auth"
    assert secret["metadata"]["name"] == "ak-ssh"
    assert set(secret["data"]) == {"ssh-privatekey"}
    into.mkdir()
    path = into / "ssh-privatekey"
    path.write_bytes(base64.b64decode(secret["data"]["ssh-privatekey"]))
    path.chmod(0o600)
    return into


@pytest.mark.parametrize("chart", [LOCALE, UMBRELLA])
def test_openssh_reads_the_generated_key(any_helm: Helm, chart: str, tmp_path: Path) -> None:
    key = _mounted_secret(any_helm, chart, tmp_path / "secret") / "ssh-privatekey"
    done = subprocess.run([_ssh_keygen(), "-y", "-f", str(key)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"ssh-keygen -y refused the chart's key: {done.stderr}"
    assert done.stdout.startswith("ecdsa-sha2-nistp256 AAAA")
    done = subprocess.run([_ssh_keygen(), "-l", "-f", str(key)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "256 SHA256:" in done.stdout


def test_the_entrypoint_accepts_the_generated_key(helm3: Helm, tmp_path: Path) -> None:
    _ssh_keygen()
    from arkouda_k8s.entrypoints.ssh import load_key_pair

    pair = load_key_pair(_mounted_secret(helm3, LOCALE, tmp_path / "secret"))
    assert pair.key_type == "ecdsa-sha2-nistp256"
    assert pair.public_key_file is None  # derived with ssh-keygen -y, as the chart leaves it out


def test_each_render_without_a_cluster_generates_a_new_key(helm3: Helm) -> None:
    """`helm template` cannot `lookup` the Secret, so it makes a new key; `helm upgrade` reads it back."""
    first = one(render(helm3, LOCALE), "Secret")["data"]["ssh-privatekey"]
    second = one(render(helm3, LOCALE), "Secret")["data"]["ssh-privatekey"]
    assert first != second
    template = Path(__file__).resolve().parents[2] / "charts" / LOCALE / "templates" / "secret-ssh.yaml"
    assert 'lookup "v1" "Secret"' in template.read_text(), "the key must be kept across upgrades with lookup"


def test_an_existing_secret_is_used_and_none_generated(helm3: Helm) -> None:
    values = {
        "arkouda-locale": {"ssh": {"existingSecret": "site-key"}},
        "arkouda-multilocale-server": {"ssh": {"existingSecret": "site-key"}},
    }
    objects = render(helm3, UMBRELLA, values=values)
    assert not of_kind(objects, "Secret")
    names = {
        v["secret"]["secretName"]
        for o in of_kind(objects, "StatefulSet")
        for v in o["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    }
    assert names == {"site-key"}
