"""Logging, configured once: structlog events with stable keys, secrets redacted.

Events are JSON lines (one object per line) unless stdout and stderr are both a terminal, where
they are printed for people. Logs go to stderr so that commands can print results on stdout.
Stable keys: event, level, timestamp, component, service, namespace, pod, attempt, elapsed_ms.

Redaction runs last before rendering, so no processor and no caller can leak a secret: values of
keys that name a secret (token, password, authorization, private key…) are replaced, and every
string is scrubbed of registered secret values (tokens read from files, generated keys) and of
things shaped like secrets (bearer headers, JWTs, PEM private keys, `token=` query parameters).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(token|passw|secret|authorization|api_?key|private_?key|credential|cookie|ssh_?key$|^key$|^key_data$)",
    re.IGNORECASE,
)
# Secret-shaped substrings; a group named `keep` is left in place before the redaction mark.
_SECRET_SHAPES = [
    re.compile(r"(?i)(?P<keep>bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT (service-account tokens)
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"(?i)(?P<keep>[?&](?:access_)?token=)[^&\s\"']+"),
    re.compile(r"(?i)(?P<keep>\b(?:password|passwd|token)\s*[=:]\s*)[^\s,;\"']+"),
]

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_configured = False


def register_secret(value: str | bytes | None) -> None:
    """Make sure this exact value never appears in a log line (tokens, keys read at run time)."""
    if not value:
        return
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    text = text.strip()
    if len(text) >= 6:  # shorter strings would scrub ordinary words
        with _secrets_lock:
            _secrets.add(text)


def contains_secret(text: str) -> bool:
    """True when the text holds a registered secret or something shaped like one."""
    return scrub(text) != text


def scrub(text: str) -> str:
    """Remove registered secrets and secret-shaped substrings from a string."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for shape in _SECRET_SHAPES:
        text = shape.sub(_mark, text)
    return text


def _mark(match: re.Match[str]) -> str:
    keep = match.groupdict().get("keep") or ""
    return keep + REDACTED


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key) and value not in (None, "", False) and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    if isinstance(value, BaseException):
        return scrub(f"{type(value).__name__}: {value}")
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the last line of defence against secrets in logs."""
    for key in list(event_dict):
        event_dict[key] = _redact_value(key, event_dict[key]) if key != "event" else scrub(str(event_dict[key]))
    return event_dict


def _want_json(fmt: str, stream: TextIO) -> bool:
    if fmt != "auto":
        return fmt == "json"
    return not (sys.stdout.isatty() and stream.isatty())


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog (and stdlib logging, for libraries) once per process."""
    global _configured
    stream = stream or sys.stderr
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if _want_json(fmt, stream)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Libraries (aiohttp, asyncio) log through stdlib logging: route warnings and up through the
    # same redaction, never their debug chatter (it may contain request headers).
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_arkouda_k8s", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
    handler._arkouda_k8s = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))
    _configured = True


class _ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def get_logger(component: str, **bound: Any) -> Any:
    """A logger for one component; configures defaults if nobody has yet (library use)."""
    if not _configured:
        configure()
    return structlog.get_logger().bind(component=component, **bound)
