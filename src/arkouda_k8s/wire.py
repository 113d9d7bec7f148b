"""The arkouda ZMQ wire, client side: both protocols, the readiness probe, `shutdown`.

Two protocols share one transport (a ZMQ REQ socket, one request, one reply):
- PLAIN ("2020", arkouda 2020.7.7): the request is `"<cmd> <args>"`; the reply is the message
  itself, an error when it starts with `Error:`. No user, no token.
- JSON ("2021", arkouda 2021.07 and later): the request is `{"user","token","cmd","format",
  "args","size"}`; the reply is `{"msg","msgType":"NORMAL|WARNING|ERROR","msgFormat","user"}`.
They do not interoperate: a 2020 server answers a JSON request with
`Error: unrecognized command: {...`, which still proves it is alive and tells its protocol — that
is how `probe` works against both eras with one round trip.

Every round trip uses a fresh REQ socket with LINGER 0, closed afterwards whatever happened: a
REQ socket that timed out waiting for its reply is wedged for good (it may not send again).
pyzmq is imported here, never by `import arkouda_k8s`; importing this module is what loads it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import json
import os
import re
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import zmq
import zmq.asyncio

from arkouda_k8s.errors import ArkoudaK8sError

__all__ = [
    "ProbeResult",
    "Protocol",
    "ProtocolError",
    "Refused",
    "Rejected",
    "ServerError",
    "Timeout",
    "WireError",
    "probe",
    "probe_sync",
    "request",
    "request_sync",
    "shutdown",
    "shutdown_sync",
]

T = TypeVar("T")
DEFAULT_USER = "arkouda-k8s"
REDACTED = "[REDACTED]"

# The authentication errors of arkouda_server (2021+), word for word.
_AUTH_ERRORS = (
    re.compile(r"^Error: access to arkouda requires a token"),
    re.compile(r"^Error: token .* does not match server token"),
)
_PLAIN_UNRECOGNIZED = "Error: unrecognized command: "


class Protocol(StrEnum):
    """Which wire an arkouda_server speaks."""

    PLAIN = "2020"  # plain strings (arkouda 2020.7.7)
    JSON = "2021"  # JSON requests and replies (arkouda 2021.07 and later)


class WireError(ArkoudaK8sError):
    """A round trip to arkouda_server did not give the expected answer."""


class Timeout(WireError, TimeoutError):
    """No reply before the deadline: nothing listens, or the server is busy or hung."""


class Rejected(WireError):
    """The server answered with an authentication error (its own text, the token redacted): it is alive."""

    def __init__(self, message: str, *, protocol: Protocol) -> None:
        super().__init__(message)
        self.protocol = protocol


Refused = Rejected  # the same thing, by the other name callers reach for


class ServerError(WireError):
    """The server answered with an error (an ERROR reply, or a plain reply starting with `Error:`)."""

    def __init__(self, message: str, *, protocol: Protocol) -> None:
        super().__init__(message)
        self.protocol = protocol


class ProtocolError(WireError):
    """The reply is not what the protocol asked for says it should be (e.g. a plain reply to JSON)."""


@dataclass(frozen=True)
class ProbeResult:
    protocol: Protocol
    config: dict[str, Any] | None  # getconfig's answer, when it could be fetched within the deadline
    elapsed_ms: float  # the whole probe


# --- the transport --------------------------------------------------------------------------------

_context: zmq.asyncio.Context | None = None
_context_pid = 0
_context_lock = threading.Lock()


def _shared_context() -> zmq.asyncio.Context:
    """One context per process; a forked child makes its own (a ZMQ context does not survive fork)."""
    global _context, _context_pid
    with _context_lock:
        if _context is None or _context_pid != os.getpid():
            _context = zmq.asyncio.Context()
            _context_pid = os.getpid()
        return _context


def endpoint(host: str, port: int) -> str:
    """`tcp://host:port`, with IPv6 addresses in brackets."""
    try:
        is_v6 = ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        is_v6 = False
    return f"tcp://[{host.strip('[]')}]:{port}" if is_v6 else f"tcp://{host}:{port}"


async def _round_trip(
    host: str, port: int, message: str, *, deadline: float, timeout: float, what: str, reconnect: float | None = None
) -> str:
    """Send one request on a fresh REQ socket and return the reply; the socket is always closed.

    `reconnect` (seconds): how often libzmq retries a refused connection while the request waits
    (default: libzmq's 100 ms); the request leaves the moment the server binds its port.
    """
    loop = asyncio.get_running_loop()
    address = endpoint(host, port)
    socket = _shared_context().socket(zmq.REQ)
    try:
        socket.setsockopt(zmq.LINGER, 0)
        if reconnect is not None:
            socket.setsockopt(zmq.RECONNECT_IVL, max(1, round(reconnect * 1000)))
            socket.setsockopt(zmq.RECONNECT_IVL_MAX, 0)  # no backoff: the same interval every time
        if address.startswith("tcp://["):
            socket.setsockopt(zmq.IPV6, 1)
        try:
            socket.connect(address)
        except zmq.ZMQError as failed:
            raise WireError(f"cannot connect to arkouda_server at {address}: {failed}") from None
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise Timeout(f"no reply from arkouda_server at {host}:{port} to {what} within {timeout:g} s")
        try:
            async with asyncio.timeout(remaining):
                await socket.send_string(message)
                frames = await socket.recv_multipart()
        except TimeoutError:
            raise Timeout(
                f"no reply from arkouda_server at {host}:{port} to {what} within {timeout:g} s: "
                "is it running, listening on that port and reachable from here?"
            ) from None
        except zmq.ZMQError as failed:
            raise WireError(f"{what} to arkouda_server at {address} failed: {failed}") from None
    finally:
        socket.close(linger=0)
    return b"".join(frames).decode("utf-8", errors="replace")


# --- the two protocols ------------------------------------------------------------------------------


def json_request(cmd: str, args: str = "", *, token: str | None = None, user: str = DEFAULT_USER) -> str:
    """A 2021+ request, as the arkouda client builds it (token and args as "" when absent)."""
    return json.dumps(
        {"user": user, "token": token or "", "cmd": cmd, "format": "STRING", "args": args or "", "size": -1}
    )


def plain_request(cmd: str, args: str = "") -> str:
    """A 2020 request: `cmd` alone (the 2020 server matches `shutdown` byte for byte) or `cmd args`."""
    return f"{cmd} {args}" if args else cmd


def parse_json_reply(text: str) -> dict[str, Any] | None:
    """The reply record of a 2021+ server, or None when the text is not one (a plain reply)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        reply = json.loads(text)
    except ValueError:
        return None
    if isinstance(reply, dict) and "msg" in reply and "msgType" in reply:
        return reply
    return None


def is_auth_error(message: str) -> bool:
    return any(pattern.match(message) for pattern in _AUTH_ERRORS)


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, REDACTED) if token else text


