"""How current the archive stays, with and without webhooks, and what the background work spends.

What runs, all on 127.0.0.1:
- the Truedy simulator, in this process, over real HTTP (a small data set: the backfill is quick),
  limited to --rpm API requests a minute per key from the moment the background work starts
  (Truedy documents about 100; the backfill before it runs unlimited, it is setup);
- for each mode, a fresh deployment: a temporary SQLite database backfilled with
  `manage.py sync_calls`, the dashboard under gunicorn (DEBUG off), and one Celery worker with
  the scheduler inside it (`worker --beat --concurrency 2`) on a filesystem broker, the cache a
  folder both share; the scheduled sync keeps its production settings (ARCHIVE_SYNC_INTERVAL,
  ARCHIVE_SYNC_REQUESTS_PER_RUN: whatever the settings default to, printed);
- "with webhooks": the simulator's WebhookEmitter POSTs signed events to /webhooks/truedy as its
  calls change (it looks every 0.2 s; the worker polls the filesystem broker every second, which
  Redis in production would not); "without": only the scheduled sync brings calls in.

In each mode, once a scheduled sync has finished and the archive holds every call, --calls calls
are placed, one every --every seconds (5 s talk, 1 s ring), and the archive table is read every
0.1 s: a call's appear latency is when its row first exists minus when it was created, its end
latency when the row first says 'ended' minus when it ended, its transcript latency when the row
first has the transcript minus when Truedy first showed it (all on the simulator's clock).
Without webhooks the worker is first left alone for --rest-seconds with nothing happening.

Every API request the simulator serves during a window is background work (nobody browses):
counted as list (GET /calls), detail (GET /calls/<id>) or other, per minute, at rest and during
each burst. A burst's window runs from the first call placed until the archive holds every call
ended with its transcript (or 120 s after the last one ended).

It prints a table and writes bench/results/freshness.json (every latency too).

Run: .venv/bin/python bench/freshness.py [--calls 20] [--every 3] [--rest-seconds 60]
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The simulator imports nothing from Django: no settings needed in this process.
from bench.harness import (  # noqa: E402
    RESULTS_DIR,
    Gunicorn,
    dashboard_env,
    free_port,
    percentile,
)
from calls.simulator import (  # noqa: E402
    API_PREFIX,
    DEFAULT_API_KEY,
    Simulator,
    SimulatorServer,
    WebhookEmitter,
    serve,
)
from calls.simulator.emitter import call_events  # noqa: E402
from calls.simulator.webhooks import WebhookSender  # noqa: E402

CELERY = str(Path(sys.executable).with_name("celery"))
SIMULATOR_CALLS = 300
WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)
TALK_SECONDS, RING_SECONDS = 5, 1
POLL_SECONDS = 0.1
LAST_CALL_WAIT = 120.0  # after the last call ended, the longest wait for the archive to catch up
START_TIMEOUT = 60.0
CURRENT_TIMEOUT = 90.0  # a scheduled sync comes every 15 s by default
LOG_TAIL_LINES = 30
US = 1_000_000
WORKER_PROBLEM_RE = re.compile(r"\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|CRITICAL) ")
# Kombu says this of every filesystem:// connection (a folder has no host): not a problem.
BENIGN_WARNING = "No hostname was supplied"
# Settings that would change what is measured if this shell happened to export them: the
# deployment must run on the production defaults.
INHERITED_SETTINGS = ("ARCHIVE_SYNC_INTERVAL", "ARCHIVE_SYNC_REQUESTS_PER_RUN", "MEDIA_ROOT")
SHOW_SETTINGS = (
    "import json\n"
    "from django.conf import settings as s\n"
    "print(json.dumps({'interval_seconds': s.ARCHIVE_SYNC_INTERVAL, "
    "'requests_per_run': s.ARCHIVE_SYNC_REQUESTS_PER_RUN, 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND']}))\n"
)


class StartFailed(Exception):
    """The dashboard or the worker did not start: the message says which, with its log's end."""


# --- the upstream: the simulator over HTTP, the status of every answer noted -------------------


