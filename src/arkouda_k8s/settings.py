"""One typed settings model, filled from command-line flags and environment variables.

Every knob is declared once in OPTIONS: its flag, the environment variables that set it (the
seed's names included, so existing charts and scripts keep working), its default and why, and the
rule its value must follow. A value that breaks its rule stops the program before anything starts,
with one line naming the flag or variable, the bad value and the rule (exit code 2).

Precedence: flag, then the first environment variable that is set, then the default.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arkouda_k8s.errors import SettingsError

_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SERVER_LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")


# --- rules: each takes the raw string and returns the typed value or raises ValueError(rule) ---


def dns1035_label(raw: str) -> str:
    if len(raw) > 63 or not _DNS1035.match(raw):
        raise ValueError(
            "must be a DNS-1035 label: at most 63 lower-case letters, digits or '-', "
            "starting with a letter and ending with a letter or digit (e.g. 'arkouda')"
        )
    return raw


def dns1123_label(raw: str) -> str:
    if len(raw) > 63 or not _DNS1123_LABEL.match(raw):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 lower-case letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return raw


def dns1123_subdomain(raw: str) -> str:
    if len(raw) > 253 or not _DNS1123_SUBDOMAIN.match(raw):
        raise ValueError("must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'")
    return raw


def port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("a port must be an integer from 1 to 65535") from None
    if not 1 <= value <= 65535:
        raise ValueError("a port must be an integer from 1 to 65535")
    return value


def port_or_zero(raw: str) -> int:
    if raw.strip() == "0":
        return 0
    try:
        return port(raw)
    except ValueError:
        raise ValueError("must be 0 (off) or a port from 1 to 65535") from None


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("must be an integer of at least 1") from None
    if value < 1:
        raise ValueError("must be an integer of at least 1")
    return value


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number of seconds greater than 0") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError("must be a number of seconds greater than 0")
    return value


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def ip_address(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address such as 10.42.0.7") from None


def _expanded(raw: str) -> Path:
    try:
        return Path(raw).expanduser()
    except RuntimeError:  # ~someone whose home cannot be found
        raise ValueError("the ~user in this path is not a known user: give an absolute path") from None


def existing_file(raw: str) -> Path:
    path = _expanded(raw)
    try:
        found = path.is_file()
    except OSError as error:  # a directory on the way this user may not enter
        raise ValueError(f"cannot reach this path ({error.strerror}): check the directories' permissions") from None
    if not found:
        raise ValueError("no such file: give the path of an existing, readable file")
    if not os.access(path, os.R_OK):
        raise ValueError("the file is not readable by this user")
    return path


def existing_dir(raw: str) -> Path:
    path = _expanded(raw)
    try:
        found = path.is_dir()
    except OSError as error:
        raise ValueError(f"cannot reach this path ({error.strerror}): check the directories' permissions") from None
    if not found:
        raise ValueError("no such directory")
    return path


def bearer_token(raw: str) -> str:
    token = raw.strip()
    if not token or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise ValueError("a bearer token is one line of printable characters without spaces")
    return token


def https_url(raw: str) -> str:
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", raw):
        raise ValueError("must be the API server's URL, like https://10.0.0.1:6443")
    return raw.rstrip("/")


def label_selector(raw: str) -> str:
    # Full syntax is checked by the API server; refuse what can never be a selector here.
    if not raw.strip() or any(ch in raw for ch in "\n\t;|&"):
        raise ValueError("must be a Kubernetes label selector such as app.kubernetes.io/component=locale")
    return raw.strip()


def server_log_level(raw: str) -> str:
    name = raw.strip().removeprefix("LogLevel.").upper()
    if name not in _SERVER_LOG_LEVELS:
        raise ValueError("must be one of " + ", ".join(_SERVER_LOG_LEVELS) + " (or LogLevel.<NAME>)")
    return "LogLevel." + name


def log_level(raw: str) -> str:
    name = raw.strip().lower()
    if name not in ("debug", "info", "warning", "error"):
        raise ValueError("must be debug, info, warning or error")
    return name


def one_of(*choices: str) -> Callable[[str], str]:
    def rule(raw: str) -> str:
        if raw not in choices:
            raise ValueError("must be one of: " + ", ".join(choices))
        return raw

    return rule


def text(raw: str) -> str:
    return raw


# --- the options ---


@dataclass(frozen=True)
class Option:
    """How one setting is given: its flag, its environment variables and its rule."""

    name: str
    help: str
    parse: Callable[[str], Any]
    default: Any
    env: tuple[str, ...] = ()
    short: str | None = None
    secret: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_bool(self) -> bool:
        return self.parse is boolean


def _opt(
    default: Any,
    parse: Callable[[str], Any],
    help: str,
    env: tuple[str, ...] = (),
    *,
    short: str | None = None,
    secret: bool = False,
) -> Any:
    option = Option("", help, parse, default, env, short, secret)
    return field(default=default, metadata={"option": option})


@dataclass(frozen=True)
class Settings:
    """Every setting of every command, typed; each command fills the ones it takes."""

    # identity of this pod (the downward API in the charts)
    namespace: str | None = _opt(
        None,
        dns1123_label,
        "Namespace of the server, its locales and its Service; default: this pod's own "
        "namespace (service-account file), else the kubeconfig context's, else 'default'.",
        ("NAMESPACE", "POD_NAMESPACE"),
        short="-n",
    )
    pod_name: str | None = _opt(
        None,
        dns1123_subdomain,
        "Name of this pod (downward API metadata.name): the owner of what the registrar publishes.",
        ("POD_NAME",),
    )
    pod_uid: str | None = _opt(
        None, text, "UID of this pod (downward API metadata.uid); read from the API when not given.", ("POD_UID",)
    )
    pod_ip: str | None = _opt(
        None,
        ip_address,
        "IP address of this pod (downward API status.podIP): the address that is published and the first GASNet host.",
        ("POD_IP", "MY_IP"),
    )
    instance: str | None = _opt(
        None,
        dns1123_subdomain,
        "Release name: the app.kubernetes.io/instance label of what is published.",
        ("ARKOUDA_INSTANCE",),
    )
    # the published Service
    service_name: str = _opt(
        "arkouda",
        dns1035_label,
        "Name of the Service clients connect to (a DNS-1035 label).",
        ("EXTERNAL_SERVICE_NAME",),
    )
    service_port: int = _opt(5555, port, "Port of the Service (port name 'arkouda').", ("EXTERNAL_SERVICE_PORT",))
    server_port: int = _opt(
        5555,
        port,
        "Port arkouda_server listens on in its pod (--ServerPort; the Service's targetPort).",
        ("EXTERNAL_SERVICE_TARGET_PORT",),
    )
    metrics: bool = _opt(
        False, boolean, "Also publish arkouda_server's metrics port (port name 'metrics').", ("COLLECT_METRICS",)
    )
    metrics_service_name: str | None = _opt(
        None,
        dns1035_label,
        "Publish the metrics port as a Service of its own with this name (the seed's "
        "layout); default: a 'metrics' port on the main Service.",
        ("METRICS_SERVICE_NAME",),
    )
    metrics_port: int = _opt(5556, port, "Service port for metrics.", ("METRICS_SERVICE_PORT",))
    metrics_target_port: int = _opt(
        5556, port, "Port arkouda_server serves metrics on.", ("METRICS_SERVICE_TARGET_PORT", "METRICS_SERVER_PORT")
    )
    endpoints_api: str = _opt(
        "endpointslice",
        one_of("endpointslice", "endpoints", "both"),
        "Which endpoint API to write: endpointslice (what kube-proxy reads), endpoints (core/v1, deprecated "
        "since Kubernetes 1.33) or both.",
        ("ENDPOINTS_API",),
    )
    keep_service: bool = _opt(
        False, boolean, "Leave the Service in place on withdrawal (only its endpoints are removed).", ("KEEP_SERVICE",)
    )
    probe_host: str = _opt(
        "127.0.0.1",
        text,
        "Where the registrar reaches arkouda_server: the pod's own loopback, never the published address.",
        ("PROBE_HOST",),
    )
    probe_timeout: float = _opt(1.0, seconds, "Seconds one ZMQ probe may take.", ("PROBE_TIMEOUT",))
    probe_failures: int = _opt(
        3, positive_int, "Probe failures in a row before the endpoint is marked not ready.", ("PROBE_FAILURES",)
    )
    probe_period: float = _opt(
        3.0, seconds, "Seconds between probes once published (a few ms while waiting at start).", ("PROBE_PERIOD",)
    )
    reconcile_period: float = _opt(
        120.0,
        seconds,
        "Seconds between checks of the Service (our EndpointSlice is watched, so its drift is repaired at once); "
        "one check and one watch renewal a period: 1 API request a minute when idle.",
        ("RECONCILE_PERIOD",),
    )
    shutdown_timeout: float = _opt(
        20.0,
        seconds,
        "Seconds a graceful stop may take (withdraw, shutdown, kill); keep it below the pod's "
        "terminationGracePeriodSeconds (30 s by default).",
        ("SHUTDOWN_TIMEOUT",),
    )
    health_port: int = _opt(
        0, port_or_zero, "Port of the registrar's /healthz and /metrics (0: off).", ("REGISTRAR_HEALTH_PORT",)
    )
    health_max_age: float = _opt(
        300.0,
        seconds,
        "/healthz fails when the last successful API sync is older than this many seconds.",
        ("HEALTH_MAX_AGE",),
    )
    # the Kubernetes API
    kubeconfig: Path | None = _opt(
        None, existing_file, "kubeconfig file to use instead of the in-cluster service account.", ("KUBECONFIG",)
    )
    context: str | None = _opt(None, text, "kubeconfig context to use.", ("KUBE_CONTEXT",))
    k8s_host: str | None = _opt(
        None,
        https_url,
        "API server URL, used with a token (SSL_TOKEN/TOKEN_FILE) or a client certificate (CERT_FILE/KEY_FILE).",
        ("K8S_HOST",),
    )
    ssl_token: str | None = _opt(
        None, bearer_token, "Bearer token for K8S_HOST (prefer TOKEN_FILE: it can rotate).", ("SSL_TOKEN",), secret=True
    )
    token_file: Path | None = _opt(
        None,
        existing_file,
        "File holding the bearer token for K8S_HOST; re-read when the API answers 401.",
        ("TOKEN_FILE",),
    )
    cert_file: Path | None = _opt(
        None, existing_file, "Client certificate for K8S_HOST (the seed's mTLS user).", ("CERT_FILE",)
    )
    key_file: Path | None = _opt(None, existing_file, "Private key of the client certificate.", ("KEY_FILE",))
    cacert_file: Path | None = _opt(
        None,
        existing_file,
        "CA bundle that signs the API server's certificate (verification is always on).",
        ("CACERT_FILE",),
    )
    # arkouda_server and its locales
    num_locales: int = _opt(
        1,
        positive_int,
        "Total number of locales = locale pods + 1 (the server pod is locale 0), the same meaning in every chart.",
        ("NUMLOCALES", "NUM_LOCALES"),
    )
    arkouda_server: str = _opt("arkouda_server", text, "arkouda_server executable to launch.", ("ARKOUDA_SERVER_PATH",))
    authenticate: bool = _opt(False, boolean, "Start arkouda_server with --authenticate=true.", ("AUTHENTICATE",))
    mem_track: bool = _opt(True, boolean, "Start arkouda_server with --memTrack=true.", ("MEMTRACK",))
    server_log_level: str = _opt(
        "LogLevel.INFO",
        server_log_level,
        "arkouda_server's --logLevel (DEBUG, INFO, WARN, ERROR, CRITICAL).",
        ("LOG_LEVEL",),
    )
    threads_per_locale: int | None = _opt(
        None, positive_int, "CHPL_RT_NUM_THREADS_PER_LOCALE for every locale.", ("CHPL_RT_NUM_THREADS_PER_LOCALE",)
    )
    locale_selector: str = _opt(
        "app.kubernetes.io/component=locale",
        label_selector,
        "Label selector of this server's locale pods.",
        ("LOCALE_SELECTOR",),
    )
    locale_timeout: float = _opt(
        300.0, seconds, "Seconds to wait for every locale pod to be Running and Ready.", ("LOCALE_TIMEOUT",)
    )
    ssh_key_dir: Path = _opt(
        Path("/etc/arkouda/ssh"),
        existing_dir,
        "Directory of the mounted ssh key Secret (ssh-privatekey or id_ed25519/id_rsa, and its .pub).",
        ("SSH_KEY_DIR",),
    )
    ssh_port: int = _opt(2222, port, "Port of every pod's sshd.", ("SSH_PORT",))
    ssh_home: str = _opt(
        "~/.ssh", text, "Writable directory that becomes ~/.ssh (keys copied there, 0600).", ("SSH_HOME",)
    )
    register: bool = _opt(True, boolean, "Run the registrar (publish the server under --service-name).", ("REGISTER",))
    # arkouda-k8s's own logs
    log_level: str = _opt(
        "info", log_level, "Level of arkouda-k8s's own logs (debug, info, warning, error).", ("ARKOUDA_K8S_LOG_LEVEL",)
    )
    log_format: str = _opt(
        "auto",
        one_of("auto", "json", "console"),
        "Log format: json, console, or auto (JSON lines unless on a terminal).",
        ("ARKOUDA_K8S_LOG_FORMAT",),
    )

    # where each value came from: a flag, a variable or "default" (for error messages and the log)
    source: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def public(self) -> dict[str, Any]:
        """The values safe to log: a secret shows only whether it is set."""
        shown: dict[str, Any] = {}
        for name, opt in OPTIONS.items():
            value = getattr(self, name)
            if opt.secret:
                value = None if value is None else "<set>"
            shown[name] = str(value) if isinstance(value, Path) else value
        return shown


OPTIONS: dict[str, Option] = {
    f.name: dataclasses.replace(f.metadata["option"], name=f.name)
    for f in dataclasses.fields(Settings)
    if "option" in f.metadata
}


def add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Add one flag per option; its help names the environment variables and the default."""
    for name in names:
        opt = OPTIONS[name]
        env = f" [env: {', '.join(opt.env)}]" if opt.env else ""
        default = "" if opt.default is None or opt.secret else f" (default: {opt.default})"
        flags = [opt.flag] + ([opt.short] if opt.short else [])
        if opt.is_bool:
            parser.add_argument(
                *flags, dest=name, action=argparse.BooleanOptionalAction, default=None, help=opt.help + env + default
            )
        else:
            parser.add_argument(*flags, dest=name, default=None, metavar=name.upper(), help=opt.help + env + default)


