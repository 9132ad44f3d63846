"""CSV export: rows per second and memory of the whole streaming path, for N calls.

The upstream is faked at the HTTP level (``httpx.MockTransport``) with pages of 100 synthetic
calls built on request, so what is measured is our code: the client (request, JSON parse,
records), ``reads.list_calls`` (cache and resilience), the paging with its prefetch, and the
CSV rows and chunks a ``StreamingHttpResponse`` sends. Two memory figures: the tracemalloc peak
of Python allocations during the export (a run of its own, since tracing slows it down), and the
growth of the process's resident set (RSS), which includes the cache's copies of the pages.

Run: DEBUG=true .venv/bin/python bench/export_bench.py [--rows 100000]
"""

import argparse
import os
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BASE_URL = "https://api.truedy.bench/api/public/v1"
API_KEY = "truedy_" + "b" * 32
# The newest synthetic call's creation, and the export's "as of": the run's start (no date is
# fixed in a benchmark: the same rows on any day).
T0 = datetime.now(UTC).replace(microsecond=0)


def _setup_django() -> None:
    """Set Django up unless the caller already has (``make bench`` imports ``run``)."""
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "truedy_dashboard.settings")
    import django

    django.setup()


def _call_json(number: int) -> dict[str, Any]:
    created = T0 - timedelta(seconds=30 * number)
    return {
        "id": f"call_{number:08d}",
        "agent_id": f"agt_{number % 7}",
        "status": "ended",
        "direction": "outbound" if number % 3 else "inbound",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "started_at": (created + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ended_at": (created + timedelta(seconds=190)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": None,
        "to": "+4930" + f"{number:07d}",
        "from": "+13125550197",
        "duration_seconds": 186,
        "cost_cents": 37 + number % 50,
        "outcome": "interested" if number % 2 else "voicemail",
        "summary": f"Caller {number} asked about the invoice; the agent explained the charges.",
        "recording_url": None,
        "metadata": {"campaign_id": "cmp_1"},
    }


def fake_truedy(total: int) -> httpx.MockTransport:
    """``GET /calls`` over ``total`` synthetic calls, newest first, built page by page."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/agents"):
            agents = [
                {"id": f"agt_{n}", "name": f"Agent {n}", "status": "active"} for n in range(7)
            ]
            return httpx.Response(200, json={"data": agents, "meta": {"total": 7}})
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        data = [_call_json(n) for n in range(offset, min(offset + limit, total))]
        meta = {"total": total, "limit": limit, "offset": offset}
        return httpx.Response(200, json={"data": data, "meta": meta})

    return httpx.MockTransport(handle)


def _export(rows: int) -> int:
    """One whole export through the client, services, paging and CSV; the bytes it sends."""
    from zoneinfo import ZoneInfo

    from calls.services import export
    from calls.truedy.filters import CallFilters
    from calls.upstream import reads
    from calls.upstream.paging import iter_matching_calls

    calls = iter_matching_calls(CallFilters(), as_of=T0)
    lines = export.csv_lines(
        calls,
        zone=ZoneInfo("Europe/Berlin"),
        agent_names=reads.agent_names(),
        link=export.call_link("https://dashboard.example/calls/"),
    )
    return sum(len(chunk) for chunk in export.chunked(lines))


def _rss_kib() -> int:
    """The current resident set (Linux /proc), else the peak (``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(rows: int = 100_000, *, trace: bool = True) -> dict[str, Any]:
    """Export ``rows`` synthetic calls, timed, then again under tracemalloc (``trace``; about
    six times slower: 100,000 rows take a minute or two); the figures as a dict."""
    _setup_django()
    from django.core.cache import cache

    from calls.truedy.client import TruedyClient
    from calls.upstream import (
        gateway,
        reads,  # noqa: F401  imported before RSS
    )

    saved = gateway._client
    gateway._client = TruedyClient(base_url=BASE_URL, api_key=API_KEY, transport=fake_truedy(rows))
    try:
        cache.clear()
        rss_before = _rss_kib()
        started = time.perf_counter()
        written = _export(rows)
        seconds = time.perf_counter() - started
        rss_after = _rss_kib()
        cache.clear()
        peak = None
        if trace:
            tracemalloc.start()
            try:
                _export(rows)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
                cache.clear()
    finally:
        gateway._client.close()
        gateway._client = saved
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "csv_megabytes": round(written / 1e6, 1),
        "tracemalloc_peak_mb": None if peak is None else round(peak / 1e6, 2),
        "rss_delta_mb": round((rss_after - rss_before) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    arguments = parser.parse_args()
    figures = run(arguments.rows, trace=not arguments.no_trace)
    peak = figures["tracemalloc_peak_mb"]
    print(
        f"CSV export of {figures['rows']:,} calls: {figures['seconds']} s, "
        f"{figures['rows_per_second']:,} rows/s, {figures['csv_megabytes']} MB of CSV; "
        f"tracemalloc peak {'not traced' if peak is None else f'{peak} MB'}, "
        f"RSS grew {figures['rss_delta_mb']} MB"
    )


if __name__ == "__main__":
    main()