class StatusLog:
    """WSGI middleware in front of the simulator: when each API request was answered, and how.
    The simulator's own request log has no times or statuses; 429s are counted from this."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.answers: list[tuple[float, int]] = []  # (time.monotonic(), status)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        is_api = environ.get("PATH_INFO", "").startswith(API_PREFIX)

        def noting_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            if is_api:
                with self.lock:
                    self.answers.append((time.monotonic(), int(status.split()[0])))
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        return self.app(environ, noting_start_response)

    def count(self, status: int, start: float, end: float) -> int:
        with self.lock:
            return sum(1 for t, s in self.answers if s == status and start <= t <= end)


def start_simulator() -> tuple[SimulatorServer, StatusLog]:
    simulator = Simulator(seed=42, call_count=SIMULATOR_CALLS)
    status_log = StatusLog(simulator.wsgi_app)
    simulator.wsgi_app = status_log  # the server serves whatever this attribute holds
    return serve(simulator, host="127.0.0.1", port=0), status_log


def request_counts(simulator: Simulator) -> dict[str, int]:
    """The API requests in the simulator's log by kind; anything else (recording downloads)
    is not an API request and counted apart."""
    counts = Counter(dict.fromkeys(("list", "detail", "other", "not_api"), 0))
    for request in simulator.requests:
        if request.path != API_PREFIX and not request.path.startswith(API_PREFIX + "/"):
            counts["not_api"] += 1
            continue
        route = request.path.removeprefix(API_PREFIX)
        if route == "/calls":
            counts["list"] += 1
        elif route.startswith("/calls/"):
            counts["detail"] += 1
        else:
            counts["other"] += 1
    return dict(counts)


def spending(counts: dict[str, int], seconds: float, rate_limited: int) -> dict[str, float | int]:
    minutes = seconds / 60
    api = counts["list"] + counts["detail"] + counts["other"]
    return {
        "seconds": round(seconds, 1),
        **{f"{kind}_requests": counts[kind] for kind in ("list", "detail", "other")},
        "api_requests": api,
        "not_api_requests": counts["not_api"],
        **{
            f"{kind}_per_minute": round(counts[kind] / minutes, 1)
            for kind in ("list", "detail", "other")
        },
        "api_per_minute": round(api / minutes, 1),
        "answered_429": rate_limited,
    }


# --- a deployment: database, dashboard, worker -------------------------------------------------


class Worker:
    """`celery worker --beat` in a process group of its own, its output in a log file."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.log_path = folder / "worker.log"
        command = [CELERY, "-A", "truedy_dashboard", "worker", "--beat"]
        command += ["--concurrency", "2", "--loglevel", "INFO"]
        # The scheduler's state in the temporary folder, never the project's var/.
        command += ["--schedule", str(folder / "celerybeat-schedule")]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def problems(self) -> list[str]:
        """Its warnings, errors and tracebacks: a run that had any is worth a look."""
        return [
            line
            for line in self.log().splitlines()
            if (line.startswith("Traceback") or WORKER_PROBLEM_RE.match(line))
            and BENIGN_WARNING not in line
        ]

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                raise StartFailed(
                    f"the worker exited with status {self.process.returncode}\n"
                    f"--- worker log (last {LOG_TAIL_LINES} lines) ---\n{self.log_tail()}"
                )
            if " ready." in self.log():
                return
            time.sleep(0.2)
        raise StartFailed(
            f"the worker was not ready within {timeout:.0f} s\n"
            f"--- worker log (last {LOG_TAIL_LINES} lines) ---\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """A warm shutdown, then SIGKILL to whatever is left of the group (pool children, the
        embedded scheduler)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        kill_group(self.process)
        self._log.close()


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-LOG_TAIL_LINES:])
        raise StartFailed(f"manage.py {command[0]} failed ({done.returncode})\n{tail}")
    return done.stdout


def deployment_env(server: SimulatorServer, folder: Path, static_root: Path) -> dict[str, str]:
    env = dashboard_env(
        base_url=server.base_url,
        api_key=DEFAULT_API_KEY,
        database_url=f"sqlite:///{folder / 'db.sqlite3'}",
        # Shared by the dashboard and the worker's processes, as Redis is in production.
        cache_url=f"filecache://{folder / 'cache'}",
        static_root=static_root,
    )
    for name in list(env):
        if name in INHERITED_SETTINGS or name.startswith("CELERY_"):
            del env[name]
    env.update(
        CELERY_BROKER_URL="filesystem://",
        CELERY_BROKER_FOLDER=str(folder / "broker"),
        CELERY_TASK_ALWAYS_EAGER="false",
        TRUEDY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        MEDIA_ROOT=str(folder / "media"),
        LOG_FORMAT="text",  # the worker's "ready." line is looked for
        LOG_LEVEL="INFO",
    )
    return env


