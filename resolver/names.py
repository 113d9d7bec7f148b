"""What the user asked for: `arkouda`, `arkouda.ns`, `arkouda.ns.svc[.domain]`, `host:port`, `tcp://host:port`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from arkouda_k8s.errors import SettingsError

ENV_OVERRIDE = "ARKOUDA_SERVER"  # set it to any name form to redirect every connect() without code changes
DEFAULT_NAME = "arkouda"
DEFAULT_PORT = 5555

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class Target:
    service: str | None = None  # a Service name (API or cluster DNS)
    namespace: str | None = None  # given in the name (else the default namespace applies)
    domain: str | None = None  # cluster domain given in a full DNS name
    host: str | None = None  # a direct host (tcp://host:port, host:port, an IP or a non-Service DNS name)
    port: int | None = None
    text: str = ""  # as the user wrote it

    @property
    def direct(self) -> bool:
        return self.host is not None


def parse(text: str) -> Target:
    raw = text.strip()
    if not raw:
        raise SettingsError("invalid server name '': give a Service name such as 'arkouda' or tcp://HOST:PORT")
    if raw.startswith("tcp://"):
        host, port = _host_port(raw.removeprefix("tcp://").rstrip("/"), raw, require_port=True)
        return Target(host=host, port=port, text=raw)
    if "://" in raw:
        raise SettingsError(f"invalid server name {raw!r}: only tcp://HOST:PORT URLs are understood")
    host_part, port = _host_port(raw, raw, require_port=False)
    if _is_ip(host_part):
        return Target(host=host_part, port=port or DEFAULT_PORT, text=raw)
    labels = host_part.lower().rstrip(".").split(".")
    if not all(_LABEL.match(label) and len(label) <= 63 for label in labels):
        raise SettingsError(f"invalid server name {raw!r}: not a Service name (DNS-1035 labels separated by dots)")
    if len(labels) <= 2:
        return Target(service=labels[0], namespace=labels[1] if len(labels) == 2 else None, port=port, text=raw)
    if labels[2] == "svc":
        domain = ".".join(labels[3:]) or None
        return Target(service=labels[0], namespace=labels[1], domain=domain, port=port, text=raw)
    return Target(host=host_part, port=port or DEFAULT_PORT, text=raw)  # some other DNS name


def _host_port(text: str, raw: str, *, require_port: bool) -> tuple[str, int | None]:
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") if rest else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""  # no port, or a bare IPv6 address
    if not port_text:
        if require_port:
            raise SettingsError(f"invalid server address {raw!r}: write it as tcp://HOST:PORT")
        return host, None
    try:
        port = int(port_text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise SettingsError(f"invalid port in {raw!r}: a port must be an integer from 1 to 65535")
    return host, port


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
