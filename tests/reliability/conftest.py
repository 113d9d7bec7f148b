"""The reliability suite's bookkeeping: every log line of every component is captured and scanned for the
secrets the suite created, and the counts are printed at the end of the session.

In-process components log through structlog, configured here for each test of this suite (the previous
configuration restored after it) at debug level into a sink that keeps every line and passes it on to
stderr, where pytest shows it for a failed test. Subprocesses write their output to files the tests
register (kit.remember_log). After each test both are scanned for every token, key and password in
kit.SECRETS and for things shaped like one; a line that holds one fails the test that produced it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from arkouda_k8s import logs

from .kit import LOG_FILES, SECRETS, STATS

# Shapes of a secret that got out, whoever's it is: a bearer header, a JWT, a PEM private key, a token query.
_SHAPES = [
    re.compile(r"Bearer\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"[?&](?:access_)?token=(?!\[REDACTED\])[^&\s\"']{6,}"),
]


class LogSink(io.StringIO):
    """Keeps every line written, and passes it on to the stderr of the moment (pytest's capture)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines.extend(complete)
        sys.stderr.write(text)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


SINK = LogSink()


def leaks_in(lines: list[str], where: str) -> list[str]:
    """Lines that hold a known secret or something shaped like one: `where: <the line, cut>`."""
    known = sorted(SECRETS, key=len, reverse=True)
    found = []
    for number, line in enumerate(lines, start=1):
        hit = next((s for s in known if s in line), None)
        shape = None if hit else next((p for p in _SHAPES if p.search(line)), None)
        if hit or shape:
            what = "a secret the suite created" if hit else f"something shaped like a secret ({shape.pattern[:30]}…)"  # type: ignore[union-attr]
            found.append(f"{where}:{number}: {what}: {line[:160]!r}")
    return found


def scan_files(paths: list[Path]) -> list[str]:
    found: list[str] = []
    for path in paths:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        STATS.log_lines += len(lines)
        found += leaks_in(lines, str(path))
    return found


@contextlib.contextmanager
def _logging_into_the_sink() -> Iterator[None]:
    """structlog (and stdlib logging) into SINK at debug level for one test; what was there before comes back."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logs.configure("debug", "json", stream=SINK)
    try:
        yield
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture(autouse=True)
def _no_secret_in_any_log(request: pytest.FixtureRequest) -> Iterator[None]:
    first_line, first_file = len(SINK.lines), len(LOG_FILES)
    STATS.cases += 1
    leaks_before = STATS.leaks
    with _logging_into_the_sink():
        yield
    if request.node.get_closest_marker("xfail") is not None:  # a known bug's leaks are counted apart
        STATS.known_leaks += STATS.leaks - leaks_before
        STATS.leaks = leaks_before
    lines = SINK.lines[first_line:]
    STATS.log_lines += len(lines)
    found = leaks_in(lines, "in-process log") + scan_files(LOG_FILES[first_file:])
    if found:
        STATS.leaks += len(found)
        pytest.fail("secrets in log lines:\n" + "\n".join(found[:20]), pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS.cases and not STATS.objects_checked:
        return  # no reliability test ran in this session
    write = terminalreporter.write_line
    terminalreporter.section("reliability")
    write(f"cases run            {STATS.cases}")
    write(f"faults injected      {STATS.faults}")
    write(f"objects checked      {STATS.objects_checked}")
    write(f"leaks found          {STATS.leaks}  (and {STATS.known_leaks} in tests of known bugs, marked xfail)")
    write(f"log lines scanned    {STATS.log_lines}  (for {len(SECRETS)} secrets the suite created)")
    write(f"processes inspected  {STATS.processes}  (/proc cmdline + environ)")
    for finding in STATS.findings:
        write(f"finding: {finding}")
    for table in STATS.tables:
        write("")
        for line in table.splitlines():
            write(line)
