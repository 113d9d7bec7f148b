"""The reliability bed: a cluster per case, fault injection that says whether it hit, and an audit of
every object in the namespace.

    async with open_cluster(tmp_path) as cluster:            # HTTPS, RBAC, the server's service account
        registrar = await cluster.registrar(SwitchProbe())
        cluster.faults.http(503, 2, verb="create", resource="endpointslices")
        ...
        assert await cluster.audit(published=True) == []       # 0 orphaned or wrong objects
        cluster.faults.assert_all_hit()                         # the case really met its fault

The server pod's identity is a service-account token kept the way a kubelet keeps a projected token
(a `..data` symlink swapped atomically), so a rotation rewrites the file exactly as it happens in a
pod. Every token, key and password a test creates is remembered (`remember_secret`) for the log scan
done by conftest.py; STATS collects the counts printed at the end of the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from arkouda_k8s.kube import ApiConfig, KubeClient, RetryPolicy
from arkouda_k8s.registrar import objects as o
from arkouda_k8s.registrar.daemon import Registrar
from arkouda_k8s.registrar.objects import PodIdentity
from arkouda_k8s.settings import KUBE_API, PUBLISH, Settings, load
from arkouda_k8s.testing.kube import KubeEmulator
from arkouda_k8s.testing.probe import SwitchProbe

from .injector import Injector
from .shapes import endpoints_problems, service_problems, slice_problems

JSON = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]
NS = "arkouda"
POD = "arkouda-server-0"
POD_IP = "192.0.2.10"  # TEST-NET-1: data in the API only, nothing ever dials it
SA = "arkouda-server"
SA_USER = f"system:serviceaccount:{NS}:{SA}"
READER = "notebook"
READER_USER = f"system:serviceaccount:{NS}:{READER}"
SERVICE = "arkouda"
PORT = 5555
LOCALE_LABELS = {"app.kubernetes.io/name": "arkouda", "app.kubernetes.io/component": "locale"}
LOCALE_SELECTOR = "app.kubernetes.io/component=locale"
SLICES = ("discovery.k8s.io", "endpointslices")
SERVICES = ("", "services")
ENDPOINTS = ("", "endpoints")
# Fast enough that a case takes a second, slow enough that an API blip is not a failure.
FAST_RETRY = RetryPolicy(base=0.02, cap=0.3, budget=20.0, request_timeout=3.0)
READS = ("get", "list", "watch")


# --- what the suite counts ---------------------------------------------------------------------------


@dataclass
class Stats:
    cases: int = 0
    faults: int = 0
    objects_checked: int = 0
    leaks: int = 0
    known_leaks: int = 0  # found by tests marked xfail: known bugs, reported to be fixed
    log_lines: int = 0
    processes: int = 0
    findings: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # printed at the end of the session (the soak's summary)


STATS = Stats()
SECRETS: set[str] = set()
LOG_FILES: list[Path] = []  # subprocess outputs to scan for secrets (conftest.py scans them after each test)


def remember_secret(value: str | bytes | None) -> None:
    """A token, key or password this suite created: it must never show up in a log, a command line or an
    environment of a launched process."""
    if not value:
        return
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    text = text.strip()
    if len(text) >= 8:
        SECRETS.add(text)
    if "PRIVATE KEY-----" in text:  # each base64 line of a key is a secret of its own
        for line in text.splitlines():
            if len(line) >= 20 and "-----" not in line:
                SECRETS.add(line.strip())


def remember_log(path: Path) -> Path:
    LOG_FILES.append(path)
    return path


# --- the chart's Role, referenced, not restated -----------------------------------------------------------


def chart_rbac_module() -> Any:
    """tests/charts/test_chart_rbac.py: its MULTI_RULES / SINGLE_RULES / ENDPOINTS say what the chart grants."""
    charts = str(ROOT / "tests" / "charts")
    if charts not in sys.path:
        sys.path.insert(0, charts)
    return importlib.import_module("test_chart_rbac")


# A registrar that makes its own Service (no Helm Service to adopt) also needs these two; the charts
# let Helm make the Service, so their Role does not grant them (test_chart_emulator checks that).
OWN_SERVICE_RULES = {("", "services", "create"), ("", "services", "delete")}


def role_triples() -> set[tuple[str, str, str]]:
    rbac = chart_rbac_module()
    return set(rbac.MULTI_RULES) | set(rbac.ENDPOINTS) | OWN_SERVICE_RULES


def role_rules(triples: set[tuple[str, str, str]]) -> list[JSON]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for group, resource, verb in sorted(triples):
        grouped.setdefault((group, resource), []).append(verb)
    return [{"apiGroups": [g], "resources": [r], "verbs": verbs} for (g, r), verbs in grouped.items()]


READER_RULES = [
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]},  # a notebook outside
]


def run_cli(*argv: str, env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m arkouda_k8s ARGV` with only PATH, HOME (= cwd), LANG and `env`; never raises on exit codes."""
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8", **env}
    return subprocess.run(
        [sys.executable, "-m", "arkouda_k8s", *argv],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# --- a projected service-account token, kept as a kubelet keeps it ----------------------------------------


def kubelet_write_token(directory: Path, token: str) -> Path:
    """Write `token` the way kubelet's AtomicWriter updates a projected volume: the data goes into a new
    timestamped directory, `..data` is swapped to it with one rename, and `token` links through `..data`."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = directory / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{secrets.token_hex(4)}"
    stamp.mkdir(mode=0o755)
    (stamp / "token").write_text(token)
    (stamp / "token").chmod(0o644)
    swap = directory / "..data_tmp"
    with contextlib.suppress(FileNotFoundError):
        swap.unlink()
    os.symlink(stamp.name, swap)
    previous = os.readlink(directory / "..data") if (directory / "..data").is_symlink() else None
    os.replace(swap, directory / "..data")
    link = directory / "token"
    if not link.is_symlink():
        os.symlink("..data/token", link)
    if previous:
        for old in (directory / previous).iterdir():
            old.unlink()
        (directory / previous).rmdir()
    remember_secret(token)
    return link


# --- the cluster ------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    emulator: KubeEmulator
    tmp: Path
    pod: PodIdentity
    token_dir: Path
    reader_token_dir: Path
    helm_service: bool
    port: int = PORT  # the published (and target) port
    allowed: set[tuple[tuple[str, str], str]] = field(default_factory=set)
    clients: list[KubeClient] = field(default_factory=list)
    faults: Injector = field(init=False)
    rotations: int = 0

    def __post_init__(self) -> None:
        self.faults = Injector(self)

    @property
    def token_file(self) -> Path:
        return self.token_dir / "token"

    @property
    def reader_token_file(self) -> Path:
        return self.reader_token_dir / "token"

    def config(self, token_file: Path | None = None) -> ApiConfig:
        token_file = token_file or self.token_file
        return ApiConfig(
            host=self.emulator.url,
            namespace=NS,
            source="test service account",
            ca_file=self.emulator.ca_file,
            token=token_file.read_text().strip(),
            token_file=token_file,
        )

    async def client(self, *, retry: RetryPolicy = FAST_RETRY, token_file: Path | None = None) -> KubeClient:
        kube = KubeClient(self.config(token_file), component="test", retry=retry)
        await kube.__aenter__()
        self.clients.append(kube)
        return kube

    def settings(self, **env: str) -> Settings:
        base = {
            "EXTERNAL_SERVICE_NAME": SERVICE,
            "EXTERNAL_SERVICE_TARGET_PORT": str(PORT),
            "PROBE_PERIOD": "0.05",
            "PROBE_FAILURES": "2",
            "RECONCILE_PERIOD": "1",
            "SHUTDOWN_TIMEOUT": "5",
        }
        return load([*PUBLISH, *KUBE_API, "namespace"], None, {**base, **env})

    def reader_settings(self) -> Settings:
        """The resolver's credentials: K8S_HOST with a token file that rotates, and the CA."""
        return load(
            KUBE_API,
            None,
            {
                "K8S_HOST": self.emulator.url,
                "TOKEN_FILE": str(self.reader_token_file),
                "CACERT_FILE": str(self.emulator.ca_file),
            },
        )

    async def registrar(
        self,
        probe: Any = None,
        *,
        retry: RetryPolicy = FAST_RETRY,
        pod: PodIdentity | None = None,
        env: Mapping[str, str] | None = None,
        **more: str,
    ) -> Registrar:
        kube = await self.client(retry=retry)
        settings = self.settings(**{**(env or {}), **more})
        return Registrar(settings, kube, pod or self.pod, probe=probe if probe is not None else SwitchProbe())

    def rotate(self, *, reader: bool = False) -> str:
        """A new token for the identity; the old one answers 401 from now on; the file is rewritten by kubelet."""
        directory = self.reader_token_dir if reader else self.token_dir
        new = self.emulator.rotate_token((directory / "token").read_text().strip())
        kubelet_write_token(directory, new)
        self.rotations += 1
        return new

    def rotate_both(self) -> None:
        self.rotate()
        self.rotate(reader=True)

    def allow(self, store: tuple[str, str], name: str) -> None:
        """An object the test itself made: part of the expected state, not an orphan."""
        self.allowed.add((store, name))

    # --- helpers the cases use ---

    async def slices(self) -> list[JSON]:
        return await self.emulator.list("discovery.k8s.io/v1", "EndpointSlice", NS)

    async def our_slices(self) -> list[JSON]:
        return [s for s in await self.slices() if o.slice_owner_uid(s) == self.pod.uid]

    async def edit_slice_badly(self) -> str:
        """Someone else edits our slice into a wrong shape (a foreign address, a wrong port, a label gone)."""
        (ours,) = await self.our_slices()
        ours["endpoints"] = [{"addresses": ["192.0.2.99"], "conditions": {"ready": True}}]
        ours["ports"] = [{"name": "arkouda", "port": 1, "protocol": "TCP"}]
        await self.emulator.update(ours)
        return str(ours["metadata"]["name"])

    async def slice_is(self, *, ready: bool) -> bool:
        found = await self.our_slices()
        return len(found) == 1 and not slice_problems(found[0], self.pod, ready, self.port)

    async def create_locale_pods(self, count: int, *, ready: bool = False) -> list[str]:
        names = [f"arkouda-locale-{i}" for i in range(count)]
        for i, name in enumerate(names):
            await self.emulator.create_pod(NS, name, labels=LOCALE_LABELS)
            self.allow(("", "pods"), name)
            if ready:
                await self.emulator.set_pod_ready(NS, name, ip=f"192.0.2.{40 + i}")
        return names

    async def publish_directly(self, *, ready: bool = True) -> None:
        """What a registrar would have written, written by the test (admin, no HTTP): the resolver's target."""
        spec = o.ServiceSpec(SERVICE, (o.Port("arkouda", PORT, PORT),))
        if not self.helm_service:
            await self.emulator.create(
                {**o.service(spec, self.pod), "metadata": {**o.service(spec, self.pod)["metadata"], "namespace": NS}}
            )
            self.allow(SERVICES, SERVICE)
        es = o.endpoint_slice(spec, self.pod, ready=ready)
        es["metadata"]["name"] = f"{SERVICE}-test1"
        await self.emulator.create(es)
        self.allow(SLICES, f"{SERVICE}-test1")

    def writes_by(self, user: str) -> list[str]:
        return [
            f"{r.verb} {r.resource} {r.name}".strip()
            for r in self.emulator.request_log
            if r.user == user and r.resource and r.verb not in READS
        ]

    def requests(self, user: str, verb: str, resource: str) -> int:
        return sum(1 for r in self.emulator.request_log if r.user == user and r.verb == verb and r.resource == resource)

    # --- the audit ---

    async def audit(self, *, published: bool, ready: bool = True, endpoints: bool = False) -> list[str]:
        """Every object in the namespace, checked against what should be there: the problems (empty = right)."""
        problems: list[str] = []
        slices: list[JSON] = []
        services: dict[str, JSON] = {}
        legacy: dict[str, JSON] = {}
        checked = 0
        for store, (namespace, name), obj in list(self.emulator.store.all_objects()):
            if namespace != NS:
                continue
            checked += 1
            if store == SLICES:
                slices.append(obj)
            elif store == SERVICES:
                services[name] = obj
            elif store == ENDPOINTS:
                legacy[name] = obj
            elif (store, name) not in self.allowed and not _bed_object(store, name):
                problems.append(f"foreign object {store[1]}/{name}")
        STATS.objects_checked += checked
        ours = [s for s in slices if (s["metadata"].get("labels") or {}).get(o.SERVICE_NAME_LABEL) == SERVICE]
        for item in slices:
            if item not in ours and (SLICES, item["metadata"]["name"]) not in self.allowed:
                problems.append(f"foreign EndpointSlice {item['metadata']['name']}")
        test_made = [s for s in ours if (SLICES, s["metadata"]["name"]) in self.allowed]
        ours = [s for s in ours if s not in test_made]
        if published:
            if len(ours) != 1:
                problems.append(
                    f"{len(ours)} EndpointSlices published for {SERVICE} (want exactly 1): "
                    f"{[s['metadata']['name'] for s in ours]}"
                )
            for item in ours:
                problems += [
                    f"EndpointSlice {item['metadata']['name']}: {p}"
                    for p in slice_problems(item, self.pod, ready, self.port)
                ]
        elif ours:
            problems.append(f"EndpointSlices left after withdrawal: {[s['metadata']['name'] for s in ours]}")
        service = services.pop(SERVICE, None)
        if (SERVICES, SERVICE) in self.allowed or self.helm_service:
            if service is None:
                problems.append(f"Service {SERVICE} (made by the test or Helm) was deleted")
            else:
                problems += [
                    f"Service {SERVICE}: {p}" for p in service_problems(service, self.pod, self.port, owner=published)
                ]
                if self.helm_service and (service["metadata"].get("labels") or {}).get(o.MANAGED_BY) != "Helm":
                    problems.append("Helm's Service lost its managed-by: Helm label")
        elif published:
            if service is None:
                problems.append(f"no Service {SERVICE} while published")
            else:
                problems += [
                    f"Service {SERVICE}: {p}" for p in service_problems(service, self.pod, self.port, owner=True)
                ]
        elif service is not None:
            problems.append(f"Service {SERVICE} made by the registrar left after withdrawal")
        for name in services:
            if (SERVICES, name) not in self.allowed:
                problems.append(f"foreign Service {name}")
        endpoint = legacy.pop(SERVICE, None)
        if endpoints and published:
            if endpoint is None:
                problems.append("no Endpoints while published with --endpoints-api=both")
            else:
                problems += [f"Endpoints: {p}" for p in endpoints_problems(endpoint, self.pod, ready)]
        elif endpoint is not None:
            problems.append(f"Endpoints {SERVICE} left (published={published}, endpoints api={endpoints})")
        for name in legacy:
            problems.append(f"foreign Endpoints {name}")
        if problems:
            STATS.leaks += len(problems)
        return problems

    async def assert_clean(
        self, *, published: bool, ready: bool = True, endpoints: bool = False, what: str = ""
    ) -> None:
        problems = await self.audit(published=published, ready=ready, endpoints=endpoints)
        assert not problems, f"{what}: wrong or orphaned objects in namespace {NS}:\n  " + "\n  ".join(problems)


def _bed_object(store: tuple[str, str], name: str) -> bool:
    """What the bed and the emulator's controllers put in every namespace."""
    return (store, name) in {
        (("", "serviceaccounts"), "default"),
        (("", "serviceaccounts"), SA),
        (("", "serviceaccounts"), READER),
        (("", "configmaps"), "kube-root-ca.crt"),
        (("rbac.authorization.k8s.io", "roles"), "server"),
        (("rbac.authorization.k8s.io", "rolebindings"), "server"),
        (("rbac.authorization.k8s.io", "roles"), "reader"),
        (("rbac.authorization.k8s.io", "rolebindings"), "reader"),
        (("", "pods"), POD),
    }


@contextlib.asynccontextmanager
async def open_cluster(
    tmp: Path,
    *,
    gc_delay: float = 0.1,
    helm_service: bool = False,
    rules: list[JSON] | None = None,
    loopback: bool = False,
) -> AsyncIterator[Cluster]:
    """An emulator (HTTPS, RBAC) with namespace `arkouda`, the server pod Running, its service account bound
    to the Role (the chart's, plus the Service create/delete of a registrar that makes its own Service),
    and a reader service account for the resolver."""
    emulator = KubeEmulator(tls=True, rbac=True, gc_delay=gc_delay, allow_loopback_endpoints=loopback)
    await emulator.start()
    remember_secret(emulator.admin_token)
    cluster: Cluster | None = None
    try:
        await emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        server_token = await emulator.bind_role(
            NS, SA, rules if rules is not None else role_rules(role_triples()), role="server"
        )
        reader_token = await emulator.bind_role(NS, READER, READER_RULES, role="reader")
        created = await emulator.create_pod(NS, POD, labels={"app.kubernetes.io/component": "server"})
        await emulator.set_pod_ready(NS, POD, ip=POD_IP)
        token_dir = kubelet_write_token(tmp / "serviceaccount", server_token).parent
        reader_dir = kubelet_write_token(tmp / "reader", reader_token).parent
        pod = PodIdentity(name=POD, uid=created["metadata"]["uid"], ip=POD_IP, namespace=NS, instance="rel")
        cluster = Cluster(emulator, tmp, pod, token_dir, reader_dir, helm_service)
        if helm_service:
            await emulator.create(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {
                        "name": SERVICE,
                        "namespace": NS,
                        "labels": {o.MANAGED_BY: "Helm", o.INSTANCE: "rel"},
                    },
                    "spec": {"ports": [{"name": "arkouda", "port": PORT, "targetPort": PORT, "protocol": "TCP"}]},
                }
            )
        yield cluster
        # The Role (the chart's rules) was sufficient: no request of the bed's identities was refused but the
        # 403s a case injected on purpose.
        refused = [
            f"{r.verb} {r.resource} {r.name}"
            for r in emulator.request_log
            if r.status == 403 and r.user in (SA_USER, READER_USER)
        ]
        assert len(refused) <= cluster.faults.forbidden_armed, f"RBAC refused the bed's identities: {refused}"
    finally:
        if cluster is not None:
            STATS.faults += cluster.faults.total() + cluster.rotations
            for kube in cluster.clients:
                with contextlib.suppress(Exception):
                    await kube.close()
        await emulator.stop()


async def settle(condition: Callable[[], Awaitable[Any]], *, timeout: float = 10.0) -> bool:
    """Wait up to `timeout` for a condition, without failing: the audit that follows says what is wrong."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def eventually(
    condition: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, what: str = "the condition"
) -> Any:
    """Poll an async condition until it holds (tests only; a deadline bounds the wait, nothing is timed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)
