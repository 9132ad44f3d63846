"""Load test of the production path: gunicorn (gthread), a shared cache, the simulator over HTTP.

What runs, all on 127.0.0.1:
- the Truedy simulator, in this process, over real HTTP, limited to --rpm API requests a minute
  per key (Truedy documents about 100) and answering after --latency-ms; a WSGI wrapper counts
  every upstream request and the status of every upstream answer;
- the dashboard under gunicorn (`--worker-class gthread --workers 2 --threads 8`) with DEBUG off,
  a temporary SQLite database, and Redis as the cache (db 13, flushed first) when it answers,
  else the per-process local-memory cache (the output says which);
- --users simulated staff for --seconds: each signs in through the login form, then browses a
  call list with a random filter (sometimes as the htmx fragment), opens a call from that list,
  sometimes plays the first 64 KB of its recording, thinking 0.5-2 s between requests.

It prints a table and writes bench/results/loadtest.json (and the gunicorn logs beside it). It
exits 1 if any 5xx, any "slow down" page (our 503: Truedy's rate limit reaching a user) or any
failed connection reached a user. Pages that show cached data with a stale notice are fine; they
are counted.

With --live-viewers N it measures the live list instead (calls/services/live.py): N staff sign in,
open the call list's first page and then poll /calls/live/ as static/js/live-list.js does (every
2 s while live rows are on the page, 5 s otherwise, with If-None-Match, "Show new calls" pressed
as soon as the list offers some), while the simulator places a call every --live-call-every
seconds (ringing 3 s, talking 8-25 s). It reports the upstream requests of that minute, the
time from each change in the simulator (a call created, ringing, answered, ended) to a viewer
seeing it (p50/p95, per kind of change), and gunicorn's CPU time.

With --archive synced the archive is backfilled before the run (`manage.py sync_calls`, Truedy
unlimited and instant: setup) and kept current during it by `manage.py sync_calls` every
--sync-every seconds (standing in for the workers' scheduled sync); --webhooks adds the
simulator's WebhookEmitter POSTing signed events to /webhooks/truedy (follow-ups run in the
request: no worker); --new-call-every places a call on the simulator every N seconds, so both have
something to carry. The issue-19 figures (waiting pages, stale notices, p95, upstream requests
per 100 page views, 5xx/503) are in the report either way.

Run: .venv/bin/python bench/loadtest.py [--users 50] [--seconds 60] [--rpm 100] (or `make loadtest`)
     .venv/bin/python bench/loadtest.py --archive synced --webhooks --new-call-every 5
     .venv/bin/python bench/loadtest.py --live-viewers 50 [--seconds 60]
"""

import argparse
import html
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The simulator imports nothing from Django: no settings needed in this process.
from bench.harness import (  # noqa: E402
    CSRF_RE,
    RESULTS_DIR,
    Gunicorn,
    dashboard_env,
    free_port,
    percentile,
    prepare_database,
    redis_cache_url,
)
from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator, serve  # noqa: E402
from calls.simulator.emitter import WebhookEmitter  # noqa: E402
from calls.simulator.signing import RECORDINGS_PATH  # noqa: E402
from calls.simulator.webhooks import WebhookSender  # noqa: E402

REDIS_DB = 13
WEBHOOK_SECRET = secrets.token_hex(16)  # signs the simulator's deliveries to this run
USERNAME = "loadtest"
REFETCH_SECONDS = 5

STATUSES = ("ended", "failed", "in-progress", "queued", "ringing", "cancelled")
STATUS_WEIGHTS = (40, 25, 10, 5, 5, 15)
DIRECTIONS = ("inbound", "outbound", "webrtc")
PAGE_KINDS = ("login", "list", "list-htmx", "call", "recording", "live-poll")

ROW_LINK_RE = re.compile(r'<a class="row-link" href="([^"]+)"')
AGENT_SELECT_RE = re.compile(r'<select id="f-agent" name="agent_id">(.*?)</select>', re.S)
OPTION_RE = re.compile(r'<option value="([^"]+)"')
PRESET_RE = re.compile(r'<p class="presets">(.*?)</p>', re.S)
HREF_RE = re.compile(r'href="\?([^"]+)"')
NEXT_PAGE_RE = re.compile(r'<a rel="next" href="\?([^"]+)"')
STALE_MARK = 'class="notice stale"'
# A page with no data yet that reloads itself when the rate limit lifts (status 200): not an
# error, but no data either, so it is counted on its own.
WAITING_MARK = 'class="notice waiting"'
PLAYER_MARK = 'id="player-audio"'


# --- the upstream: the simulator over HTTP, every request counted -----------------------------