def _check(message: str, failed: bool, *, protocol: Protocol, token: str | None, cmd: str) -> str:
    if not failed:
        return message
    shown = _redact(message, token)
    if is_auth_error(message):
        raise Rejected(f"arkouda_server refused {cmd!r}: {shown}", protocol=protocol)
    raise ServerError(f"arkouda_server answered {cmd!r} with an error: {shown}", protocol=protocol)


def _read_reply(text: str, *, protocol: Protocol, token: str | None, cmd: str) -> str:
    reply = parse_json_reply(text)
    if protocol is Protocol.JSON:
        if reply is None:
            raise ProtocolError(
                f"arkouda_server answered {cmd!r} in plain text, not JSON: {_redact(text, token)[:200]!r} "
                "(a 2020 server? use protocol=Protocol.PLAIN)"
            )
        return _check(str(reply["msg"]), reply["msgType"] == "ERROR", protocol=protocol, token=token, cmd=cmd)
    if reply is not None:  # a JSON server refusing a plain request
        raise ServerError(
            f"arkouda_server answered {cmd!r} in JSON (a 2021+ server? use protocol=Protocol.JSON): "
            f"{_redact(str(reply['msg']), token)}",
            protocol=Protocol.JSON,
        )
    return _check(text, text.startswith("Error:"), protocol=protocol, token=token, cmd=cmd)


