"""The time of `import arkouda_k8s`, in fresh interpreters, and the heavy modules it does NOT load.

    .venv/bin/python benchmarks/import_time.py [--runs 20]

Each run is a new interpreter that times the import statement itself (time.perf_counter() around it)
and lists what it loaded; the first run only warms the file cache. The goal is ≤ 100 ms, and none of
the heavy modules: they load on first use (the resolver, the registrar, the wire).

Runnable alone (only the standard library here) and used by benchmarks/footprint.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Any

HEAVY = ("kubernetes_asyncio", "aiohttp", "zmq", "arkouda", "structlog", "yaml", "numpy", "pandas", "cryptography")
PROBE = """
import json, sys, time
started = time.perf_counter()
import arkouda_k8s
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def one_import() -> tuple[float, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True, cwd="/"
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return float(answer["ms"]), set(answer["modules"])


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    position = (len(ordered) - 1) * 0.95
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(runs: int) -> dict[str, Any]:
    """{"median", "p95", "runs", "not_imported": [...], "imported_heavy": [...]} (milliseconds)."""
    one_import()  # warm the file cache: the figure is the import, not the disk
    samples: list[float] = []
    loaded: set[str] = set()
    for _ in range(runs):
        ms, modules = one_import()
        samples.append(ms)
        loaded |= modules
    return {
        "median": round(statistics.median(samples), 3),
        "p95": round(p95(samples), 3),
        "runs": runs,
        "not_imported": [m for m in HEAVY if m not in loaded],
        "imported_heavy": [m for m in HEAVY if m in loaded],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20, help="fresh interpreters to time (default: 20)")
    result = measure(max(1, parser.parse_args().runs))
    print(
        f"import arkouda_k8s: median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms over {result['runs']} runs"
    )
    print(f"  heavy modules NOT imported: {', '.join(result['not_imported']) or 'none'}")
    print(f"  heavy modules imported:     {', '.join(result['imported_heavy']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
