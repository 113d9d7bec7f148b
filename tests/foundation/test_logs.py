"""Logs: JSON lines with stable keys, and no secret at any level, whatever the caller passes."""

from __future__ import annotations

import io
import json

import pytest

from arkouda_k8s import logs

JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9"
    ".eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXJrb3VkYSJ9"
    ".c2lnbmF0dXJlLXNpZ25hdHVyZQ"
)
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----"
)
REGISTERED = "registered-secret-9f8e7d6c"


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    logs.configure("debug", "json", stream=stream)
    logs.register_secret(REGISTERED)
    return stream


@pytest.mark.parametrize("level", ["debug", "info", "warning", "error", "critical"])
def test_no_secret_reaches_the_output_at_any_level(captured: io.StringIO, level: str) -> None:
    log = logs.get_logger("test")
    getattr(log, level)(
        f"event with Bearer {JWT} inside",
        token="plain-token-value-123",
        ssl_token="seed-token-abc-456",
        password="hunter2hunter2",
        authorization=f"Bearer {JWT}",
        private_key=PEM,
        header="Authorization: Bearer abcdef123456",
        url="tcp://host:5555?token=abcdefabcdef",
        note=f"the key is {REGISTERED}",
        nested={"access_token": "nested-token-xyz", "list": [JWT]},
    )
    out = captured.getvalue()
    for secret in (
        "plain-token-value-123",
        "seed-token-abc-456",
        "hunter2hunter2",
        JWT,
        "b3BlbnNzaC1rZXkt",
        "abcdef123456",
        "abcdefabcdef",
        REGISTERED,
        "nested-token-xyz",
    ):
        assert secret not in out, f"{secret!r} leaked at {level}"
    assert out.count(logs.REDACTED) >= 8


def test_lines_are_json_with_stable_keys(captured: io.StringIO) -> None:
    logs.get_logger("registrar", service="arkouda", namespace="ns", pod="p-0").info("published", elapsed_ms=12)
    record = json.loads(captured.getvalue().strip().splitlines()[-1])
    assert record["event"] == "published"
    assert record["level"] == "info"
    assert (record["component"], record["service"], record["namespace"], record["pod"]) == (
        "registrar",
        "arkouda",
        "ns",
        "p-0",
    )
    assert record["elapsed_ms"] == 12
    assert "timestamp" in record


def test_level_filters(captured: io.StringIO) -> None:
    logs.configure("warning", "json", stream=captured)
    logs.get_logger("x").info("hidden")
    logs.get_logger("x").warning("shown")
    out = captured.getvalue()
    assert "shown" in out and "hidden" not in out


def test_console_format_is_for_people() -> None:
    stream = io.StringIO()
    logs.configure("info", "console", stream=stream)
    logs.get_logger("x").info("hello", token="zzz-secret-zzz")
    out = stream.getvalue()
    assert "hello" in out and not out.lstrip().startswith("{")
    assert "zzz-secret-zzz" not in out
