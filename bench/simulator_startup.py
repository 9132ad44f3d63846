"""How fast the embedded simulator starts and answers, at the sizes benchmarks use.

Run: .venv/bin/python bench/simulator_startup.py [call counts...]   (default: 2000 100000)
"""

import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime

import httpx

from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator

# Both builds lay out the same calls: one moment for the run, taken at its start.
NOW = datetime.now(UTC)


def measure(call_count: int) -> dict[str, float]:
    started = time.perf_counter()
    sim = Simulator(seed=42, call_count=call_count, now=NOW)
    build_s = time.perf_counter() - started
    # A second build under tracemalloc: tracing slows it down, so it is not the one timed.
    tracemalloc.start()
    Simulator(seed=42, call_count=call_count, now=NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.Client(transport=sim.transport(), base_url=f"http://sim{API_PREFIX}") as http:
        timings = []
        for offset in range(0, 2000, 100):
            started = time.perf_counter()
            http.get(
                "calls", params={"status": "ended", "limit": 50, "offset": offset}, headers=headers
            )
            timings.append(time.perf_counter() - started)
    return {
        "calls": call_count,
        "build_s": build_s,
        "build_peak_mb": peak / 1e6,
        "list_p50_ms": statistics.median(timings) * 1000,
        "list_max_ms": max(timings) * 1000,
    }


def main(counts: list[int]) -> None:
    print(f"{'calls':>8} {'build s':>8} {'peak MB':>8} {'list p50 ms':>12} {'list max ms':>12}")
    for count in counts:
        row = measure(count)
        print(
            f"{row['calls']:>8} {row['build_s']:>8.2f} {row['build_peak_mb']:>8.1f} "
            f"{row['list_p50_ms']:>12.1f} {row['list_max_ms']:>12.1f}"
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [2000, 100_000])