class UpstreamCounter:
    """WSGI middleware in front of the simulator: counts requests and the status of each answer."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        # (time.time(), endpoint, status, path?query)
        self.events: list[tuple[float, str, int, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        endpoint = _endpoint(environ.get("PATH_INFO", ""))
        target = environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")

        def counting_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            with self.lock:
                self.events.append((time.time(), endpoint, int(status.split()[0]), target))
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        return self.app(environ, counting_start_response)

    def snapshot(self) -> list[tuple[float, str, int, str]]:
        with self.lock:
            return list(self.events)


def _endpoint(path: str) -> str:
    if path.startswith(RECORDINGS_PATH):
        return "recording"
    route = path.removeprefix(API_PREFIX)
    if route == "/calls":
        return "api:calls-list"
    if route.startswith("/calls/"):
        return "api:call"
    if route == "/agents":
        return "api:agents"
    return "api:other"


ID_SEGMENT_RE = re.compile(r"^(?=.*[0-9])[A-Za-z0-9_-]{8,}$")


def path_shape(target: str) -> str:
    """An upstream request's path with ids as ``{id}`` and its query as the sorted names of its
    parameters (``limit`` keeps its value): which requests remain, whoever sent them (a page, the
    sync's pages of 100, a webhook's follow-up)."""
    path, _, query = target.partition("?")
    route = path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX) else path
    if path.startswith(RECORDINGS_PATH):
        route = RECORDINGS_PATH + "{file}"
    else:
        route = "/".join("{id}" if ID_SEGMENT_RE.match(part) else part for part in route.split("/"))
    names = sorted(
        f"{name}={value}" if name == "limit" else name for name, value in parse_qsl(query)
    )
    return route + ("?" + "&".join(names) if names else "")


def start_simulator(rpm: int, latency_ms: int) -> tuple[Any, UpstreamCounter]:
    simulator = Simulator(seed=42, call_count=2000)
    simulator.switches.rate_limit_per_minute = rpm
    simulator.switches.latency_seconds = latency_ms / 1000
    counter = UpstreamCounter(simulator.wsgi_app)
    simulator.wsgi_app = counter  # the server serves whatever this attribute holds
    return serve(simulator, host="127.0.0.1", port=0), counter


# --- the users ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    start: float  # seconds since the test started
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    ms: float
    url: str
    stale: bool = False
    slow_down: bool = False  # a rate limit reached the user as an error (503)
    waiting: bool = False  # a page that waits out a rate limit and reloads itself
    note: str = ""
    etag: str = ""  # the answer's ETag (the live polls send it back)


@dataclass
class Run:
    base: str
    users: int
    seconds: float
    seed: int
    play_ratio: float
    htmx_ratio: float
    password: str
    login_gate: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(4))
    all_signed_in: threading.Barrier = field(default_factory=lambda: threading.Barrier(1))
    t0: float = 0.0  # time.monotonic() at the start of browsing (logins come before: < 0)
    wall_t0: float = 0.0  # time.time() at the start (the upstream counter's clock)
    stop: threading.Event = field(default_factory=threading.Event)
    samples: list[Sample] = field(default_factory=list)
    login_failures: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)  # GETs sent again after a connection reset

    def get(self, client: httpx.Client, kind: str, url: str, **headers: str) -> tuple[Sample, str]:
        start = time.monotonic() - self.t0
        started = time.perf_counter()
        status, text, note, etag = 0, "", "", ""
        for attempt in (1, 2):
            try:
                response = client.get(url, headers=headers)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as error:
                # gunicorn closes a keep-alive connection idle for 2 s; a request sent on it at
                # that moment is reset. Browsers send such a GET again on a new connection.
                note = f"{type(error).__name__}: {error}"
                if attempt == 1:
                    self.resent.append(f"{start:.1f}s {url}: {note}")
                    continue
            except httpx.HTTPError as error:
                note = f"{type(error).__name__}: {error}"
            else:
                status, note = response.status_code, ""
                etag = response.headers.get("ETag", "")
                if kind != "recording":
                    text = response.text
            break
        sample = Sample(
            start=start,
            kind=kind,
            status=status,
            ms=(time.perf_counter() - started) * 1000,
            url=url,
            stale=STALE_MARK in text,
            slow_down=status == 503,
            waiting=WAITING_MARK in text,
            note=(note or _headline(text)) if status >= 400 or status == 0 else note,
            etag=etag,
        )
        self.samples.append(sample)  # list.append is atomic
        return sample, text

    def start_clock(self) -> None:
        self.t0, self.wall_t0 = time.monotonic(), time.time()

    @property
    def signed_in(self) -> int:
        return sum(1 for s in self.samples if s.kind == "login" and s.status == 302)

    def think(self, rng: random.Random) -> bool:
        """Pause like a person between two clicks; False once the test is over."""
        return not self.stop.wait(rng.uniform(0.5, 2.0))


def _headline(text: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def list_query(rng: random.Random, agents: list[str], presets: list[str]) -> str:
    """A filter an ops person would pick: mostly broad, sometimes narrow. Page 1: later pages
    are reached through the list's own "Next" link."""
    if presets and rng.random() < 0.1:
        return rng.choice(presets)  # "Created: Today / Yesterday / Last 7 days"
    params: dict[str, str] = {}
    if agents and rng.random() < 0.35:
        params["agent_id"] = rng.choice(agents)
    if rng.random() < 0.5:
        params["status"] = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    if rng.random() < 0.3:
        params["direction"] = rng.choice(DIRECTIONS)
    params["tz"] = "UTC"
    return urlencode(params)


def user(run: Run, number: int) -> None:
    rng = random.Random(run.seed * 1000 + number)
    with httpx.Client(
        base_url=run.base, timeout=30, headers={"User-Agent": f"truedy-loadtest/{number}"}
    ) as client:
        with run.login_gate:
            signed_in = not run.stop.is_set() and login(run, client)
        try:
            run.all_signed_in.wait()
        except threading.BrokenBarrierError:
            return
        if not signed_in or not run.think(rng):
            return
        _, text = run.get(client, "list", "/calls/?tz=UTC")
        agents = _agents(text)
        presets = [html.unescape(q) for q in HREF_RE.findall(_first(PRESET_RE, text))]
        page = 1
        while run.think(rng):
            htmx = rng.random() < run.htmx_ratio
            headers = {"HX-Request": "true", "HX-Target": "results"} if htmx else {}
            next_page = _first(NEXT_PAGE_RE, text)
            if next_page and page < 3 and rng.random() < 0.4:
                query, page = html.unescape(next_page), page + 1  # the pager's "Next" link
            else:
                query, page = list_query(rng, agents, presets), 1
            _, text = run.get(
                client, "list-htmx" if htmx else "list", "/calls/?" + query, **headers
            )
            links = ROW_LINK_RE.findall(text)
            if not links or not run.think(rng):
                continue
            call_url = html.unescape(rng.choice(links))
            _, call_page = run.get(client, "call", call_url)
            if PLAYER_MARK not in call_page or rng.random() >= run.play_ratio:
                continue
            if not run.think(rng):
                break
            recording = call_url.split("?", 1)[0] + "recording"
            run.get(client, "recording", recording, Range="bytes=0-65535")


