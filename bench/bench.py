"""`make bench`: the dashboard measured against its physical floor, side by side, in one run.

Everything runs on this machine, on 127.0.0.1:
- the Truedy simulator over real HTTP, in this process, answering after --latency-ms (50 ms);
- a temporary SQLite database (migrated in a subprocess) with one staff user;
- the cache: Redis db 11 (flushed before and after) when it answers, else local memory
  (`--cache locmem` asks for it); the output says which;
- the dashboard in this process under the bench settings (`bench/settings.py`: DEBUG off, the
  project's URLs plus `floor/`), requests sent through Django's full handler by the test Client
  as a signed-in staff user, so "server time" has no sockets in it;
- for throughput, the same settings under gunicorn (gthread, 2 workers) and a load generator of
  threads with keep-alive httpx clients.

The floor is a bare view rendering a static template through the same middleware (bench/urls.py).
Each figure is printed with its target and PASS/MISS, and everything is saved as JSON in
bench/results/latest.json (or --out). --quick runs every step with tiny sizes (the smoke test).

Run: .venv/bin/python bench/bench.py [--quick] [--out PATH] [--profile]   (or `make bench`)
"""

import argparse
import dataclasses
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The simulator imports nothing from Django: it starts before the settings are read.
from bench.harness import (  # noqa: E402
    GUNICORN_CONF,
    RESULTS_DIR,
    Gunicorn,
    dashboard_env,
    free_port,
    percentile,
    prepare_database,
    redis_cache_url,
    sign_in,
)
from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator, serve  # noqa: E402

REDIS_DB = 11  # the benchmark's own: flushed freely
USERNAME = "bench"
LIST_QUERY = "per_page=50&tz=UTC"  # a list page of 50 rows
FLOOR_URL = "/floor/"
EXPORT_BENCH = ROOT / "bench" / "export_bench.py"
ROW_LINK = re.compile(r'<a class="row-link" href="([^"]+)"')


@dataclasses.dataclass(frozen=True)
class Sizes:
    iterations: int  # cached pages and the floor, after warm-up
    miss_iterations: int  # cache misses and direct upstream round trips
    transcript_iterations: int
    concurrency: int  # threads asking for one cold call page at once
    turns: tuple[int, ...]  # transcript sizes; the largest is the target's
    recording_mb: tuple[int, ...]  # recording sizes; the largest is the target's
    throughput_seconds: float  # per URL under gunicorn
    export_rows: int
    zip_recordings: int = 500  # recordings in the Download recordings (ZIP) section


STEPS = (
    "hits",
    "misses",
    "mix",
    "stampede",
    "transcripts",
    "recording",
    "export",
    "agents",
    "throughput",
    "recordings_zip",
)
FULL = Sizes(200, 100, 30, 20, (500, 1000, 2000), (5, 50), 10.0, 100_000)
QUICK = Sizes(6, 4, 3, 5, (100, 200, 400), (1, 2), 1.0, 2_000, 20)


@dataclasses.dataclass
class Row:
    """One line of the table."""

    item: str
    figure: str
    target: str
    ok: bool | None  # None: nothing to judge (no target, or not measured)

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "-"}[self.ok]


def stats(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(percentile(ordered, 0.95), 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
    }


# --- the upstream ------------------------------------------------------------------------------


class TranscriptTrimmer:
    """WSGI middleware in front of the simulator: one call's transcript cut to its first `turns`
    turns, so the same conversation is measured at several lengths."""

    def __init__(self, app: Callable[..., Iterable[bytes]], call_id: str) -> None:
        self.app = app
        self.path = f"{API_PREFIX}/calls/{call_id}"
        self.turns: int | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if self.turns is None or environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        answered: list[Any] = []
        body = b"".join(
            self.app(environ, lambda status, headers, *exc: answered.extend([status, headers]))
        )
        status, headers = answered
        if status.startswith("200"):
            document = json.loads(body)
            document["data"]["transcript"] = document["data"]["transcript"][: self.turns]
            body = json.dumps(document).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]


@dataclasses.dataclass
class Upstream:
    simulator: Simulator
    server: Any
    trimmer: TranscriptTrimmer
    long_call_id: str
    recorded_call_id: str
    recording_files: dict[int, Path]  # size in MB -> file

    @property
    def api_requests(self) -> int:
        return sum(1 for r in self.simulator.requests if r.path.startswith(API_PREFIX))

    def use_recording(self, megabytes: int) -> None:
        call = self.simulator.data.by_id[self.recorded_call_id]
        call.recording = dataclasses.replace(call.recording, path=self.recording_files[megabytes])


def start_upstream(sizes: Sizes, tmp: Path) -> Upstream:
    simulator = Simulator(seed=42, call_count=2000)
    now = simulator.clock.now_us()
    long_call = max((c for c in simulator.data.calls if c.kind == "long"), key=lambda c: c.turns)
    # A call whose recording link is live (links last 24 h after the call ends).
    recorded = next(
        c
        for c in simulator.data.calls
        if c.recording and c.ended and 0 < now - c.ended < 20 * 3600 * 10**6
    )
    # A recording as big as the target's, made of the real one repeated: storage streams bytes,
    # nobody decodes them here.
    audio = recorded.recording.path.read_bytes()
    files = {}
    for megabytes in sizes.recording_mb:
        path = tmp / f"recording-{megabytes}mb.mp3"
        with path.open("wb") as out:
            written = 0
            while written < megabytes * 1_000_000:
                written += out.write(audio)
        files[megabytes] = path
    trimmer = TranscriptTrimmer(simulator.wsgi_app, long_call.id)
    simulator.wsgi_app = trimmer  # the server serves whatever this attribute holds
    server = serve(simulator, host="127.0.0.1", port=0)
    return Upstream(simulator, server, trimmer, long_call.id, recorded.id, files)


