"""Every name form the resolver understands, and the errors for the ones it does not."""

from __future__ import annotations

import pytest

from arkouda_k8s.errors import SettingsError
from arkouda_k8s.resolver.names import Target, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arkouda", Target(service="arkouda", text="arkouda")),
        ("arkouda.team-a", Target(service="arkouda", namespace="team-a", text="arkouda.team-a")),
        ("arkouda.team-a.svc", Target(service="arkouda", namespace="team-a", text="arkouda.team-a.svc")),
        (
            "arkouda.team-a.svc.corp.example",
            Target(
                service="arkouda", namespace="team-a", domain="corp.example", text="arkouda.team-a.svc.corp.example"
            ),
        ),
        ("arkouda.team-a:6000", Target(service="arkouda", namespace="team-a", port=6000, text="arkouda.team-a:6000")),
        ("tcp://127.0.0.1:5555", Target(host="127.0.0.1", port=5555, text="tcp://127.0.0.1:5555")),
        ("tcp://[::1]:5555", Target(host="::1", port=5555, text="tcp://[::1]:5555")),
        ("127.0.0.2", Target(host="127.0.0.2", port=5555, text="127.0.0.2")),
        ("node.example.org:7000", Target(host="node.example.org", port=7000, text="node.example.org:7000")),
    ],
)
def test_name_forms(text: str, expected: Target) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give a Service name"),
        ("tcp://host", "write it as tcp://HOST:PORT"),
        ("tcp://host:0", "a port must be an integer from 1 to 65535"),
        ("http://host:80", "only tcp://HOST:PORT"),
        ("Arkouda_X", "not a Service name"),
        ("arkouda:http", "a port must be an integer"),
    ],
)
def test_bad_names_say_why(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse(text)