def login(run: Run, client: httpx.Client) -> bool:
    sample, text = run.get(client, "login", "/accounts/login/")
    token = _first(CSRF_RE, text)
    if sample.status != 200 or not token:
        run.login_failures.append(f"GET login page: {sample.status} {sample.note}")
        return False
    started = time.perf_counter()
    try:
        response = client.post(
            "/accounts/login/",
            data={"username": USERNAME, "password": run.password, "csrfmiddlewaretoken": token},
            headers={"Referer": run.base + "/accounts/login/"},
        )
        status, where = response.status_code, response.headers.get("Location", "")
    except httpx.HTTPError as error:
        status, where = 0, f"{type(error).__name__}: {error}"
    run.samples.append(
        Sample(
            start=time.monotonic() - run.t0,
            kind="login",
            status=status,
            ms=(time.perf_counter() - started) * 1000,
            url="POST /accounts/login/",
            note=where,
        )
    )
    if status != 302 or "/login" in where:
        run.login_failures.append(f"POST login: {status} -> {where}")
        return False
    return True


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(1) if match else ""


def _agents(text: str) -> list[str]:
    return [html.unescape(a) for a in OPTION_RE.findall(_first(AGENT_SELECT_RE, text))]


# --- live viewers ------------------------------------------------------------------------------

LIVE_ROW_RE = re.compile(
    r'<tr data-call-id="([^"]+)" data-progress="([^"]+)"([^>]*)>(.*?)</tr>', re.S
)
STATUS_RE = re.compile(r'<span class="badge status-([a-z0-9-]+)">')
CREATED_RE = re.compile(r'data-created="([^"]+)"')
LIVE_POLL_SECONDS = (2, 5)  # as live-list.js: while rows are watched; otherwise, on page 1
CHANGES = ("created", "ringing", "in-progress", "ended")


@dataclass
class LiveCall:
    """A call the driver placed, and when (time.time()) each of its changes happened."""

    call_id: str
    moments: dict[str, float]


@dataclass
class LiveRun:
    placed: dict[str, LiveCall] = field(default_factory=dict)
    # (call id, change, seen at time.time(), viewer)
    seen: list[tuple[str, str, float, int]] = field(default_factory=list)
    show_clicks: int = 0
    paused_answers: int = 0  # polls answered "live updates are paused"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, viewer: int, call_id: str, change: str) -> None:
        with self.lock:
            self.seen.append((call_id, change, time.time(), viewer))


def place_calls(run: Run, live: LiveRun, simulator: Any, every: float, rng: random.Random) -> None:
    """Place a call every `every` seconds on the simulator (whose clock is real time)."""
    us = 1_000_000
    while not run.stop.wait(every):
        call_id = simulator.place_call(talk_seconds=rng.uniform(8, 25), ring_seconds=3)
        skeleton = simulator.data.by_id[call_id]
        moments = {"created": skeleton.created / us, "ended": skeleton.settled / us}
        if skeleton.ringing is not None:
            moments["ringing"] = skeleton.ringing / us
        if skeleton.started is not None:
            moments["in-progress"] = skeleton.started / us
        with live.lock:
            live.placed[call_id] = LiveCall(call_id, moments)


def live_viewer(run: Run, live: LiveRun, number: int) -> None:
    """One person with the list open: polls like live-list.js and presses "Show new calls"."""
    with httpx.Client(
        base_url=run.base, timeout=30, headers={"User-Agent": f"truedy-live/{number}"}
    ) as client:
        with run.login_gate:
            signed_in = not run.stop.is_set() and login(run, client)
        try:
            run.all_signed_in.wait()
        except threading.BrokenBarrierError:
            return
        if not signed_in:
            return
        _, text = run.get(client, "list", "/calls/?tz=UTC")
        rows = _live_rows(text)
        seen_new: set[str] = set()
        etag = ""
        wait = 0.0
        poll_every = float(LIVE_POLL_SECONDS[0])
        while not run.stop.wait(wait):
            watch = [
                f"{call_id}:{shown}" for call_id, (shown, _, watched) in rows.items() if watched
            ]
            top = next(iter(rows.values()))[1] if rows else ""
            params = {"tz": "UTC", "rows": "1", "watch": ",".join(watch), "top": top}
            headers = {"If-None-Match": etag} if etag else {}
            url = "/calls/live/?" + urlencode(params)
            sample, body = run.get(client, "live-poll", url, **headers)
            if sample.status == 304:
                wait = poll_every
                continue
            if sample.status != 200:
                wait, etag = 10.0, ""  # as live-poll.js does after a failure
                continue
            answer = json.loads(body)
            if answer["paused"]:
                with live.lock:
                    live.paused_answers += 1
            etag = sample.etag
            poll_every = float(answer["poll"] or LIVE_POLL_SECONDS[1])
            wait = poll_every
            for call_id, found in answer["rows"].items():
                if call_id in rows and _newer(found["progress"], rows[call_id][0]):
                    status = _first(STATUS_RE, found.get("html", ""))
                    rows[call_id] = (found["progress"], rows[call_id][1], found["watch"])
                    live.saw(number, call_id, "ended" if status in ("ended", "failed") else status)
            fresh = [call_id for call_id in answer["new_ids"] if call_id not in seen_new]
            for call_id in fresh:
                seen_new.add(call_id)
                live.saw(number, call_id, "created")
            if fresh:  # "Show N new calls", as soon as it is offered
                with live.lock:
                    live.show_clicks += 1
                headers = {"HX-Request": "true", "HX-Target": "results"}
                _, text = run.get(client, "list-htmx", "/calls/?tz=UTC", **headers)
                shown = _live_rows(text)
                for call_id, (_, _, _) in shown.items():
                    if call_id not in rows:
                        status = _first(STATUS_RE, text[text.index(call_id) :])
                        live.saw(
                            number, call_id, "ended" if status in ("ended", "failed") else status
                        )
                rows = shown
                etag = ""


def _live_rows(text: str) -> dict[str, tuple[str, str, bool]]:
    """call id -> (progress, created, watched) of the list's rows, top first."""
    rows = {}
    for call_id, progress, attributes, _ in LIVE_ROW_RE.findall(text):
        rows[call_id] = (progress, _first(CREATED_RE, attributes), "data-watch" in attributes)
    return rows


