"""`arkouda-k8s resolve NAME`: print tcp://host:port, or the stage that failed (exit 1)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from arkouda_k8s.errors import ExitCode
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
    print(endpoint.url)
    return ExitCode.OK
