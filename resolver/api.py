"""`arkouda_k8s.connect("arkouda")`: find the server by Service name, wait for it, connect arkouda.

    import arkouda_k8s
    arkouda_k8s.connect("arkouda")                 # in a notebook, in or out of the cluster
    ep = arkouda_k8s.resolve("arkouda.team-a")    # Endpoint(host, port, source), nothing connected

Order (DESIGN.md §2.8): an explicit tcp://host:port or $ARKOUDA_SERVER → the API (the Service's
ready EndpointSlice endpoints) → cluster DNS when there are no API credentials or the API answers
403. `mode` forces one: "api", "dns" or "direct". Out of the cluster, mode="port-forward" finds the
server's pod through the API and returns a local 127.0.0.1 port forwarded to it through the API
(like kubectl port-forward; portforward.py). The async core is `aresolve` / `aconnect`; the
synchronous faces also work inside a running event loop (a Jupyter kernel): they run the core on
a helper thread. Nothing in the cluster is ever created, changed or deleted, and no atexit hook
is registered (a port-forward's thread is a daemon).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from arkouda_k8s import logs
from arkouda_k8s.errors import SettingsError
from arkouda_k8s.kube import ApiConfig, ApiError, Forbidden, KubeClient, NoCredentials, load_api_config
from arkouda_k8s.kube.config import SERVICEACCOUNT_DIR
from arkouda_k8s.resolver import errors as e
from arkouda_k8s.resolver import lookup, names, portforward
from arkouda_k8s.resolver.lookup import RESOLV_CONF, DnsResolver, Endpoint, via_api, via_dns
from arkouda_k8s.resolver.progress import ProgressLine
from arkouda_k8s.settings import Settings, load

__all__ = ["Endpoint", "aconnect", "aresolve", "connect", "resolve"]

T = TypeVar("T")
MODES = ("auto", "api", "dns", "direct", "port-forward")
HANDSHAKE_TIMEOUT = 10.0  # seconds for arkouda.connect's round trip when the deadline leaves more


async def aresolve(
    name: str | None = None,
    namespace: str | None = None,
    *,
    timeout: float = 60,
    wait: bool = True,
    mode: str = "auto",
    settings: Settings | None = None,
    dns_resolver: DnsResolver | None = None,
    resolv_conf: Path = RESOLV_CONF,
    serviceaccount_dir: Path = SERVICEACCOUNT_DIR,
) -> Endpoint:
    """The address of a published arkouda server: Endpoint(host, port, source)."""
    if mode not in MODES:
        raise SettingsError(f"invalid mode={mode!r}: must be one of {', '.join(MODES)}")
    if not timeout > 0:
        raise SettingsError(f"invalid timeout={timeout!r}: must be a number of seconds greater than 0")
    log = logs.get_logger("resolver")
    override = os.environ.get(names.ENV_OVERRIDE, "").strip()
    if override:
        log.info("name_overridden", variable=names.ENV_OVERRIDE, name=override, asked=name)
    target = names.parse(override or name or names.DEFAULT_NAME)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    if target.direct or mode == "direct":
        if not target.direct:
            raise SettingsError(f"mode='direct' needs tcp://HOST:PORT, not {target.text!r}")
        return Endpoint(str(target.host), int(target.port or names.DEFAULT_PORT), "direct")
    settings = settings or load(
        ("kubeconfig", "context", "k8s_host", "ssl_token", "token_file", "cert_file", "key_file", "cacert_file")
    )
    progress = ProgressLine.for_current_output()
    api_namespace: str | None = None
    try:
        if mode in ("auto", "api", "port-forward"):
            try:
                config = await load_api_config(settings, serviceaccount_dir=serviceaccount_dir)
            except NoCredentials as missing:
                if mode != "auto":
                    raise e.NoApiCredentials(str(missing), hint="kubectl config current-context") from None
                log.info("dns_fallback", reason="no API credentials")
            else:
                ns = api_namespace = target.namespace or namespace or config.namespace
                try:
                    async with KubeClient(config, component="resolver") as kube:
                        found = await via_api(
                            kube, str(target.service), ns, wait=wait, deadline=deadline, progress=progress.update
                        )
                        if mode != "port-forward":
                            return found
                        await _check_forward(kube, found, str(target.service), ns, deadline)
                except Forbidden as refused:
                    if mode != "auto":
                        hint = f"kubectl auth can-i {refused.verb} {refused.resource.split('.')[0]} -n {ns}"
                        raise e.ApiRefused(str(refused), hint=hint) from None
                    log.info("dns_fallback", reason="the API answered 403", namespace=ns)
                except ApiError as failed:
                    raise e.ResolveError(f"the Kubernetes API failed: {failed}", hint="kubectl cluster-info") from None
                else:
                    return await _forwarded(config, ns, found)
        ns = target.namespace or namespace or api_namespace or _own_namespace(serviceaccount_dir) or "default"
        return await via_dns(
            str(target.service),
            ns,
            port=target.port,
            domain=target.domain,
            resolver=dns_resolver or lookup.system_dns,
            resolv_conf=resolv_conf,
            wait=wait,
            deadline=deadline,
            progress=progress.update,
        )
    finally:
        progress.done()


async def _check_forward(kube: KubeClient, found: Endpoint, service: str, ns: str, deadline: float) -> None:
    """One WebSocket to the endpoint's pod, so a refusal (RBAC, a pod gone) is said now, not by a hung connect."""
    if found.pod is None:
        raise e.ResolveError(
            f"the ready endpoint {found.host}:{found.port} of Service {ns}/{service} names no pod "
            f"(targetRef), so there is nothing to port-forward to",
            hint=f"kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={service} -o yaml",
        )
    stream = await kube.port_forward(found.pod, found.port, ns, deadline=deadline)
    await stream.close()