def _newer(progress: str, than: str) -> bool:
    return tuple(map(int, progress.split("."))) > tuple(map(int, than.split(".")))


def summarise_live(live: LiveRun, started: float, ended: float) -> dict[str, Any]:
    """Per kind of change: how long after it happened each viewer first saw it (a viewer that
    saw a later state first, say answered before it saw ringing, has no figure for it)."""
    with live.lock:
        placed, seen = dict(live.placed), list(live.seen)
    first: dict[tuple[str, str, int], float] = {}
    for call_id, change, at, viewer in seen:
        first.setdefault((call_id, change, viewer), at)
    result: dict[str, Any] = {}
    for change in CHANGES:
        delays = sorted(
            at - placed[call_id].moments[change]
            for (call_id, kind, _), at in first.items()
            if kind == change
            and call_id in placed
            and change in placed[call_id].moments
            and started <= placed[call_id].moments[change] <= ended
        )
        result[change] = {
            "samples": len(delays),
            "p50_s": round(percentile(delays, 0.50), 2),
            "p95_s": round(percentile(delays, 0.95), 2),
            "max_s": round(delays[-1], 2) if delays else 0.0,
        }
    every = sorted(
        at - placed[call_id].moments[kind]
        for (call_id, kind, _), at in first.items()
        if call_id in placed
        and kind in placed[call_id].moments
        and started <= placed[call_id].moments[kind] <= ended
    )
    result["any"] = {
        "samples": len(every),
        "p50_s": round(percentile(every, 0.50), 2),
        "p95_s": round(percentile(every, 0.95), 2),
        "max_s": round(every[-1], 2) if every else 0.0,
    }
    return {
        "calls_placed": sum(1 for c in placed.values() if started <= c.moments["created"] <= ended),
        "changes": result,
        "show_new_calls_pressed": live.show_clicks,
        "paused_answers": live.paused_answers,
    }


def process_cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of a process and its children (gunicorn's master and
    workers), from /proc; 0.0 where /proc is not there."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


# --- figures -----------------------------------------------------------------------------------


