"""`arkouda-k8s demo`: the whole lifecycle in one command, and nothing left behind — also after Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from arkouda_k8s.testing.loopback import openssh_problem
from arkouda_k8s.testing.pytest_plugin import require_component

MOMENTS = [
    "API emulator serving",
    "server pod",
    "locale pods Ready",
    "published",
    "connected with the arkouda client",
    "SIGTERM to the server",
]


def _demo(tmp: Path) -> subprocess.Popen[str]:
    require_component("sshd", openssh_problem())
    env = {**os.environ, "TMPDIR": str(tmp)}  # everything the demo (and its pods) writes goes there
    return subprocess.Popen(
        [sys.executable, "-m", "arkouda_k8s", "demo", "--locales", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=env,
    )


def _leftovers(tmp: Path, output: str) -> dict[str, object]:
    """What the demo could have left: processes tied to its TMPDIR, listeners on its addresses, files."""
    processes = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + " ".join(f"{k}={v}" for k, v in proc.environ().items())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if str(tmp) in text and proc.pid != os.getpid():
            processes.append((proc.pid, " ".join(proc.info["cmdline"] or [])[:120]))
    addresses = set(re.findall(r"\b(127\.\d+\.\d+\.\d+)\b", output))
    ports = {int(p) for p in re.findall(r"https://127\.0\.0\.1:(\d+)", output)}
    listening = [
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN
        and (c.laddr.ip in addresses - {"127.0.0.1"} or (c.laddr.ip == "127.0.0.1" and c.laddr.port in ports))
    ]
    files = sorted(p.name for p in tmp.iterdir())
    return {k: v for k, v in {"processes": processes, "listening": listening, "files": files}.items() if v}


def _settled(tmp: Path, output: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while (left := _leftovers(tmp, output)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_demo_runs_the_lifecycle_and_shows_the_endpoint_and_num_locales(tmp_path: Path) -> None:
    demo = _demo(tmp_path)
    out, _ = demo.communicate(timeout=120)
    assert demo.returncode == 0, out
    assert re.search(r"published: tcp://127\.\d+\.\d+\.\d+:\d+", out), out
    assert "numLocales=3" in out
    assert 'arkouda_k8s.connect("arkouda")' in out
    withdrawn = [line for line in out.splitlines() if "withdrawn" in line][-1]
    assert "exited with 0" in withdrawn and "no Service, no EndpointSlice" in withdrawn
    assert _settled(tmp_path, out) == {}


@pytest.mark.parametrize("moment", MOMENTS)
def test_ctrl_c_at_any_moment_leaves_nothing(tmp_path: Path, moment: str) -> None:
    demo = _demo(tmp_path)
    assert demo.stdout is not None
    seen = []
    for line in demo.stdout:
        seen.append(line)
        if moment in line:
            break
    else:
        pytest.fail("the demo ended before " + moment + ":\n" + "".join(seen))
    os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole foreground group
    rest, _ = demo.communicate(timeout=60)
    output = "".join(seen) + rest
    assert demo.returncode in (0, 130), output
    assert _settled(tmp_path, output) == {}
