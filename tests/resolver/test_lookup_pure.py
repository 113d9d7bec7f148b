"""Picking the endpoint from EndpointSlices, and the cluster domain from resolv.conf."""

from __future__ import annotations

from pathlib import Path

from arkouda_k8s.resolver.lookup import Endpoint, cluster_domain, ready_endpoint


def _slice(name: str, ports: list[dict[str, object]], *endpoints: tuple[str, dict[str, bool]]) -> dict[str, object]:
    return {
        "metadata": {"name": name},
        "ports": ports,
        "endpoints": [{"addresses": [ip], "conditions": cond} for ip, cond in endpoints],
    }


def test_only_ready_endpoints_count_and_the_port_is_the_arkouda_one() -> None:
    ports = [{"name": "metrics", "port": 5556}, {"name": "arkouda", "port": 5555}]
    slices = [
        _slice("a", ports, ("198.51.100.1", {"ready": False, "serving": False, "terminating": False})),
        _slice("b", ports, ("198.51.100.2", {"ready": True, "serving": True, "terminating": True})),
        _slice("c", ports, ("198.51.100.3", {"ready": True, "serving": True, "terminating": False})),
    ]
    assert ready_endpoint(slices) == ("198.51.100.3", 5555, None)
    assert ready_endpoint(slices[:2]) is None


def test_the_only_port_is_used_when_none_is_named_arkouda() -> None:
    assert ready_endpoint([_slice("a", [{"port": 7000}], ("198.51.100.1", {}))]) == ("198.51.100.1", 7000, None)
    two_unnamed = [_slice("a", [{"name": "x", "port": 1}, {"name": "y", "port": 2}], ("198.51.100.1", {}))]
    assert ready_endpoint(two_unnamed) is None


def test_the_pod_is_the_endpoints_target_ref() -> None:
    item = _slice("a", [{"name": "arkouda", "port": 5555}], ("198.51.100.1", {"ready": True}))
    endpoint = item["endpoints"][0]  # type: ignore[index]
    endpoint["targetRef"] = {"kind": "Pod", "name": "arkouda-server-0", "namespace": "team"}
    assert ready_endpoint([item]) == ("198.51.100.1", 5555, "arkouda-server-0")
    endpoint["targetRef"] = {"kind": "Node", "name": "node-1"}
    assert ready_endpoint([item]) == ("198.51.100.1", 5555, None)


def test_cluster_domain_comes_from_the_search_list(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "nameserver 203.0.113.10\nsearch team-a.svc.corp.internal svc.corp.internal corp.internal\noptions ndots:5\n"
    )
    assert cluster_domain(conf) == "corp.internal"
    conf.write_text("nameserver 1.1.1.1\nsearch example.org\n")
    assert cluster_domain(conf) is None
    assert cluster_domain(tmp_path / "missing") is None


def test_endpoint_url_brackets_ipv6() -> None:
    assert Endpoint("fd00::1", 5555, "api").url == "tcp://[fd00::1]:5555"
    assert Endpoint("198.51.100.1", 5555, "api").url == "tcp://198.51.100.1:5555"
