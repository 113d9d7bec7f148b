"""`arkouda-k8s resolve NAME`: print tcp://host:port, or the stage that failed (exit 1).

With --mode port-forward the address is a local port forwarded to the server pod, and the command
keeps forwarding (like kubectl port-forward) until SIGINT or SIGTERM, then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading

from arkouda_k8s.errors import ExitCode
from arkouda_k8s.resolver import portforward
from arkouda_k8s.resolver.api import aresolve
from arkouda_k8s.resolver.errors import ResolveError
from arkouda_k8s.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    wait = args.wait > 0
    try:
        endpoint = asyncio.run(
            aresolve(
                args.name,
                settings.namespace,
                timeout=args.wait if wait else 10.0,
                wait=wait,
                mode=args.mode,
                settings=settings,
            )
        )
    except ResolveError as failed:
        print(f"arkouda-k8s resolve: {failed}", file=sys.stderr)
        return ExitCode.FAILURE
    print(endpoint.url, flush=True)
    if args.mode == "port-forward":
        print(f"forwarding to {endpoint.source}; Ctrl-C to stop", file=sys.stderr, flush=True)
        _until_stopped()
        portforward.close_all()
    return ExitCode.OK


def _until_stopped() -> None:
    """Block until SIGINT or SIGTERM (the forwarder serves on its own thread meanwhile)."""
    stopped = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopped.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopped.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
