"""The printed table: figure, median, p95, ratio to RTT, goal, met? — built from results.json's content.

A goal is judged on the median (discovery's request count on the worst run: "≤ 3 requests for any N");
a goal missed says by how much ("NO ×2.4": the median is 2.4 times the goal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class Goal:
    text: str
    limit: Callable[[float], float]  # the RTT of this run → the largest value that meets the goal


def times_rtt(factor: float) -> Goal:
    return Goal(f"≤ {factor:g}×RTT", lambda rtt: factor * rtt)


def at_most(value: float, unit: str) -> Goal:
    return Goal(f"≤ {value:g} {unit}".rstrip(), lambda _rtt: value)


GOALS: dict[str, Goal] = {
    "register_ms": times_rtt(3),
    "withdraw_ms": times_rtt(2),
    "stop_ms": at_most(2000, "ms"),
    "after_last_ready_ms": at_most(50, "ms"),
    "requests": at_most(3, ""),
    "resolve_cold_ms": times_rtt(3),
    "resolve_warm_ms": at_most(1, "ms"),
    "import_ms": at_most(100, "ms"),
    "idle_rss_mb": at_most(60, "MB"),
    "idle_requests_per_min": at_most(1, "/min"),
}


@dataclass(frozen=True)
class Row:
    figure: str
    median: str
    p95: str
    ratio: str
    goal: str
    met: str


def number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def judge(goal: Goal | None, value: float | None, rtt: float | None) -> tuple[str, str]:
    if goal is None:
        return "—", ""
    limit = goal.limit(rtt or 0.0)
    text = goal.text + (f" = {number(limit)}" if "RTT" in goal.text and rtt else "")
    if value is None:
        return text, "n/a"
    if value <= limit:
        return text, "yes"
    return text, f"NO ×{value / limit:.1f}" if limit > 0 else "NO"


def timing_row(name: str, figure: JSON | None, rtt: float | None, goal_key: str | None = None) -> Row:
    goal = GOALS.get(goal_key or name)
    if not figure or figure.get("median") is None:
        goal_text, met = judge(goal, None, rtt)
        return Row(name, "n/a", "n/a", "", goal_text, met)
    ratio = figure.get("ratio_to_rtt")
    goal_text, met = judge(goal, figure["median"], rtt)
    return Row(
        name,
        number(figure["median"]),
        number(figure.get("p95")),
        "" if ratio is None else f"{ratio:.1f}",
        goal_text,
        met,
    )


def count(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else number(value)


def count_row(name: str, worst: float | None, median: float | None, goal_key: str) -> Row:
    goal_text, met = judge(GOALS[goal_key], worst, None)
    return Row(name, count(median), f"max {count(worst)}", "", goal_text, met)


def discovery_rows(prefix: str, discovery: JSON, rtt: float | None) -> list[Row]:
    rows = []
    for n, modes in discovery.items():
        for mode, entry in modes.items():
            where = f"{prefix}N={n} {mode.replace('_', ' ')}"
            rows.append(
                count_row(f"{where}: requests", entry.get("requests"), entry.get("requests_median"), "requests")
            )
            rows.append(
                timing_row(f"{where}: after last Ready", entry.get("after_last_ready_ms"), rtt, "after_last_ready_ms")
            )
    return rows


def rows(results: JSON) -> list[Row]:
    rtt_figure = results.get("rtt_ms") or {}
    rtt = rtt_figure.get("median")
    out = [Row("rtt_ms (create + delete, per write)", number(rtt), number(rtt_figure.get("p95")), "1.0", "", "")]
    for key in ("register_ms", "withdraw_ms", "stop_ms"):
        if key in results:
            out.append(timing_row(key, results[key], rtt))
    if "discovery" in results:
        out += discovery_rows("discovery ", results["discovery"], rtt)
    for key in ("resolve_cold_ms", "resolve_warm_ms", "connect_overhead_ms", "import_ms"):
        if key in results:
            out.append(timing_row(key, results[key], rtt))
    if "idle_rss_mb" in results:
        rss = results["idle_rss_mb"]
        goal_text, met = judge(GOALS["idle_rss_mb"], rss.get("median"), None)
        out.append(Row("idle_rss_mb", number(rss.get("median")), number(rss.get("p95")), "", goal_text, met))
    for key, value in (results.get("waiting_cpu_percent") or {}).items():
        if key != "seconds":
            out.append(Row(f"waiting for the server: {key} (% of a core)", number(value), "", "", "", ""))
    if "idle_requests_per_min" in results:
        idle = results["idle_requests_per_min"]
        goal_text, met = judge(GOALS["idle_requests_per_min"], idle.get("value"), None)
        window = idle.get("window_s")
        out.append(
            Row(f"idle_requests_per_min ({number(window)} s window)", number(idle.get("value")), "", "", goal_text, met)
        )
    seed = results.get("seed") or {}
    if "register_ms" in seed:
        out.append(timing_row("seed: register_ms (one POST after bind)", seed["register_ms"], rtt, "register_ms"))
    if "discovery" in seed:
        out += discovery_rows("seed: discovery ", seed["discovery"], rtt)
    return out


def render(table: list[Row]) -> str:
    header = Row("figure", "median", "p95", "×RTT", "goal", "met?")
    every = [header, *table]
    widths = [max(len(getattr(r, f)) for r in every) for f in ("figure", "median", "p95", "ratio", "goal", "met")]

    def line(r: Row) -> str:
        cells = (r.figure, r.median, r.p95, r.ratio, r.goal, r.met)
        return "  ".join(
            c.ljust(w) if i in (0, 4, 5) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in table)])
