"""One updating progress line while waiting: on a terminal or in a notebook, never on a pipe."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.width = 0

    @classmethod
    def for_current_output(cls) -> ProgressLine:
        stream = sys.stderr
        in_notebook = "ipykernel" in sys.modules
        return cls(stream if in_notebook or stream.isatty() else None)

    def update(self, text: str) -> None:
        if self.stream is None:
            return
        line = f"[{time.monotonic() - self.started:5.1f} s] {text}"[:200]
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def done(self) -> None:
        if self.stream is not None and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