async def _forwarded(config: ApiConfig, ns: str, found: Endpoint) -> Endpoint:
    """A local port forwarded to the endpoint's pod (a forwarder on a thread of its own, reused per pod)."""
    assert found.pod is not None  # _check_forward refused an endpoint without one
    forwarder = await asyncio.to_thread(portforward.forward, config, ns, found.pod, found.port)
    return Endpoint(
        "127.0.0.1",
        forwarder.local_port,
        f"port-forward to pod {ns}/{found.pod}:{found.port} ({found.source})",
        found.pod,
    )


def _own_namespace(serviceaccount_dir: Path) -> str | None:
    try:
        return (serviceaccount_dir / "namespace").read_text().strip() or None
    except OSError:
        return None


async def aconnect(
    name: str | None = None,
    namespace: str | None = None,
    *,
    timeout: float = 60,
    access_token: str | None = None,
    **kwargs: Any,
) -> Any:
    """Resolve, then call the installed arkouda.connect (on a worker thread); returns what it returns."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    resolve_kwargs = _resolve_kwargs(kwargs)
    endpoint = await aresolve(name, namespace, timeout=timeout, **resolve_kwargs)
    try:
        return await asyncio.to_thread(_arkouda_connect, endpoint, deadline - loop.time(), access_token, kwargs)
    except e.HandshakeTimeout:
        # A REQ socket is wedged after a timeout: resolve again (the server may have moved) and retry once.
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise
        endpoint = await aresolve(name, namespace, timeout=max(remaining, 1.0), **resolve_kwargs)
        return await asyncio.to_thread(_arkouda_connect, endpoint, deadline - loop.time(), access_token, kwargs)


def resolve(
    name: str | None = None,
    namespace: str | None = None,
    *,
    timeout: float = 60,
    wait: bool = True,
    mode: str = "auto",
    **kwargs: Any,
) -> Endpoint:
    """Synchronous aresolve; works inside a running event loop too (e.g. a Jupyter kernel)."""
    return _run_sync(aresolve(name, namespace, timeout=timeout, wait=wait, mode=mode, **kwargs))


def connect(
    name: str | None = None,
    namespace: str | None = None,
    *,
    timeout: float = 60,
    access_token: str | None = None,
    **kwargs: Any,
) -> Any:
    """Find the server and call arkouda.connect in this thread; returns what arkouda.connect returns."""
    started = _monotonic()
    resolve_kwargs = _resolve_kwargs(kwargs)
    endpoint = resolve(name, namespace, timeout=timeout, **resolve_kwargs)
    try:
        return _arkouda_connect(endpoint, timeout - (_monotonic() - started), access_token, kwargs)
    except e.HandshakeTimeout:
        remaining = timeout - (_monotonic() - started)
        if remaining <= 0:
            raise
        endpoint = resolve(name, namespace, timeout=max(remaining, 1.0), **resolve_kwargs)
        return _arkouda_connect(endpoint, timeout - (_monotonic() - started), access_token, kwargs)


_RESOLVE_ONLY = ("wait", "mode", "settings", "dns_resolver", "resolv_conf", "serviceaccount_dir")


def _resolve_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in _RESOLVE_ONLY if k in kwargs}


def _arkouda_connect(endpoint: Endpoint, remaining: float, access_token: str | None, extra: dict[str, Any]) -> Any:
    """Call arkouda.connect with what its signature accepts, always with a finite timeout."""
    import arkouda
    import zmq

    handshake = max(1, round(min(HANDSHAKE_TIMEOUT, max(remaining, 1.0))))  # 2020.7.7 wants whole seconds
    params = inspect.signature(arkouda.connect).parameters
    call: dict[str, Any] = {"server": endpoint.host, "port": endpoint.port}
    if "timeout" in params:
        call["timeout"] = handshake
    if access_token is not None:
        if "access_token" not in params:
            raise SettingsError(
                "access_token=: the installed arkouda client has no token support (2020.7.7 "
                "predates authentication); upgrade the client or start the server without it"
            )
        call["access_token"] = access_token
        logs.register_secret(access_token)
    for key, value in extra.items():
        if key in params and key not in call and key != "connect_url":
            call[key] = value
    _close_previous_socket()
    try:
        return arkouda.connect(**call)
    except zmq.error.Again:
        _close_previous_socket()  # wedged for good after a timeout: close it rather than leak it
        forwarder = portforward.by_local_port(endpoint.port) if endpoint.source.startswith("port-forward") else None
        why = f"; the port-forward says: {forwarder.last_error}" if forwarder and forwarder.last_error else ""
        raise e.HandshakeTimeout(
            f"arkouda_server at {endpoint.url} ({endpoint.source}) did not answer within {handshake} s" + why,
            hint="kubectl logs <server pod>; is a firewall or NetworkPolicy between here and the pod?",
        ) from None


def _close_previous_socket() -> None:
    """The arkouda client keeps one module-level REQ socket and replaces it on every connect() without
    closing it: a socket wedged by a timeout, or the one of an earlier session, would leak. Close it."""
    import sys

    client = sys.modules.get("arkouda.client")
    previous = getattr(client, "socket", None)
    if previous is not None and hasattr(previous, "closed") and not previous.closed:
        previous.close(linger=0)


def _monotonic() -> float:
    import time

    return time.monotonic()


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even under a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A loop runs in this thread (Jupyter): run ours on a helper thread and wait for it here.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="arkouda-k8s") as pool:
        return pool.submit(asyncio.run, coro).result()
