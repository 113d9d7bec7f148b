"""Which locale pods count, in which order, and what the deadline error says about the others."""

from __future__ import annotations

from typing import Any

from arkouda_k8s.entrypoints.locales import diagnose, is_ready, ready_locales


def pod(
    name: str,
    phase: str = "Running",
    ip: str | None = "198.51.100.1",
    ready: bool = True,
    deleting: bool = False,
    waiting: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"uid-{name}"}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-28T00:00:00Z"
    status: dict[str, Any] = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    if waiting:
        status["containerStatuses"] = [{"state": {"waiting": {"reason": waiting}}}]
    return {"metadata": meta, "status": status}


def test_only_running_ready_with_ip_and_not_terminating_count() -> None:
    assert is_ready(pod("a"))
    assert not is_ready(pod("a", phase="Pending"))
    assert not is_ready(pod("a", ip=None))
    assert not is_ready(pod("a", ready=False))
    assert not is_ready(pod("a", deleting=True))


def test_sorted_by_pod_name_not_by_list_order() -> None:
    pods = {n: pod(n, ip=f"10.1.0.{i}") for i, n in enumerate(["loc-2", "loc-0", "loc-1"])}
    assert [loc.name for loc in ready_locales(pods)] == ["loc-0", "loc-1", "loc-2"]


def test_diagnostic_names_each_missing_pod_and_why() -> None:
    pods = {"loc-0": pod("loc-0"), "loc-1": pod("loc-1", phase="Pending", ip=None, waiting="ImagePullBackOff")}
    text = diagnose(pods, 3, "app=x", "ns")
    assert "1 of 3 locale pods ready" in text
    assert "loc-1: Pending (ImagePullBackOff" in text
    assert "1 pod(s) do not exist yet" in text
