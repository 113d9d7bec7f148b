"""Every way to reach the API (in-cluster, kubeconfig, K8S_HOST + token, the seed's client certificate),
TLS always verified, and bad kubeconfigs refused by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from arkouda_k8s.errors import SettingsError
from arkouda_k8s.kube import PODS, KubeClient, NoCredentials, RetryPolicy, TlsRefused, load_api_config
from arkouda_k8s.settings import KUBE_API, Settings, load
from arkouda_k8s.testing.kube import KubeEmulator

FAST = RetryPolicy(base=0.01, cap=0.05, budget=3.0, request_timeout=2.0)


def _settings(**env: str) -> Settings:
    return load([*KUBE_API, "namespace"], None, env)


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[KubeEmulator]:
    async with KubeEmulator(tls=True, rbac=True) as emu:
        await emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}})
        await emu.create(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "view", "namespace": "ns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [
                    {"kind": "User", "name": "arkouda", "apiGroup": "rbac.authorization.k8s.io"},
                    {"kind": "ServiceAccount", "name": "default", "namespace": "ns"},
                ],
            }
        )
        await emu.create(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "view"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
            }
        )
        yield emu


async def _who_lists(settings: Settings, **kw: object) -> tuple[str, str]:
    config = await load_api_config(settings, **kw)  # type: ignore[arg-type]
    async with KubeClient(config, component="test", retry=FAST) as kube:
        await kube.list(PODS, "ns")
    return config.source, config.namespace


async def test_in_cluster_service_account(emulator: KubeEmulator, tmp_path: Path) -> None:
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(emulator.service_account_token("ns", "default"))
    (sa / "ca.crt").write_text(Path(str(emulator.ca_file)).read_text())
    (sa / "namespace").write_text("ns\n")
    port = emulator.url.rsplit(":", 1)[1]
    source, namespace = await _who_lists(
        _settings(),
        serviceaccount_dir=sa,
        environ={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port},
    )
    assert source.startswith("in-cluster service account")
    assert namespace == "ns"


async def test_kubeconfig_with_its_context_namespace(emulator: KubeEmulator, tmp_path: Path) -> None:
    path = emulator.write_kubeconfig(tmp_path / "config", namespace="ns")
    source, namespace = await _who_lists(_settings(KUBECONFIG=str(path)), serviceaccount_dir=tmp_path / "none")
    assert source.startswith(f"kubeconfig {path}")
    assert namespace == "ns"


async def test_explicit_host_with_a_token_file_or_the_seeds_ssl_token(emulator: KubeEmulator, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(emulator.service_account_token("ns", "default"))
    ca = str(emulator.ca_file)
    source, _ = await _who_lists(
        _settings(K8S_HOST=emulator.url, TOKEN_FILE=str(token), CACERT_FILE=ca, NAMESPACE="ns"),
        serviceaccount_dir=tmp_path / "none",
    )
    assert source == f"K8S_HOST {emulator.url}"
    await _who_lists(
        _settings(K8S_HOST=emulator.url, SSL_TOKEN=token.read_text(), CACERT_FILE=ca, NAMESPACE="ns"),
        serviceaccount_dir=tmp_path / "none",
    )


async def test_the_seeds_client_certificate(emulator: KubeEmulator, tmp_path: Path) -> None:
    cert, key = emulator.client_certificate("arkouda")
    await _who_lists(
        _settings(
            K8S_HOST=emulator.url,
            CERT_FILE=str(cert),
            KEY_FILE=str(key),
            CACERT_FILE=str(emulator.ca_file),
            NAMESPACE="ns",
        ),
        serviceaccount_dir=tmp_path / "n",
    )
    users = {r.user for r in emulator.request_log if r.resource == "pods"}
    assert users == {"arkouda"}


async def test_an_untrusted_server_certificate_is_refused_at_once(emulator: KubeEmulator, tmp_path: Path) -> None:
    other = KubeEmulator(tls=True)
    await other.start()  # another CA altogether
    try:
        token = tmp_path / "token"
        token.write_text(emulator.admin_token)
        settings = _settings(K8S_HOST=emulator.url, TOKEN_FILE=str(token), CACERT_FILE=str(other.ca_file))
        with pytest.raises(TlsRefused, match="did not verify"):
            await _who_lists(settings, serviceaccount_dir=tmp_path / "none")
    finally:
        await other.stop()
    assert not [r for r in emulator.request_log if r.resource == "pods"]  # nothing reached the server


async def test_a_host_name_the_certificate_does_not_name_is_refused(tmp_path: Path) -> None:
    # Listening on 127.0.0.2 (loopback), with a certificate that names only 127.0.0.1, ::1 and localhost.
    async with KubeEmulator(tls=True, host="127.0.0.2") as misnamed:
        token = tmp_path / "token"
        token.write_text(misnamed.admin_token)
        settings = _settings(K8S_HOST=misnamed.url, TOKEN_FILE=str(token), CACERT_FILE=str(misnamed.ca_file))
        with pytest.raises(TlsRefused, match="did not verify"):
            await _who_lists(settings, serviceaccount_dir=tmp_path / "none")


async def test_insecure_and_malformed_kubeconfigs_are_refused_by_name(emulator: KubeEmulator, tmp_path: Path) -> None:
    insecure = tmp_path / "insecure"
    text = emulator.write_kubeconfig(tmp_path / "good").read_text()
    insecure.write_text(text.replace("certificate-authority-data:", "insecure-skip-tls-verify: true\n    x-ca:"))
    with pytest.raises(SettingsError, match=r"invalid KUBECONFIG='.*insecure'.*always verifies"):
        await load_api_config(_settings(KUBECONFIG=str(insecure)), serviceaccount_dir=tmp_path / "none")
    garbage = tmp_path / "garbage"
    garbage.write_text("{this: is: not yaml")
    with pytest.raises(SettingsError, match=r"invalid KUBECONFIG='.*garbage'"):
        await load_api_config(_settings(KUBECONFIG=str(garbage)), serviceaccount_dir=tmp_path / "none")


async def test_no_credentials_at_all_says_what_was_looked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(NoCredentials, match=r"no KUBECONFIG, no ~/\.kube/config and no K8S_HOST"):
        await load_api_config(_settings(), serviceaccount_dir=tmp_path / "none", environ={})


async def test_k8s_host_without_credentials_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="needs credentials: set TOKEN_FILE"):
        await load_api_config(_settings(K8S_HOST="https://127.0.0.1:6443"), serviceaccount_dir=tmp_path / "none")
