"""Every settings rule: a bad value stops the program before anything starts, naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from arkouda_k8s import settings as s
from arkouda_k8s.errors import SettingsError


def _load(*names: str, **env: str) -> s.Settings:
    return s.load(names, None, env)


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("EXTERNAL_SERVICE_PORT", "0", "a port must be an integer from 1 to 65535"),
        ("EXTERNAL_SERVICE_PORT", "65536", "a port must be an integer from 1 to 65535"),
        ("EXTERNAL_SERVICE_PORT", "http", "a port must be an integer from 1 to 65535"),
        ("METRICS_SERVICE_PORT", "-1", "a port must be an integer from 1 to 65535"),
        ("EXTERNAL_SERVICE_NAME", "Arkouda", "must be a DNS-1035 label"),
        ("EXTERNAL_SERVICE_NAME", "1arkouda", "must be a DNS-1035 label"),
        ("EXTERNAL_SERVICE_NAME", "arkouda_svc", "must be a DNS-1035 label"),
        ("EXTERNAL_SERVICE_NAME", "a" * 64, "must be a DNS-1035 label"),
        ("NUMLOCALES", "0", "must be an integer of at least 1"),
        ("NUM_LOCALES", "-3", "must be an integer of at least 1"),
        ("NUMLOCALES", "three", "must be an integer of at least 1"),
        ("MY_IP", "198.51.100.300", "must be an IPv4 or IPv6 address"),
        ("POD_IP", "not-an-ip", "must be an IPv4 or IPv6 address"),
        ("KUBECONFIG", "/nonexistent/kubeconfig", "no such file"),
        ("CACERT_FILE", "/nonexistent/ca.crt", "no such file"),
        ("AUTHENTICATE", "maybe", "must be true or false"),
        ("SHUTDOWN_TIMEOUT", "0", "greater than 0"),
        ("LOG_LEVEL", "LogLevel.LOUD", "must be one of DEBUG"),
        ("K8S_HOST", "localhost:6443", "must be the API server's URL"),
        ("ENDPOINTS_API", "slices", "must be one of: endpointslice, endpoints, both"),
        ("NAMESPACE", "Team_A", "must be a DNS-1123 label"),
    ],
)
def test_each_rule_names_the_variable_the_value_and_the_rule(variable: str, value: str, rule: str) -> None:
    name = next(n for n, o in s.OPTIONS.items() if variable in o.env)
    with pytest.raises(SettingsError) as raised:
        _load(name, **{variable: value})
    message = str(raised.value)
    assert message.startswith(f"invalid {variable}={value!r}: ")
    assert rule in message
    assert "\n" not in message


def test_seed_names_are_accepted_and_typed(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    got = _load(
        "pod_ip",
        "num_locales",
        "service_name",
        "service_port",
        "server_port",
        "metrics_service_name",
        "metrics_port",
        "namespace",
        "authenticate",
        "mem_track",
        "server_log_level",
        "threads_per_locale",
        "kubeconfig",
        "k8s_host",
        MY_IP="203.0.113.7",
        NUMLOCALES="3",
        EXTERNAL_SERVICE_NAME="arkouda",
        EXTERNAL_SERVICE_PORT="5555",
        EXTERNAL_SERVICE_TARGET_PORT="5555",
        METRICS_SERVICE_NAME="arkouda-metrics",
        METRICS_SERVICE_PORT="5556",
        NAMESPACE="arkouda",
        AUTHENTICATE="false",
        MEMTRACK="true",
        LOG_LEVEL="LogLevel.DEBUG",
        CHPL_RT_NUM_THREADS_PER_LOCALE="4",
        KUBECONFIG=str(kubeconfig),
        K8S_HOST="https://localhost:6443",
    )
    assert (got.pod_ip, got.num_locales, got.service_port, got.threads_per_locale) == ("203.0.113.7", 3, 5555, 4)
    assert (got.authenticate, got.mem_track, got.server_log_level) == (False, True, "LogLevel.DEBUG")
    assert got.kubeconfig == kubeconfig
    assert got.source["pod_ip"] == "MY_IP"
    assert got.source["num_locales"] == "NUMLOCALES"


def test_precedence_is_flag_then_first_variable_then_default() -> None:
    parser = __import__("argparse").ArgumentParser()
    s.add_options(parser, ["num_locales", "service_name"])
    args = parser.parse_args(["--num-locales", "4"])
    got = s.load(["num_locales", "service_name"], args, {"NUMLOCALES": "2", "NUM_LOCALES": "9"})
    assert got.num_locales == 4 and got.source["num_locales"] == "--num-locales"
    assert _load("num_locales", NUMLOCALES="2", NUM_LOCALES="9").num_locales == 2
    assert _load("num_locales", NUM_LOCALES="9").num_locales == 9
    default = _load("service_name")
    assert default.service_name == "arkouda" and default.source["service_name"] == "default"


def test_a_secret_is_never_shown_in_errors_or_public_values() -> None:
    got = _load("ssl_token", SSL_TOKEN="s3cr3t-token-value")
    assert got.ssl_token == "s3cr3t-token-value"
    assert "s3cr3t" not in str(got.public())
    assert got.public()["ssl_token"] == "<set>"


def test_every_option_documents_its_variables_in_help() -> None:
    from arkouda_k8s.cli import build_parser

    text = "".join(
        sub.format_help()
        for action in build_parser()._subparsers._group_actions  # type: ignore[union-attr]
        for sub in action.choices.values()
    )
    for option in s.OPTIONS.values():
        for variable in option.env:
            assert variable in text, f"{variable} is not named in any --help"


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["register", "--service-port", "0"], {}, "invalid --service-port='0': a port must be"),
        (["register"], {"EXTERNAL_SERVICE_NAME": "Bad_Name"}, "invalid EXTERNAL_SERVICE_NAME='Bad_Name'"),
        (["server"], {"NUMLOCALES": "0"}, "invalid NUMLOCALES='0': must be an integer of at least 1"),
        (["single"], {"MY_IP": "1.2.3"}, "invalid MY_IP='1.2.3': must be an IPv4 or IPv6 address"),
        (["resolve"], {"KUBECONFIG": "/nonexistent"}, "invalid KUBECONFIG='/nonexistent': no such file"),
    ],
)
def test_the_command_exits_2_with_one_line_before_starting(argv: list[str], env: dict[str, str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "arkouda_k8s", *argv],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]
    assert done.stdout == ""
