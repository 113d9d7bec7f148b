"""One locale of the stand-in: the process the spawner starts on each host (through ssh, or locally).

    python -m arkouda_k8s.testing.standin.locale --rank=1 --host=127.0.5.2 --master=127.0.0.1:41234 \
        [the server's own arguments] -E NAME=value -E NAME=value …

It connects back to the server (GASNET_MASTERIP, like a GASNet worker), says who it is in one JSON
line, then lives until the server closes that connection — the server's exit, whatever its cause,
ends every locale. If it dies, the server sees it (its ssh fails, its connection closes) and stops.

What it received is inspectable: the `-E NAME=value` arguments (the launcher's copy of the
server's environment, exactly what the real GASNet launcher puts on the remote command line) are
in this process's argv (`ps`, /proc/<pid>/cmdline), and are sent to the server in the hello, which
writes them to ARKOUDA_STANDIN_RECORD.

Its name is the host as seen here: the address sshd accepted the connection on (SSH_CONNECTION),
read before the `-E` variables are applied (they are the server's, not this host's); started
without ssh, the host name. Only the standard library is imported: it starts fast on every host.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Sequence

XSOCKET = (
    "*** FATAL ERROR: Got an xSocket while spawning slave process: "
    "connect() failed while creating a connect socket ({errno}:{reason})"
)


def parse(argv: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(our options: rank, host, master; the -E environment). Other arguments are the server's: ignored."""
    options: dict[str, str] = {}
    env: dict[str, str] = {}
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-E" and i + 1 < len(args):
            name, _, value = args[i + 1].partition("=")
            env[name] = value
            i += 1
        elif arg.startswith("--") and arg[2:].partition("=")[0] in ("rank", "host", "master"):
            name, _, value = arg[2:].partition("=")
            options[name] = value
        i += 1
    return options, env


def locale_name() -> str:
    seen = os.environ.get("SSH_CONNECTION", "").split()
    if len(seen) == 4:
        return seen[2]
    return os.environ.get("ARKOUDA_STANDIN_HOSTNAME") or socket.gethostname()


def resources() -> dict[str, int]:
    try:
        pus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pus = os.cpu_count() or 1
    threads = os.environ.get("CHPL_RT_NUM_THREADS_PER_LOCALE", "")
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {"numPUs": pus, "maxTaskPar": int(threads) if threads.isdigit() else pus, "physicalMemory": memory}


def main(argv: Sequence[str] | None = None) -> int:
    name = locale_name()  # before -E: SSH_CONNECTION must be this host's, not the server's
    options, env = parse(sys.argv[1:] if argv is None else argv)
    os.environ.update(env)  # like the Chapel runtime does with -E
    host, _, port = options.get("master", "").rpartition(":")
    try:
        connection = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
    except (OSError, ValueError) as failed:
        errno = getattr(failed, "errno", None) or 0
        print(XSOCKET.format(errno=errno, reason=getattr(failed, "strerror", None) or failed), file=sys.stderr)
        sys.stderr.flush()
        return 1
    hello = {
        "rank": int(options.get("rank", "-1")),
        "host": options.get("host", ""),
        "name": name,
        "pid": os.getpid(),
        "argv": list(sys.argv),
        "env": env,
        **resources(),
    }
    with connection:
        connection.settimeout(None)
        connection.sendall(json.dumps(hello).encode() + b"\n")
        while True:  # until the server closes the connection (its exit, whatever the cause)
            try:
                if not connection.recv(4096):
                    return 0
            except OSError:
                return 0


if __name__ == "__main__":
    sys.exit(main())