# --- the dashboard in this process ------------------------------------------------------------


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)  # 404s and the like would print a line per request


class Pages:
    """Requests through Django's full handler as a signed-in staff user, timed."""

    def __init__(self, upstream: Upstream) -> None:
        from django.contrib.auth import get_user_model

        self.upstream = upstream
        self.user = get_user_model().objects.get(username=USERNAME)
        self.client = self.new_client()
        self.server_timing: dict[str, str] = {}

    def new_client(self):
        from django.test import Client

        client = Client()
        client.force_login(self.user)
        return client

    def get(self, url: str, client=None, **headers: str) -> tuple[float, Any]:
        """(server ms to the last byte, or to the first for a stream; the response)."""
        client = client or self.client
        started = time.perf_counter()
        response = client.get(url, **headers)
        if response.streaming:
            next(iter(response.streaming_content), b"")
            elapsed = time.perf_counter() - started
            response.close()
        else:
            elapsed = time.perf_counter() - started
        return elapsed * 1000, response

    def sample(self, url: str, iterations: int, warmup: int = 5, **headers: str) -> list[float]:
        for _ in range(warmup):
            _, response = self.get(url, **headers)
            expect_ok(url, response)
        times = []
        for _ in range(iterations):
            ms, response = self.get(url, **headers)
            expect_ok(url, response)
            times.append(ms)
        self.keep_timing(url, response)
        return times

    def keep_timing(self, url: str, response: Any) -> None:
        """The page's own account of where its time went (cache, upstream, render), if given."""
        if "Server-Timing" in response:
            self.server_timing[url] = response["Server-Timing"]


def expect_ok(url: str, response: Any) -> None:
    if response.status_code not in (200, 206):
        raise RuntimeError(f"GET {url} answered {response.status_code}: the bench measures pages")


def clear_cache_keep_agents() -> None:
    """An empty cache, except the agent list every page shows (its own key, 5 minutes)."""
    from django.core.cache import cache

    from calls.upstream import reads

    cache.clear()
    reads.agent_names()


# --- the measurements --------------------------------------------------------------------------


def measure_hits(pages: Pages, sizes: Sizes, call_url: str) -> dict[str, Any]:
    floor = stats(pages.sample(FLOOR_URL, sizes.iterations))
    list_url = f"/calls/?{LIST_QUERY}"
    listing = stats(pages.sample(list_url, sizes.iterations))
    call = stats(pages.sample(call_url, sizes.iterations))
    return {
        "floor": floor,
        "list_cached": listing,
        "call_cached": call,
        "list_render_only": stats(render_only(pages, list_url, sizes.iterations)),
        "call_render_only": stats(render_only(pages, call_url, sizes.iterations)),
    }


