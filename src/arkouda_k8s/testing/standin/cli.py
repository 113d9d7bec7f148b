"""`arkouda-server-standin`: started exactly as the entrypoints start the real `arkouda_server`.

    arkouda-server-standin -nl 3 --ServerPort=5555 --memTrack=true --authenticate=false \
        --logLevel=LogLevel.INFO

The command line is the real one (args.py); the test knobs are ARKOUDA_STANDIN_* environment
variables (knobs.py). Exit status, as the real process's: 0 after `shutdown`; 1 for a bad flag
(Chapel's message on stderr) or a port that cannot be bound; 143 / 130 (death by SIGTERM / SIGINT)
when signalled or when a locale's ssh fails; 134 (abort) with too few GASNet hosts; 2 for a bad
test knob (the stand-in's own error, naming the variable).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from arkouda_k8s.testing.standin.args import ChapelArgError, help_text, parse_args
from arkouda_k8s.testing.standin.knobs import KnobError, load


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
    except ChapelArgError as bad:
        print(bad, file=sys.stderr, flush=True)
        return 1
    if args.help:
        print(help_text(Path(sys.argv[0]).name or "arkouda_server"), end="", flush=True)
        return 0
    try:
        knobs = load()
    except KnobError as bad:
        print(f"arkouda-server-standin: {bad}", file=sys.stderr, flush=True)
        return 2
    # pyzmq loads here, not when the plugin or the package is imported.
    from arkouda_k8s.testing.standin.server import Server, die

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    ending = asyncio.run(Server(args, knobs, argv).run())
    return die(ending)
