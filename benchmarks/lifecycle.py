"""The registrar's life, run by run: publish (registration.py), then SIGTERM (withdrawal.py).

One run gives one sample of register_ms, withdraw_ms and stop_ms; `--only registration` or
`--only withdrawal` run the same loop and report their own figures.

Where the time goes, from the registrar's own log lines (their timestamps, against the benchmark's
clock; medians over the runs, in `breakdown_ms`):
- registration: bind → the stand-in received the registrar's first probe (its trace line `>>> …`:
  the registrar's probe waits queued on a ZMQ socket that libzmq reconnects every 2 ms), → `server_answering`
  (the reply came back and was logged), → `published` (the EndpointSlice create answered), → seen by
  the watcher;
- withdrawal: SIGTERM → `signal_received` (the handler ran in the registrar's loop), → the slice seen
  gone; stop: `withdrawn` (every object taken back) → the process's exit.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from benchmarks.harness import Session
from benchmarks.processes import wall
from benchmarks.registration import SERVICE, Publication, ServiceWatchers, publish
from benchmarks.stats import summarize
from benchmarks.withdrawal import Withdrawal, withdraw

STAGES = {
    "register_ms": (
        "bind_to_probe_received",
        "probe_received_to_server_answering",
        "server_answering_to_published",
        "published_to_seen",
    ),
    "withdraw_ms": ("sigterm_to_signal_received", "signal_received_to_gone_seen"),
    "stop_ms": ("sigterm_to_withdrawn", "withdrawn_to_exit"),
}


def stages(publication: Publication, withdrawal: Withdrawal) -> dict[str, float]:
    """Milliseconds of each stage of one run, for the stages whose log line was found."""
    events = publication.registrar.events()
    bound, seen = wall(publication.bound), wall(publication.seen)
    signalled, gone, exited = wall(withdrawal.signalled), wall(withdrawal.gone), wall(withdrawal.exited)
    probed = next((at for at, line in publication.standin.lines if line.startswith(">>>")), None)
    marks = {
        "bind": bound,
        "probe_received": wall(probed) if probed is not None else None,
        "server_answering": events.get("server_answering"),
        "published": events.get("published"),
        "seen": seen,
        "sigterm": signalled,
        "signal_received": events.get("signal_received"),
        "gone_seen": gone,
        "withdrawn": events.get("withdrawn"),
        "exit": exited,
    }
    out = {}
    for names in STAGES.values():
        for name in names:
            start, _, end = name.partition("_to_")
            began, ended = marks.get(start), marks.get(end)
            if began is not None and ended is not None:
                out[name] = (ended - began) * 1000
    return out


async def run(session: Session) -> dict[str, Any]:
    watchers = await ServiceWatchers.open(session, SERVICE)
    register, withdrawn, stopped = [], [], []
    parts: dict[str, list[float]] = defaultdict(list)
    try:
        for i in range(session.runs):
            await watchers.until_clean()
            publication = await publish(session, watchers, user="registrar", label=f"lifecycle-{i:02d}")
            try:
                withdrawal = await withdraw(watchers, publication)
            finally:
                await publication.close()
            register.append(publication.register_ms)
            withdrawn.append(withdrawal.withdraw_ms)
            stopped.append(withdrawal.stop_ms)
            for name, ms in stages(publication, withdrawal).items():
                parts[name].append(ms)
    finally:
        await watchers.stop()
    results = {
        "register_ms": session.timing(summarize(register)),
        "withdraw_ms": session.timing(summarize(withdrawn)),
        "stop_ms": session.timing(summarize(stopped)),
    }
    for key, names in STAGES.items():
        results[key]["breakdown_ms"] = {n: round(statistics.median(parts[n]), 2) for n in names if parts.get(n)}
    return results
