"""List, then watch from the list's resourceVersion: an always-current view of a set of objects.

`list_and_watch` yields after the first list (type "SYNCED") and after every change, each time
with the whole current set, so a caller only has to ask "is what I wait for true now?". It never
hangs silently and never misses a change:

- the watch asks the server to end it after `timeout_seconds`, and a client read timeout a little
  longer catches a server that stops answering (the inactivity watchdog); both re-watch from the
  last resourceVersion seen (bookmarks included);
- 410 Gone, as an HTTP status or as the 200-then-ERROR-event form a real API server sends for a
  compacted resourceVersion, re-lists and yields "SYNCED" with the fresh set;
- connection failures back off and retry through the client's policy, bounded by the caller's
  deadline (enforce it with asyncio.timeout around the loop).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from arkouda_k8s.kube.client import JSON, KubeClient
from arkouda_k8s.kube.errors import Expired
from arkouda_k8s.kube.resources import Resource


@dataclass(frozen=True)
class WatchEvent:
    type: str  # SYNCED (a full list), ADDED, MODIFIED, DELETED
    object: JSON | None  # the changed object (None for SYNCED)
    objects: Mapping[str, JSON]  # every object now, by name: a live read-only view, not a copy


async def list_and_watch(
    kube: KubeClient,
    res: Resource,
    namespace: str | None = None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int = 240,
    deadline: float | None = None,
) -> AsyncGenerator[WatchEvent, None]:
    """Yield the current set of objects after the list and after every change, forever — or, with a
    `deadline` (loop time), until then: ApiUnavailable once it has passed. Pass the deadline, do not only
    cancel: a cancellation that meets a request's own timeout can be lost (the request is then retried)."""
    objects: dict[str, JSON] = {}
    view = MappingProxyType(objects)
    resource_version = ""
    need_list = True
    quick_ends = 0  # watches that ended at once with nothing in them: back off, do not spin
    loop = asyncio.get_running_loop()
    while True:
        if need_list:
            listed = await kube.list(
                res, namespace, label_selector=label_selector, field_selector=field_selector, deadline=deadline
            )
            objects = {o["metadata"]["name"]: o for o in listed.items}
            view = MappingProxyType(objects)  # no copy per event: a thousand pods make a thousand events
            resource_version = listed.resource_version
            need_list = False
            yield WatchEvent("SYNCED", None, view)
        started, seen = loop.time(), 0
        try:
            watch_for = timeout_seconds
            if deadline is not None:
                watch_for = max(1, min(timeout_seconds, math.ceil(deadline - loop.time())))
            async for kind, obj in _watch_once(
                kube, res, namespace, resource_version, watch_for, label_selector, field_selector, deadline
            ):
                seen += 1
                resource_version = str(obj.get("metadata", {}).get("resourceVersion") or resource_version)
                if kind == "BOOKMARK":
                    continue
                name = obj["metadata"]["name"]
                if kind == "DELETED":
                    objects.pop(name, None)
                else:
                    objects[name] = obj
                yield WatchEvent(kind, obj, view)
        except Expired:
            need_list = True
            continue
        if seen == 0 and loop.time() - started < 1.0:
            await asyncio.sleep(kube.retry.backoff(quick_ends))
            quick_ends += 1
        else:
            quick_ends = 0


async def _watch_once(
    kube: KubeClient,
    res: Resource,
    namespace: str | None,
    resource_version: str,
    timeout_seconds: int,
    label_selector: str | None,
    field_selector: str | None,
    deadline: float | None = None,
) -> AsyncIterator[tuple[str, JSON]]:
    """One watch request, until the server ends it (or stops answering): (type, object) pairs."""
    import aiohttp

    response = await kube.open_watch(
        res,
        namespace,
        resource_version=resource_version,
        timeout_seconds=timeout_seconds,
        label_selector=label_selector,
        field_selector=field_selector,
        deadline=deadline,
    )
    idle_limit = timeout_seconds + kube.retry.request_timeout
    try:
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that meets
                # a completed read (gh-86296), and a cancelled watch would deliver one more event.
                async with asyncio.timeout(idle_limit):
                    line = await response.content.readline()
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                return  # watchdog or a dropped stream: the caller re-watches from the last version
            if not line:
                return  # the server ended the watch (timeoutSeconds)
            kube.stats.last_success = time.monotonic()  # a live watch (bookmarks too) is a sync with the API
            event = _parse(line)
            if event is None:
                continue
            kind, obj = event
            if kind == "ERROR":
                code = obj.get("code")
                if code == 410:
                    raise Expired(
                        str(obj.get("message", "too old resource version")),
                        status=410,
                        reason=str(obj.get("reason", "Expired")),
                        verb="watch",
                        resource=res.describe(),
                        namespace=namespace,
                        body=obj,
                    )
                return  # another error event ends this watch; re-watch (and back off through the client)
            yield kind, obj
    finally:
        response.release()


def _parse(line: bytes) -> tuple[str, JSON] | None:
    try:
        event: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
        return None
    return str(event.get("type", "")), event["object"]
