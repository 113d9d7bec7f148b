"""What waiting for arkouda_server costs the registrar: % of one core, while nothing listens yet.

    .venv/bin/python benchmarks/waiting_cost.py [--seconds 3] [--out FILE]

The product's way (registrar.health.ZmqProbe.first_answer: one probe queued on a REQ socket that
libzmq reconnects every 2 ms, a fresh socket every 2 s) against the alternative it replaced: a TCP
connect from Python every 1, 2, 5 and 20 ms (asyncio.open_connection until the port opens). Each is
timed alone in this process, against a loopback port where nothing listens, over `--seconds` of wall
clock: CPU seconds (user + system, the process's rusage, libzmq's I/O thread included) / wall seconds.
How fast each notices the bind is register_ms's `bind_to_probe_received` (benchmarks/lifecycle.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # free now; nothing will listen on it during the run


async def tcp_poll(port: int, interval: float) -> None:
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(interval)
            continue
        writer.close()
        return


async def zmq_queued_probe(port: int) -> None:
    from arkouda_k8s.registrar.health import ZmqProbe

    await ZmqProbe("127.0.0.1", port, timeout=1.0).first_answer()


async def cpu_percent(wait: Callable[[], Awaitable[None]], seconds: float) -> float:
    started_cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wait(), seconds)
    wall = time.perf_counter() - started
    ended_cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ended_cpu.ru_utime - started_cpu.ru_utime) + (ended_cpu.ru_stime - started_cpu.ru_stime)
    return round(100.0 * cpu / wall, 2)


async def measure(seconds: float) -> dict[str, Any]:
    """{"zmq_queued_probe_2ms": %, "python_tcp_poll_1ms": %, …, "seconds": …} (% of one core)."""
    import arkouda_k8s.wire  # noqa: F401  (pyzmq and its context loaded before anything is timed)

    port = closed_port()
    found: dict[str, Any] = {"zmq_queued_probe_2ms": await cpu_percent(lambda: zmq_queued_probe(port), seconds)}
    for ms in (1, 2, 5, 20):
        found[f"python_tcp_poll_{ms}ms"] = await cpu_percent(lambda ms=ms: tcp_poll(port, ms / 1000), seconds)
    found["seconds"] = seconds
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    found = asyncio.run(measure(args.seconds))
    width = max(len(k) for k in found)
    print(f"{'waiting for the server, nothing listening'.ljust(width)}  % of one core")
    for key, value in found.items():
        if key != "seconds":
            print(f"{key.ljust(width)}  {value:>6.2f}")
    if args.out:
        args.out.write_text(json.dumps({"waiting_cpu_percent": found}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
