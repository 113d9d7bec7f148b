"""Median and p95 of a set of samples, and how a figure is written into results.json."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    median: float
    p95: float
    runs: int

    def as_json(self, rtt_ms: float | None = None, digits: int = 3) -> dict[str, Any]:
        """{"median", "p95", "runs"} and, given the RTT of this run, "ratio_to_rtt" (of the medians)."""
        out: dict[str, Any] = {"median": round(self.median, digits), "p95": round(self.p95, digits), "runs": self.runs}
        if rtt_ms:
            out["ratio_to_rtt"] = round(self.median / rtt_ms, 2)
        return out


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default method)."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        raise ValueError("summarize: no samples (did every run fail?)")
    return Summary(statistics.median(samples), percentile(samples, 95), len(samples))