def render_only(pages: Pages, url: str, iterations: int) -> list[float]:
    """The page's own template rendered with the context its view built: the floor for a cache
    hit, which should take at most about 1.5x this render alone."""
    from django.template.loader import render_to_string

    from calls.services import page_cache

    page_cache.bump_pages()  # the page built by its view, not served whole: its template
    _, response = pages.get(url)
    expect_ok(url, response)
    template, context, request = (
        response.template_name,
        response.context_data,
        response.wsgi_request,
    )
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        render_to_string(template, context, request)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_misses(pages: Pages, sizes: Sizes, api: httpx.Client) -> dict[str, Any]:
    """Cold pages, each costing one upstream request: list pages never shown before (every
    page of 50 rows of a few filters), then a call opened from each of those (now cached) lists."""
    from django.core.cache import cache

    cache.clear()
    pages.get(f"/calls/?{LIST_QUERY}")  # the agent list, out of the way
    lists = []
    for query in ("", "status=ended", "direction=outbound", "direction=inbound"):
        total = api.get("calls", params=dict(parse_qsl(query)) | {"limit": 1}).json()["meta"]
        # Full pages, each the first of its block of 100 rows (a list page is read inside its
        # block, which stores the block's other page too: calls.upstream.reads.LIST_BLOCK).
        for page in range(3, total["total"] // 50 + 1, 2):
            lists.append(f"{query}&page={page}&{LIST_QUERY}".lstrip("&"))
    list_ms, call_ms, upstream_per_view, opened = [], [], [], []
    for query in lists[: sizes.miss_iterations]:
        before = pages.upstream.api_requests
        ms, response = pages.get(f"/calls/?{query}")
        expect_ok(query, response)
        list_ms.append(ms)
        pages.keep_timing("list miss", response)
        upstream_per_view.append(pages.upstream.api_requests - before)
        rows = ROW_LINK.findall(response.content.decode())
        # Mid-page, so its neighbours are on the same page; one no earlier list has shown.
        seen = {link.split("/")[2] for link in opened}
        opened.append(next(r for r in rows[len(rows) // 2 :] if r.split("/")[2] not in seen))
    for link in opened:
        before = pages.upstream.api_requests
        ms, response = pages.get(link.replace("&amp;", "&"))
        expect_ok(link, response)
        call_ms.append(ms)
        pages.keep_timing("call miss", response)
        upstream_per_view.append(pages.upstream.api_requests - before)
    list_rt, call_rt = [], []
    ids = [link.split("/")[2] for link in opened]
    for number, call_id in enumerate(ids):
        started = time.perf_counter()
        api.get("calls", params={"limit": 50, "offset": 50 * number}).raise_for_status()
        list_rt.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        api.get(f"calls/{call_id}").raise_for_status()
        call_rt.append((time.perf_counter() - started) * 1000)
    return {
        "list_miss": stats(list_ms),
        "call_miss": stats(call_ms),
        "upstream_round_trip_list": stats(list_rt),
        "upstream_round_trip_call": stats(call_rt),
        "upstream_requests_per_miss": sorted(set(upstream_per_view)),
    }


def browsing_mix(pages: Pages) -> list[tuple[str, dict[str, str]]]:
    """100 page views as a few ops people browse: filtered lists, paging, calls opened from a
    list, back to the list, the same views again by a colleague; some lists as htmx fragments."""
    from calls.upstream import reads

    agent = sorted(reads.agent_names())[0]
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
    lists = [
        "tz=UTC",
        "status=failed&tz=UTC",
        "status=ended&direction=inbound&tz=UTC",
        f"agent_id={agent}&tz=UTC",
        "status=ended&page=2&tz=UTC",
        "status=failed&page=2&tz=UTC",
    ]
    views: list[tuple[str, dict[str, str]]] = []
    person = 0
    while len(views) < 100:
        for number, query in enumerate(lists):
            if len(views) >= 100:
                break
            headers = htmx if (number + person) % 3 == 0 else {}
            views.append((f"/calls/?{query}", headers))
            for row in (number + person) % 4, 5 + person % 3:
                views.append((f"@row{row}", {"list": query}))  # opened from that list
                views.append((f"/calls/?{query}", {}))  # back to the list
        person += 1
    return views[:100]


def measure_mix(pages: Pages) -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()
    before = len(pages.upstream.simulator.requests)
    rows: dict[str, list[str]] = {}
    distinct: set[str] = set()
    for url, headers in browsing_mix(pages):
        if url.startswith("@row"):
            query = headers["list"]
            link = rows[query][int(url[4:])].replace("&amp;", "&")
            _, response = pages.get(link)
            distinct.add("call " + link.split("/")[2])
        else:
            _, response = pages.get(url, **headers)
            query = url.split("?", 1)[1]
            rows.setdefault(query, ROW_LINK.findall(response.content.decode()))
            distinct.add("list " + query)
        expect_ok(url, response)
    asked = [
        r.path + "?" + urlencode(sorted(r.query.items()))
        for r in pages.upstream.simulator.requests[before:]
        if r.path.startswith(API_PREFIX)
    ]
    upstream = len(asked)
    lists_asked = sum(1 for url in asked if url.startswith(f"{API_PREFIX}/calls?"))
    return {
        "page_views": 100,
        "distinct_pages": len(distinct),
        # A call on the first or last row of its page finds its neighbour on the next page.
        "neighbour_list_pages": lists_asked - sum(1 for key in distinct if key.startswith("list ")),
        "upstream_requests": upstream,
        # Every page shows agent names: one request for the agent list comes with the first view.
        "target": len(distinct) + 1,
        "asked_twice": sorted(url for url, n in Counter(asked).items() if n > 1),
        "asked": asked,
    }


def measure_stampede(pages: Pages, sizes: Sizes) -> dict[str, Any]:
    """`concurrency` people open the same cold call page at the same instant."""
    from django.db import connection

    data, now = pages.upstream.simulator.data, pages.upstream.simulator.clock.now_us()
    # The oldest call still kept: no step before this one opens it.
    call = next(c for c in reversed(data.calls) if data.visible(c, now))
    url = f"/calls/{call.id}/"
    clients = [pages.new_client() for _ in range(sizes.concurrency)]
    clear_cache_keep_agents()
    gate = threading.Barrier(sizes.concurrency)
    statuses: list[int] = []
    times: list[float] = []

    def person(client) -> None:
        try:
            gate.wait()
            ms, response = pages.get(url, client=client)
            statuses.append(response.status_code)
            times.append(ms)
        finally:
            connection.close()

    before = len(pages.upstream.simulator.requests)
    threads = [threading.Thread(target=person, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    asked = [
        r
        for r in pages.upstream.simulator.requests[before:]
        if r.path.endswith(f"/calls/{call.id}")
    ]
    return {
        "concurrent_requests": sizes.concurrency,
        "upstream_requests": len(asked),
        "statuses": sorted(set(statuses)),
        "slowest_ms": round(max(times), 1) if times else None,
    }


def measure_transcripts(pages: Pages, sizes: Sizes) -> list[dict[str, Any]]:
    """The call page by transcript length. The bench user is staff in no group, a Viewer, who
    gets personal data masked (README, "Personal data"); ``unmasked`` is the same page for a
    user who sees the originals, so the difference is the cost of masking."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    url = f"/calls/{pages.upstream.long_call_id}/"
    sees_originals, _ = get_user_model().objects.get_or_create(
        username=f"{USERNAME}-originals", defaults={"is_staff": True, "is_superuser": True}
    )
    originals = Client()
    originals.force_login(sees_originals)
    results = []
    for turns in sizes.turns:
        pages.upstream.trimmer.turns = turns
        clear_cache_keep_agents()
        times = pages.sample(url, sizes.transcript_iterations, warmup=2)
        _, response = pages.get(url)
        html = response.content.decode()
        shown = html.count('class="turn')
        unmasked = []
        for attempt in range(sizes.transcript_iterations + 2):
            ms, plain = pages.get(url, client=originals)
            expect_ok(url, plain)
            if attempt >= 2:  # warm-up
                unmasked.append(ms)
        results.append(
            {
                "turns": turns,
                "turns_shown": shown,
                "html_bytes": len(response.content),
                "masked": "Personal data is masked" in html,
                **stats(times),
                "unmasked": stats(unmasked),
                # The detector on the whole transcript, as the first masked view pays it
                # (later views read the masked turns from the cache).
                "masking_uncached": stats(time_masking(pages.upstream.long_call_id)),
            }
        )
    pages.upstream.trimmer.turns = None
    clear_cache_keep_agents()
    return results


def time_masking(call_id: str, rounds: int = 3) -> list[float]:
    from calls.lib.personal_data import mask_turns
    from calls.upstream import reads

    texts = [turn.text for turn in reads.get_call(call_id).transcript or ()]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        mask_turns(texts)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_recording(pages: Pages, sizes: Sizes) -> dict[str, Any]:
    from calls.upstream import reads

    upstream = pages.upstream
    url = f"/calls/{upstream.recorded_call_id}/recording"
    link = reads.get_call(upstream.recorded_call_id).recording_url
    result: dict[str, Any] = {"sizes": []}
    for megabytes in sizes.recording_mb:
        upstream.use_recording(megabytes)
        proxy, direct = [], []
        with httpx.Client(timeout=30) as storage:
            for _ in range(max(sizes.miss_iterations // 5, 3) + 1):
                started = time.perf_counter()
                with storage.stream("GET", link, headers={"Range": "bytes=0-"}) as answer:
                    next(answer.iter_raw(), b"")
                    direct.append((time.perf_counter() - started) * 1000)
                ms, response = pages.get(url, HTTP_RANGE="bytes=0-")
                expect_ok(url, response)
                proxy.append(ms)
        result["sizes"].append(
            {
                "megabytes": megabytes,
                "proxy_ttfb": stats(proxy[1:]),  # the first pays for the ETag of a new file
                "direct_ttfb": stats(direct[1:]),
                **stream_whole(pages, url),
            }
        )
    return result


def stream_whole(pages: Pages, url: str) -> dict[str, Any]:
    """Stream the whole recording through the proxy: MB/s, then peak memory (traced Python
    allocations, and resident memory sampled every 5 ms) in a second, traced pass."""
    started = time.perf_counter()
    _, total = _drain(pages, url)
    seconds = time.perf_counter() - started
    rss = RssSampler()
    tracemalloc.start()
    tracemalloc.reset_peak()
    with rss:
        _drain(pages, url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "bytes": total,
        "mb_per_s": round(total / 1e6 / seconds, 1),
        "traced_peak_mb": round(peak / 1e6, 2),
        "rss_growth_mb": round(rss.growth / 1e6, 2),
    }


def _drain(pages: Pages, url: str) -> tuple[int, int]:
    response = pages.client.get(url)
    expect_ok(url, response)
    total = sum(len(chunk) for chunk in response.streaming_content)
    response.close()
    return response.status_code, total


class RssSampler:
    """Resident memory sampled in a thread: the most it grew above where it started."""

    def __init__(self) -> None:
        self.growth = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self._page

    def _run(self, start: int) -> None:
        while not self._stop.wait(0.005):
            self.growth = max(self.growth, self._rss() - start)

    def __enter__(self) -> "RssSampler":
        self._thread = threading.Thread(target=self._run, args=(self._rss(),), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure_export(sizes: Sizes) -> dict[str, Any] | None:
    """bench/export_bench.py's own figures, in a process of its own (its memory is its own)."""
    if not EXPORT_BENCH.exists():
        return None
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench import export_bench\n"
        f"print('BENCH-RESULT ' + json.dumps(export_bench.run(rows={sizes.export_rows})))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="true", DATABASE_URL="sqlite:///:memory:", CACHE_URL="locmemcache://")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if done.returncode or not lines:
        return {"error": (done.stderr or done.stdout).strip()[-500:]}
    return json.loads(lines[-1].removeprefix("BENCH-RESULT "))


def measure_agents(sizes: Sizes) -> dict[str, Any]:
    """bench/agents_bench.py: the agents page's figures over ``export_rows`` archived calls on
    PostgreSQL, in a process of its own (its Django runs on its own scratch database)."""
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench import agents_bench\n"
        f"found = agents_bench.run(calls={sizes.export_rows}, runs=5)\n"
        "found.pop('explain')\n"
        "print('BENCH-RESULT ' + json.dumps(found))\n"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if done.returncode or not lines:
        return {"error": (done.stderr or done.stdout).strip()[-500:]}
    return json.loads(lines[-1].removeprefix("BENCH-RESULT "))


def measure_recordings_zip(pages: Pages, sizes: Sizes) -> dict[str, Any]:
    """Download recordings (ZIP) of a view of `zip_recordings` recorded calls, through Django's
    full handler: first from Truedy's links (storage answering after the simulator's latency),
    then, once copies are archived, from the archive alone (local files; a review filter, which
    only the archive answers, makes the list come from it too).
    Each is drained twice: timed (MB/s, recordings/s, resident memory sampled every 5 ms), then
    traced (tracemalloc's peak) while written to a file that is checked afterwards. The floor
    for the first: the same MP3s fetched one by one straight from storage."""
    from calls.archive.store import store_call
    from calls.upstream import gateway

    simulator = pages.upstream.simulator
    count = sizes.zip_recordings
    since = simulator.clock.now() - timedelta(seconds=1)
    # New calls, each given a recording: a view of exactly `count` recorded calls.
    audio = simulator.data.recordings
    for number in range(count):
        placed = simulator.place_call(talk_seconds=60, ring_seconds=1)
        call = simulator.data.by_id[placed]  # a new dict each time: read it after placing
        if call.recording is None:
            call.recording = audio[number % len(audio)]
    simulator.clock.advance(15 * 60)  # all ended and transcribed; links live for 24 h
    url = f"/calls/recordings.zip?created_after={since:%Y-%m-%dT%H:%M:%S}Z&tz=UTC"
    client = gateway.get_client()
    listed = [
        call
        for offset in range(0, count, 100)
        for call in client.list_calls(created_after=since, limit=100, offset=offset).calls
    ]
    started = time.perf_counter()
    floor_bytes = 0
    with httpx.Client(timeout=30) as storage:
        for call in listed:
            floor_bytes += len(storage.get(call.recording_url).content)
    floor_seconds = time.perf_counter() - started
    from_truedy = zip_passes(pages, url, count)
    from_truedy["api_requests"] = from_truedy.pop("api")
    # The archive's copies (made without latency: the copying is not what is measured); a
    # review filter is answered by the archive alone, list and recordings both.
    latency = simulator.switches.latency_seconds
    simulator.switches.latency_seconds = 0
    for call in listed:
        store_call(call, source="bench")
    simulator.switches.latency_seconds = latency
    before = len(simulator.requests)
    from_archive = zip_passes(pages, f"{url}&review=unreviewed", count)
    from_archive["api_requests"] = from_archive.pop("api")
    from_archive["truedy_requests"] = len(simulator.requests) - before  # API and storage
    return {
        "recordings": count,
        "latency_ms": round(latency * 1000),
        "mp3_bytes": floor_bytes,
        "floor_seconds": round(floor_seconds, 2),
        "from_truedy": from_truedy,
        "from_archive": from_archive,
    }


def zip_passes(pages: Pages, url: str, recordings: int) -> dict[str, Any]:
    """The ZIP drained twice (timed, then traced), and checked: every recording in it whole."""
    import zipfile

    api = pages.upstream.api_requests
    rss = RssSampler()
    with rss:
        started = time.perf_counter()
        response = pages.client.get(url)
        expect_ok(url, response)
        size = sum(len(chunk) for chunk in response.streaming_content)
        response.close()
        seconds = time.perf_counter() - started
    api = pages.upstream.api_requests - api  # the timed pass's own requests
    with tempfile.TemporaryFile() as spool:
        tracemalloc.start()
        tracemalloc.reset_peak()
        response = pages.client.get(url)
        for chunk in response.streaming_content:
            spool.write(chunk)
        response.close()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            mp3s = [name for name in archive.namelist() if name.endswith(".mp3")]
            manifest = archive.read("manifest.csv").decode("utf-8-sig").splitlines()
            broken = archive.testzip()
    if len(mp3s) != recordings or len(manifest) != recordings + 1 or broken is not None:
        raise RuntimeError(f"the ZIP holds {len(mp3s)} of {recordings} recordings ({broken})")
    return {
        "seconds": round(seconds, 2),
        "zip_bytes": size,
        "mb_per_s": round(size / 1e6 / seconds, 1),
        "recordings_per_s": round(recordings / seconds, 1),
        "traced_peak_mb": round(peak / 1e6, 2),
        "rss_growth_mb": round(rss.growth / 1e6, 2),
        "api": api,
    }


def print_recordings_zip(result: dict[str, Any] | None) -> None:
    """Its own section under the table: figures to read, no target to judge."""
    if not result:
        return
    truedy, archive = result["from_truedy"], result["from_archive"]
    print(
        f"\nDownload recordings (ZIP): {result['recordings']} recordings, "
        f"{truedy['zip_bytes'] / 1e6:.1f} MB, storage latency {result['latency_ms']} ms"
    )
    for label, figures in (("from Truedy's links", truedy), ("from the archive", archive)):
        print(
            f"  {label:<20} {figures['seconds']:.1f} s, {figures['mb_per_s']} MB/s, "
            f"{figures['recordings_per_s']} recordings/s; traced peak "
            f"{figures['traced_peak_mb']} MB, RSS +{figures['rss_growth_mb']} MB"
        )
    ratio_ = ratio(truedy["seconds"], result["floor_seconds"])
    print(
        f"  floor: the same MP3s fetched one by one from storage {result['floor_seconds']:.1f} s "
        f"(ZIP from Truedy = {ratio_}x); Truedy API requests for the ZIP: "
        f"{truedy['api_requests']}; Truedy requests for the archive's ZIP: "
        f"{archive['truedy_requests']}"
    )


def measure_throughput(
    env: dict[str, str], sizes: Sizes, tmp: Path, urls: dict[str, str], password: str
) -> dict[str, Any]:
    config = GUNICORN_CONF if GUNICORN_CONF.exists() else None
    gunicorn = Gunicorn(env, free_port(), 2, 8, tmp, config=config, access_log=False)
    result: dict[str, Any] = {"workers": 2, "threads": 8, "config": str(config) if config else None}
    try:
        gunicorn.wait_ready()
        with httpx.Client(base_url=gunicorn.base, timeout=30) as login:
            if not sign_in(login, USERNAME, password):
                raise RuntimeError("could not sign in to gunicorn")
            cookies = dict(login.cookies)
        connections = 8
        for name, url in urls.items():
            result[name] = load(gunicorn.base, url, cookies, connections, sizes.throughput_seconds)
        result["connections"] = connections
    finally:
        gunicorn.stop()
        result["gunicorn_warnings"] = gunicorn.log_summary()
    return result


def load(base: str, url: str, cookies: dict[str, str], connections: int, seconds: float):
    """`connections` keep-alive clients asking for `url` back to back for `seconds`."""
    times: list[float] = []
    failures: list[int] = []
    stop = threading.Event()

    def worker() -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
            for _ in range(3):  # warm this connection and the worker's cache
                client.get(url)
            ready.wait()
            while not stop.is_set():
                started = time.perf_counter()
                status = client.get(url).status_code
                if status == 200:
                    times.append((time.perf_counter() - started) * 1000)
                else:
                    failures.append(status)

    ready = threading.Event()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    ready.set()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    elapsed = time.perf_counter() - started
    return {
        "requests_per_s": round(len(times) / elapsed, 1),
        "failures": len(failures),
        **(stats(times) if times else {}),
    }


# --- the table ---------------------------------------------------------------------------------


def ratio(value: float, base: float) -> float:
    return round(value / base, 2) if base else float("inf")


def judge(results: dict[str, Any]) -> list[Row]:
    rows = []
    hits = results["hits"]
    floor = hits["floor"]["p50_ms"]
    rows.append(
        Row(
            "1 floor: static template, same middleware",
            f"p50 {floor:.2f} ms, p95 {hits['floor']['p95_ms']:.2f} ms",
            "(the unit)",
            None,
        )
    )
    for key, label in (
        ("list_cached", "2 cached list, 50 rows"),
        ("call_cached", "2 cached call page"),
    ):
        r = ratio(hits[key]["p50_ms"], floor)
        rows.append(
            Row(
                label,
                f"p50 {hits[key]['p50_ms']:.2f} ms, p95 {hits[key]['p95_ms']:.2f} ms = {r}x floor",
                "<= 1.5x floor",
                r <= 1.5,
            )
        )
        render = hits[key.replace("cached", "render_only")]["p50_ms"]
        r = ratio(hits[key]["p50_ms"], render)
        rows.append(
            Row(
                f"{label}, vs its own render",
                f"render alone p50 {render:.2f} ms; whole page = {r}x",
                "<= 1.5x",
                r <= 1.5,
            )
        )
    misses = results["misses"]
    for key, trip, label in (
        ("list_miss", "upstream_round_trip_list", "3 cache-miss list, 50 rows"),
        ("call_miss", "upstream_round_trip_call", "3 cache-miss call page"),
    ):
        base = floor + misses[trip]["p50_ms"]
        r = ratio(misses[key]["p50_ms"], base)
        rows.append(
            Row(
                label,
                f"p50 {misses[key]['p50_ms']:.1f} ms = {r}x (floor + round trip "
                f"{misses[trip]['p50_ms']:.1f} ms)",
                "<= 1.15x",
                r <= 1.15,
            )
        )
    mix = results["mix"]
    rows.append(
        Row(
            "4 upstream requests per 100 page views",
            f"{mix['upstream_requests']} for {mix['distinct_pages']} distinct pages "
            f"({mix['neighbour_list_pages']} list pages only for Previous/Next)",
            f"<= {mix['target']} (distinct + agent list)",
            mix["upstream_requests"] <= mix["target"],
        )
    )
    crowd = results["stampede"]
    rows.append(
        Row(
            f"4 {crowd['concurrent_requests']} concurrent cold requests, one call",
            f"{crowd['upstream_requests']} upstream, statuses {crowd['statuses']}",
            "1 upstream",
            crowd["upstream_requests"] == 1 and crowd["statuses"] == [200],
        )
    )
    transcripts = results["transcripts"]
    largest, middle = transcripts[-1], transcripts[-2]
    # The fastest of each size: the least disturbed by whatever else the machine is doing.
    per_turn = largest["min_ms"] / largest["turns"]
    per_turn_middle = middle["min_ms"] / middle["turns"]
    sizes = ", ".join(f"{t['turns']}: {t['min_ms']:.1f}" for t in transcripts)
    rows.append(
        Row(
            f"5 transcript page, {largest['turns']:,} turns",
            f"p50 {largest['p50_ms']:.1f} ms, {largest['html_bytes'] / 1e6:.2f} MB HTML",
            "< 100 ms",
            largest["p50_ms"] < 100 and largest["turns_shown"] >= largest["turns"],
        )
    )
    if "unmasked" in largest:  # (figures from before the masked variant was measured)
        masking = largest["p50_ms"] - largest["unmasked"]["p50_ms"]
        rows.append(
            Row(
                f"5 masking personal data, {largest['turns']:,} turns (Viewer vs originals)",
                f"p50 {largest['p50_ms']:.1f} vs {largest['unmasked']['p50_ms']:.1f} ms "
                f"({masking:+.1f} ms); the detector, uncached (first view): "
                f"{largest['masking_uncached']['min_ms']:.0f} ms",
                "masked page < 100 ms",
                largest["p50_ms"] < 100,
            )
        )
    rows.append(
        Row(
            "5 transcript linearity",
            f"fastest ms {sizes} ({per_turn * 1000:.0f} vs {per_turn_middle * 1000:.0f} us/turn)",
            "us/turn at largest <= 1.2x middle",
            per_turn <= 1.2 * per_turn_middle,
        )
    )
    recording = results["recording"]["sizes"]
    big, small = recording[-1], recording[0]
    base = floor + big["direct_ttfb"]["p50_ms"]
    r = ratio(big["proxy_ttfb"]["p50_ms"], base)
    rows.append(
        Row(
            "6 recording proxy, time to first byte",
            f"p50 {big['proxy_ttfb']['p50_ms']:.1f} ms vs direct "
            f"{big['direct_ttfb']['p50_ms']:.1f} ms = {r}x (floor + direct)",
            "<= 1.15x",
            r <= 1.15,
        )
    )
    rows.append(
        Row(
            f"6 recording proxy, memory streaming {big['megabytes']} MB",
            f"traced peak {big['traced_peak_mb']} MB (at {small['megabytes']} MB: "
            f"{small['traced_peak_mb']} MB), RSS +{big['rss_growth_mb']} MB, "
            f"{big['mb_per_s']} MB/s",
            "flat (<= 1.5x + 1 MB)",
            big["traced_peak_mb"] <= 1.5 * small["traced_peak_mb"] + 1,
        )
    )
    export = results["export"]
    if export is None:
        rows.append(Row("7 CSV export", "n/a (export not built)", "-", None))
    elif "error" in export:
        rows.append(Row("7 CSV export", f"failed: {export['error'][-80:]}", "-", False))
    else:
        shown = ", ".join(f"{k} {v}" for k, v in export.items() if not isinstance(v, dict | list))
        rows.append(Row("7 CSV export", shown, "-", None))
    agents = results.get("agents")
    label = (
        f"7 agents page, {(agents or {}).get('archive', {}).get('calls', 0):,} archived calls (PG)"
    )
    if agents is None:
        rows.append(Row("7 agents page (PostgreSQL)", "n/a (not run)", "-", None))
    elif "error" in agents:
        rows.append(
            Row("7 agents page (PostgreSQL)", f"failed: {agents['error'][-80:]}", "-", False)
        )
    else:
        whole = agents["timings"]["whole archive, UTC"]
        rows.append(
            Row(
                label,
                f"whole archive p50 {whole['p50_ms']} ms (CPU {whole['cpu_p50_ms']} ms); "
                f"worst p95 {agents['worst_p95_ms']} ms",
                f"< {agents['target_ms']:.0f} ms",
                agents["passed"],
            )
        )
    served = results["throughput"]
    floor_rps = served["floor"]["requests_per_s"]
    rows.append(
        Row(
            "8 gunicorn gthread x2: floor",
            f"{floor_rps:.0f} req/s, p50 {served['floor'].get('p50_ms', 0):.1f} ms",
            "(the unit)",
            None,
        )
    )
    for key, label in (("list_cached", "cached list"), ("call_cached", "cached call page")):
        rps = served[key]["requests_per_s"]
        r = ratio(rps, floor_rps)
        rows.append(
            Row(
                f"8 gunicorn gthread x2: {label}",
                f"{rps:.0f} req/s = {r}x floor, failures {served[key]['failures']}",
                ">= 0.67x floor",
                r >= 1 / 1.5 and not served[key]["failures"],
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    width = max(len(r.item) for r in rows)
    figure = max(len(r.figure) for r in rows)
    target = max(len(r.target) for r in rows)
    for r in rows:
        print(f"{r.item:<{width}}  {r.figure:<{figure}}  {r.target:<{target}}  {r.verdict}")


def print_partial(results: dict[str, Any]) -> None:
    """``--only``: the cached pages against the floor, in-process and under gunicorn, if run."""
    hits, served = results.get("hits"), results.get("throughput")
    if hits:
        floor = hits["floor"]["p50_ms"]
        for key in ("floor", "list_cached", "call_cached"):
            p50 = hits[key]["p50_ms"]
            print(f"{key:<12} p50 {p50:.2f} ms = {ratio(p50, floor)}x floor (in-process)")
    if served:
        floor = served["floor"]["requests_per_s"]
        for key in ("floor", "list_cached", "call_cached"):
            rps = served[key]["requests_per_s"]
            print(f"{key:<12} {rps} req/s = {ratio(rps, floor)}x floor (gunicorn)")
    print(json.dumps({k: v for k, v in results.items() if k != "config"}, indent=1)[:4000])


def profile_cached(pages: Pages, url: str) -> None:
    import cProfile
    import pstats

    pages.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        pages.get(url)
    profiler.disable()
    print(f"\ncProfile of 50 cached pages {url}, by cumulative time:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    print("\nThe dashboard's own functions in those 50 pages, by cumulative time:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"/calls/", 45)


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--latency-ms", type=int, default=50, help="the simulator's latency")
    parser.add_argument("--cache", choices=("redis", "locmem"), default="redis")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--profile", action="store_true", help="cProfile the cached pages")
    parser.add_argument(
        "--only",
        metavar="STEP,...",
        help=f"run only these steps ({', '.join(STEPS)}) and print their figures, no table",
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(STEPS)
    if only - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(only - set(STEPS)))}")
    sizes = QUICK if args.quick else FULL

    tmp = Path(tempfile.mkdtemp(prefix="truedy-bench-"))
    upstream = None
    cache_url = redis_cache_url(REDIS_DB) if args.cache == "redis" else None
    try:
        upstream = start_upstream(sizes, tmp)
        cache = f"Redis {cache_url} (flushed)" if cache_url else "local memory"
        if args.cache == "redis" and not cache_url:
            cache += " (Redis did not answer)"
        password = secrets.token_urlsafe(18)
        env = dashboard_env(
            base_url=upstream.server.base_url,
            api_key=DEFAULT_API_KEY,
            database_url=f"sqlite:///{tmp / 'db.sqlite3'}",
            cache_url=cache_url or "locmemcache://",
            static_root=tmp / "static",
        )
        env.update(DJANGO_SETTINGS_MODULE="bench.settings", LOG_LEVEL="ERROR")
        env.update(MEDIA_ROOT=str(tmp / "media"))  # the archive's copies (recordings ZIP)
        # The simulator here has no rate limit and the bench asks for a hundred cold pages in
        # seconds: it measures the dashboard's own cost, so the request budget, which paces
        # pages to Truedy's minute, is off (`make loadtest` measures it, at Truedy's limit).
        env.update(TRUEDY_REQUESTS_PER_MINUTE="0")
        print(f"simulator {upstream.server.base_url}, {args.latency_ms} ms latency; cache: {cache}")
        print("preparing the database (migrate, staff user) ...", flush=True)
        prepare_database(env, USERNAME, password)
        setup_django(env)
        pages = Pages(upstream)
        upstream.simulator.switches.latency_seconds = args.latency_ms / 1000
        from calls.upstream import reads

        ended = reads.list_calls(limit=50)
        call_url = f"/calls/{ended.calls[25].id}/?{LIST_QUERY}"
        results: dict[str, Any] = {
            "config": {
                "quick": args.quick,
                "sizes": dataclasses.asdict(sizes),
                "latency_ms": args.latency_ms,
                "cache": cache,
                "database": "SQLite (temporary file)",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
            }
        }
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("hits", lambda: measure_hits(pages, sizes, call_url)),
            ("misses", lambda: measure_misses(pages, sizes, api)),
            ("mix", lambda: measure_mix(pages)),
            ("stampede", lambda: measure_stampede(pages, sizes)),
            ("transcripts", lambda: measure_transcripts(pages, sizes)),
            ("recording", lambda: measure_recording(pages, sizes)),
            ("export", lambda: measure_export(sizes)),
            ("agents", lambda: measure_agents(sizes)),
            (
                "throughput",
                lambda: measure_throughput(
                    env,
                    sizes,
                    tmp,
                    {
                        "floor": FLOOR_URL,
                        "list_cached": f"/calls/?{LIST_QUERY}",
                        "call_cached": call_url,
                    },
                    password,
                ),
            ),
            # Last: it adds calls to the simulator and moves its clock a day on.
            ("recordings_zip", lambda: measure_recordings_zip(pages, sizes)),
        ]
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        assert [name for name, _ in steps] == list(STEPS)
        steps = [(name, step) for name, step in steps if name in only]
        with httpx.Client(base_url=upstream.server.base_url + "/", headers=headers) as api:
            for name, step in steps:
                print(f"measuring: {name} ...", flush=True)
                started = time.perf_counter()
                results[name] = step()
                print(f"  {time.perf_counter() - started:.1f} s", flush=True)
        results["server_timing_samples"] = pages.server_timing
        results["config"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if only != set(STEPS):
            print_partial(results)
            if args.profile:
                profile_cached(pages, f"/calls/?{LIST_QUERY}")
                profile_cached(pages, call_url)
            return 0
        rows = judge(results)
        results["table"] = [dataclasses.asdict(r) | {"verdict": r.verdict} for r in rows]
        print()
        print_table(rows)
        print_recordings_zip(results.get("recordings_zip"))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwritten: {args.out}")
        if args.profile:
            profile_cached(pages, f"/calls/?{LIST_QUERY}")
            profile_cached(pages, call_url)
    finally:
        if upstream is not None:
            upstream.server.shutdown()
        if cache_url:
            redis_cache_url(REDIS_DB)  # flush again: leave nothing cached behind
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
