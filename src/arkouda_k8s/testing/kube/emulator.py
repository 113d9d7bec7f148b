"""KubeEmulator: an in-memory kube-apiserver 1.28 on 127.0.0.1, for tests and the demo.

    async with KubeEmulator() as emu:               # HTTP, RBAC off
        async with ApiClient(emu.configuration()) as api: ...
        await emu.create_pod("default", "locale-0", labels={"app": "x"})
        await emu.set_pod_ready("default", "locale-0", ip="198.51.100.5")

From synchronous code: `emu.start_in_thread()`, `emu.run(emu.create_pod(...))`, `emu.stop_in_thread()`.

`allow_loopback_endpoints=True` is the one test-only switch that departs from a real server: it admits
127.0.0.0/8 and ::1 addresses in Endpoints and EndpointSlices, for end-to-end tests whose "pods" are
loopback addresses. It is off by default (and in the golden conformance test).
"""

from __future__ import annotations

import asyncio
import copy
import shutil
import tempfile
import threading
from collections.abc import Coroutine, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from arkouda_k8s import logs
from arkouda_k8s.testing.kube import kubeconfig
from arkouda_k8s.testing.kube import rbac as rbac_policy
from arkouda_k8s.testing.kube import tls as tls_certs
from arkouda_k8s.testing.kube.api import Api, ListQuery, WriteOptions
from arkouda_k8s.testing.kube.auth import Authenticator, TokenUser, new_token, read_token_file
from arkouda_k8s.testing.kube.endpoints import EndpointsController
from arkouda_k8s.testing.kube.faults import Faults
from arkouda_k8s.testing.kube.gc import GarbageCollector
from arkouda_k8s.testing.kube.namespaces import NamespaceController
from arkouda_k8s.testing.kube.resources import REGISTRY, ResourceType
from arkouda_k8s.testing.kube.selectors import parse_fields, parse_labels
from arkouda_k8s.testing.kube.server import ApiServer, RequestRecord
from arkouda_k8s.testing.kube.store import JSON, Store
from arkouda_k8s.testing.kube.timestamps import now

if TYPE_CHECKING:
    from kubernetes_asyncio.client import Configuration

T = TypeVar("T")
ADMIN_USER = "admin"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DEFAULT_NODE = "emulator-node"


class EmulatorError(RuntimeError):
    """The emulator was used in a way it cannot serve (not started, unknown kind...)."""