@dataclass
class Deployment:
    folder: Path
    env: dict[str, str]
    database: Path
    gunicorn: Gunicorn | None = None
    worker: Worker | None = None
    worker_started: datetime | None = None

    def stop(self) -> None:
        try:
            if self.worker is not None:
                self.worker.stop()
        finally:
            if self.gunicorn is not None:
                self.gunicorn.stop()
                kill_group(self.gunicorn.process)  # its workers, should the master have died


def start_deployment(
    server: SimulatorServer, deployment: Deployment, rpm: int, collect_static: bool
) -> None:
    """Migrate and backfill the empty database (Truedy unlimited: this is setup), then start
    the dashboard and the worker with Truedy's rate limit on."""
    simulator = server.simulator
    if collect_static:
        manage(deployment.env, "collectstatic", "--noinput", "-v", "0")
    manage(deployment.env, "migrate", "--noinput", "-v", "0")
    simulator.switches.rate_limit_per_minute = None
    manage(deployment.env, "sync_calls")
    simulator.switches.rate_limit_per_minute = rpm or None
    deployment.gunicorn = Gunicorn(deployment.env, free_port(), 2, 4, deployment.folder)
    try:
        deployment.gunicorn.wait_ready(timeout=START_TIMEOUT)
    except RuntimeError as error:
        raise StartFailed(
            f"the dashboard did not start: {error}\n"
            f"--- gunicorn log (last {LOG_TAIL_LINES} lines) ---\n"
            f"{deployment.gunicorn.log_tail(LOG_TAIL_LINES)}"
        ) from None
    deployment.worker_started = datetime.now(UTC)
    deployment.worker = Worker(deployment.env, deployment.folder)
    deployment.worker.wait_ready()


# --- the archive, read with sqlite3 ------------------------------------------------------------


