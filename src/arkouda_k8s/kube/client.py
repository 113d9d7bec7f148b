"""KubeClient: every API call arkouda-k8s makes, with one retry policy and one error vocabulary.

Objects are plain dicts (the JSON the API speaks); calls go through kubernetes_asyncio's generated
API classes with `_preload_content=False`, so status codes, headers (Retry-After, Warning) and
bodies are ours to interpret:

- 5xx, timeouts, connection errors: jittered exponential backoff until the call's deadline,
  then ApiUnavailable naming what was tried and the last failure;
- 429: wait what Retry-After says, then again;
- 401: re-read the token file (service-account tokens rotate) and try again;
- 403: raise Forbidden at once, naming the verb, resource and namespace (no retry storm);
- 404 / 409 / 410 / 422: NotFound / AlreadyExists or Conflict / Expired / Invalid.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arkouda_k8s import logs
from arkouda_k8s.kube import errors
from arkouda_k8s.kube.config import ApiConfig, _TokenFileWatcher
from arkouda_k8s.kube.resources import POD_PORTFORWARD, Resource
from arkouda_k8s.kube.retry import RetryPolicy

if TYPE_CHECKING:
    import aiohttp
    from kubernetes_asyncio.client import ApiClient, Configuration

    from arkouda_k8s.kube.portforward import PortForwardStream

JSON = dict[str, Any]
_RETRYABLE = frozenset({500, 502, 503, 504})
_PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@dataclass
class ApiStats:
    """What the API said to us: for /metrics, /healthz and tests."""

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # (verb, resource, status)
    errors_by_code: Counter[int] = field(default_factory=Counter)  # 0 = no answer (connection, timeout)
    retries: int = 0
    last_success: float | None = None  # time.monotonic() of the last 2xx

    def seconds_since_success(self) -> float | None:
        return None if self.last_success is None else time.monotonic() - self.last_success


@dataclass(frozen=True)
class ObjectList:
    items: builtins.list[JSON]
    resource_version: str


class KubeClient:
    """An API session: `async with KubeClient(config, component="registrar") as kube: ...`."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        component: str,
        retry: RetryPolicy | None = None,
        stats: ApiStats | None = None,
    ) -> None:
        self.config = config
        self.retry = retry or RetryPolicy()
        self.stats = stats or ApiStats()
        self._log = logs.get_logger(component)
        self._configuration: Configuration | None = None
        self._api: ApiClient | None = None
        # Watches get a connection pool of their own: closing a watch closes its connection, and a write
        # right after (the withdrawal after a stop) must not pay a new TCP + TLS handshake for it.
        self._watch_api: ApiClient | None = None
        self._apis: dict[tuple[str, bool], Any] = {}
        self._ws_api: ApiClient | None = None  # port-forward WebSockets, made on first use
        self._warned: set[str] = set()

    @property
    def namespace(self) -> str:
        return self.config.namespace

    async def __aenter__(self) -> KubeClient:
        from kubernetes_asyncio.client import ApiClient

        self._configuration = self.config.configuration()  # one configuration: one token, refreshed for all
        self._api = ApiClient(self._configuration)
        self._watch_api = ApiClient(self._configuration)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        apis = [a for a in (self._api, self._watch_api, self._ws_api) if a is not None]
        self._api = self._watch_api = self._ws_api = None
        self._apis.clear()
        for api in apis:
            await api.close()

    # --- the calls ---

    async def get(
        self, res: Resource, name: str, namespace: str | None = None, *, deadline: float | None = None
    ) -> JSON:
        ns = namespace or self.namespace
        return await self._json(
            "get",
            res,
            ns,
            name,
            deadline,
            lambda api, t: getattr(api, f"read_{res.method_suffix}")(
                name, *self._where(res, ns), _preload_content=False, _request_timeout=t
            ),
        )

    async def get_or_none(
        self, res: Resource, name: str, namespace: str | None = None, *, deadline: float | None = None
    ) -> JSON | None:
        try:
            return await self.get(res, name, namespace, deadline=deadline)
        except errors.NotFound:
            return None

    async def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        deadline: float | None = None,
    ) -> ObjectList:
        ns = namespace or self.namespace
        kwargs = _selectors(label_selector, field_selector)
        body = await self._json(
            "list",
            res,
            ns,
            None,
            deadline,
            lambda api, t: getattr(api, f"list_{res.method_suffix}")(
                *self._where(res, ns), _preload_content=False, _request_timeout=t, **kwargs
            ),
        )
        return ObjectList(list(body.get("items") or []), str((body.get("metadata") or {}).get("resourceVersion", "")))

    async def create(
        self, res: Resource, body: JSON, namespace: str | None = None, *, deadline: float | None = None
    ) -> JSON:
        ns = namespace or self.namespace
        name = (body.get("metadata") or {}).get("name") or (body.get("metadata") or {}).get("generateName")
        return await self._json(
            "create",
            res,
            ns,
            name,
            deadline,
            lambda api, t: getattr(api, f"create_{res.method_suffix}")(
                *self._where(res, ns), body, _preload_content=False, _request_timeout=t
            ),
        )

    async def replace(
        self, res: Resource, name: str, body: JSON, namespace: str | None = None, *, deadline: float | None = None
    ) -> JSON:
        ns = namespace or self.namespace
        return await self._json(
            "update",
            res,
            ns,
            name,
            deadline,
            lambda api, t: getattr(api, f"replace_{res.method_suffix}")(
                name, *self._where(res, ns), body, _preload_content=False, _request_timeout=t
            ),
        )

    async def patch(
        self,
        res: Resource,
        name: str,
        body: JSON | builtins.list[JSON],
        namespace: str | None = None,
        *,
        kind: str = "merge",
        deadline: float | None = None,
    ) -> JSON:
        ns = namespace or self.namespace
        content_type = _PATCH_TYPES[kind]
        return await self._json(
            "patch",
            res,
            ns,
            name,
            deadline,
            lambda api, t: getattr(api, f"patch_{res.method_suffix}")(
                name,
                *self._where(res, ns),
                body,
                _content_type=content_type,
                _preload_content=False,
                _request_timeout=t,
            ),
        )

    async def patch_status(
        self, res: Resource, name: str, body: JSON, namespace: str | None = None, *, deadline: float | None = None
    ) -> JSON:
        """Merge-patch the status subresource (what a kubelet does; the demo and tests play its part)."""
        ns = namespace or self.namespace
        return await self._json(
            "patch",
            res,
            ns,
            name,
            deadline,
            lambda api, t: getattr(api, f"patch_{res.method_suffix}_status")(
                name,
                *self._where(res, ns),
                body,
                _content_type=_PATCH_TYPES["merge"],
                _preload_content=False,
                _request_timeout=t,
            ),
        )

    async def delete(
        self,
        res: Resource,
        name: str,
        namespace: str | None = None,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete; False when it was already gone. `uid` makes sure we delete the object we mean."""
        ns = namespace or self.namespace
        options: JSON = {"kind": "DeleteOptions", "apiVersion": "v1"}
        pre = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        if pre:
            options["preconditions"] = pre
        try:
            await self._json(
                "delete",
                res,
                ns,
                name,
                deadline,
                lambda api, t: getattr(api, f"delete_{res.method_suffix}")(
                    name, *self._where(res, ns), body=options, _preload_content=False, _request_timeout=t
                ),
            )
        except errors.NotFound:
            return False
        return True

    async def open_watch(
        self,
        res: Resource,
        namespace: str | None,
        *,
        resource_version: str,
        timeout_seconds: int,
        label_selector: str | None = None,
        field_selector: str | None = None,
        deadline: float | None = None,
    ) -> aiohttp.ClientResponse:
        """Start a watch; the caller reads its lines (see kube.watch) and must release it."""
        ns = namespace or self.namespace
        kwargs = _selectors(label_selector, field_selector)
        read_timeout = timeout_seconds + self.retry.request_timeout

        async def start(api: Any, _t: float) -> aiohttp.ClientResponse:
            from aiohttp import ClientTimeout

            response: aiohttp.ClientResponse = await getattr(api, f"list_{res.method_suffix}")(
                *self._where(res, ns),
                watch=True,
                resource_version=resource_version,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=True,
                _preload_content=False,
                _request_timeout=ClientTimeout(sock_connect=self.retry.request_timeout, sock_read=read_timeout),
                **kwargs,
            )
            return response

        return await self._call("watch", res, ns, None, deadline, start, watch=True)

    async def port_forward(
        self, pod: str, port: int, namespace: str | None = None, *, deadline: float | None = None
    ) -> PortForwardStream:
        """One TCP connection to `port` inside `pod`, through the API (pods/portforward, WebSocket).

        Retried like any call (5xx, 429, connection errors) until the deadline; a refusal (403, 404, 400)
        is raised as the API words it. PortForwardFailed, later, is the kubelet failing to reach the port.
        """
        import aiohttp

        from arkouda_k8s.kube.portforward import open_stream

        ns = namespace or self.namespace
        loop = asyncio.get_running_loop()
        deadline = deadline if deadline is not None else loop.time() + self.retry.budget
        attempt, last = 0, "no attempt made"
        while (remaining := deadline - loop.time()) > 0:
            timeout = min(self.retry.request_timeout, remaining)
            try:
                async with asyncio.timeout(timeout):
                    stream = await open_stream(self._port_forward_api(), pod, ns, port, timeout)
            except (aiohttp.WSServerHandshakeError, aiohttp.ClientConnectorCertificateError) as refused:
                status = getattr(refused, "status", 0)
                self.stats.requests[("get", POD_PORTFORWARD.plural, status)] += 1
                if status:
                    self.stats.errors_by_code[status] += 1
                last = f"HTTP {status} {getattr(refused, 'message', '')}".strip()
                if status == 429:
                    headers = getattr(refused, "headers", None) or {}
                    wait = self.retry.retry_after(headers.get("Retry-After"), attempt)
                elif status == 401 and attempt < 3 and self._reload_token():
                    wait = self.retry.backoff(attempt) if attempt else 0.0
                elif status in _RETRYABLE:
                    wait = self.retry.backoff(attempt)
                else:
                    raise await self._refusal(pod, port, ns, deadline, status, last) from None
            except (TimeoutError, aiohttp.ClientError, OSError) as failure:
                self.stats.requests[("get", POD_PORTFORWARD.plural, 0)] += 1
                self.stats.errors_by_code[0] += 1
                last = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
                wait = self.retry.backoff(attempt)
            else:
                self.stats.requests[("get", POD_PORTFORWARD.plural, 101)] += 1
                self.stats.last_success = time.monotonic()
                return stream
            self.stats.retries += 1
            await asyncio.sleep(min(wait, max(0.0, deadline - loop.time())))
            attempt += 1
        raise errors.ApiUnavailable(
            f"the Kubernetes API at {self.config.host} did not {_phrase('get', POD_PORTFORWARD, ns, pod)} (port "
            f"{port}) before the deadline; last failure: {last}",
            verb="get",
            resource=POD_PORTFORWARD.describe(),
            namespace=ns,
            name=pod,
        )

    def _port_forward_api(self) -> ApiClient:
        if self._configuration is None:
            raise RuntimeError("KubeClient used outside `async with`")
        if self._ws_api is None:
            from kubernetes_asyncio.stream import WsApiClient

            self._ws_api = WsApiClient(self._configuration)
        return self._ws_api

    async def _refusal(self, pod: str, port: int, ns: str, deadline: float, status: int, said: str) -> errors.ApiError:
        """Why the API refused the upgrade: a WebSocket handshake carries no body, so ask again without
        the upgrade, which the API refuses for the same reason (403, 404) but in its own words. When the
        second answer differs (400 "Upgrade request required" for an allowed request), the first status
        is what counts."""
        try:
            await self._call(
                "get",
                POD_PORTFORWARD,
                ns,
                pod,
                min(deadline, asyncio.get_running_loop().time() + 5),
                lambda api, t: api.connect_get_namespaced_pod_portforward(
                    pod, ns, ports=port, _preload_content=False, _request_timeout=t
                ),
            )
        except errors.ApiError as answered:
            if answered.status == status:
                return answered
        body = {"message": f"the WebSocket upgrade was refused ({said})"}
        return _error(status, body, "get", POD_PORTFORWARD, ns, pod, self.config)

    # --- the machinery ---

    async def _json(
        self,
        verb: str,
        res: Resource,
        ns: str | None,
        name: str | None,
        deadline: float | None,
        invoke: Callable[[Any, float], Awaitable[aiohttp.ClientResponse]],
    ) -> JSON:
        return await _read_json(await self._call(verb, res, ns, name, deadline, invoke))

    @staticmethod
    def _where(res: Resource, ns: str | None) -> tuple[str, ...]:
        """The namespace argument of a namespaced call; nothing for a cluster-scoped resource."""
        return (str(ns),) if res.namespaced else ()

    def _api_for(self, res: Resource, *, watch: bool = False) -> Any:
        client = self._watch_api if watch else self._api
        if client is None:
            raise RuntimeError("KubeClient used outside `async with`")
        api = self._apis.get((res.api_class, watch))
        if api is None:
            import kubernetes_asyncio.client as k

            api = self._apis[(res.api_class, watch)] = getattr(k, res.api_class)(client)
        return api

    async def _call(
        self,
        verb: str,
        res: Resource,
        ns: str | None,
        name: str | None,
        deadline: float | None,
        invoke: Callable[[Any, float], Awaitable[aiohttp.ClientResponse]],
        *,
        watch: bool = False,
    ) -> aiohttp.ClientResponse:
        """One call with retries; returns the (unread) 2xx response or raises what the API said."""
        import aiohttp

        loop = asyncio.get_running_loop()
        deadline = deadline if deadline is not None else loop.time() + self.retry.budget
        api = self._api_for(res, watch=watch)
        attempt = 0
        last = "no attempt made"
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise errors.ApiUnavailable(
                    f"the Kubernetes API at {self.config.host} did not {_phrase(verb, res, ns, name)} before the "
                    f"deadline; last failure: {last}",
                    verb=verb,
                    resource=res.describe(),
                    namespace=ns,
                    name=name,
                )
            timeout = min(self.retry.request_timeout, remaining)
            wait: float | None = None
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation (gh-86296)
                async with asyncio.timeout(timeout + 1.0):
                    response = await invoke(api, timeout)
            except aiohttp.ClientConnectorCertificateError as untrusted:
                self.stats.errors_by_code[0] += 1
                raise errors.TlsRefused(
                    f"the certificate of the Kubernetes API at {self.config.host} did not verify "
                    f"({untrusted.certificate_error}); arkouda-k8s always verifies it: give the CA that signed it "
                    f"(certificate-authority in the kubeconfig, CACERT_FILE, or the service account's ca.crt) and "
                    f"use a host name the certificate names",
                    verb=verb,
                    resource=res.describe(),
                    namespace=ns,
                    name=name,
                ) from None
            except (TimeoutError, aiohttp.ClientError, OSError) as failure:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Our caller's deadline (its own asyncio.timeout) came with this failure: not ours to retry.
                    raise asyncio.CancelledError from failure
                self.stats.errors_by_code[0] += 1
                self.stats.requests[(verb, res.plural, 0)] += 1
                last = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
                wait = self.retry.backoff(attempt)
            else:
                status = response.status
                self.stats.requests[(verb, res.plural, status)] += 1
                self._note_warnings(response)
                if 200 <= status < 300:
                    self.stats.last_success = time.monotonic()
                    return response
                body = await _read_json(response)
                self.stats.errors_by_code[status] += 1
                last = f"{status} {body.get('reason') or response.reason}: {body.get('message', '')}".strip()
                if status in _RETRYABLE:
                    wait = self.retry.backoff(attempt)
                elif status == 429:
                    wait = self.retry.retry_after(response.headers.get("Retry-After"), attempt)
                elif status == 401 and attempt < 3 and self._reload_token():
                    wait = self.retry.backoff(attempt) if attempt else 0.0
                else:
                    raise _error(status, body, verb, res, ns, name, self.config)
            if loop.time() + wait >= deadline:
                wait = max(0.0, deadline - loop.time())
            self.stats.retries += 1
            self._log.debug(
                "api_retry",
                verb=verb,
                resource=res.plural,
                namespace=ns,
                name=name,
                attempt=attempt + 1,
                wait_ms=round(wait * 1000),
                failure=last,
            )
            attempt += 1
            await asyncio.sleep(wait)

    def _reload_token(self) -> bool:
        """401: re-read the token file on the next request; False when there is no file to re-read."""
        if self.config.token_file is None or self._api is None:
            return False
        hook = self._api.configuration.refresh_api_key_hook
        if isinstance(hook, _TokenFileWatcher):
            hook.force()
        return True

    def _note_warnings(self, response: aiohttp.ClientResponse) -> None:
        for warning in response.headers.getall("Warning", []):
            if warning not in self._warned:
                self._warned.add(warning)
                self._log.warning("api_warning", warning=warning)


def _selectors(label_selector: str | None, field_selector: str | None) -> dict[str, str]:
    kwargs = {}
    if label_selector:
        kwargs["label_selector"] = label_selector
    if field_selector:
        kwargs["field_selector"] = field_selector
    return kwargs


async def _read_json(response: aiohttp.ClientResponse) -> JSON:
    try:
        raw = await response.read()
    finally:
        response.release()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return {"message": raw[:200].decode(errors="replace")}
    return body if isinstance(body, dict) else {"items": body}


def _phrase(verb: str, res: Resource, ns: str | None, name: str | None) -> str:
    what = f"{res.describe()}/{name}" if name else res.describe()
    where = f" in namespace {ns}" if ns else ""
    return f"{verb} {what}{where}"


def _error(
    status: int, body: JSON, verb: str, res: Resource, ns: str | None, name: str | None, config: ApiConfig
) -> errors.ApiError:
    reason = str(body.get("reason", ""))
    message = str(body.get("message", "")) or f"HTTP {status}"
    kw: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "verb": verb,
        "resource": res.describe(),
        "namespace": ns,
        "name": name,
        "body": body,
    }
    if status == 403:
        return errors.Forbidden(
            f"the Kubernetes API refused to let us {_phrase(verb, res, ns, name)} ({config.source}): {message}. "
            f"Grant '{verb}' on '{res.describe()}' in the Role bound to this service account "
            f"(check with: kubectl auth can-i {verb} {res.describe()} -n {ns or config.namespace})",
            **kw,
        )
    if status == 401:
        return errors.Unauthorized(
            f"the Kubernetes API did not accept our credentials ({config.source}) to "
            f"{_phrase(verb, res, ns, name)}: {message}",
            **kw,
        )
    if status == 404:
        return errors.NotFound(f"{_phrase(verb, res, ns, name)}: not found ({message})", **kw)
    if status == 409:
        cls = errors.AlreadyExists if reason == "AlreadyExists" else errors.Conflict
        return cls(f"{_phrase(verb, res, ns, name)}: {message}", **kw)
    if status == 410:
        return errors.Expired(f"{_phrase(verb, res, ns, name)}: {message}", **kw)
    if status == 422:
        return errors.Invalid(f"{_phrase(verb, res, ns, name)}: {message}", **kw)
    return errors.ApiError(f"{_phrase(verb, res, ns, name)}: HTTP {status} {reason}: {message}", **kw)
