#!/usr/bin/env python3
"""arkouda-healthcheck: exit 0 when arkouda_server in this container answers one request, else 1.

The server images run it as their HEALTHCHECK, and the full-stack start script uses it to wait for
the server. It sends one `getconfig` request in the 2021+ JSON form on a fresh ZMQ REQ socket and
takes *any* reply as proof of life: a 2021+ server answers it, a 2020 server answers "Error:
unrecognized command", and a server started with --authenticate answers with an authentication
error. A fresh socket every time, with a deadline, because a REQ socket that timed out stays wedged.

The port is the one arkouda-k8s launches the server on (EXTERNAL_SERVICE_TARGET_PORT, else 5555);
the host is this container's loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import zmq

REQUEST = json.dumps(
    {"user": "arkouda-healthcheck", "token": "", "cmd": "getconfig", "format": "STRING", "args": "", "size": -1}
)


def default_port() -> int:
    value = os.environ.get("EXTERNAL_SERVICE_TARGET_PORT")
    return int(value) if value else 5555


def ask(host: str, port: int, timeout: float) -> str:
    """One request and its reply; raises zmq.ZMQError (zmq.Again on the deadline)."""
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    try:
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        socket.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        socket.connect(f"tcp://{host}:{port}")
        socket.send_string(REQUEST)
        return socket.recv().decode("utf-8", errors="replace")
    finally:
        socket.close()
        context.term()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="arkouda-healthcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address of arkouda_server (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: the server port from the environment)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("ARKOUDA_HEALTHCHECK_TIMEOUT") or 3),
        help="seconds to wait for the reply [env: ARKOUDA_HEALTHCHECK_TIMEOUT] (default: 3)",
    )
    args = parser.parse_args(argv)
    port = default_port() if args.port is None else args.port
    try:
        reply = ask(args.host, port, args.timeout)
    except zmq.ZMQError as error:
        where = f"{args.host}:{port}"
        print(
            f"arkouda-healthcheck: arkouda_server at {where} gave no answer in {args.timeout:g} s: {error}",
            file=sys.stderr,
        )
        return 1
    print(f"arkouda-healthcheck: arkouda_server at {args.host}:{port} answered ({len(reply)} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