def query(database: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    # A connection per query: never a read transaction held open against the writers.
    connection = sqlite3.connect(database, timeout=20)
    try:
        return connection.execute(sql, tuple(params)).fetchall()
    finally:
        connection.close()


def parse_db_time(text: str | None) -> datetime | None:
    """A DateTimeField as Django stores it in SQLite: UTC, without an offset."""
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wait_current(deployment: Deployment, simulator: Simulator) -> float:
    """Until a scheduled sync has finished a window since the worker started and the archive
    holds every call Truedy has created; the seconds it took."""
    started = time.monotonic()
    assert deployment.worker is not None and deployment.worker_started is not None
    state = "nothing read yet"
    while time.monotonic() - started < CURRENT_TIMEOUT:
        if deployment.worker.process.poll() is not None:
            raise StartFailed(
                f"the worker exited with status {deployment.worker.process.returncode}\n"
                f"--- worker log (last {LOG_TAIL_LINES} lines) ---\n{deployment.worker.log_tail()}"
            )
        now = simulator.clock.now_us()
        cursor = query(
            deployment.database,
            "SELECT finished_at, running FROM calls_synccursor WHERE name = 'calls'",
        )
        archived = {
            row[0] for row in query(deployment.database, "SELECT id FROM calls_archivedcall")
        }
        # Truedy lists only the last 12 months: older calls cannot be archived.
        missing = [
            c.id
            for c in simulator.data.calls
            if simulator.data.visible(c, now) and c.id not in archived
        ]
        finished = parse_db_time(cursor[0][0]) if cursor else None
        running = bool(cursor and cursor[0][1])
        state = f"last sync finished {finished}, running {running}, {len(missing)} calls missing"
        if not missing and not running and finished and finished > deployment.worker_started:
            return time.monotonic() - started
        time.sleep(0.5)
    raise StartFailed(
        f"the archive was not current {CURRENT_TIMEOUT:.0f} s after the worker started "
        f"(worker started {deployment.worker_started}; {state})\n"
        f"--- worker log (last {LOG_TAIL_LINES} lines) ---\n{deployment.worker.log_tail()}"
    )


# --- a burst of calls, watched in the archive --------------------------------------------------


@dataclass
class Watched:
    """One placed call: its moments on the simulator's clock (epoch µs) and when the archive
    first showed each."""

    id: str
    created: int
    ended: int
    transcript: int | None  # when Truedy first shows it; None: this call never has one
    appeared: int | None = None
    ended_seen: int | None = None
    transcript_seen: int | None = None

    def settled(self) -> bool:
        return self.ended_seen is not None and (
            self.transcript is None or self.transcript_seen is not None
        )

    def latencies(self) -> dict[str, Any]:
        def seconds(seen: int | None, moment: int | None) -> float | None:
            return None if seen is None or moment is None else round((seen - moment) / US, 3)

        return {
            "id": self.id,
            "appear_s": seconds(self.appeared, self.created),
            "end_s": seconds(self.ended_seen, self.ended),
            "transcript_s": seconds(self.transcript_seen, self.transcript),
        }


@dataclass
class Burst:
    calls: list[Watched] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False


def run_burst(simulator: Simulator, database: Path, count: int, every: float) -> Burst:
    """Place `count` calls `every` seconds apart while reading the archive every POLL_SECONDS,
    until each is archived ended with its transcript (or LAST_CALL_WAIT after the last ended)."""
    burst = Burst()
    started = time.monotonic()
    next_call = started
    give_up: float | None = None
    while True:
        now = time.monotonic()
        if len(burst.calls) < count and now >= next_call:
            burst.calls.append(place(simulator))
            next_call += every
            if len(burst.calls) == count:
                last = burst.calls[-1]
                wait_from_end = (last.ended - simulator.clock.now_us()) / US
                give_up = now + max(wait_from_end, 0) + LAST_CALL_WAIT
        observe(simulator, database, burst.calls)
        if len(burst.calls) == count and all(call.settled() for call in burst.calls):
            break
        if give_up is not None and time.monotonic() >= give_up:
            burst.timed_out = True
            break
        time.sleep(POLL_SECONDS)
    burst.seconds = time.monotonic() - started
    return burst


def place(simulator: Simulator) -> Watched:
    call_id = simulator.place_call(talk_seconds=TALK_SECONDS, ring_seconds=RING_SECONDS)
    skeleton = simulator.data.by_id[call_id]
    ended = skeleton.ended if skeleton.ended is not None else skeleton.settled
    transcript = next(
        (moment for moment, event in call_events(simulator, skeleton) if event == "call.analyzed"),
        None,
    )
    return Watched(id=call_id, created=skeleton.created, ended=ended, transcript=transcript)


def observe(simulator: Simulator, database: Path, calls: list[Watched]) -> None:
    waiting = {call.id: call for call in calls if not call.settled()}
    if not waiting:
        return
    marks = ",".join("?" * len(waiting))
    # Only placeholders are formatted into the statement; the ids are parameters.
    columns = "id, status, transcript IS NOT NULL"
    sql = f"SELECT {columns} FROM calls_archivedcall WHERE id IN ({marks})"  # noqa: S608
    rows = query(database, sql, waiting)
    # After the read: the row existed by then (the latency is never understated).
    seen = simulator.clock.now_us()
    for call_id, status, has_transcript in rows:
        call = waiting[call_id]
        if call.appeared is None:
            call.appeared = seen
        if call.ended_seen is None and status == "ended":
            call.ended_seen = seen
        if call.transcript_seen is None and has_transcript:
            call.transcript_seen = seen


def summary(values: list[float | None]) -> dict[str, Any]:
    seen = sorted(v for v in values if v is not None)
    return {
        "p50": round(percentile(seen, 0.50), 2) if seen else None,
        "p95": round(percentile(seen, 0.95), 2) if seen else None,
        "max": round(seen[-1], 2) if seen else None,
        "missed": len(values) - len(seen),
    }


def burst_result(burst: Burst) -> dict[str, Any]:
    rows = [call.latencies() for call in burst.calls]
    transcribed = [row for row, call in zip(rows, burst.calls, strict=True) if call.transcript]
    return {
        "seconds": round(burst.seconds, 1),
        "timed_out": burst.timed_out,
        "appear": summary([row["appear_s"] for row in rows]),
        "end": summary([row["end_s"] for row in rows]),
        "transcript": summary([row["transcript_s"] for row in transcribed]),
        "transcripts_expected": len(transcribed),
        "calls": rows,
    }


def webhook_counts(database: Path) -> dict[str, int]:
    rows = query(
        database,
        "SELECT count(*), count(processed_at), "
        "sum(processed_at IS NOT NULL AND process_error != '') FROM calls_webhookevent",
    )
    stored, processed, failed = rows[0]
    return {"stored": stored, "processed": processed, "processed_with_error": failed or 0}


# --- one mode ----------------------------------------------------------------------------------


def run_mode(
    *,
    server: SimulatorServer,
    status_log: StatusLog,
    tmp: Path,
    webhooks: bool,
    args: argparse.Namespace,
    first: bool,
    result: dict[str, Any],
) -> None:
    simulator = server.simulator
    name = "with_webhooks" if webhooks else "without_webhooks"
    folder = tmp / name
    folder.mkdir()
    deployment = Deployment(
        folder=folder,
        env=deployment_env(server, folder, tmp / "static"),
        database=folder / "db.sqlite3",
    )
    emitter: WebhookEmitter | None = None
    sender: WebhookSender | None = None
    try:
        print(f"\n[{name}] migrating, backfilling, starting gunicorn and the worker ...")
        start_deployment(server, deployment, args.rpm, collect_static=first)
        if first:
            shown = manage(deployment.env, "shell", "-c", SHOW_SETTINGS)
            # The shell may say more first ("N objects imported automatically").
            result["config"]["settings"] = json.loads(shown.strip().splitlines()[-1])
        assert deployment.gunicorn is not None and deployment.worker is not None
        if webhooks:
            sender = WebhookSender(WEBHOOK_SECRET, deployment.gunicorn.base + "/webhooks/truedy")
            emitter = WebhookEmitter(simulator, sender)
            emitter.start()
        waited = wait_current(deployment, simulator)
        print(f"[{name}] archive current after {waited:.0f} s")
        if not webhooks:
            print(f"[{name}] at rest for {args.rest_seconds:.0f} s ...")
            simulator.reset_requests()
            start = time.monotonic()
            time.sleep(args.rest_seconds)
            end = time.monotonic()
            result["requests"]["at_rest_without_webhooks"] = spending(
                request_counts(simulator), end - start, status_log.count(429, start, end)
            )
        print(f"[{name}] placing {args.calls} calls, one every {args.every:g} s ...")
        simulator.reset_requests()
        start = time.monotonic()
        burst = run_burst(simulator, deployment.database, args.calls, args.every)
        end = time.monotonic()
        counts = request_counts(simulator)
        result["modes"][name] = burst_result(burst)
        result["requests"][f"burst_{name}"] = spending(
            counts, end - start, status_log.count(429, start, end)
        )
        result["modes"][name]["log_problems"] = {
            "worker": deployment.worker.problems()[:50],
            "gunicorn": {
                kind: count
                for kind, count in deployment.gunicorn.log_summary().items()
                if BENIGN_WARNING not in kind
            },
        }
        if emitter is not None:
            emitter.stop()
            result["modes"][name]["webhooks"] = {
                "delivered": emitter.delivered,
                "dropped": emitter.dropped,
                **webhook_counts(deployment.database),
            }
            emitter = None
        print(
            f"[{name}] done in {burst.seconds:.0f} s"
            + (" (timed out waiting for the archive)" if burst.timed_out else "")
        )
    finally:
        if emitter is not None:
            emitter.stop()
        if sender is not None:
            sender.close()
        deployment.stop()


# --- the report --------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_report(result: dict[str, Any]) -> None:
    c = result["config"]
    s = c.get("settings", {})
    print()
    print(
        f"Archive freshness: {c['calls']} calls, one every {c['every']:g} s "
        f"({TALK_SECONDS} s talk, {RING_SECONDS} s ring); scheduled sync every "
        f"{s.get('interval_seconds', '?')} s, at most {s.get('requests_per_run', '?')} Truedy "
        f"requests a run; simulator {c['simulator_calls']} calls over HTTP, "
        f"{c['rpm'] or 'no'} requests/minute limit; broker {s.get('broker', '?')}"
    )
    print()
    header = (
        f"{'latency (s)':18} {'appear p50':>10} {'p95':>6} {'max':>6} {'miss':>4}   "
        f"{'end p50':>7} {'p95':>6} {'max':>6} {'miss':>4}   "
        f"{'transcript p50':>14} {'p95':>6} {'max':>6} {'miss':>4}"
    )
    print(header)
    print("-" * len(header))
    for name, label in (
        ("without_webhooks", "without webhooks"),
        ("with_webhooks", "with webhooks"),
    ):
        mode = result["modes"].get(name)
        if mode is None:
            continue
        a, e, t = mode["appear"], mode["end"], mode["transcript"]
        print(
            f"{label:18} {fmt(a['p50']):>10} {fmt(a['p95']):>6} {fmt(a['max']):>6} "
            f"{a['missed']:>4}   {fmt(e['p50']):>7} {fmt(e['p95']):>6} {fmt(e['max']):>6} "
            f"{e['missed']:>4}   {fmt(t['p50']):>14} {fmt(t['p95']):>6} {fmt(t['max']):>6} "
            f"{t['missed']:>4}"
        )
    print()
    header = (
        f"{'Truedy requests':28} {'window s':>8} {'list/min':>8} {'detail/min':>10} "
        f"{'other/min':>9} {'total/min':>9} {'total':>6} {'429':>4}"
    )
    print(header)
    print("-" * len(header))
    for name, label in (
        ("at_rest_without_webhooks", "at rest, without webhooks"),
        ("burst_without_webhooks", "burst, without webhooks"),
        ("burst_with_webhooks", "burst, with webhooks"),
    ):
        row = result["requests"].get(name)
        if row is None:
            continue
        print(
            f"{label:28} {row['seconds']:>8.0f} {row['list_per_minute']:>8.1f} "
            f"{row['detail_per_minute']:>10.1f} {row['other_per_minute']:>9.1f} "
            f"{row['api_per_minute']:>9.1f} {row['api_requests']:>6} {row['answered_429']:>4}"
        )
    hooks = result["modes"].get("with_webhooks", {}).get("webhooks")
    if hooks:
        print()
        print(
            f"webhooks: {hooks['delivered']} delivered, {hooks['dropped']} dropped; "
            f"{hooks['stored']} stored, {hooks['processed']} followed up "
            f"({hooks['processed_with_error']} with an error)"
        )
    for name, mode in result["modes"].items():
        problems = mode["log_problems"]
        if problems["worker"] or problems["gunicorn"]:
            print(
                f"{name}: {len(problems['worker'])} worker log warnings/errors, gunicorn "
                f"{sum(problems['gunicorn'].values())} (in the JSON)"
            )
    print(
        "\nappear: row exists - call created; end: row says 'ended' - call ended; transcript: "
        "row has it - Truedy shows it. Resolution 0.1 s (archive read every 0.1 s).\n"
        "A burst's window: first call placed until all are archived ended with transcripts."
    )


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between calls")
    parser.add_argument("--rest-seconds", type=float, default=60.0)
    parser.add_argument("--rpm", type=int, default=100, help="the simulator's rate limit (0: none)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "freshness.json")
    args = parser.parse_args()
    if args.calls < 1 or args.every <= 0 or args.rest_seconds <= 0:
        parser.error("--calls, --every and --rest-seconds must be positive")

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)  # also when started with SIGINT ignored (`cmd &`)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="truedy-freshness-"))
    server: SimulatorServer | None = None
    result: dict[str, Any] = {
        "config": {
            "calls": args.calls,
            "every": args.every,
            "rest_seconds": args.rest_seconds,
            "rpm": args.rpm,
            "talk_seconds": TALK_SECONDS,
            "ring_seconds": RING_SECONDS,
            "simulator_calls": SIMULATOR_CALLS,
            "poll_seconds": POLL_SECONDS,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "modes": {},
        "requests": {},
    }
    try:
        server, status_log = start_simulator()
        print(f"simulator: {server.base_url} ({SIMULATOR_CALLS} calls); work folder {tmp}")
        for webhooks in (False, True):
            run_mode(
                server=server,
                status_log=status_log,
                tmp=tmp,
                webhooks=webhooks,
                args=args,
                first=not webhooks,
                result=result,
            )
    except StartFailed as failure:
        print(f"\nFAILED to start: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the deployment and the simulator", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    result["config"]["runtime_seconds"] = round(time.monotonic() - began, 1)
    print_report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {args.output} (in {result['config']['runtime_seconds']:.0f} s)")
    timed_out = [name for name, mode in result["modes"].items() if mode["timed_out"]]
    if timed_out:
        print(f"NOTE: the archive did not catch up within the wait in: {', '.join(timed_out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
