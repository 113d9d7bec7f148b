"""Helpers of the stand-in tests: one ZMQ round trip written with pyzmq, exit statuses, normalisation."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import zmq

GOLDEN: dict[str, Any] = json.loads((Path(__file__).parent / "golden" / "server-2020.json").read_text())


def exchange(port: int, message: str | bytes, *, host: str = "127.0.0.1", timeout: float = 10.0) -> str:
    """Send one request on a fresh REQ socket (as the golden file was recorded) and return the reply."""
    context = zmq.Context()
    try:
        socket = context.socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        socket.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        try:
            socket.connect(f"tcp://{host}:{port}")
            socket.send(message.encode() if isinstance(message, str) else message)
            return socket.recv().decode()
        finally:
            socket.close(linger=0)
    finally:
        context.term()


def json_request(cmd: str, args: str = "", *, user: str = "u", token: str | None = "") -> str:
    """A request of the 2021+ client: the field order and `size` of the golden file's JSON request."""
    return json.dumps({"user": user, "token": token, "cmd": cmd, "format": "STRING", "args": args, "size": -1})


def json_exchange(port: int, cmd: str, args: str = "", **fields: Any) -> dict[str, Any]:
    reply = json.loads(exchange(port, json_request(cmd, args, **fields)))
    assert isinstance(reply, dict)
    return reply


def shell_status(returncode: int) -> int:
    """The exit status a shell (and Kubernetes) shows: Popen's -N (killed by signal N) is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def killed_by(returncode: int, sig: signal.Signals) -> bool:
    return returncode == -sig


_VOLATILE_CONFIG = re.compile(r'"(serverHostname|name|ServerPort|numPUs|maxTaskPar|physicalMemory)":("[^"]*"|\d+)')


def normalise(text: str, *, port: int | str) -> str:
    """Hide what differs from one machine and one run to the next (README of the golden file)."""
    text = _VOLATILE_CONFIG.sub(lambda m: f'"{m.group(1)}":<{m.group(1)}>', text)
    text = text.replace(f"tcp://*:{port}", "tcp://*:<port>")
    return re.sub(r"^\d+$", "<int>", text)


def normalise_log(line: str) -> str:
    """A line of the server's request log with times and memory figures hidden."""
    line = _VOLATILE_CONFIG.sub(lambda m: f'"{m.group(1)}":<{m.group(1)}>', line)
    line = re.sub(r"tcp://\*:\d+", "tcp://*:<port>", line)
    line = re.sub(r"\d+\.\d+(e[-+]?\d+)?", "<t>", line)
    return re.sub(r"(memory used after command = |repMsg:)\d+$", r"\1<int>", line)


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout:g} s"
        time.sleep(0.01)
