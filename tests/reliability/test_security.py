"""Security: TLS always verified, no secret in any log line nor in what the entrypoints launch, ssh with the
pinned host key only, and the chart's Role as the reference for what the components may do.

The log scan itself runs after every test of this suite (conftest.py); the tests here make the secrets
flow where a leak would show (rotations, 401s, errors, debug level, a launch over ssh) and read /proc.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from arkouda_k8s.entrypoints.locales import LocaleWatch
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import PODS, KubeClient, RetryPolicy, load_api_config
from arkouda_k8s.kube.errors import ApiError, TlsRefused
from arkouda_k8s.settings import KUBE_API, load
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.loopback import make_key_dir

from .conftest import SINK, leaks_in, scan_files
from .kit import (
    LOCALE_SELECTOR,
    NS,
    OWN_SERVICE_RULES,
    ROOT,
    SA_USER,
    SECRETS,
    SwitchProbe,
    chart_rbac_module,
    eventually,
    open_cluster,
    remember_secret,
    role_rules,
    role_triples,
    settle,
)
from .processes import (
    ProcessBed,
    descendants,
    events,
    open_process_bed,
    proc_cmdline_and_environ,
    wait_exit,
)

PATIENT = RetryPolicy(base=0.05, cap=0.5, budget=30.0, request_timeout=5.0)


# --- TLS: an untrusted CA and a wrong host name are both refused, at once ------------------------------------


def _loopback_aliases() -> list[str]:
    """Names /etc/hosts gives a loopback address that the emulator's certificate does not name."""
    named = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
    found = []
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        words = line.split("#")[0].split()
        if len(words) >= 2 and words[0].startswith("127."):
            found += [w for w in words[1:] if w not in named and "." not in w]
    return found[:1]


async def _refused(settings: Any, tmp: Path, environ: dict[str, str] | None = None) -> TlsRefused:
    config = await load_api_config(settings, serviceaccount_dir=tmp / "sa", environ=environ or {})
    async with KubeClient(config, component="test", retry=PATIENT) as kube:
        with pytest.raises(TlsRefused) as refused:
            # a budget of 30 s, an answer within 10: refused at once, not retried until the deadline
            await asyncio.wait_for(kube.list(PODS, "default"), 10)
    assert refused.value.exit_code == ExitCode.API_UNAVAILABLE
    return refused.value


async def test_an_untrusted_ca_is_refused_through_every_way_of_reaching_the_api(tmp_path: Path) -> None:
    async with KubeEmulator(tls=True) as emulator, KubeEmulator(tls=True) as stranger:
        assert stranger.ca_file is not None and emulator.ca_file is not None
        token = emulator.admin_token
        remember_secret(token)
        remember_secret(stranger.admin_token)
        # K8S_HOST with a token and another CA
        await _refused(
            load(KUBE_API, None, {"K8S_HOST": emulator.url, "SSL_TOKEN": token, "CACERT_FILE": str(stranger.ca_file)}),
            tmp_path,
        )
        # K8S_HOST with no CA at all: the system's trust store does not know the emulator's CA
        await _refused(load(KUBE_API, None, {"K8S_HOST": emulator.url, "SSL_TOKEN": token}), tmp_path)
        # a kubeconfig whose certificate-authority-data is another CA
        config = yaml.safe_load(stranger.write_kubeconfig(tmp_path / "stranger.kubeconfig", token=token).read_text())
        config["clusters"][0]["cluster"]["server"] = emulator.url
        (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
        await _refused(load(KUBE_API, None, {"KUBECONFIG": str(tmp_path / "kubeconfig")}), tmp_path)
        # in a pod: the service account's ca.crt is another CA
        sa = tmp_path / "sa"
        sa.mkdir()
        (sa / "token").write_text(token)
        (sa / "namespace").write_text("default")
        shutil.copy(stranger.ca_file, sa / "ca.crt")
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(emulator.port)}
        await _refused(load(KUBE_API, None, {}), tmp_path, env)
        assert emulator.request_log == [], "a request went through an unverified connection"