def summarise(
    run: Run, events: list[tuple[float, str, int, str]], elapsed: float, config: dict[str, Any]
) -> dict[str, Any]:
    samples = [s for s in run.samples if s.kind != "login"]  # browsing, after every sign-in
    per_kind: dict[str, Any] = {}
    for kind in (*PAGE_KINDS, "browsing"):
        chosen = [s for s in run.samples if s.kind == kind] if kind != "browsing" else samples
        times = sorted(s.ms for s in chosen)
        per_kind[kind] = {
            "requests": len(chosen),
            "statuses": dict(sorted(Counter(str(s.status) for s in chosen).items())),
            "p50_ms": round(percentile(times, 0.50), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
            "max_ms": round(times[-1], 1) if times else 0.0,
            "mean_ms": round(statistics.fmean(times), 1) if times else 0.0,
            "stale_notice": sum(s.stale for s in chosen),
            "slow_down_503": sum(s.slow_down for s in chosen),
            "waiting_pages": sum(s.waiting for s in chosen),
            "server_errors_5xx": sum(s.status >= 500 for s in chosen),
            "no_answer": sum(s.status == 0 for s in chosen),
        }
    page_views = sum(1 for s in samples if s.kind in ("list", "list-htmx", "call"))
    api = [e for e in events if e[1].startswith("api:")]
    minutes = Counter(int(e[0] // 60) for e in api)
    upstream = {
        "api_requests": len(api),
        "api_requests_per_minute": round(len(api) / (elapsed / 60), 1) if elapsed else 0.0,
        "api_busiest_clock_minute": max(minutes.values(), default=0),
        "api_429": sum(1 for e in api if e[2] == 429),
        "api_statuses": dict(sorted(Counter(str(e[2]) for e in api).items())),
        "api_by_endpoint": dict(sorted(Counter(e[1] for e in api).items())),
        "api_by_path": dict(Counter(path_shape(e[3]) for e in api).most_common()),
        "api_call_reads_by_page": _call_reads_by_page(run, api),
        "recording_requests": sum(1 for e in events if e[1] == "recording"),
        "recording_statuses": dict(
            sorted(Counter(str(e[2]) for e in events if e[1] == "recording").items())
        ),
        "api_requests_per_100_page_views": round(100 * len(api) / page_views, 1)
        if page_views
        else 0.0,
        **_refetches(api),
    }
    timeline = _timeline(run, events)
    working_set = _working_set(samples)
    failures = [asdict(s) for s in run.samples if s.status >= 500 or s.status == 0 or s.slow_down][
        :50
    ]
    every = [per_kind["browsing"], per_kind["login"]]
    return {
        "config": config,
        "elapsed_seconds": round(elapsed, 1),
        "requests": len(samples),
        "requests_per_second": round(len(samples) / elapsed, 1) if elapsed else 0.0,
        "page_views": page_views,
        "statuses": dict(sorted(Counter(str(s.status) for s in samples).items())),
        "pages": per_kind,
        "users_saw": {
            "server_errors_5xx": sum(row["server_errors_5xx"] for row in every),
            "rate_limit_error_pages_503": sum(row["slow_down_503"] for row in every),
            "stale_notice_pages": per_kind["browsing"]["stale_notice"],
            "waiting_pages_no_data_yet": per_kind["browsing"]["waiting_pages"],
            "no_answer": sum(row["no_answer"] for row in every),
            "login_failures": len(run.login_failures),
            "resent_after_connection_reset": len(run.resent),
        },
        "upstream": upstream,
        "working_set": working_set,
        "timeline_10s": timeline,
        "first_failures": failures,
        "login_failures": run.login_failures[:20],
        "resent_after_connection_reset": run.resent[:20],
    }


def page_key(sample: Sample) -> str:
    """What the dashboard caches a page under: a call's id, or a list's canonical filters."""
    path, _, query = sample.url.partition("?")
    if sample.kind in ("call", "recording"):
        return "call " + path.removeprefix("/calls/").split("/")[0]
    params = {k: v for k, v in parse_qsl(query) if v and k != "tz"}
    params.setdefault("per_page", "25")
    if params.get("page") == "1":
        del params["page"]
    return "list " + urlencode(sorted(params.items()))


def _working_set(samples: list[Sample]) -> dict[str, Any]:
    """How many different lists and calls were asked for: each costs at least one upstream
    request the first time (a call page needs GET /calls/{id}; lists carry no transcripts).
    And how many "slow down" pages were for something the dashboard had already shown, so had
    cached: stale-if-error should have served those, so this should be 0."""
    seen_ok: set[str] = set()
    lists, calls = set(), set()
    after_ok = []
    for sample in sorted(samples, key=lambda s: s.start):
        if sample.kind not in ("list", "list-htmx", "call"):
            continue
        key = page_key(sample)
        (calls if sample.kind == "call" else lists).add(key)
        if sample.slow_down and key in seen_ok:
            after_ok.append(f"{sample.start:.1f}s {sample.url}")
        if sample.status == 200:
            seen_ok.add(key)
    return {
        "distinct_lists": len(lists),
        "distinct_calls": len(calls),
        "slow_down_on_pages_shown_before": len(after_ok),
        "slow_down_on_pages_shown_before_examples": after_ok[:10],
    }


def _call_reads_by_page(run: Run, api: list[tuple[float, str, int, str]]) -> dict[str, int]:
    """Each ``GET /calls/{id}`` put down to what most likely sent it: a user's call page or
    recording of that call in flight (started up to 3 s before), else something else (a
    webhook's follow-up, the sync, a list)."""
    opened: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for sample in run.samples:
        if sample.kind in ("call", "recording"):
            call_id = sample.url.partition("?")[0].removeprefix("/calls/").split("/")[0]
            opened[call_id].append((run.wall_t0 + sample.start, sample.kind))
    origins: Counter[str] = Counter()
    for t, endpoint, _, target in api:
        if endpoint != "api:call":
            continue
        call_id = target.partition("?")[0].rsplit("/", 1)[-1]
        kinds = [kind for start, kind in opened.get(call_id, ()) if start - 0.5 <= t <= start + 3]
        origins[kinds[-1] + " page" if kinds else "no page of that call"] += 1
    return dict(origins.most_common())


def _refetches(api: list[tuple[float, str, int, str]]) -> dict[str, Any]:
    """The same API URL fetched again within REFETCH_SECONDS of a successful fetch. Every answer
    is cached for at least that long (a live call 5 s, lists 30 s) and one request per key
    refreshes at a time (a lock in the shared cache), so these should be 0 with Redis."""
    last_ok: dict[str, float] = {}
    again = []
    refreshes = Counter()  # fetches of a URL that had been answered before: refreshing the cache
    for t, endpoint, status, target in sorted(api):
        previous = last_ok.get(target)
        if previous is not None:
            refreshes[endpoint] += 1
            if t - previous < REFETCH_SECONDS:
                again.append(f"{target} again after {t - previous:.2f} s")
        if status == 200:
            last_ok[target] = t
    return {
        "api_refreshes_of_urls_fetched_before": dict(sorted(refreshes.items())),
        "api_refetched_within_5s": len(again),
        "api_refetched_examples": again[:10],
    }


def _timeline(run: Run, events: list[tuple[float, str, int, str]]) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("requests", "stale", "slow_down", "5xx", "api", "api_429"), 0)
    )
    for s in run.samples:
        if s.kind == "login":
            continue
        row = rows[int(s.start // 10)]
        row["requests"] += 1
        row["stale"] += s.stale
        row["slow_down"] += s.slow_down
        row["5xx"] += s.status >= 500
    wall_t0 = run.wall_t0
    for t, endpoint, status, _ in events:
        if endpoint.startswith("api:"):
            row = rows[int((t - wall_t0) // 10)]
            row["api"] += 1
            row["api_429"] += status == 429
    return [{"from_s": k * 10, **rows[k]} for k in sorted(rows)]


def print_report(result: dict[str, Any]) -> None:
    c = result["config"]
    print()
    print(
        f"Load test: {c['users']} users browsing for {c['seconds']:.0f} s against gunicorn gthread "
        f"{c['workers']}x{c['threads']} on {c['dashboard']} (signing them in took "
        f"{c['login_seconds']:.0f} s before that, {c['login_concurrency']} at a time)"
    )
    print(
        f"cache: {c['cache']}; upstream: simulator over HTTP at {c['rpm']} requests/minute, "
        f"{c['latency_ms']} ms latency; database: temporary SQLite; load average "
        f"{c['load_average_before'][0]} before, {c['load_average_after'][0]} after "
        f"({os.cpu_count()} CPUs, shared with this load generator and the simulator)"
    )
    print()
    header = (
        f"{'page':12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'stale':>6} {'wait':>5} {'503':>5} {'5xx':>5}  statuses"
    )
    print(header)
    print("-" * len(header))
    for kind, row in result["pages"].items():
        statuses = " ".join(f"{k}:{v}" for k, v in row["statuses"].items())
        print(
            f"{kind:12} {row['requests']:>8} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
            f"{row['p99_ms']:>8.1f} {row['max_ms']:>8.1f} {row['stale_notice']:>6} "
            f"{row['waiting_pages']:>5} {row['slow_down_503']:>5} {row['server_errors_5xx']:>5}  "
            f"{statuses}"
        )
    saw, up = result["users_saw"], result["upstream"]
    print()
    print(
        f"requests: {result['requests']} in {result['elapsed_seconds']} s "
        f"= {result['requests_per_second']}/s; page views (lists + calls): {result['page_views']}"
    )
    print(
        f"users saw: 5xx {saw['server_errors_5xx']}, rate-limit error pages (503) "
        f"{saw['rate_limit_error_pages_503']}, no answer {saw['no_answer']}, "
        f"login failures {saw['login_failures']}; pages with a stale notice "
        f"{saw['stale_notice_pages']} (fine); pages waiting out the limit with no data yet "
        f"(reload themselves) {saw['waiting_pages_no_data_yet']}; "
        "GETs sent again after a keep-alive reset "
        f"{saw['resent_after_connection_reset']}"
    )
    endpoints = ", ".join(f"{k.removeprefix('api:')} {v}" for k, v in up["api_by_endpoint"].items())
    refreshes = sum(up["api_refreshes_of_urls_fetched_before"].values())
    print(
        f"upstream API: {up['api_requests']} requests = {up['api_requests_per_minute']}/min "
        f"(the simulator allows {c['rpm']} per clock minute; busiest clock minute "
        f"{up['api_busiest_clock_minute']}); 429s: {up['api_429']}; {endpoints}; "
        f"{refreshes} of them refreshed something fetched earlier in the run"
    )
    print(
        f"upstream API requests per 100 page views: {up['api_requests_per_100_page_views']}; "
        f"recording fetches from storage: {up['recording_requests']} {up['recording_statuses']}"
    )
    print(f"GET /calls/{{id}} by what asked for it: {up['api_call_reads_by_page']}")
    cpu, served = result["gunicorn_cpu"], result["requests"]
    # CPU is what the run's p95 cannot show on a shared 2-core machine: the work each request costs.
    print(
        f"gunicorn CPU (master + workers, webhooks included): {cpu['cpu_seconds']} s = "
        f"{cpu['percent_of_one_core']} % of one core; "
        f"{1000 * cpu['cpu_seconds'] / max(1, served):.1f} ms per browsing request"
    )
    print("upstream API requests by path (ids as {id}; query parameter names):")
    for shape, count in up["api_by_path"].items():
        print(f"{count:>8}  {shape}")
    print(
        f"the same API URL fetched again within {REFETCH_SECONDS} s of a success "
        f"(cache or refresh lock missed, should be 0): {up['api_refetched_within_5s']}"
    )
    ws = result["working_set"]
    print(
        f"asked for {ws['distinct_lists']} different list views and {ws['distinct_calls']} "
        f"different calls (each needs an upstream request when first asked for); "
        f"'slow down' pages for something shown earlier in the run (stale should have been "
        f"served): {ws['slow_down_on_pages_shown_before']}"
    )
    print()
    print(f"{'t (s)':>6} {'requests':>8} {'stale':>6} {'503':>5} {'5xx':>5} {'api':>5} {'429':>5}")
    for row in result["timeline_10s"]:
        print(
            f"{row['from_s']:>6} {row['requests']:>8} {row['stale']:>6} {row['slow_down']:>5} "
            f"{row['5xx']:>5} {row['api']:>5} {row['api_429']:>5}"
        )


def print_live_report(result: dict[str, Any]) -> None:
    live, up, cpu = result["live"], result["upstream"], result["gunicorn_cpu"]
    polls = result["pages"]["live-poll"]
    c = result["config"]
    print()
    print(
        f"LIVE: {c['users']} viewers watching the list's first page for {c['seconds']:.0f} s, "
        f"HTTP pollers that behave like live-list.js (every 2 s while live rows are watched, "
        f"5 s otherwise, If-None-Match; 'Show new calls' pressed when offered); "
        f"{live['calls_placed']} calls placed, one every {c['live_call_every']:g} s"
    )
    print(
        f"polls: {polls['requests']} ({polls['statuses']}), p50 {polls['p50_ms']} ms, "
        f"p95 {polls['p95_ms']} ms; 'Show new calls' pressed {live['show_new_calls_pressed']} "
        f"times (each a list fragment); answers saying the updates were paused: "
        f"{live['paused_answers']}"
    )
    reads = sorted(event[0] for event in result["snapshot_reads"])
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    print(
        f"reads of Truedy's first page for the live snapshot: {len(reads)} "
        f"(gaps {min(gaps, default=0):.1f}-{max(gaps, default=0):.1f} s)"
    )
    endpoints = ", ".join(f"{k.removeprefix('api:')} {v}" for k, v in up["api_by_endpoint"].items())
    print(
        f"upstream API requests in those {result['elapsed_seconds']} s: "
        f"{up['api_requests']} ({endpoints})"
    )
    print(
        f"gunicorn CPU (master + workers): {cpu['cpu_seconds']} s = "
        f"{cpu['percent_of_one_core']} % of one core"
    )
    print("from a change in the simulator to a viewer seeing it (seconds):")
    for change, row in live["changes"].items():
        print(
            f"  {change:12} samples {row['samples']:>5}  p50 {row['p50_s']:>6}  "
            f"p95 {row['p95_s']:>6}  max {row['max_s']:>6}"
        )


# --- main --------------------------------------------------------------------------------------


def manage(env: dict[str, str], *command: str, timeout: float = 600) -> str:
    """``manage.py <command>`` with the dashboard's environment; its output (stdout, then
    stderr), or an error."""
    import subprocess

    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f"manage.py {command[0]} failed ({done.returncode})\n{tail}")
    return done.stdout + done.stderr


def backfill(env: dict[str, str], simulator: Any, rpm: int, latency_ms: int) -> float:
    """The whole archive synced before the run: setup, so Truedy is unlimited and instant, and
    the dashboard's own request budget is off for it. Seconds it took."""
    started = time.monotonic()
    simulator.switches.rate_limit_per_minute = None
    simulator.switches.latency_seconds = 0
    try:
        manage(env | {"TRUEDY_REQUESTS_PER_MINUTE": "0"}, "sync_calls")
    finally:
        simulator.switches.rate_limit_per_minute = rpm
        simulator.switches.latency_seconds = latency_ms / 1000
    return time.monotonic() - started


def keep_syncing(run: "Run", env: dict[str, str], every: float, log: list[dict[str, Any]]) -> None:
    """``manage.py sync_calls`` every ``every`` seconds while the run lasts: the scheduled sync,
    drawing on the same request budget as the pages (at background priority)."""
    while not run.stop.wait(every):
        started = time.monotonic()
        try:
            output = manage(env, "sync_calls", timeout=120)
            error = ""
        except Exception as failure:  # reported, never fatal to the run
            output, error = "", str(failure).splitlines()[0][:200]
        problems = [line[:200] for line in output.splitlines() if '"level": "ERROR"' in line]
        log.append(
            {
                "seconds": round(time.monotonic() - started, 1),
                "error": error,
                "logged_errors": problems[:5],
            }
        )


def place_new_calls(run: "Run", simulator: Any, every: float, rng: random.Random) -> None:
    """A new call on the simulator every ``every`` seconds (ringing 3 s, talking 8-25 s)."""
    while not run.stop.wait(every):
        simulator.place_call(talk_seconds=rng.uniform(8, 25), ring_seconds=3)


def _align(second: float | None) -> None:
    """Wait for second ``second`` of the clock minute (None: no wait)."""
    if second is not None:
        time.sleep((second - time.time()) % 60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rpm", type=int, default=100, help="the simulator's rate limit")
    parser.add_argument("--latency-ms", type=int, default=50, help="the simulator's latency")
    parser.add_argument(
        "--login-concurrency", type=int, default=4, help="users signing in at once, before browsing"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--play-ratio", type=float, default=0.3)
    parser.add_argument("--htmx-ratio", type=float, default=0.3)
    parser.add_argument(
        "--live-viewers",
        type=int,
        default=0,
        metavar="N",
        help="measure the live list instead: N people watching its first page (see above)",
    )
    parser.add_argument(
        "--live-call-every", type=float, default=4.0, help="seconds between new calls (live)"
    )
    parser.add_argument(
        "--archive",
        choices=("none", "synced"),
        default="none",
        help="synced: backfill the archive first and keep it current during the run",
    )
    parser.add_argument(
        "--sync-every", type=float, default=15.0, help="seconds between syncs (--archive synced)"
    )
    parser.add_argument(
        "--webhooks", action="store_true", help="the simulator delivers webhooks as calls change"
    )
    parser.add_argument(
        "--new-call-every",
        type=float,
        default=0.0,
        metavar="S",
        help="place a call on the simulator every S seconds while browsing (0: none)",
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--begin-at-second",
        type=float,
        default=None,
        metavar="S",
        help="start browsing at second S of a clock minute (Truedy's rate-limit window), so runs "
        "compare like for like; default: as soon as everyone is signed in",
    )
    parser.add_argument(
        "--redis-db", type=int, default=REDIS_DB, help="the Redis database to use (flushed)"
    )
    args = parser.parse_args()
    live_mode = args.live_viewers > 0
    users = args.live_viewers if live_mode else args.users
    if args.output is None:
        args.output = RESULTS_DIR / ("loadtest-live.json" if live_mode else "loadtest.json")

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)  # also when started with SIGINT ignored (`cmd &`)
    tmp = Path(tempfile.mkdtemp(prefix="truedy-loadtest-"))
    server = gunicorn = None
    cache_url: str | None = None
    threads: list[threading.Thread] = []
    run: Run | None = None
    live: LiveRun | None = LiveRun() if live_mode else None
    result: dict[str, Any] | None = None
    emitter: WebhookEmitter | None = None
    sync_log: list[dict[str, Any]] = []
    failed, interrupted = True, False
    try:
        server, counter = start_simulator(args.rpm, args.latency_ms)
        cache_url = redis_cache_url(args.redis_db)
        cache = f"Redis {cache_url} (flushed)" if cache_url else None
        if cache_url is None:
            cache_url = "locmemcache://"
            cache = "LOCAL MEMORY (Redis did not answer): one cache per worker, uncoordinated"
        print(f"simulator: {server.base_url} ({args.rpm} requests/minute)")
        print(f"cache: {cache}")
        env = dashboard_env(
            base_url=server.base_url,
            api_key=DEFAULT_API_KEY,
            database_url=f"sqlite:///{tmp / 'db.sqlite3'}",
            cache_url=cache_url,
            static_root=tmp / "static",
        )
        # No worker: background tasks (webhook follow-ups) run where they are enqueued.
        env.update(
            CELERY_TASK_ALWAYS_EAGER="true",
            CELERY_BROKER_URL="memory://",
            TRUEDY_WEBHOOK_SECRET=WEBHOOK_SECRET,
            MEDIA_ROOT=str(tmp / "media"),
        )
        password = secrets.token_urlsafe(18)
        print("preparing the database (migrate, staff user) ...")
        prepare_database(env, USERNAME, password)
        backfill_seconds = None
        if args.archive == "synced":
            print("backfilling the archive (manage.py sync_calls, Truedy unlimited) ...")
            backfill_seconds = backfill(env, server.simulator, args.rpm, args.latency_ms)
            print(f"archive synced in {backfill_seconds:.0f} s")
        gunicorn = Gunicorn(env, free_port(), args.workers, args.threads, tmp)
        gunicorn.wait_ready()
        print(f"gunicorn: {gunicorn.base} (pid {gunicorn.process.pid}); logs in {tmp}")

        run = Run(
            base=gunicorn.base,
            users=users,
            seconds=args.seconds,
            seed=args.seed,
            play_ratio=args.play_ratio,
            htmx_ratio=args.htmx_ratio,
            password=password,
            login_gate=threading.Semaphore(args.login_concurrency),
            all_signed_in=threading.Barrier(
                users + 1, action=lambda: (_align(args.begin_at_second), run.start_clock())
            ),
        )
        loadavg_before = [round(x, 2) for x in os.getloadavg()]
        threads = [
            threading.Thread(
                target=live_viewer if live else user,
                args=(run, live, n) if live else (run, n),
                name=f"user-{n}",
                daemon=True,
            )
            for n in range(users)
        ]
        print(f"signing in {users} users, {args.login_concurrency} at a time ...")
        run.start_clock()
        login_started = run.t0
        for thread in threads:
            thread.start()
        run.all_signed_in.wait(timeout=60 + 5 * users)  # its action restarts the clock
        login_seconds = run.t0 - login_started
        print(f"signed in: {run.signed_in} of {users} in {login_seconds:.1f} s")
        cpu_before = process_cpu_seconds(gunicorn.process.pid)
        if live:
            placer = threading.Thread(
                target=place_calls,
                args=(run, live, server.simulator, args.live_call_every, random.Random(args.seed)),
                name="new-calls",
                daemon=True,
            )
            placer.start()
            threads.append(placer)
            print(f"watching the live list for {args.seconds:.0f} s ...")
        else:
            background: list[threading.Thread] = []
            if args.archive == "synced":
                background.append(
                    threading.Thread(
                        target=keep_syncing,
                        args=(run, env, args.sync_every, sync_log),
                        name="sync",
                        daemon=True,
                    )
                )
            if args.new_call_every > 0:
                background.append(
                    threading.Thread(
                        target=place_new_calls,
                        args=(run, server.simulator, args.new_call_every, random.Random(args.seed)),
                        name="new-calls",
                        daemon=True,
                    )
                )
            if args.webhooks:
                emitter = WebhookEmitter(
                    server.simulator,
                    WebhookSender(WEBHOOK_SECRET, gunicorn.base + "/webhooks/truedy"),
                )
                emitter.start()
            for thread in background:
                thread.start()
            threads.extend(background)
            print(f"browsing for {args.seconds:.0f} s ...")
        run.stop.wait(args.seconds)
        run.stop.set()
        cpu_seconds = process_cpu_seconds(gunicorn.process.pid) - cpu_before
        for thread in threads:
            thread.join(timeout=35)
        elapsed = time.monotonic() - run.t0
        config = {
            "users": users,
            "mode": "live viewers" if live else "browsing",
            "seconds": args.seconds,
            "login_concurrency": args.login_concurrency,
            "login_seconds": round(login_seconds, 1),
            "rpm": args.rpm,
            "latency_ms": args.latency_ms,
            "workers": args.workers,
            "threads": args.threads,
            "seed": args.seed,
            "live_call_every": args.live_call_every,
            "play_ratio": args.play_ratio,
            "htmx_ratio": args.htmx_ratio,
            "dashboard": gunicorn.base,
            "load_average_before": loadavg_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "cache": cache,
            "archive": args.archive,
            "backfill_seconds": round(backfill_seconds, 1) if backfill_seconds else None,
            "sync_every": args.sync_every if args.archive == "synced" else None,
            "webhooks": args.webhooks,
            "new_call_every": args.new_call_every,
            # Truedy (the simulator) counts requests per clock minute: where in its minute the
            # browsing began decides how much of a window's allowance a short run can use.
            "browsing_began_at_second_of_minute": round(run.wall_t0 % 60, 1),
        }
        events = [e for e in counter.snapshot() if e[0] >= run.wall_t0]
        if emitter is not None:
            emitter.stop()
            emitter = None
        result = summarise(run, events, elapsed, config)
        result["syncs"] = sync_log
        # Every upstream API request of the run, for a closer look:
        # (s since start, kind, status, path?query).
        result["api_events"] = [
            (round(e[0] - run.wall_t0, 2), e[1], e[2], e[3])
            for e in events
            if e[1].startswith("api:")
        ]
        result["gunicorn_cpu"] = {
            "cpu_seconds": round(cpu_seconds, 2),
            "percent_of_one_core": round(100 * cpu_seconds / elapsed, 1) if elapsed else 0.0,
        }
        if live:
            result["live"] = summarise_live(live, run.wall_t0, run.wall_t0 + elapsed)
            result["snapshot_reads"] = [e for e in events if "limit=100&" in e[3]]
        print_report(result)
        if live:
            print_live_report(result)
        saw = result["users_saw"]
        failed = bool(
            saw["server_errors_5xx"]
            or saw["rate_limit_error_pages_503"]
            or saw["no_answer"]
            or saw["login_failures"]
            or not result["page_views"]
        )
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping gunicorn and the simulator", file=sys.stderr)
    finally:
        if emitter is not None:
            emitter.stop()
        if run is not None:
            run.stop.set()
            run.all_signed_in.abort()
            for thread in threads:
                thread.join(timeout=5)
        if gunicorn is not None:
            gunicorn.stop()
        if server is not None:
            server.shutdown()
        if cache_url and cache_url.startswith("redis://"):
            redis_cache_url(args.redis_db)  # flush again: leave no cached calls behind
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        if gunicorn is not None:
            for log in (gunicorn.error_log, gunicorn.access_log):
                if log.exists():
                    shutil.copy(log, RESULTS_DIR / f"loadtest-{log.name}")
        if result is not None and gunicorn is not None:
            result["gunicorn_log"] = gunicorn.log_summary()
            print("\ngunicorn stderr, warnings and errors by kind:")
            for kind, count in result["gunicorn_log"].items():
                print(f"{count:>6}  {kind}")
        if result is not None:
            result["failed"] = failed
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(result, indent=2) + "\n")
            print(f"\nwritten: {args.output}")
        if failed and not interrupted and gunicorn is not None:
            _explain_failure(result, gunicorn)
        shutil.rmtree(tmp, ignore_errors=True)
    if interrupted:
        return 130
    if failed:
        print("FAILED: users saw errors (see above)", file=sys.stderr)
        return 1
    print("OK: no 5xx and no rate-limit error reached a user")
    return 0


def _explain_failure(result: dict[str, Any] | None, gunicorn: Gunicorn) -> None:
    if result is not None:
        for failure in result["first_failures"][:10]:
            print(
                f"  at {failure['start']:.1f} s {failure['kind']} {failure['url']} -> "
                f"{failure['status']} {failure['note']!r}",
                file=sys.stderr,
            )
        for failure in result["login_failures"][:5]:
            print(f"  {failure}", file=sys.stderr)
    print("--- gunicorn stderr (tail) ---", file=sys.stderr)
    print(gunicorn.log_tail(), file=sys.stderr)
    print(
        f"--- full logs: {RESULTS_DIR.relative_to(ROOT)}/loadtest-gunicorn-*.log", file=sys.stderr
    )


if __name__ == "__main__":
    sys.exit(main())
