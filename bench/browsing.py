"""Browsing the dashboard: server time per page, cold and cached, and upstream requests per view.

The embedded simulator stands in for Truedy with a fixed latency per request (default 50 ms), so
a cache miss costs what a real round trip would. Pages are served through Django's full
middleware stack by the test client (no sockets), with DEBUG off and the local-memory cache.

Run: .venv/bin/python bench/browsing.py [--latency-ms 50] [--repeat 30]
"""

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    DEBUG="false",
    SECRET_KEY="bench-" + "k" * 60,
    DATABASE_URL="sqlite:///:memory:",
    CACHE_URL="locmemcache://",
    TRUEDY_API_KEY="",
    ALLOWED_HOSTS="testserver",
    LOG_LEVEL="ERROR",
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "truedy_dashboard.settings")

import django

django.setup()
logging.disable(logging.WARNING)  # a 400 per run would otherwise print a warning per run

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from calls.upstream import (  # noqa: E402
    gateway,
    reads,
)


def timed_get(client: Client, url: str, **headers: str) -> tuple[float, int, int]:
    """Server time of one GET (ms), its status, and the upstream requests it caused."""
    sim = gateway.get_simulator()
    before = len(sim.requests)
    started = time.perf_counter()
    response = client.get(url, **headers)
    if response.streaming:
        first = next(iter(response.streaming_content), b"")
        elapsed = time.perf_counter() - started
        assert first
        response.close()
    else:
        elapsed = time.perf_counter() - started
    return elapsed * 1000, response.status_code, len(sim.requests) - before


def pages() -> list[tuple[str, str, dict[str, str]]]:
    listing = reads.list_calls(status="ended", limit=50).calls
    sim = gateway.get_simulator()
    long_call = next(c.id for c in sim.data.calls if c.kind == "long")
    now = sim.clock.now_us()
    recorded = next(
        c.id
        for c in sim.data.calls
        if c.recording and c.ended and 0 < now - c.ended < 20 * 3600 * 10**6
    )
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
    return [
        ("list, 25 rows", "/calls/", {}),
        ("list, 50 rows, filtered", "/calls/?status=ended&per_page=50&tz=UTC", {}),
        ("list fragment (htmx), 50 rows", "/calls/?status=failed&per_page=50&tz=UTC", htmx),
        ("call page from the list", f"/calls/{listing[7].id}/?status=ended&per_page=50&tz=UTC", {}),
        ("call page, 2,000-turn transcript", f"/calls/{long_call}/", {}),
        ("recording, first byte", f"/calls/{recorded}/recording", {}),
        ("invalid filter (400)", "/calls/?status=bogus", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="x" * 20, is_staff=True)
    client = Client()
    client.force_login(user)
    gateway.get_simulator().switches.latency_seconds = 0  # the set-up pass is not measured
    targets = pages()
    gateway.get_simulator().switches.latency_seconds = args.latency_ms / 1000

    print(f"upstream latency {args.latency_ms} ms; {args.repeat} runs each; times are server ms")
    header = (
        f"{'page':34} {'status':>6} {'cold p50':>9} {'up/cold':>8} "
        f"{'cached p50':>11} {'cached p95':>11} {'up/cached':>10} {'bytes':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, url, headers in targets:
        cold, cold_up = [], []
        for _ in range(max(3, args.repeat // 5)):
            cache.clear()
            ms, status, upstream = timed_get(client, url, **headers)
            cold.append(ms)
            cold_up.append(upstream)
        warm, warm_up = [], []
        for _ in range(args.repeat):
            ms, status, upstream = timed_get(client, url, **headers)
            warm.append(ms)
            warm_up.append(upstream)
        response = client.get(url, **headers)
        size = (
            len(b"".join(response.streaming_content))
            if response.streaming
            else len(response.content)
        )
        warm.sort()
        print(
            f"{name:34} {status:>6} {statistics.median(cold):>9.1f} "
            f"{statistics.median(cold_up):>8.0f} {statistics.median(warm):>11.1f} "
            f"{warm[int(len(warm) * 0.95) - 1]:>11.1f} {max(warm_up):>10} {size:>9,}"
        )


if __name__ == "__main__":
    main()