async def test_a_wrong_host_name_is_refused(tmp_path: Path) -> None:
    async with KubeEmulator(tls=True) as emulator, KubeEmulator(tls=True, host="127.0.0.2") as elsewhere:
        ca = str(emulator.ca_file)
        token = emulator.admin_token
        remember_secret(token)
        remember_secret(elsewhere.admin_token)
        # the control: the names the certificate has work
        good = load(
            KUBE_API, None, {"K8S_HOST": f"https://localhost:{emulator.port}", "SSL_TOKEN": token, "CACERT_FILE": ca}
        )
        async with KubeClient(
            await load_api_config(good, serviceaccount_dir=tmp_path / "sa"), component="test"
        ) as kube:
            assert (await kube.list(PODS, "default")).items == []
        # 127.0.0.2 is not in the certificate (127.0.0.1 and ::1 are); its CA is trusted
        message = await _refused(
            load(
                KUBE_API,
                None,
                {"K8S_HOST": elsewhere.url, "SSL_TOKEN": elsewhere.admin_token, "CACERT_FILE": str(elsewhere.ca_file)},
            ),
            tmp_path,
        )
        assert "host name" in str(message)
        # a name /etc/hosts maps to loopback that the certificate does not name
        for alias in _loopback_aliases():
            await _refused(
                load(
                    KUBE_API,
                    None,
                    {"K8S_HOST": f"https://{alias}:{emulator.port}", "SSL_TOKEN": token, "CACERT_FILE": ca},
                ),
                tmp_path,
            )


async def test_the_registrar_exits_with_the_api_code_on_an_untrusted_certificate(tmp_path: Path) -> None:
    async with KubeEmulator(tls=True) as emulator, KubeEmulator(tls=True) as stranger:
        remember_secret(emulator.admin_token)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "K8S_HOST": emulator.url,
            "SSL_TOKEN": emulator.admin_token,
            "CACERT_FILE": str(stranger.ca_file),
            "POD_NAME": "arkouda-server-0",
            "POD_UID": "u-1",
            "POD_IP": "192.0.2.10",
            "NAMESPACE": "default",
            "ARKOUDA_K8S_LOG_LEVEL": "debug",
        }
        log = tmp_path / "register.log"
        process = _spawn(["register"], env, log)
        try:
            code = await asyncio.to_thread(process.wait, 10)  # at once, or not at all
        except subprocess.TimeoutExpired:
            code = None
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
    said = log.read_text()
    assert scan_files([log]) == []
    assert code == ExitCode.API_UNAVAILABLE, f"exit {code}:\n{said[-2000:]}"
    assert "did not verify" in said and "CACERT_FILE" in said


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "arkouda_k8s", *argv], env=env, stdout=out, stderr=out, start_new_session=True
        )


# --- secrets: the scan works, and secrets flow where a leak would show ---------------------------------------


def test_the_log_scan_finds_secrets_and_their_shapes() -> None:
    secret = "sa-token-for-the-scan-test-0123456789"
    remember_secret(secret)
    assert leaks_in([f'{{"event": "api_retry", "failure": "401 with {secret}"}}'], "x")
    assert leaks_in(["Authorization: Bearer abcdefghijklmnop"], "x")
    assert leaks_in(["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLWJ5dGVz"], "x")
    assert leaks_in(["-----BEGIN OPENSSH PRIVATE KEY-----"], "x")
    assert leaks_in(["server listening on tcp://host:5555?token=abcdef123456"], "x")
    assert not leaks_in(['{"event": "api_retry", "authorization": "[REDACTED]", "token": "[REDACTED]"}'], "x")
    assert not leaks_in(["server listening on tcp://host:5555?token=[REDACTED]"], "x")


async def test_rotations_refusals_and_failures_at_debug_level_log_no_secret(tmp_path: Path) -> None:
    """The registrar through 401s (rotations), a 403, 5xx retries, a withdrawal cut off; every line at debug
    level is scanned after the test (conftest.py), and the errors' own messages are scanned here."""
    first = len(SINK.lines)
    async with open_cluster(tmp_path) as cluster:
        probe = SwitchProbe()
        registrar = await cluster.registrar(probe, SHUTDOWN_TIMEOUT="1")
        cluster.faults.rotate_when(verb="create", resource="services")
        cluster.faults.http(503, 2, verb="create", resource="endpointslices")
        task = asyncio.create_task(registrar.run())
        await asyncio.wait_for(registrar.is_published.wait(), 20)
        cluster.rotate()  # and once more while published: the next requests meet the new file
        probe.answering = False
        await settle(lambda: cluster.slice_is(ready=False))
        errors: list[str] = []
        kube = await cluster.client(token_file=cluster.reader_token_file)
        with pytest.raises(ApiError) as refused:  # the reader may not write: a 403 with its message
            await kube.delete(PODS, "arkouda-server-0")
        errors.append(str(refused.value))
        cluster.faults.forbidden_armed += 1
        cluster.faults.partition(3)
        registrar.stop()
        with pytest.raises(ArkoudaK8sError) as incomplete:  # WithdrawIncomplete, exit 5
            await asyncio.wait_for(task, 20)
        assert incomplete.value.exit_code == ExitCode.WITHDRAW_INCOMPLETE
        errors.append(str(incomplete.value))
        cluster.faults.clear()
        assert leaks_in(errors, "error message") == []
    lines = SINK.lines[first:]
    assert any('"api_retry"' in line for line in lines), "no debug line was written: nothing was scanned"
    assert any('"level": "debug"' in line for line in lines)
    assert leaks_in(lines, "in-process log") == []