class KubeEmulator:
    def __init__(
        self,
        tls: bool = False,
        rbac: bool = False,
        token_auth: list[TokenUser] | str | Path | None = None,
        allow_loopback_endpoints: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        history_limit: int = 10_000,
        gc_delay: float = 0.1,
        bookmark_interval: float = 60.0,
        pod_termination_seconds: float | None = None,
    ) -> None:
        self.tls = tls
        self.rbac = rbac
        self.host = host
        self.port = port
        self.store = Store(history_limit)
        self.api = Api(self.store, allow_loopback_endpoints=allow_loopback_endpoints)
        self.api.pod_termination_seconds = pod_termination_seconds
        self.authn = Authenticator()
        self.authz = rbac_policy.Authorizer(self.store, rbac)
        self.api.admission.append(rbac_policy.EscalationCheck(self.authz))
        self.faults = Faults(self.store)
        self.server = ApiServer(
            self.api,
            self.authn,
            self.authz,
            self.faults,
            server_address=lambda: f"{self.host}:{self.port}",
            bookmark_interval=bookmark_interval,
        )
        self.gc = GarbageCollector(self.api, gc_delay)
        self.namespaces = NamespaceController(self.api)
        self.endpoints = EndpointsController(self.api)
        self._workdir = Path(tempfile.gettempdir()) / "arkouda-k8s-kube-not-started"  # made by start()
        self._tls: tls_certs.ServerTLS | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._log = logs.get_logger("kube-emulator")
        users = read_token_file(Path(token_auth)) if isinstance(token_auth, str | Path) else list(token_auth or [])
        for user in users:
            self.authn.add(user)
        masters = [u for u in users if "system:masters" in u.groups]
        if masters:
            self.admin_token = masters[0].token
        else:
            self.admin_token = new_token()
            self.authn.add(TokenUser(self.admin_token, ADMIN_USER, ADMIN_USER, ("system:masters",)))
        self._bootstrap()

    # --- lifecycle ---

    def _bootstrap(self) -> None:
        for name in SYSTEM_NAMESPACES:
            self._admin_create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        for obj in rbac_policy.BOOTSTRAP:
            self._admin_create(copy.deepcopy(obj))
        self._admin_create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                },
            }
        )

    def _admin_create(self, obj: JSON) -> JSON:
        rt = self._resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        namespace = (obj.get("metadata") or {}).get("namespace", "") if rt.namespaced else ""
        return self.api.create(rt, namespace, obj, WriteOptions("kube-apiserver"))

    async def start(self) -> KubeEmulator:
        if self._runner is not None:
            return self
        ssl_context = None
        self._workdir = Path(tempfile.mkdtemp(prefix="arkouda-k8s-kube-"))  # removed by stop()
        if self.tls:
            self._tls = tls_certs.generate(self._workdir / "pki")
            self.namespaces.ca_pem = self._tls.ca_pem()
            ssl_context = self._tls.server_context()
        self._runner = web.AppRunner(
            self.server.application(), handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self._log.info("kube_emulator_started", url=self.url, rbac=self.rbac, tls=self.tls)
        return self

    async def stop(self) -> None:
        self.gc.stop()
        for handle in list(self.api.pod_deleters.values()):
            handle.cancel()
        self.api.pod_deleters.clear()
        self.store.end_watches()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        shutil.rmtree(self._workdir, ignore_errors=True)

    async def __aenter__(self) -> KubeEmulator:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # --- from synchronous code ---

    def start_in_thread(self) -> KubeEmulator:
        """Run the emulator on its own event loop in a daemon thread (for sync tests and the demo)."""
        started = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as error:
                failure.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=main, name="kube-emulator", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run one of the async helpers on the emulator's thread and wait for its result."""
        if self._loop is None:
            raise EmulatorError("run(): start the emulator with start_in_thread() first")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop_in_thread(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread, self._loop = None, None

    # --- how to reach it ---

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        return self._tls.ca_file if self._tls else None

    def write_kubeconfig(self, path: str | Path, token: str | None = None, namespace: str | None = None) -> Path:
        ca_pem = self._tls.ca_pem() if self._tls else None
        return kubeconfig.write(Path(path), kubeconfig.render(self.url, token or self.admin_token, ca_pem, namespace))

    def configuration(self, token: str | None = None) -> Configuration:
        from kubernetes_asyncio.client import Configuration

        cfg = Configuration(host=self.url)
        cfg.api_key = {"BearerToken": token or self.admin_token}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
        if self._tls:
            cfg.ssl_ca_cert = str(self._tls.ca_file)
            cfg.verify_ssl = True
        return cfg

    # --- identities ---

    def client_certificate(self, user: str, groups: Iterable[str] = ()) -> tuple[Path, Path]:
        """(certificate, key) files of a client certificate for `user` (HTTPS mode): the seed's mTLS user."""
        if self._tls is None:
            raise EmulatorError("client certificates need the emulator started with tls=True")
        return self._tls.client_certificate(self._workdir / "clients", user, tuple(groups))

    def add_token(self, token: str, user: str, uid: str | None = None, groups: Iterable[str] = ()) -> None:
        self.authn.add(TokenUser(token, user, uid or "", tuple(groups)))

    def rotate_token(self, old: str) -> str:
        new = self.authn.rotate(old)
        if old == self.admin_token:
            self.admin_token = new
        return new

    def service_account_token(self, namespace: str, name: str) -> str:
        account = self.store.get(("", "serviceaccounts"), (namespace, name))
        uid = account["metadata"].get("uid", "") if account else ""
        return self.authn.service_account_token(namespace, name, uid)

    # --- what happened ---

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.server.request_log

    def permissions_used(self, user: str) -> set[tuple[str, str, str]]:
        """(api_group, resource[/subresource], verb) of every request this user made that reached a resource."""
        used = set()
        for record in self.request_log:
            if record.user == user and record.resource:
                resource = f"{record.resource}/{record.subresource}" if record.subresource else record.resource
                used.add((record.api_group, resource, record.verb))
        return used

    # --- objects, directly (admin, no HTTP) ---

    def _resource(self, api_version: str, kind_or_resource: str) -> ResourceType:
        rt = REGISTRY.by_kind(api_version, kind_or_resource)
        if rt is None:
            group, _, version = api_version.rpartition("/")
            rt = REGISTRY.lookup(group, version, kind_or_resource)
        if rt is None:
            raise EmulatorError(f"unknown kind or resource {kind_or_resource!r} in {api_version!r}")
        return rt

    async def create(self, obj: JSON) -> JSON:
        return copy.deepcopy(self._admin_create(copy.deepcopy(obj)))

    async def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> JSON:
        return copy.deepcopy(self.api.get(self._resource(api_version, kind), namespace or "", name))

    async def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[JSON]:
        rt = self._resource(api_version, kind)
        strategy = self.api.strategy(rt)
        query = ListQuery(
            parse_labels(label_selector),
            parse_fields(field_selector, lambda f: strategy.supports_field(f, rt.namespaced)),
        )
        listed = self.api.list(rt, namespace if rt.namespaced else None, query)
        return [{"kind": rt.kind, "apiVersion": rt.api_version, **copy.deepcopy(i)} for i in listed["items"]]

    async def delete(
        self, api_version: str, kind: str, namespace: str | None, name: str, grace_period_seconds: int | None = None
    ) -> JSON:
        options = {} if grace_period_seconds is None else {"gracePeriodSeconds": grace_period_seconds}
        return copy.deepcopy(self.api.delete(self._resource(api_version, kind), namespace or "", name, options))

    async def update(self, obj: JSON) -> JSON:
        """PUT an object (its metadata.resourceVersion, when set, must be current)."""
        rt = self._resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata") or {}
        _, updated = self.api.update(
            rt, meta.get("namespace", ""), meta.get("name", ""), copy.deepcopy(obj), WriteOptions("emulator")
        )
        return copy.deepcopy(updated)

    async def patch(
        self, api_version: str, kind: str, namespace: str | None, name: str, body: Any, patch_type: str = "merge"
    ) -> JSON:
        """PATCH an object: patch_type is merge, json or strategic."""
        rt = self._resource(api_version, kind)
        _, patched = self.api.patch(
            rt, namespace or "", name, patch_type, copy.deepcopy(body), WriteOptions("emulator")
        )
        return copy.deepcopy(patched)

    async def update_status(self, api_version: str, kind: str, namespace: str | None, name: str, status: JSON) -> JSON:
        """Merge `status` into an object's status, as its controller (or kubelet) would."""
        rt = self._resource(api_version, kind)
        _, updated = self.api.patch(
            rt, namespace or "", name, "merge", {"status": status}, WriteOptions("kubelet", subresource="status")
        )
        return copy.deepcopy(updated)

    async def bind_role(
        self, namespace: str, service_account: str, rules: Sequence[JSON], role: str | None = None
    ) -> str:
        """A service account that may do what `rules` say in `namespace`, and its bearer token.

        Creates the ServiceAccount (unless it exists), a Role named `role` (default: the account's name)
        with `rules`, and a RoleBinding of the same name — what a chart's RBAC templates make.
        """
        role = role or service_account
        rbac = "rbac.authorization.k8s.io/v1"
        if self.store.get(("", "serviceaccounts"), (namespace, service_account)) is None:
            account = {"name": service_account, "namespace": namespace}
            await self.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account})
        meta = {"name": role, "namespace": namespace}
        await self.create({"apiVersion": rbac, "kind": "Role", "metadata": meta, "rules": [*rules]})
        await self.create(
            {
                "apiVersion": rbac,
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
            }
        )
        return self.service_account_token(namespace, service_account)

    # --- pods, the kubelet's side ---

    def _pods(self) -> ResourceType:
        return self._resource("v1", "Pod")

    async def create_pod(
        self,
        namespace: str,
        name: str,
        labels: dict[str, str] | None = None,
        ip: str | None = None,
        phase: str = "Pending",
        *,
        node_name: str | None = DEFAULT_NODE,
        image: str = "example/arkouda:1",
        annotations: dict[str, str] | None = None,
        spec: JSON | None = None,
    ) -> JSON:
        """A pod as a controller would create it and the scheduler bind it (on `node_name`)."""
        pod_spec: JSON = copy.deepcopy(spec) if spec else {"containers": [{"name": "main", "image": image}]}
        if node_name:
            pod_spec.setdefault("nodeName", node_name)
        meta: JSON = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
        if annotations:
            meta["annotations"] = dict(annotations)
        created = self.api.create(
            self._pods(),
            namespace,
            {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec},
            WriteOptions("emulator"),
        )
        if phase != "Pending" or ip:
            return await self.set_pod_phase(namespace, name, phase, ip=ip)
        return copy.deepcopy(created)

    async def set_pod_phase(
        self, namespace: str, name: str, phase: str, waiting_reason: str | None = None, *, ip: str | None = None
    ) -> JSON:
        pod = self.api.get(self._pods(), namespace, name)
        status: JSON = {"phase": phase}
        if ip:
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
        if phase in ("Running", "Succeeded", "Failed") and not (pod.get("status") or {}).get("startTime"):
            status["startTime"] = now()
        if phase != "Running":
            status["conditions"] = _set_condition(
                (pod.get("status") or {}).get("conditions"),
                "Ready",
                False,
                "PodCompleted" if phase in ("Succeeded", "Failed") else None,
            )
        containers = (pod.get("spec") or {}).get("containers") or []
        if waiting_reason:
            status["containerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {"waiting": {"reason": waiting_reason}},
                }
                for c in containers
            ]
        return await self.update_status("v1", "Pod", namespace, name, status)

    async def set_pod_ready(self, namespace: str, name: str, ip: str = "198.51.100.5", ready: bool = True) -> JSON:
        """Running, Ready (or not), with a podIP and the conditions a kubelet writes, in one status update."""
        pod = self.api.get(self._pods(), namespace, name)
        conditions = (pod.get("status") or {}).get("conditions")
        for kind, value in (
            ("Initialized", True),
            ("Ready", ready),
            ("ContainersReady", ready),
            ("PodScheduled", True),
        ):
            conditions = _set_condition(conditions, kind, value, None if value else "ContainersNotReady")
        containers = (pod.get("spec") or {}).get("containers") or []
        started_at = (pod.get("status") or {}).get("startTime") or now()
        status: JSON = {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": "10.0.0.1",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": started_at,
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": ready,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": started_at}},
                }
                for c in containers
            ],
        }
        return await self.update_status("v1", "Pod", namespace, name, status)

    async def delete_pod(self, namespace: str, name: str, grace_period_seconds: int | None = None) -> JSON:
        return await self.delete("v1", "Pod", namespace, name, grace_period_seconds)

    async def finish_pod_termination(self, namespace: str, name: str) -> bool:
        """The kubelet stopped the containers before the grace period ran out: remove the pod now."""
        return self.api.finish_pod_termination(namespace, name)


def _set_condition(conditions: list[JSON] | None, kind: str, value: bool, reason: str | None) -> list[JSON]:
    out = [dict(c) for c in conditions or []]
    wanted = "True" if value else "False"
    for c in out:
        if c.get("type") == kind:
            if c.get("status") != wanted:
                c["status"] = wanted
                c["lastTransitionTime"] = now()
            if reason:
                c["reason"] = reason
            else:
                c.pop("reason", None)
            return out
    entry: JSON = {"type": kind, "status": wanted, "lastProbeTime": None, "lastTransitionTime": now()}
    if reason:
        entry["reason"] = reason
    out.append(entry)
    return out
