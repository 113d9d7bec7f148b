"""Watch streams: JSON lines of {"type", "object"} from a resourceVersion, as kube-apiserver sends them.

- resourceVersion "" or "0": the current objects as ADDED, then changes;
- resourceVersion N: every change after N, then live changes; N older than the kept history (see
  `Store.compact`) answers HTTP 200 and one ERROR event (Status 410 Expired), then ends;
- label/field selectors filter the stream; an object that stops matching arrives as DELETED, one that
  starts matching as ADDED (the watch cache's rule);
- timeoutSeconds ends the stream; allowWatchBookmarks adds BOOKMARK events every `bookmark_interval`
  (kube-apiserver's bookmark frequency is one minute), carrying kind, apiVersion and the resourceVersion.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from arkouda_k8s.testing.kube import tables
from arkouda_k8s.testing.kube.faults import Faults
from arkouda_k8s.testing.kube.resources import ResourceType
from arkouda_k8s.testing.kube.status import bad_request, expired, go_quote
from arkouda_k8s.testing.kube.store import Event, Store

JSON = dict[str, Any]
MIN_REQUEST_TIMEOUT = 1800.0  # kube-apiserver --min-request-timeout: watches without timeoutSeconds end after 30-60 min


@dataclass
class WatchRequest:
    rt: ResourceType
    store_key: tuple[str, str]
    namespace: str | None
    visible: Callable[[JSON], bool]  # label + field selector
    resource_version: str
    timeout: float | None
    bookmarks: bool
    as_table: bool = False  # `kubectl get -w`: each object is sent as a one-row meta.k8s.io/v1 Table


def _transform(event: Event, visible: Callable[[JSON], bool], namespace: str | None) -> tuple[str, JSON] | None:
    def matches(obj: JSON | None) -> bool:
        if obj is None:
            return False
        if namespace is not None and event.key[0] != namespace:
            return False
        return visible(obj)

    if event.type == "DELETED":
        return ("DELETED", event.object) if matches(event.previous) else None
    now_ok, before_ok = matches(event.object), matches(event.previous)
    if event.type == "ADDED":
        return ("ADDED", event.object) if now_ok else None
    if now_ok and before_ok:
        return ("MODIFIED", event.object)
    if now_ok:
        return ("ADDED", event.object)
    if before_ok and event.previous is not None:
        gone = {**event.previous, "metadata": {**event.previous["metadata"], "resourceVersion": str(event.rv)}}
        return ("DELETED", gone)
    return None


def _shown(watch: WatchRequest, obj: JSON) -> JSON:
    return tables.to_table(watch.rt, obj) if watch.as_table else obj


def _line(kind: str, obj: JSON) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


async def serve(
    request: web.Request,
    store: Store,
    faults: Faults,
    watch: WatchRequest,
    bookmark_interval: float,
    headers: dict[str, str],
) -> web.StreamResponse:
    initial: list[tuple[str, JSON]] = []
    too_old: str | None = None
    rv_text = watch.resource_version
    if rv_text in ("", "0"):
        for _, obj in store.items(watch.store_key, watch.namespace):
            if watch.visible(obj):
                initial.append(("ADDED", obj))
    else:
        try:
            since = int(rv_text)
        except ValueError:
            raise bad_request(
                f"resourceVersion: Invalid value: {go_quote(rv_text)}: strconv.ParseUint: parsing {go_quote(rv_text)}: "
                "invalid syntax"
            ) from None
        events = store.events_since(watch.store_key, since)
        if events is None:
            too_old = f"too old resource version: {since} ({store.compacted_rv})"
        else:
            for past in events:
                shown = _transform(past, watch.visible, watch.namespace)
                if shown is not None:
                    initial.append(shown)
    sub = store.subscribe(watch.store_key)  # same tick as the snapshot above: no event can slip between
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json", **headers})
    response.enable_chunked_encoding()
    loop = asyncio.get_running_loop()
    timeout = watch.timeout if watch.timeout else MIN_REQUEST_TIMEOUT * (1 + random.random())
    deadline = loop.time() + timeout
    try:
        await response.prepare(request)
        if too_old is not None:
            await response.write(_line("ERROR", expired(too_old).body()))
            return response
        for kind, obj in initial:
            await response.write(_line(kind, _shown(watch, obj)))
        next_bookmark = loop.time() + bookmark_interval if watch.bookmarks else None
        while True:
            now = loop.time()
            if now >= deadline:
                break
            if next_bookmark is not None and now >= next_bookmark:
                bookmark = {
                    "kind": watch.rt.kind,
                    "apiVersion": watch.rt.api_version,
                    "metadata": {"resourceVersion": str(store.rv)},
                }
                await response.write(_line("BOOKMARK", bookmark))
                next_bookmark = now + bookmark_interval
                continue
            wake = deadline if next_bookmark is None else min(deadline, next_bookmark)
            try:
                event: Event | None = await asyncio.wait_for(sub.queue.get(), wake - now)
            except TimeoutError:
                continue
            if event is None:
                break  # end_watches(): the server closes the stream
            await faults.wait_partition()
            shown = _transform(event, watch.visible, watch.namespace)
            if shown is not None:
                await response.write(_line(shown[0], _shown(watch, shown[1])))
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away
    finally:
        store.unsubscribe(sub)
    return response