async def _launch_with_secrets(bed: ProcessBed, planted: dict[str, str], record: Path) -> Any:
    await bed.start_locales(1)
    server = await bed.start_server(2, env=planted, ARKOUDA_STANDIN_RECORD=str(record))
    await bed.ready_slice(server)
    await eventually(lambda: _exists(record), what="the stand-in's record of its launch")
    return server


async def _exists(path: Path) -> bool:
    return path.exists()


def _planted(bed: ProcessBed) -> dict[str, str]:
    token = bed.cluster.token_file.read_text().strip()
    planted = {
        "SSL_TOKEN": "seed-ssl-token-0123456789",
        "ARKOUDA_SERVER_TOKEN": "arkouda-server-token-9876543210",
        "GASNET_LEAK": token,  # a GASNet-prefixed variable holding the API token
        "CHPL_RT_PASSWORD": "chapel-password-abcdefgh",
        "ARKOUDA_CREDENTIALS": "arkouda-credentials-abcdefgh",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-key-abcdefghij",
    }
    for value in planted.values():
        remember_secret(value)
    return planted


async def test_nothing_the_entrypoint_launches_carries_a_secret(tmp_path: Path) -> None:
    """The launch environment is built from nothing: the stand-in's record (what the server and each locale
    received, the locales' -E variables included) and /proc of every process launched — on the server pod
    and through ssh on the locale — hold no token, key or password."""
    async with open_process_bed(tmp_path) as bed:
        planted = _planted(bed)
        record = tmp_path / "launch-record.json"
        server = await _launch_with_secrets(bed, planted, record)
        data = json.loads(record.read_text())
        assert leaks_in(record.read_text().splitlines(), str(record)) == []
        locale_env = data["locales"][-1]["env"]
        assert "GASNET_SSH_SERVERS" in locale_env and "KUBECONFIG" not in locale_env
        assert not any("TOKEN" in name or "PASSW" in name or "SECRET" in name for name in data["server"]["environ"])
        # /proc, while it runs: all the server pod's entrypoint started (its sshd, the stand-in, GASNet's ssh
        # clients, the locale process on itself) and all of the locale pod's (its sshd, GASNet's session on it)
        launched = list(descendants(server.process.pid))
        locale = next(p for p in bed.started if p is not server)
        sessions = list(descendants(locale.process.pid))
        assert _direct_children(server.process.pid, "sshd") and len(sessions) >= 3, (launched, sessions)
        for pid in [*launched, *sessions]:
            seen = proc_cmdline_and_environ(pid)
            if seen is None:
                continue
            cmdline, environ = seen
            assert leaks_in([cmdline], f"/proc/{pid}/cmdline") == []
            assert leaks_in(environ.splitlines(), f"/proc/{pid}/environ") == []
            for value in planted.values():
                assert value not in cmdline + environ, f"a planted secret reached process {pid}: {cmdline[:120]}"
        server.signal(signal.SIGTERM)
        assert await wait_exit(server, 15) == ExitCode.OK


def _direct_children(pid: int, command: str | None = None) -> list[int]:
    found = []
    for child in descendants(pid):
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid and (command is None or command.encode() in cmdline):
            found.append(child)
    return found


async def test_the_server_token_of_an_authenticating_server_is_not_in_the_pod_log(tmp_path: Path) -> None:
    async with open_process_bed(tmp_path) as bed:
        await bed.start_locales(1)
        server = await bed.start_server(2, AUTHENTICATE="true", ARKOUDA_STANDIN_PROTOCOL="2021", scan_log=False)
        await bed.ready_slice(server)
        assert "server listening on" in server.log_text()
        leaks = leaks_in(server.log_text().splitlines(), "server pod log")
        server.signal(signal.SIGTERM)
        await wait_exit(server, 15)
        assert leaks == []


