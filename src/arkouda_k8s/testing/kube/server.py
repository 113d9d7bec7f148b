"""The HTTP face: kube-apiserver's URL scheme, handler chain and error bodies, on aiohttp.

Chain, in the real server's order: (faults) → authentication (401) → request info → authorization
(403) → resource lookup (404) → verb check (405) → body decoding (400/415) → the registry
(`api.py`). Every request is recorded in `request_log` with the identity and the Kubernetes verb.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import yaml
from aiohttp import web

from arkouda_k8s import logs
from arkouda_k8s.testing.kube import discovery, openapi, portforward, protobuf, scale, status, tables, watch
from arkouda_k8s.testing.kube.api import PATCH_TYPES, Api, WriteOptions
from arkouda_k8s.testing.kube.auth import ANONYMOUS, Authenticator, Identity
from arkouda_k8s.testing.kube.faults import Faults
from arkouda_k8s.testing.kube.rbac import Attributes, Authorizer, forbidden_error
from arkouda_k8s.testing.kube.resources import ResourceType
from arkouda_k8s.testing.kube.reviews import review
from arkouda_k8s.testing.kube.status import ApiError

JSON = dict[str, Any]
ENDPOINTS_WARNING = '299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"'
BODY_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
PATCH_ACCEPTED = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]
_VERB_BY_METHOD = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it: who, which Kubernetes verb on what, and the answer."""

    user: str
    groups: tuple[str, ...]
    verb: str
    api_group: str
    api_version: str
    resource: str
    subresource: str
    namespace: str
    name: str
    status: int
    time: float
    method: str
    path: str

    @property
    def identity(self) -> str:
        return self.user


