"""Every setting invalid in every way it can be: settings.load raises SettingsError with one line naming the
variable (or flag), never showing a secret; the command exits 2 before it starts anything.

Values are generated (hypothesis) per rule from an oracle of this file's own: names, ports, counts,
seconds, booleans, IP addresses and lists of them, paths, URLs, selectors, levels and choices.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import ipaddress
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from arkouda_k8s import cli
from arkouda_k8s import settings as s
from arkouda_k8s.errors import ExitCode, SettingsError

from .kit import STATS, run_cli

_DNS1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_BOOL = {"1", "true", "yes", "on", "0", "false", "no", "off"}
_URL = re.compile(r"https?://[^/\s]+(/\S*)?")
TEXT = st.text(min_size=1, max_size=40)
WEIRD = st.sampled_from([" ", "\t", "\n", "-", "\x00", "é", "０", "1 2", "${X}", "'", '"', "\\", "a\nb", "٣"])


def _int_in(value: str, low: int, high: int) -> bool:
    try:
        number = int(value)
    except ValueError:
        return False
    return low <= number <= high


def _seconds_ok(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return 0 < number < math.inf


def _ip_ok(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def _subdomain_ok(value: str) -> bool:
    return len(value) <= 253 and all(_DNS1123.fullmatch(label) for label in value.split("."))


def _is_file(value: str) -> bool:
    try:
        return Path(value).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):  # RuntimeError: ~unknown-user (its own test below)
        return False


def _is_dir(value: str) -> bool:
    try:
        return Path(value).expanduser().is_dir()
    except (OSError, ValueError, RuntimeError):
        return False


def _not(valid: Callable[[str], bool], *also: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(TEXT.filter(lambda v: not valid(v)), WEIRD.filter(lambda v: not valid(v)), *also)


INT_WORDS = st.sampled_from(["1.5", "1e3", "0x10", "ten", "+-1", "1,000", "--1"])
INVALID: dict[str, st.SearchStrategy[str]] = {
    "dns1035_label": _not(
        lambda v: bool(_DNS1035.fullmatch(v)),
        st.sampled_from(["a" * 64, "Arkouda", "-a", "a-", "1a", "a.b", "a_b", "ARKOUDA"]),
    ),
    "dns1123_label": _not(
        lambda v: bool(_DNS1123.fullmatch(v)), st.sampled_from(["a" * 64, "Team-A", "-a", "a-", "a.b", "a_b"])
    ),
    "dns1123_subdomain": _not(_subdomain_ok, st.sampled_from(["a" * 254, "a..b", ".a", "a.", "Pod-0", "a_b"])),
    "port": _not(
        lambda v: _int_in(v, 1, 65535),
        st.integers().filter(lambda n: not 1 <= n <= 65535).map(str),
        INT_WORDS,
        st.just("9" * 5000),
    ),
    "port_or_zero": _not(
        lambda v: v.strip() == "0" or _int_in(v, 1, 65535),
        st.integers().filter(lambda n: not 0 <= n <= 65535).map(str),
        INT_WORDS,
    ),
    "positive_int": _not(
        lambda v: _int_in(v, 1, 10**100), st.integers(max_value=0).map(str), INT_WORDS, st.just("9" * 5000)
    ),
    "seconds": _not(
        _seconds_ok,
        st.floats(max_value=0).map(repr),
        st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "-0", "0", "five", "1s", "1,5"]),
    ),
    "boolean": _not(lambda v: v.strip().lower() in _BOOL, st.sampled_from(["y", "n", "2", "truee", "enabled"])),
    "bearer_token": st.sampled_from(
        ["token-0123\nX-Injected: 1", "two words", "tab\there", "bell\x07", "   ", "nul\x00inside", "cr\rlf"]
    ),
    "ip_address": _not(
        _ip_ok,
        st.sampled_from(
            [
                "198.51.100.1,198.51.100.2",  # a list where one address belongs
                "198.51.100.1 198.51.100.2",
                "198.51.100.1;198.51.100.2",
                "198.51.100.256",
                "10.0.0",
                "198.51.100.1/24",
                "::g",
                "fe80:::1",
                "[::1]",
                "198.51.100.1:5555",
                "localhost",
            ]
        ),
        st.lists(st.ip_addresses().map(str), min_size=2, max_size=4).map(",".join),
    ),
    # (a path starting with ~unknown-user is its own test below)
    "existing_file": _not(_is_file, st.sampled_from(["/nonexistent/file", "/", "/dev/null", "/proc"])).filter(
        lambda v: not v.startswith("~")
    ),
    "existing_dir": _not(_is_dir, st.sampled_from(["/nonexistent/dir", "/dev/null", "/etc/hostname"])).filter(
        lambda v: not v.startswith("~")
    ),
    "https_url": _not(
        lambda v: bool(_URL.fullmatch(v)),
        st.sampled_from(
            ["ftp://198.51.100.1", "https://", "https:// 198.51.100.1", "198.51.100.1:6443", "https//x", "tcp://a:1"]
        ),
    ),
    "label_selector": st.one_of(
        st.sampled_from([" ", "\t", "\n"]),
        st.tuples(TEXT, st.sampled_from(["\n", "\t", ";", "|", "&"]), TEXT).map("".join),
    ),
    "server_log_level": _not(
        lambda v: v.strip().removeprefix("LogLevel.").upper() in ("DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"),
        st.sampled_from(["LogLevel.", "WARNING", "LogLevel.VERBOSE", "trace"]),
    ),
    "log_level": _not(
        lambda v: v.strip().lower() in ("debug", "info", "warning", "error"),
        st.sampled_from(["warn", "critical", "trace", "verbose"]),
    ),
}
CHOICES = {"endpoints_api": ("endpointslice", "endpoints", "both"), "log_format": ("auto", "json", "console")}
# Free text by design: any value is a value (a uid, a context name, a path to create, a command, a token).
FREE_TEXT = {"pod_uid", "context", "arkouda_server", "ssh_home", "probe_host"}


def _rule_name(name: str) -> str:
    return "one_of" if name in CHOICES else s.OPTIONS[name].parse.__name__


def invalid_values(name: str) -> st.SearchStrategy[str]:
    if name in CHOICES:
        return _not(lambda v: v in CHOICES[name], st.sampled_from(["EndpointSlice", "yaml", "", "both "]))
    return INVALID[_rule_name(name)]


CHECKED = sorted(n for n in s.OPTIONS if n not in FREE_TEXT)


def test_every_option_has_a_rule_or_is_free_text_on_purpose() -> None:
    for name, option in s.OPTIONS.items():
        if name in FREE_TEXT:
            assert option.parse is s.text, f"{name} has a rule now: generate invalid values for it here"
        else:
            assert name in CHOICES or _rule_name(name) in INVALID, f"no invalid values for {name}'s rule"


def _check_message(error: SettingsError, where: str, raw: str, *, secret: bool) -> None:
    message = str(error)
    assert error.exit_code == ExitCode.USAGE
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert message.startswith(f"invalid {where}="), message
    if secret:
        assert raw not in message and "<hidden>" in message


@pytest.mark.parametrize("name", CHECKED)
@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_an_invalid_environment_variable_is_named_in_one_line(name: str, data: st.DataObject) -> None:
    option = s.OPTIONS[name]
    raw = data.draw(invalid_values(name).filter(lambda v: v != ""), label="value")
    env_name = data.draw(st.sampled_from(option.env), label="variable")
    with pytest.raises(SettingsError) as bad:
        s.load([name], None, {env_name: raw})
    _check_message(bad.value, env_name, raw, secret=option.secret)
    if not option.is_bool:  # a boolean flag takes no value
        with pytest.raises(SettingsError) as flagged:
            s.load([name], argparse.Namespace(**{name: raw}), {})
        _check_message(flagged.value, option.flag, raw, secret=option.secret)


@pytest.mark.parametrize("name", CHECKED)
def test_a_valid_value_of_each_rule_is_accepted(name: str, tmp_path: Path) -> None:
    """The other side of the oracle: the rules do not refuse what they should accept."""
    samples = {
        "dns1035_label": "arkouda-1",
        "dns1123_label": "team-a",
        "dns1123_subdomain": "arkouda-server-0.x",
        "port": " 5555 ",
        "port_or_zero": "0",
        "positive_int": "3",
        "seconds": "0.05",
        "boolean": " Yes ",
        "ip_address": "fd00::7",
        "existing_file": str(Path(__file__)),
        "existing_dir": str(tmp_path),
        "https_url": "https://198.51.100.1:6443/",
        "label_selector": "app.kubernetes.io/component=locale,tier in (a,b)",
        "server_log_level": "LogLevel.warn",
        "log_level": "DEBUG",
        "bearer_token": " eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln \n",
    }
    raw = CHOICES[name][-1] if name in CHOICES else samples[_rule_name(name)]
    s.load([name], None, {s.OPTIONS[name].env[0]: raw})


# --- the command line: exit 2, one line, nothing started -----------------------------------------------------


def _command_taking(name: str) -> str:
    return next(c.name for c in cli.COMMANDS if name in c.options and c.name not in ("demo", "kube-emulator"))


@contextlib.contextmanager
def _only_env(**env: str) -> Iterator[None]:
    with mock.patch.dict(os.environ, {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}, clear=True):
        yield


@pytest.mark.parametrize("name", CHECKED)
@hsettings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_the_cli_exits_2_with_one_line_naming_the_variable(name: str, data: st.DataObject) -> None:
    option = s.OPTIONS[name]
    raw = data.draw(invalid_values(name).filter(lambda v: v != "" and "\x00" not in v), label="value")
    command = _command_taking(name)
    stderr = io.StringIO()
    with _only_env(**{option.env[0]: raw}), contextlib.redirect_stderr(stderr):
        code = cli.main([command])
    lines = stderr.getvalue().splitlines()
    assert code == ExitCode.USAGE, stderr.getvalue()
    assert len(lines) == 1 and lines[0].startswith(f"arkouda-k8s {command}: error: invalid {option.env[0]}=")
    STATS.cases += 1


@pytest.mark.parametrize(
    ("command", "env", "names"),
    [
        ("server", {"NUMLOCALES": "0"}, "NUMLOCALES"),
        ("server", {"POD_IP": "198.51.100.1,198.51.100.2"}, "POD_IP"),
        ("server", {"NUMLOCALES": "3"}, "--pod-ip (env POD_IP)"),  # required, not given
        ("single", {"SHUTDOWN_TIMEOUT": "nan"}, "SHUTDOWN_TIMEOUT"),
        ("locale", {"SSH_PORT": "65536"}, "SSH_PORT"),
        ("register", {"EXTERNAL_SERVICE_NAME": "Arkouda_Server"}, "EXTERNAL_SERVICE_NAME"),
        (
            "register",
            {"K8S_HOST": "https://127.0.0.1:9", "SSL_TOKEN": "seed-token-0123456789", "POD_IP": "192.0.2.1"},
            "--pod-name (env POD_NAME)",
        ),
        ("register", {"K8S_HOST": "https://127.0.0.1:1", "POD_NAME": "p", "POD_IP": "192.0.2.1"}, "K8S_HOST"),
        ("resolve", {"KUBECONFIG": "/nonexistent/kubeconfig"}, "KUBECONFIG"),
    ],
)
def test_a_bad_setting_stops_the_command_before_it_starts(
    tmp_path: Path, command: str, env: dict[str, str], names: str
) -> None:
    home = tmp_path / "home"
    done = run_cli(command, env={"SSH_HOME": str(home / ".ssh"), "SSH_KEY_DIR": str(tmp_path), **env}, cwd=tmp_path)
    assert done.returncode == ExitCode.USAGE, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("{")]  # beside JSON log events
    assert len(errors) == 1 and names in errors[0], done.stderr
    assert not (home / ".ssh").exists(), "the ssh set-up ran although a setting was bad"


def test_cert_file_without_key_file_is_a_settings_error(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    done = run_cli(
        "register",
        env={"K8S_HOST": "https://127.0.0.1:1", "CERT_FILE": str(cert), "POD_NAME": "p", "POD_IP": "192.0.2.1"},
        cwd=tmp_path,
    )
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert "CERT_FILE is set without KEY_FILE" in done.stderr


# --- found here: settings whose bad values end in a traceback or name the wrong thing ------------------------


async def test_a_token_with_a_newline_is_a_settings_error(tmp_path: Path) -> None:
    from arkouda_k8s.testing.kube import KubeEmulator

    async with KubeEmulator(tls=True) as emulator:
        done = await asyncio.to_thread(
            run_cli,
            "register",
            env={
                "K8S_HOST": emulator.url,
                "CACERT_FILE": str(emulator.ca_file),
                "SSL_TOKEN": "seed-token-0123456789\nX-Injected: 1",
                "POD_NAME": "p",
                "POD_IP": "192.0.2.1",
                "POD_UID": "u",
                "NAMESPACE": "default",
                "SHUTDOWN_TIMEOUT": "1",
            },
            cwd=tmp_path,
            timeout=20,
        )
    assert "seed-token-0123456789" not in done.stderr + done.stdout
    assert done.returncode == ExitCode.USAGE, done.stderr[-2000:]
    assert "SSL_TOKEN" in done.stderr and "Traceback" not in done.stderr


async def test_a_missing_kube_context_is_named(tmp_path: Path) -> None:
    from arkouda_k8s.kube import load_api_config
    from arkouda_k8s.testing.kube import KubeEmulator

    emulator = KubeEmulator(tls=True)
    kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig")
    settings = s.load(s.KUBE_API, None, {"KUBECONFIG": str(kubeconfig), "KUBE_CONTEXT": "nope"})
    with pytest.raises(SettingsError) as bad:
        await load_api_config(settings, serviceaccount_dir=tmp_path / "not-in-a-pod")
    assert "KUBE_CONTEXT" in str(bad.value)


def test_a_missing_arkouda_server_executable_is_named(tmp_path: Path) -> None:
    done = run_cli(
        "single",
        "--no-register",
        env={"ARKOUDA_SERVER_PATH": str(tmp_path / "no-such-arkouda_server"), "POD_IP": "192.0.2.1"},
        cwd=tmp_path,
    )
    assert done.returncode in (ExitCode.LAUNCH_FAILED, ExitCode.USAGE), done.stderr[-2000:]
    assert "ARKOUDA_SERVER_PATH" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("variable", ["KUBECONFIG", "SSH_KEY_DIR"])
def test_a_path_of_an_unknown_users_home_is_a_settings_error(variable: str) -> None:
    name = next(n for n, o in s.OPTIONS.items() if variable in o.env)
    with pytest.raises(SettingsError) as bad:
        s.load([name], None, {variable: "~no-such-user-x/file"})
    assert variable in str(bad.value)


def test_a_path_the_user_cannot_reach_is_a_settings_error() -> None:
    import pwd
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("needs root to make a directory this user cannot enter")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    user = pwd.getpwnam("daemon")
    scratch = Path(tempfile.mkdtemp(prefix="arkouda-k8s-locked-"))
    try:
        scratch.chmod(0o755)
        locked = scratch / "locked"
        (locked / "ssh").mkdir(parents=True)
        locked.chmod(0o700)  # root's: daemon cannot enter it
        as_daemon = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]
        done = subprocess.run(
            [*as_daemon, sys.executable, "-m", "arkouda_k8s", "locale"],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(scratch),
                "SSH_KEY_DIR": str(locked / "ssh"),
            },
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert done.returncode == ExitCode.USAGE, done.stderr[-2000:]
    assert "SSH_KEY_DIR" in done.stderr and "Traceback" not in done.stderr
