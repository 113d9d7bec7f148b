"""The shapes the registrar writes (checked against what a real API server accepts in the golden files)."""

from __future__ import annotations

from arkouda_k8s.registrar import objects as o

POD = o.PodIdentity(name="arkouda-server-0", uid="uid-1", ip="198.51.100.7", namespace="ns", instance="rel")
SPEC = o.ServiceSpec("arkouda", (o.Port("arkouda", 5555, 5555), o.Port("metrics", 5556, 5557)))


def test_service_is_selectorless_with_named_ports_and_right_target_ports() -> None:
    svc = o.service(SPEC, POD)
    assert "selector" not in svc["spec"]
    assert svc["spec"]["ports"] == [
        {"name": "arkouda", "port": 5555, "targetPort": 5555, "protocol": "TCP"},
        {"name": "metrics", "port": 5556, "targetPort": 5557, "protocol": "TCP"},  # the seed's bug: targetPort 0
    ]
    assert svc["metadata"]["labels"][o.MANAGED_BY] == "arkouda-k8s"
    assert svc["metadata"]["labels"][o.INSTANCE] == "rel"
    assert svc["metadata"]["annotations"][o.OWNER_POD] == "arkouda-server-0"


def test_slice_has_generate_name_labels_owner_target_ports_and_all_conditions() -> None:
    es = o.endpoint_slice(SPEC, POD, ready=True)
    meta = es["metadata"]
    assert meta["generateName"] == "arkouda-"
    assert meta["labels"]["kubernetes.io/service-name"] == "arkouda"
    assert meta["labels"]["endpointslice.kubernetes.io/managed-by"] == "arkouda-k8s"
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Pod", "name": "arkouda-server-0", "uid": "uid-1"}]
    assert es["addressType"] == "IPv4"
    assert es["ports"] == [
        {"name": "arkouda", "port": 5555, "protocol": "TCP"},
        {"name": "metrics", "port": 5557, "protocol": "TCP"},
    ]
    (endpoint,) = es["endpoints"]
    assert endpoint["addresses"] == ["198.51.100.7"]
    assert endpoint["conditions"] == {"ready": True, "serving": True, "terminating": False}
    assert endpoint["targetRef"] == {"kind": "Pod", "namespace": "ns", "name": "arkouda-server-0", "uid": "uid-1"}


def test_ipv6_pod_gets_an_ipv6_slice() -> None:
    pod6 = o.PodIdentity(name="p", uid="u", ip="fd00::7", namespace="ns")
    assert o.endpoint_slice(SPEC, pod6, ready=True)["addressType"] == "IPv6"


def test_terminating_is_never_ready() -> None:
    assert o.conditions(True, terminating=True) == {"ready": False, "serving": False, "terminating": True}
    assert o.conditions(False) == {"ready": False, "serving": False, "terminating": False}


def test_legacy_endpoints_skip_mirroring_and_split_ready_from_not_ready() -> None:
    ready = o.legacy_endpoints(SPEC, POD, ready=True)
    assert ready["metadata"]["labels"]["endpointslice.kubernetes.io/skip-mirror"] == "true"
    assert ready["subsets"][0]["addresses"][0]["ip"] == "198.51.100.7"
    not_ready = o.legacy_endpoints(SPEC, POD, ready=False)
    assert "addresses" not in not_ready["subsets"][0]
    assert not_ready["subsets"][0]["notReadyAddresses"][0]["ip"] == "198.51.100.7"


def test_ownership_needs_the_uid_not_just_the_name() -> None:
    mine = o.endpoint_slice(SPEC, POD, ready=True)
    assert o.owned_by(mine, POD)
    same_name_other_pod = o.PodIdentity(name=POD.name, uid="uid-2", ip=POD.ip, namespace="ns")
    assert not o.owned_by(mine, same_name_other_pod)


def test_drift_is_found_and_absent_when_equal() -> None:
    desired = o.endpoint_slice(SPEC, POD, ready=True)
    current = {**desired, "metadata": {**desired["metadata"], "name": "arkouda-abcde"}}
    assert o.slice_drift(current, desired) == []
    edited = {**current, "endpoints": [{"addresses": ["203.0.113.9"], "conditions": {"ready": True}}]}
    assert o.slice_drift(edited, desired) == ["endpoints"]
    wrong_ports = {**current, "ports": [{"name": "arkouda", "port": 1, "protocol": "TCP"}]}
    assert o.slice_drift(wrong_ports, desired) == ["ports"]
    svc = o.service(SPEC, POD)
    assert o.service_drift(svc, SPEC) == []
    assert o.service_drift({**svc, "spec": {**svc["spec"], "selector": {"app": "x"}}}, SPEC) == ["selector"]