# --- ssh: strict host-key checking with the pinned key --------------------------------------------------------


async def test_a_locale_presenting_another_host_key_is_refused_and_nothing_is_published(tmp_path: Path) -> None:
    async with open_process_bed(tmp_path) as bed:
        impostor = make_key_dir(tmp_path / "impostor-secret")
        remember_secret((impostor / "ssh-privatekey").read_text())
        pod = await bed.pods.start_locale("arkouda-locale-0", env={"SSH_KEY_DIR": str(impostor)})
        bed.cluster.allow(("", "pods"), "arkouda-locale-0")
        bed.started.append(pod)
        server = await bed.start_server(2)
        code = await wait_exit(server, 30)
        log = server.log_text()
        assert code not in (0, None), log[-3000:]
        assert "Host key verification failed." in log
        failed = [e for e in events(log) if e.get("event") == "server_failed_to_start"]
        assert failed, "the launch failure is the entrypoint's error"
        # the pin: one wildcard line, the only file trusted, checked strictly and first
        ssh_home = Path(server.env["SSH_HOME"])
        pin = (ssh_home / "known_hosts").read_text().splitlines()
        release_key = (bed.key_dir / "ssh-publickey").read_text().split()[:2]
        assert pin == [f"* {release_key[0]} {release_key[1]}"]
        wrapper = (ssh_home / "gasnet-ssh").read_text()
        options = wrapper.split("exec ", 1)[1]
        assert options.index("StrictHostKeyChecking=yes") < options.index('"$@"')
        assert "GlobalKnownHostsFile=/dev/null" in options and "BatchMode=yes" in options
        await bed.cluster.assert_clean(published=False, what="after a refused locale")


# --- RBAC: the chart's Role is the reference -------------------------------------------------------------------


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_the_role_here_is_the_charts_and_its_minimality_is_checked_there() -> None:
    """Sufficient: every case of this suite runs under the chart's rules (kit.role_triples), and open_cluster
    fails a case whose identities met a 403 they did not ask for. Minimal: the chart tests prove every rule
    is used and nothing else is granted — they must exist."""
    rbac = chart_rbac_module()
    assert set(rbac.MULTI_RULES) <= role_triples()
    assert role_triples() - set(rbac.MULTI_RULES) - set(rbac.ENDPOINTS) == OWN_SERVICE_RULES
    charts = ROOT / "tests" / "charts"
    assert {"test_role_grants_exactly_what_is_used", "test_nothing_cluster_scoped_and_no_wildcard"} <= _test_names(
        charts / "test_chart_rbac.py"
    )
    assert {
        "test_registrar_uses_exactly_the_role",
        "test_server_entrypoint_discovers_its_locales_under_its_identity",
    } <= _test_names(charts / "test_chart_emulator.py")


async def test_the_chart_role_alone_is_sufficient_under_faults(tmp_path: Path) -> None:
    """Exactly the chart's rules (no Service create/delete: Helm made the Service): the server's discovery and
    the registrar's whole life, with faults on the way, meet no 403 (open_cluster checks)."""
    rules = role_rules(set(chart_rbac_module().MULTI_RULES))
    async with open_cluster(tmp_path, helm_service=True, rules=rules) as cluster:
        names = await cluster.create_locale_pods(2, ready=True)
        kube = await cluster.client()
        watch = LocaleWatch(kube, NS, LOCALE_SELECTOR, 2)
        try:
            assert [loc.name for loc in await watch.wait_ready(10)] == names
        finally:
            await watch.close()
        cluster.faults.http(503, 2, verb="patch", resource="services")
        registrar = await cluster.registrar(SwitchProbe())
        task = asyncio.create_task(registrar.run())
        await asyncio.wait_for(registrar.is_published.wait(), 20)
        await cluster.faults.close_watches()
        await cluster.edit_slice_badly()
        await settle(lambda: cluster.slice_is(ready=True))
        await cluster.assert_clean(published=True, what="published under the chart's Role")
        registrar.stop()
        await asyncio.wait_for(task, 20)
        await cluster.assert_clean(published=False, what="withdrawn under the chart's Role")
        used = cluster.emulator.permissions_used(SA_USER)
        assert used <= set(chart_rbac_module().MULTI_RULES), used - set(chart_rbac_module().MULTI_RULES)


__all__ = ["SECRETS"]
