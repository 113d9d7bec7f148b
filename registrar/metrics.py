"""The registrar's /metrics, in the Prometheus text format (no client library needed for a handful)."""

from __future__ import annotations

from dataclasses import dataclass

from arkouda_k8s.kube import ApiStats
from arkouda_k8s.registrar.health import HealthTracker


@dataclass
class Counters:
    publishes: int = 0
    withdrawals: int = 0
    repairs: int = 0
    conflicts: int = 0


def render(counters: Counters, api: ApiStats, health: HealthTracker, *, ready: bool, phase: str) -> str:
    since = api.seconds_since_success()
    lines = [
        *_metric(
            "arkouda_k8s_registrar_publishes_total", "counter", "Times the server was published.", counters.publishes
        ),
        *_metric(
            "arkouda_k8s_registrar_withdrawals_total",
            "counter",
            "Times the server was withdrawn.",
            counters.withdrawals,
        ),
        *_metric(
            "arkouda_k8s_registrar_repairs_total",
            "counter",
            "Published objects restored after drift.",
            counters.repairs,
        ),
        *_metric("arkouda_k8s_registrar_conflicts_total", "counter", "Service name conflicts met.", counters.conflicts),
        "# HELP arkouda_k8s_api_errors_total API answers that were errors, by HTTP code (0: no answer).",
        "# TYPE arkouda_k8s_api_errors_total counter",
        *(f'arkouda_k8s_api_errors_total{{code="{code}"}} {n}' for code, n in sorted(api.errors_by_code.items())),
        *_metric("arkouda_k8s_api_retries_total", "counter", "API calls tried again.", api.retries),
        "# HELP arkouda_k8s_registrar_probe_latency_seconds Round trip of the arkouda_server health probe.",
        "# TYPE arkouda_k8s_registrar_probe_latency_seconds summary",
        f"arkouda_k8s_registrar_probe_latency_seconds_sum {health.latency_sum:.6f}",
        f"arkouda_k8s_registrar_probe_latency_seconds_count {health.probes - health.failures_in_row}",
        *_metric(
            "arkouda_k8s_registrar_probe_failures_in_row",
            "gauge",
            "Probe failures since the last success.",
            health.failures_in_row,
        ),
        *_metric(
            "arkouda_k8s_registrar_seconds_since_last_sync",
            "gauge",
            "Seconds since the last successful API request (-1: none yet).",
            round(since, 3) if since is not None else -1,
        ),
        *_metric(
            "arkouda_k8s_registrar_endpoint_ready", "gauge", "1 when the published endpoint is ready.", int(ready)
        ),
        "# HELP arkouda_k8s_registrar_phase The registrar's phase.",
        "# TYPE arkouda_k8s_registrar_phase gauge",
        f'arkouda_k8s_registrar_phase{{phase="{phase}"}} 1',
    ]
    return "\n".join(lines) + "\n"


def _metric(name: str, kind: str, help_text: str, value: float) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