def load(
    names: Iterable[str], args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from parsed flags and the environment, every rule checked; other options keep defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    for name in names:
        opt = OPTIONS[name]
        given = getattr(args, name, None) if args is not None else None
        if given is not None:
            source[name] = opt.flag
            values[name] = given if isinstance(given, bool) else _check(opt, opt.flag, str(given))
            continue
        env_name = next((e for e in opt.env if environ.get(e, "") != ""), None)
        if env_name is not None:
            source[name] = env_name
            values[name] = _check(opt, env_name, environ[env_name])
        else:
            source[name] = "default"
    return Settings(**values, source=source)


def _check(opt: Option, where: str, raw: str) -> Any:
    try:
        return opt.parse(raw)
    except ValueError as rule:
        shown = "<hidden>" if opt.secret else repr(raw)
        raise SettingsError(f"invalid {where}={shown}: {rule}") from None


def require_executable(settings: Settings, name: str) -> str:
    """The full path of the program a setting names; SettingsError when there is no such program."""
    import shutil

    value = str(getattr(settings, name))
    found = shutil.which(value)
    if found is None:
        opt = OPTIONS[name]
        where = settings.source.get(name) or opt.flag
        where = opt.env[0] if where == "default" and opt.env else where
        raise SettingsError(f"invalid {where}={value!r}: no such executable program (give its path, or put it on PATH)")
    return found


def require(settings: Settings, *names: str, why: str) -> None:
    """Fail with a named error when options that a command needs were not given."""
    missing = [n for n in names if getattr(settings, n) is None]
    if missing:
        given_as = [OPTIONS[n].flag + (f" (env {OPTIONS[n].env[0]})" if OPTIONS[n].env else "") for n in missing]
        raise SettingsError(f"missing {', '.join(given_as)}: {why}")


# Option groups the commands combine.
LOGGING = ("log_level", "log_format")
KUBE_API = ("kubeconfig", "context", "k8s_host", "ssl_token", "token_file", "cert_file", "key_file", "cacert_file")
IDENTITY = ("namespace", "pod_name", "pod_uid", "pod_ip", "instance")
PUBLISH = (
    "service_name",
    "service_port",
    "server_port",
    "metrics",
    "metrics_service_name",
    "metrics_port",
    "metrics_target_port",
    "endpoints_api",
    "keep_service",
    "probe_host",
    "probe_timeout",
    "probe_failures",
    "probe_period",
    "reconcile_period",
    "shutdown_timeout",
    "health_port",
    "health_max_age",
)
SERVER = ("arkouda_server", "authenticate", "mem_track", "server_log_level", "threads_per_locale")
LOCALES = ("num_locales", "locale_selector", "locale_timeout")
SSH = ("ssh_key_dir", "ssh_port", "ssh_home")