# --- the public calls ---------------------------------------------------------------------------------


async def request(
    host: str,
    port: int,
    cmd: str,
    args: str = "",
    *,
    protocol: Protocol,
    timeout: float,
    token: str | None = None,
    user: str = DEFAULT_USER,
) -> str:
    """Send one command and return the reply's message; Rejected / ServerError on an error reply."""
    loop = asyncio.get_running_loop()
    protocol = Protocol(protocol)
    message = json_request(cmd, args, token=token, user=user) if protocol is Protocol.JSON else plain_request(cmd, args)
    text = await _round_trip(host, port, message, deadline=loop.time() + timeout, timeout=timeout, what=repr(cmd))
    return _read_reply(text, protocol=protocol, token=token, cmd=cmd)


async def shutdown(host: str, port: int, *, protocol: Protocol, timeout: float, token: str | None = None) -> str:
    """Ask the server to stop; returns its answer, e.g. `shutdown server (12 req)`."""
    return await request(host, port, "shutdown", protocol=protocol, timeout=timeout, token=token)


async def probe(
    host: str, port: int, *, timeout: float, token: str | None = None, reconnect: float | None = None
) -> ProbeResult:
    """Is arkouda_server answering, and in which protocol? One JSON `getconfig` round trip tells both.

    A 2021+ server answers it (config included); a 2020 server calls it an unrecognized command,
    which proves it alive, and a plain `getconfig` then fetches the config if the deadline allows.
    Raises Timeout when nothing answered within `timeout` seconds, Rejected on an authentication
    error (the server is alive but wants a token). `reconnect`: see _round_trip (a server not bound yet).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout
    text = await _round_trip(
        host,
        port,
        json_request("getconfig", token=token),
        deadline=deadline,
        timeout=timeout,
        what="a probe",
        reconnect=reconnect,
    )
    reply = parse_json_reply(text)
    if reply is not None:
        message = str(reply["msg"])
        _refuse_if_auth_error(message, protocol=Protocol.JSON, token=token)
        config = None if reply["msgType"] == "ERROR" else _config(message)
        return ProbeResult(Protocol.JSON, config, (loop.time() - started) * 1000)
    # Any plain answer proves a 2020 server alive; only an authentication error is worth raising.
    _refuse_if_auth_error(text, protocol=Protocol.PLAIN, token=token)
    try:
        plain = await _round_trip(
            host, port, "getconfig", deadline=deadline, timeout=timeout, what="getconfig (2020 protocol)"
        )
    except Timeout:
        plain = ""  # it answered once: alive; the config is only a bonus
    _refuse_if_auth_error(plain, protocol=Protocol.PLAIN, token=token)
    return ProbeResult(Protocol.PLAIN, _config(plain), (loop.time() - started) * 1000)


def _refuse_if_auth_error(message: str, *, protocol: Protocol, token: str | None) -> None:
    if is_auth_error(message):
        raise Rejected(f"arkouda_server refused the probe: {_redact(message, token)}", protocol=protocol)


def _config(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- the thin synchronous face ----------------------------------------------------------------------


def _run_sync(work: Coroutine[Any, Any, T]) -> T:
    """Run the coroutine to completion; on a helper thread when this thread already runs a loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="arkouda-k8s-wire") as pool:
        return pool.submit(asyncio.run, work).result()


def probe_sync(host: str, port: int, *, timeout: float, token: str | None = None) -> ProbeResult:
    return _run_sync(probe(host, port, timeout=timeout, token=token))


def request_sync(
    host: str,
    port: int,
    cmd: str,
    args: str = "",
    *,
    protocol: Protocol,
    timeout: float,
    token: str | None = None,
    user: str = DEFAULT_USER,
) -> str:
    return _run_sync(request(host, port, cmd, args, protocol=protocol, timeout=timeout, token=token, user=user))


def shutdown_sync(host: str, port: int, *, protocol: Protocol, timeout: float, token: str | None = None) -> str:
    return _run_sync(shutdown(host, port, protocol=protocol, timeout=timeout, token=token))
