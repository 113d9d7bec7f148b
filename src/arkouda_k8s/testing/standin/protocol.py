"""What arkouda_server answers, server side, in both wire protocols (pure: no sockets here).

Plain (2020.7.7, recorded: ../arkouda-golden/server-2020.json): the request is split on the first
whitespace into command and arguments; `connect`, `disconnect`, `getconfig`, `getmemused`, `noop`
are answered, anything else (`ruok`, a JSON request, the empty string) is
`Error: unrecognized command: <the whole request>`; `shutdown` must be exactly those bytes.

JSON (2021.07+, arkouda-seed.md §4.2): `{"user","token","cmd","format","args"[,"size"]}` in,
`{"msg","msgType","msgFormat","user"}` out, laid out as Chapel's `%jt` writes records
(`{"key":value, "key":value}`); `ruok` → `imok`; unknown → ERROR `Unrecognized command: <cmd>`;
with --authenticate every request, shutdown included, needs the server's token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arkouda_k8s.testing.standin.knobs import Era

ZMQ_VERSION = "4.3.4"  # what the recorded 2020 server reported (the libzmq it was built with)
HDF5_VERSION = "1.10.8"
DISTRIBUTION = "domain(1,int(64),false)"
REGEX_MAX_CAPTURES = 20
INITIAL_MEMORY_USED = 3122  # bytes, as the recorded server's banner said

NO_TOKEN = "Error: access to arkouda requires a token"
WRONG_TOKEN = "Error: token {} does not match server token, check with server owner"


@dataclass(frozen=True)
class LocaleInfo:
    id: int
    name: str
    num_pus: int
    max_task_par: int
    physical_memory: int

    def config(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "numPUs": self.num_pus,
            "maxTaskPar": self.max_task_par,
            "physicalMemory": self.physical_memory,
        }


@dataclass
class ServerState:
    """Everything the replies depend on, and the counters they change."""

    era: Era
    port: int
    hostname: str
    locales: Sequence[LocaleInfo]
    version_plain: str
    version_json: str
    authenticate: bool = False
    token: str | None = None
    log_level: str = "INFO"
    requests: int = 0
    replies: int = 0
    memory_used: int = INITIAL_MEMORY_USED
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


@dataclass
class Outcome:
    reply: bytes
    shutdown: bool = False
    log: list[str] = field(default_factory=list)  # the server's own stdout lines for this request


# --- Chapel's JSON layout -------------------------------------------------------------------------


def chapel_json(value: Any) -> str:
    """JSON laid out as Chapel's `%jt` writes it: `{"a":1, "b":[{"c":"d"}]}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}:{chapel_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(chapel_json(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def get_config(state: ServerState, *, json_era: bool) -> dict[str, Any]:
    zero = state.locales[0]
    config: dict[str, Any] = {
        "arkoudaVersion": state.version_json if json_era else state.version_plain,
        "ZMQVersion": ZMQ_VERSION,
        "HDF5Version": HDF5_VERSION,
        "serverHostname": state.hostname,
        "ServerPort": state.port,
        "numLocales": len(state.locales),
        "numPUs": zero.num_pus,
        "maxTaskPar": zero.max_task_par,
        "physicalMemory": zero.physical_memory,
        "distributionType": DISTRIBUTION,
        "LocaleConfigs": [locale.config() for locale in state.locales],
    }
    if json_era:
        config.update(
            {
                "authenticate": state.authenticate,
                "logLevel": state.log_level,
                "regexMaxCaptures": REGEX_MAX_CAPTURES,
                "byteorder": "little",
            }
        )
    return config


# --- one request ----------------------------------------------------------------------------------


def looks_like_json(raw: bytes) -> bool:
    """Detection for the `both` era: a JSON object with a `cmd` is a 2021+ request."""
    text = raw.split(b"BINARY_PAYLOAD", 1)[0].lstrip()
    if not text.startswith(b"{"):
        return False
    try:
        request = json.loads(text)
    except ValueError:
        return False
    return isinstance(request, dict) and "cmd" in request


def handle(state: ServerState, raw: bytes) -> Outcome:
    """The reply to one request, and whether it was a shutdown."""
    state.requests += 1
    use_json = state.era is Era.JSON or (state.era is Era.BOTH and looks_like_json(raw))
    outcome = _handle_json(state, raw) if use_json else _handle_plain(state, raw)
    state.replies += 1
    return outcome


