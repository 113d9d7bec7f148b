"""Finding the locale pods: exactly N−1 of them Running, Ready, with an IP and not terminating.

List with the server-side label selector, then watch from the list's resourceVersion (no polling,
no DNS): the moment the last locale turns Ready the server can launch. The deadline's error names
every missing pod and why (its phase and waiting reason). Sorted by pod name, so the locale order
is the same on every start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode
from arkouda_k8s.kube import PODS, ApiUnavailable, KubeClient, WatchEvent, list_and_watch

JSON = dict[str, Any]


class LocalesNotReady(ArkoudaK8sError):
    exit_code = ExitCode.LOCALES_NOT_READY


class LocaleLost(ArkoudaK8sError):
    exit_code = ExitCode.LOCALE_LOST


@dataclass(frozen=True)
class Locale:
    name: str
    ip: str
    uid: str


def is_ready(pod: JSON) -> bool:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp") or status.get("phase") != "Running" or not status.get("podIP"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def why_not_ready(pod: JSON) -> str:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "terminating"
    phase = status.get("phase") or "Pending"
    reasons = []
    for c in status.get("containerStatuses") or []:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            reasons.append(str(waiting["reason"]))
    for c in status.get("conditions") or []:
        if c.get("status") == "False" and c.get("reason"):
            reasons.append(str(c["reason"]))
    if phase == "Running" and not status.get("podIP"):
        reasons.append("no podIP yet")
    if phase == "Running" and not reasons:
        reasons.append("not Ready")
    return phase + (f" ({', '.join(dict.fromkeys(reasons))})" if reasons else "")


def ready_locales(pods: Mapping[str, JSON]) -> list[Locale]:
    return sorted((_locale(p) for p in pods.values() if is_ready(p)), key=lambda loc: loc.name)


def _locale(pod: JSON) -> Locale:
    return Locale(pod["metadata"]["name"], pod["status"]["podIP"], pod["metadata"].get("uid", ""))


def diagnose(pods: Mapping[str, JSON], expected: int, selector: str, namespace: str) -> str:
    ready = ready_locales(pods)
    parts = [f"{len(ready)} of {expected} locale pods ready (selector {selector!r} in namespace {namespace})"]
    waiting = [f"{name}: {why_not_ready(pod)}" for name, pod in sorted(pods.items()) if not is_ready(pod)]
    parts += waiting
    if len(pods) < expected:
        parts.append(
            f"{expected - len(pods)} pod(s) do not exist yet (is the locale chart installed, with "
            f"numLocales-1 = {expected} replicas?)"
        )
    if len(ready) > expected:
        parts.append(
            f"more ready pods than expected: {', '.join(loc.name for loc in ready)}; does the selector "
            "match another release's locales?"
        )
    return "; ".join(parts)


class LocaleWatch:
    """Waits for the locales, then keeps watching them so a lost one is noticed at once."""

    def __init__(self, kube: KubeClient, namespace: str, selector: str, expected: int) -> None:
        self.kube = kube
        self.namespace = namespace
        self.selector = selector
        self.expected = expected
        self.pods: Mapping[str, JSON] = {}
        self._events: AsyncGenerator[WatchEvent, None] | None = None
        self.log = logs.get_logger("entrypoint", namespace=namespace)

    async def wait_ready(self, timeout: float) -> list[Locale]:
        """The ready locales, as soon as exactly `expected` are; LocalesNotReady at the deadline."""
        if self.expected == 0:
            return []
        # The deadline goes down to the API calls too: a cancellation alone can be lost when it meets a
        # request's own timeout (the request is then retried, past our deadline).
        deadline = asyncio.get_running_loop().time() + timeout
        self._events = list_and_watch(self.kube, PODS, self.namespace, label_selector=self.selector, deadline=deadline)
        ready: dict[str, Locale] = {}  # kept per event: a thousand pods cost a thousand checks, not a million
        try:
            async with asyncio.timeout_at(deadline):
                async for event in self._events:
                    self.pods = event.objects
                    if event.type == "SYNCED":
                        ready = {loc.name: loc for loc in ready_locales(event.objects)}
                    elif event.object is not None:
                        name = event.object["metadata"]["name"]
                        if event.type != "DELETED" and is_ready(event.object):
                            ready[name] = _locale(event.object)
                        else:
                            ready.pop(name, None)
                    if len(ready) == self.expected:
                        return sorted(ready.values(), key=lambda loc: loc.name)
                    self.log.debug("waiting_for_locales", ready=len(ready), expected=self.expected)
        except TimeoutError:
            pass
        except ApiUnavailable as silent:
            raise LocalesNotReady(
                f"locale pods not ready after {timeout:g} s: the Kubernetes API did not answer ({silent}); "
                f"{diagnose(self.pods, self.expected, self.selector, self.namespace)}"
            ) from None
        finally:
            await self.close()
        raise LocalesNotReady(
            f"locale pods not ready after {timeout:g} s: "
            f"{diagnose(self.pods, self.expected, self.selector, self.namespace)}; "
            f"more: kubectl get pods -n {self.namespace} -l {self.selector}"
        )

    async def lost(self, launched: list[Locale]) -> Locale:
        """Return the first of the launched locales that goes away (deleted, terminating, failed, new IP)."""
        by_name = {loc.name: loc for loc in launched}
        self._events = list_and_watch(self.kube, PODS, self.namespace, label_selector=self.selector)
        async for event in self._events:
            gone = self._first_gone(event, by_name)
            if gone is not None:
                return gone
        raise AssertionError("the pod watch never ends")

    def _first_gone(self, event: WatchEvent, by_name: Mapping[str, Locale]) -> Locale | None:
        for name, loc in by_name.items():
            pod = event.objects.get(name)
            if pod is None:
                return loc
            meta, status = pod.get("metadata") or {}, pod.get("status") or {}
            if meta.get("uid") and loc.uid and meta["uid"] != loc.uid:
                return loc  # replaced by a new pod of the same name: not the process we spawned onto
            if (
                meta.get("deletionTimestamp")
                or status.get("phase") in ("Failed", "Succeeded")
                or status.get("podIP") != loc.ip
            ):
                return loc
        return None

    async def close(self) -> None:
        if self._events is not None:
            events, self._events = self._events, None
            await events.aclose()