def request_attributes(method: str, path: str, query: Any) -> Attributes:
    """RequestInfoFactory.NewRequestInfo: the verb, group, resource, namespace and name of a request."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    plain_verb = _VERB_BY_METHOD.get(method, "")
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return Attributes(plain_verb or method.lower(), False, path=path)
    prefix, rest = parts[0], parts[1:]
    group = ""
    if prefix == "apis":
        if len(rest) < 3:
            return Attributes(plain_verb or method.lower(), False, path=path)
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = plain_verb
    if rest and rest[0] in ("watch", "proxy"):
        if len(rest) < 2:
            raise status.page_not_found()
        verb, rest = rest[0], rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb != "proxy" else ""
    if not name and verb == "get":
        watching = (query.get("watch") or "").lower() not in ("", "false", "0")
        verb = "watch" if watching else "list"
        selector = query.get("fieldSelector") or ""
        for term in selector.split(","):
            if term.startswith("metadata.name=") and "!" not in term:
                name = term.split("=", 1)[1].lstrip("=")
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(verb, True, group, version, resource, subresource, namespace, name, path)


def json_response(code: int, body: JSON, headers: dict[str, str] | None = None) -> web.Response:
    payload = json.dumps(body, separators=(",", ":")).encode() + b"\n"
    return web.Response(status=code, body=payload, headers={"Content-Type": "application/json", **(headers or {})})


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    return json_response(error.code, error.body(), {**error.headers, **(headers or {})})


class ApiServer:
    def __init__(
        self,
        api: Api,
        authn: Authenticator,
        authz: Authorizer,
        faults: Faults,
        *,
        server_address: Callable[[], str],
        bookmark_interval: float = 60.0,
    ) -> None:
        self.api = api
        self.authn = authn
        self.authz = authz
        self.faults = faults
        self.server_address = server_address
        self.bookmark_interval = bookmark_interval
        self.request_log: list[RequestRecord] = []
        self._log = logs.get_logger("kube-emulator")

    def application(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        identity: Identity | None = None
        attrs = Attributes(request.method.lower(), False, path=request.path)
        code = 0
        try:
            await self.faults.wait_partition()
            attrs = request_attributes(request.method, request.path, request.query)
            delay = self.faults.latency_for(attrs)
            if delay:
                await asyncio.sleep(delay)
            if self.faults.take_reset(attrs):
                _reset(request)
                code = 0
                raise _ConnectionReset
            identity = self.authn.authenticate(request.headers.get("Authorization"))
            if identity is None:
                raise status.unauthorized()
            if identity is ANONYMOUS:
                identity = _certificate_identity(request) or identity
            identity = self._impersonate(request, identity)
            self._injected(attrs, identity)
            allowed, reason = self.authz.authorize(identity, attrs)
            if not allowed:
                raise forbidden_error(identity, attrs, reason)
            response = await self._dispatch(request, attrs, identity)
        except _ConnectionReset:
            response = web.Response(status=499)
        except ApiError as error:
            response = error_response(error, _warnings(attrs))
        except (asyncio.CancelledError, ConnectionError):
            # The client went away mid-request: a watch it closed is the usual case. It was still made
            # (and authorized), so it is in the log — as 200 for a watch that was streaming, else 499.
            streaming = identity is not None and attrs.verb == "watch"
            self._record(request, attrs, identity, 200 if streaming else 499)
            raise
        except Exception as bug:  # a bug of the emulator: answer like a server that panicked, and say so
            self._log.exception("kube_emulator_internal_error", path=request.path, method=request.method)
            response = error_response(status.internal_error(f"emulator: {type(bug).__name__}: {bug}"))
        code = response.status if code == 0 and response.status != 499 else code
        self._record(request, attrs, identity, code)
        return response

    def _record(self, request: web.Request, attrs: Attributes, identity: Identity | None, code: int) -> None:
        self.request_log.append(
            RequestRecord(
                identity.user if identity else "",
                identity.groups if identity else (),
                attrs.verb,
                attrs.api_group,
                attrs.api_version,
                attrs.resource,
                attrs.subresource,
                attrs.namespace,
                attrs.name,
                code,
                time.time(),
                request.method,
                request.path_qs,
            )
        )

    def _impersonate(self, request: web.Request, identity: Identity) -> Identity:
        """Impersonate-User / -Group / -Uid headers (kubectl --as), allowed by the `impersonate` verb."""
        user = request.headers.get("Impersonate-User")
        groups = request.headers.getall("Impersonate-Group", [])
        if not user:
            if groups:
                raise status.internal_error("requested impersonation without a user")
            return identity
        checks: list[Attributes] = []
        default_groups: tuple[str, ...]
        if user.startswith("system:serviceaccount:") and user.count(":") == 3:
            _, _, namespace, name = user.split(":")
            checks.append(Attributes("impersonate", True, "", "v1", "serviceaccounts", "", namespace, name))
            default_groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
        else:
            checks.append(Attributes("impersonate", True, "", "v1", "users", "", "", user))
            default_groups = ()
        checks += [Attributes("impersonate", True, "", "v1", "groups", "", "", g) for g in groups]
        for check in checks:
            allowed, reason = self.authz.authorize(identity, check)
            if not allowed:
                raise forbidden_error(identity, check, reason)
        every = (*groups, *default_groups)
        if user != "system:anonymous" and "system:authenticated" not in every:
            every = (*every, "system:authenticated")
        return Identity(user, tuple(every), request.headers.get("Impersonate-Uid", ""))

    def _injected(self, attrs: Attributes, identity: Identity) -> None:
        failure = self.faults.take_failure(attrs)
        if failure is None:
            return
        gr = status.GroupResource(attrs.api_group, attrs.resource)
        code = failure.status
        if code == 401:
            raise status.unauthorized()
        if code == 403:
            raise forbidden_error(identity, attrs, failure.message or "")
        if code == 404:
            raise status.not_found(gr, attrs.name)
        if code == 409:
            raise status.conflict(gr, attrs.name, failure.message or status.STALE_OBJECT)
        if code == 410:
            raise status.expired(failure.message or "too old resource version")
        if code == 429:
            raise status.too_many_requests(failure.retry_after or 1)
        if code == 500:
            raise status.internal_error(failure.message or "injected fault")
        if code == 503:
            error = status.service_unavailable(
                failure.message or "the server is currently unable to handle the request"
            )
            if failure.retry_after:
                error.headers["Retry-After"] = str(failure.retry_after)
            raise error
        if code == 504:
            raise status.timeout(failure.message or "request did not complete within the allowed duration")
        raise ApiError(code, "InternalError", failure.message or f"injected fault {code}")

    # --- dispatch ---

    async def _dispatch(self, request: web.Request, attrs: Attributes, identity: Identity) -> web.StreamResponse:
        if not attrs.resource_request:
            return self._non_resource(request)
        rt = self.api.registry.lookup(attrs.api_group, attrs.api_version, attrs.resource)
        if rt is None or (attrs.namespace and not rt.namespaced and attrs.resource != "namespaces"):
            raise status.page_not_found()
        if rt.name == "namespaces":
            namespace = ""
            name = attrs.name or (attrs.namespace if attrs.resource == "namespaces" and attrs.namespace else "")
        else:
            namespace, name = attrs.namespace, attrs.name
        if rt.namespaced and not namespace and name and attrs.verb not in ("list", "watch"):
            raise status.page_not_found()
        headers = _warnings(attrs)
        sub = rt.subresource(attrs.subresource) if attrs.subresource else None
        if attrs.subresource and sub is None:
            raise status.page_not_found()
        verbs = sub.verbs if sub else rt.verbs
        if attrs.verb not in verbs or (request.method == "POST" and name and not sub):
            raise status.method_not_allowed()
        if attrs.verb in ("update", "patch") and not name:
            raise status.method_not_allowed()  # PUT/PATCH on a collection: no such route
        if sub is not None and sub.name == "portforward":
            return await portforward.serve(request, portforward.target(request, self.api, rt, namespace, name))
        if sub is not None and sub.name == "scale":
            return await self._scale(request, rt, attrs.verb, namespace, name, headers)
        if not rt.stored or (sub is not None and not sub.stored and sub.name != "status"):
            if attrs.verb == "create":
                body = await self._body(request, BODY_TYPES, sub.kind if sub else rt.kind)
                return json_response(201, review(self, rt, identity, namespace, name, attrs.subresource, body), headers)
            if attrs.verb == "list":
                return json_response(
                    200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": {}, "items": []}, headers
                )
            raise status.method_not_allowed()
        query = request.query
        opts = self._write_options(request, attrs.subresource, identity)
        if attrs.verb in ("list", "watch"):
            ns = namespace if rt.namespaced and namespace else None
            q = self.api.parse_list_query(rt, dict(query))
            if attrs.verb == "watch" or _truthy(query.get("watch")):
                return await watch.serve(
                    request,
                    self.api.store,
                    self.faults,
                    watch.WatchRequest(
                        rt,
                        self.api.key(rt),
                        ns,
                        lambda obj: self.api.matches(rt, obj, q),
                        query.get("resourceVersion") or "",
                        _timeout(query.get("timeoutSeconds")),
                        _truthy(query.get("allowWatchBookmarks")),
                        tables.wants_table(request.headers.get("Accept", "")),
                    ),
                    self.bookmark_interval,
                    headers,
                )
            listed = self.api.list(rt, ns, q)
            return self._object_response(request, rt, 200, listed, headers)
        if attrs.verb == "get":
            if attrs.subresource and sub is not None and sub.name == "status":
                return self._object_response(request, rt, 200, self.api.get(rt, namespace, name), headers)
            if _truthy(query.get("watch")):
                raise status.method_not_allowed()
            return self._object_response(request, rt, 200, self.api.get(rt, namespace, name), headers)
        if attrs.verb == "create":
            body = await self._body(request, BODY_TYPES, rt.kind)
            created = self.api.create(rt, namespace, body, opts)
            return self._object_response(request, rt, 201, created, _merged(headers, opts.warnings))
        if attrs.verb == "update":
            body = await self._body(request, BODY_TYPES, rt.kind)
            code, updated = self.api.update(rt, namespace, name, body, opts)
            return self._object_response(request, rt, code, updated, _merged(headers, opts.warnings))
        if attrs.verb == "patch":
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type not in PATCH_TYPES or content_type == "application/apply-patch+cbor":
                raise status.unsupported_media_type(content_type, PATCH_ACCEPTED)
            patch_type = PATCH_TYPES[content_type]
            self._check_patch_options(patch_type, request)
            raw = await request.read()
            body = _decode_patch(raw, patch_type)
            code, patched = self.api.patch(rt, namespace, name, patch_type, body, opts)
            return self._object_response(request, rt, code, patched, _merged(headers, opts.warnings))
        if attrs.verb in ("delete", "deletecollection"):
            options = await self._delete_options(request)
            if attrs.verb == "delete":
                result = self.api.delete(rt, namespace, name, options, dry_run=opts.dry_run)
                return json_response(200, result, headers)
            ns = namespace if rt.namespaced and namespace else None
            q = self.api.parse_list_query(rt, dict(query))
            return json_response(200, self.api.delete_collection(rt, ns, q, options), headers)
        raise status.method_not_allowed()

    async def _scale(
        self, request: web.Request, rt: ResourceType, verb: str, namespace: str, name: str, headers: dict[str, str]
    ) -> web.Response:
        if verb == "get":
            return json_response(200, scale.to_scale(self.api.get(rt, namespace, name)), headers)
        patch_type = ""
        if verb == "patch":
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type not in PATCH_TYPES or PATCH_TYPES[content_type] == "apply":
                raise status.unsupported_media_type(content_type, PATCH_ACCEPTED)
            patch_type = PATCH_TYPES[content_type]
            body = _decode_patch(await request.read(), patch_type)
        else:
            body = await self._body(request, BODY_TYPES, "Scale")
        opts = self._write_options(request, "")
        return json_response(200, scale.write(self.api, rt, namespace, name, verb, patch_type, body, opts), headers)

    def _object_response(
        self, request: web.Request, rt: ResourceType, code: int, body: JSON, headers: dict[str, str]
    ) -> web.Response:
        if tables.wants_table(request.headers.get("Accept", "")):
            return json_response(code, tables.to_table(rt, body), headers)
        return json_response(code, body, headers)

    def _write_options(self, request: web.Request, subresource: str, identity: Identity | None = None) -> WriteOptions:
        query = request.query
        manager = query.get("fieldManager") or ""
        explicit = bool(manager)
        if not manager:
            agent = request.headers.get("User-Agent", "").split("/")[0]
            manager = "".join(ch for ch in agent if ch.isprintable())[:128] or "unknown"
        dry_run = query.getall("dryRun", [])
        for value in dry_run:
            if value != "All":
                errs = status.FieldErrors()
                errs.not_supported("dryRun", value, ["All"])
                raise status.invalid(status.GroupKind("meta.k8s.io", "CreateOptions"), "", errs)
        validation = query.get("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            errs = status.FieldErrors()
            errs.not_supported("fieldValidation", validation, ["Ignore", "Strict", "Warn"])
            raise status.invalid(status.GroupKind("meta.k8s.io", "CreateOptions"), "", errs)
        return WriteOptions(
            manager, bool(dry_run), subresource, _truthy(query.get("force")), explicit, validation, identity=identity
        )

    def _check_patch_options(self, patch_type: str, request: web.Request) -> None:
        errs = status.FieldErrors()
        if patch_type != "apply" and "force" in request.query:
            errs.forbidden("force", "may not be specified for non-apply patch")
        if errs:
            raise status.invalid(status.GroupKind("meta.k8s.io", "PatchOptions"), "", errs)

    async def _body(self, request: web.Request, accepted: list[str], kind: str) -> Any:
        content_type = (request.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if content_type == "application/vnd.kubernetes.protobuf":
            try:
                return protobuf.decode(await request.read())
            except protobuf.ProtobufError as unreadable:
                raise ApiError(415, "UnsupportedMediaType", str(unreadable)) from None
        if content_type not in ("application/json", "application/yaml", "text/yaml", "application/x-yaml"):
            raise status.unsupported_media_type(content_type, accepted)
        raw = await request.read()
        try:
            if content_type == "application/json":
                return json.loads(raw) if raw.strip() else None
            return yaml.safe_load(raw)
        except (ValueError, yaml.YAMLError) as bad:
            summary = raw[:30].decode(errors="replace") + ("..." if len(raw) > 30 else "")
            raise status.bad_request(
                f"the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse "
                f"error: {_go_json_error(bad)} ({summary})"
            ) from None

    async def _delete_options(self, request: web.Request) -> JSON:
        options: JSON = {}
        raw = await request.read()
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type == "application/vnd.kubernetes.protobuf":
            # client-go's typed clients (helm uninstall) send DeleteOptions in protobuf; what we cannot decode
            # is taken as the default options (the query's, below) — a documented simplification.
            try:
                decoded = protobuf.decode(raw) if raw.strip() else None
            except protobuf.ProtobufError:
                decoded = None
            if isinstance(decoded, dict):
                options.update({k: v for k, v in decoded.items() if k not in ("kind", "apiVersion")})
        elif raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError as bad:
                raise status.bad_request(f"json: {bad}") from None
            if isinstance(parsed, dict):
                options.update(parsed)
        query = request.query
        if "gracePeriodSeconds" in query:
            try:
                options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
            except ValueError:
                raise status.bad_request("gracePeriodSeconds: invalid value") from None
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "orphanDependents" in query:
            options["orphanDependents"] = _truthy(query["orphanDependents"])
        policy = options.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            errs = status.FieldErrors()
            errs.not_supported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])
            raise status.invalid(status.GroupKind("meta.k8s.io", "DeleteOptions"), "", errs)
        return options

    def _non_resource(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        if request.method not in ("GET", "HEAD"):
            raise status.method_not_allowed()
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
            return web.Response(status=200, text="ok", content_type="text/plain")
        if path == "/version":
            return json_response(200, discovery.VERSION)
        if path == "/api":
            return json_response(200, discovery.api_versions(self.server_address()))
        if path == "/apis":
            return json_response(200, discovery.group_list())
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.resource_list(self.api.registry, "", parts[1])
            if doc is not None:
                return json_response(200, doc)
        if parts[0] == "apis" and len(parts) == 2:
            group = discovery.group(parts[1])
            if group is not None:
                return json_response(200, group)
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.resource_list(self.api.registry, parts[1], parts[2])
            if doc is not None:
                return json_response(200, doc)
        if parts[0] == "openapi":
            found = openapi.document(self.api.registry, parts[1:])
            if found is not None:
                return json_response(200, found)
        raise status.page_not_found()


class _ConnectionReset(Exception):
    """A fault closed the connection: there is nothing to answer."""


def _reset(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.abort()


def _warnings(attrs: Attributes) -> dict[str, str]:
    if attrs.resource_request and attrs.api_group == "" and attrs.resource == "endpoints":
        return {"Warning": ENDPOINTS_WARNING}
    return {}


def _merged(headers: dict[str, str], warnings: list[str]) -> dict[str, str]:
    """Warning headers, combined the way client-go parses them (comma-separated warn-values)."""
    every = [headers["Warning"]] if "Warning" in headers else []
    every += warnings
    return {**headers, "Warning": ", ".join(every)} if every else headers


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _timeout(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(int(value))
    except ValueError:
        raise status.bad_request(f'timeoutSeconds: strconv.ParseInt: parsing "{value}": invalid syntax') from None


def _decode_patch(raw: bytes, patch_type: str) -> Any:
    try:
        if patch_type == "apply":
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as bad:
        raise status.bad_request(f"error decoding patch: {_go_json_error(bad)}") from None


def _go_json_error(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"invalid character at offset {error.pos}: {error.msg}"
    return str(error).splitlines()[0]


def new_audit_id() -> str:
    return str(uuid.uuid4())


def _certificate_identity(request: web.Request) -> Identity | None:
    """The user of a verified client certificate (CN = user, O = groups), as kube-apiserver reads it."""
    transport = request.transport
    peer = transport.get_extra_info("peercert") if transport is not None else None
    if not peer:
        return None
    fields = [item for rdn in peer.get("subject", ()) for item in rdn]
    users = [value for key, value in fields if key == "commonName"]
    if not users:
        return None
    groups = tuple(value for key, value in fields if key == "organizationName")
    return Identity(users[0], (*groups, "system:authenticated"))