def _handle_plain(state: ServerState, raw: bytes) -> Outcome:
    text = raw.decode("utf-8", errors="replace")
    words = text.split(maxsplit=1)
    cmd = words[0] if words else ""
    started = state.elapsed()
    log = [f"reqMsg: {text}", f">>> {cmd} started at {started:.17g} sec"]
    if state.authenticate and state.era is Era.BOTH:
        # The 2021+ server's rule on the wire that cannot carry a token: nothing gets through.
        reply = NO_TOKEN
    elif raw == b"shutdown":
        log.append(f"requests = {state.requests} responseCount = {state.replies + 1} elapsed sec = {started:.6g}")
        return Outcome(f"shutdown server ({state.replies + 1} req)".encode(), shutdown=True, log=log)
    else:
        answer = _PLAIN.get(cmd)
        reply = answer(state) if answer else f"Error: unrecognized command: {text}"
    state.memory_used = INITIAL_MEMORY_USED + 24 * min(state.requests, 160)
    log += [
        f"repMsg:{reply}",
        f"bytes of memory used after command = {state.memory_used}",
        f"<<< {cmd} took {state.elapsed() - started:.17g} sec",
    ]
    return Outcome(reply.encode(), log=log)


_PLAIN: dict[str, Callable[[ServerState], str]] = {
    "connect": lambda s: f"connected to arkouda server tcp://*:{s.port}",
    "disconnect": lambda s: f"disconnected from arkouda server tcp://*:{s.port}",
    "getconfig": lambda s: chapel_json(get_config(s, json_era=False)),
    "getmemused": lambda s: str(s.memory_used),
    "noop": lambda _s: "noop",
}


def json_reply(msg: str, msg_type: str, user: str) -> bytes:
    return chapel_json({"msg": msg, "msgType": msg_type, "msgFormat": "STRING", "user": user}).encode()


def _handle_json(state: ServerState, raw: bytes) -> Outcome:
    text = raw.split(b"BINARY_PAYLOAD", 1)[0].decode("utf-8", errors="replace")
    try:
        request = json.loads(text)
        if not isinstance(request, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        # The 2021 server fails to read the record; it answers with the reader's error, user unknown.
        message = f"bad request: not a JSON request record: {text[:80]!r}"
        return Outcome(json_reply(message, "ERROR", ""), log=[f"ERROR {message}"])
    user = str(request.get("user", ""))
    token = request.get("token")
    cmd = str(request.get("cmd", ""))
    args = str(request.get("args", ""))
    log = [f'>>> "{cmd}" "{args}"' if cmd != "array" else f">>> {cmd} [binary data]"]
    if state.authenticate:
        refused = _authenticate(state, token)
        if refused:
            log.append(f"<<< {cmd} resulted in error {refused}")
            return Outcome(json_reply(refused, "ERROR", user), log=log)
    if cmd == "shutdown":
        log.append(f"<<< shutdown initiated by {user}")
        log.append(
            f"requests = {state.requests} responseCount = {state.replies + 1} elapsed sec = {state.elapsed():.6g}"
        )
        return Outcome(json_reply(f"shutdown server ({state.replies + 1} req)", "NORMAL", user), shutdown=True, log=log)
    answer = _JSON.get(cmd)
    if answer is None:
        message = f"Unrecognized command: {cmd}"
        log.append(f"<<< {cmd} resulted in error {message}")
        return Outcome(json_reply(message, "ERROR", user), log=log)
    log.append(f"<<< {cmd}")
    return Outcome(json_reply(answer(state, user, token), "NORMAL", user), log=log)


def _authenticate(state: ServerState, token: object) -> str | None:
    if token is None or token in ("None", ""):
        return NO_TOKEN
    if token != state.token:
        return WRONG_TOKEN.format(token)
    return None


def _connect(state: ServerState, user: str, token: object) -> str:
    if state.authenticate:
        return f"connected to arkouda server tcp://*:{state.port} as user {user} with token {token}"
    return f"connected to arkouda server tcp://*:{state.port}"


_JSON: dict[str, Callable[[ServerState, str, object], str]] = {
    "connect": _connect,
    "disconnect": lambda s, _u, _t: f"disconnected from arkouda server tcp://*:{s.port}",
    "getconfig": lambda s, _u, _t: chapel_json(get_config(s, json_era=True)),
    "getmemused": lambda s, _u, _t: str(s.memory_used),
    "noop": lambda _s, _u, _t: "noop",
    "ruok": lambda _s, _u, _t: "imok",
}


def handle_metrics(port: int, raw: bytes) -> bytes:
    """The metrics daemon's socket (--ServerDaemon.daemonTypes=…METRICS): JSON only, `connect` answered."""
    try:
        request = json.loads(raw.decode("utf-8", errors="replace"))
        cmd = str(request.get("cmd", "")) if isinstance(request, dict) else ""
        user = str(request.get("user", "")) if isinstance(request, dict) else ""
    except ValueError:
        cmd, user = "", ""
    if cmd == "connect":
        return json_reply(f"connected to arkouda metrics server tcp://*:{port}", "NORMAL", user)
    return json_reply(f"Unrecognized command: {cmd}", "ERROR", user)
