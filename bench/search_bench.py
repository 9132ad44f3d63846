"""`make bench-search`: a two-word transcript search over 100,000 archived calls on PostgreSQL,
before (today's scan: ``icontains`` per word) and after (full-text search, calls/archive/search.py).

- A scratch database of its own, ``truedy_search_bench`` on postgres://postgres@127.0.0.1:5432/
  (dropped first if an earlier run left it, and dropped at the end), migrated as a deployment is.
- 100,000 archived calls made by the simulator's own builders (calls/simulator/data.py for who
  called when, calls/simulator/conversations.py for what was said): the transcripts and
  summaries the demo shows, ``search_text`` made by the archive's ``store.search_text``, bulk
  inserted (PostgreSQL fills each row's ``search_vector`` as it would from ``store_call``), then
  VACUUM ANALYZE, as autovacuum would after such a load.
- Two-word searches a person would type, from words in a fifth of the calls to a pair in none
  (``SEARCHES``). Each is timed as the list page asks the database: the first page of 25, newest
  first, and the count of every hit. "Before" is the scan it replaced (``icontains`` per word,
  then the page and the count); "after" is ``search.archived_page``, as the list now reads it;
  "after, whole page" adds the page's matching lines (``listing.archive_page``); "masked" is
  each of them as a role that sees personal data masked searches (``masked_search_text``,
  filled for every row as ``store_call`` fills it). p50/p95 over every run of every search,
  after one warm-up run each (a repeated search is the common case: the pages it reads are in
  memory). Beside each, the CPU time the search took in this process and its PostgreSQL
  backend: what it costs on a machine that is busy with other work too.
- EXPLAIN (ANALYZE, BUFFERS) of the queries a search page sends (``EXPLAINED``, masked and
  not), saved with the figures in bench/results/search.json.

Run: .venv/bin/python bench/search_bench.py [--calls 100000] [--runs 20] [--quick] [--keep]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import RESULTS_DIR, percentile  # noqa: E402

SERVER = os.environ.get("SEARCH_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "truedy_search_bench"
SEED = 7
TARGET_P95_MS = 50.0
PER_PAGE = 25
INSERT_BATCH = 2000
# Two words each, as typed: common (a quarter of the calls) to rare, and one that finds nothing.
SEARCHES = (
    "router orange",
    "charged twice",
    "password email",
    "solar assessment",
    "insurance renewal",
    "cleaning tuesday",
    "voicemail message",
    "extension lead",
    "siobhán murphy",
    "zebra invoice",
)
# Searches whose pages are EXPLAINed: hits in a fifth of the calls, and in 2 %.
EXPLAINED = ("extension lead", "insurance renewal")


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "truedy_dashboard.settings")
    import django

    django.setup()


def _server(statement: sql.SQL | sql.Composed) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def create_database() -> None:
    _server(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
    _server(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    _server(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))


# --- the archive --------------------------------------------------------------------------------


def archived_calls(count: int) -> Iterator[Any]:
    """``count`` ArchivedCall rows (unsaved) as the sync would store the simulator's calls once
    they have settled: transcript and summary for the calls that were answered."""
    from calls.archive.store import masked_search_text, search_text
    from calls.models import ArchivedCall
    from calls.simulator.clock import Clock
    from calls.simulator.conversations import build_profile, build_turns
    from calls.simulator.data import DataSet
    from calls.truedy.records import Call, Turn

    data = DataSet(seed=SEED, call_count=count, anchor_us=Clock(None).anchor_us, recordings=())
    for skeleton in data.calls:
        agent = data.agents_by_id[skeleton.agent_id]
        profile = build_profile(data.seed, skeleton, agent)
        answered = skeleton.final in ("ended", "failed") and skeleton.started is not None
        turns = build_turns(data.seed, skeleton, agent, profile) if answered else []
        transcript = tuple(Turn(t["speaker"], t["text"], t["timestamp"]) for t in turns)
        created = datetime.fromtimestamp(skeleton.created / 1e6, UTC)
        call = Call(
            id=skeleton.id,
            agent_id=skeleton.agent_id,
            status=skeleton.final,
            direction=skeleton.direction,
            created_at=created,
            started_at=None,
            ended_at=None,
            updated_at=None,
            to_number=profile.contact_number,
            from_number=profile.agent_number,
            duration_seconds=skeleton.duration_seconds,
            cost_cents=None,
            outcome=skeleton.outcome,
            summary=profile.summary,
            transcript=transcript or None,
            recording_url=None,
        )
        yield ArchivedCall(
            id=call.id,
            agent_id=call.agent_id or "",
            status=call.status,
            direction=call.direction or "",
            created_at=call.created_at,
            to_number=call.to_number or "",
            from_number=call.from_number or "",
            duration_seconds=call.duration_seconds,
            outcome=call.outcome or "",
            summary=call.summary or "",
            transcript=turns or None,
            search_text=search_text(call),
            # as store_call fills it: a Viewer's search reads the masked copy
            masked_search_text=masked_search_text(call),
            has_recording=False,
            source="sync",
        )


def fill_archive(count: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from calls.models import ArchivedCall

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    batch: list[Any] = []
    text_chars = 0
    for row in archived_calls(count):
        text_chars += len(row.search_text)
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            ArchivedCall.objects.bulk_create(batch)
            batch = []
    ArchivedCall.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE calls_archivedcall")
    return archive_figures(count, text_chars, round(time.perf_counter() - started, 1))


def archive_figures(count: int, text_chars: int | None, seconds: float | None) -> dict[str, Any]:
    from django.db import connection

    from calls.models import ArchivedCall

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('calls_archivedcall'))")
        table_size = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_relation_size('archive_search_vector'))")
        index_size = cursor.fetchone()[0]
        cursor.execute("SELECT avg(length(search_text)) FROM calls_archivedcall")
        mean_chars = cursor.fetchone()[0] if text_chars is None else text_chars / max(count, 1)
    return {
        "calls": ArchivedCall.objects.count(),
        "with_transcript": ArchivedCall.objects.exclude(transcript=None).count(),
        "mean_search_text_chars": round(mean_chars or 0),
        "table_size": table_size,
        "gin_index_size": index_size,
        "fill_seconds": seconds,
    }


# --- the searches ---------------------------------------------------------------------------------


def before(q: str) -> int:
    """The scan full-text search replaced: ``icontains`` per word, then the page and the count."""
    from django.db.models import F

    from calls.archive.search import search_words
    from calls.models import ArchivedCall

    rows = ArchivedCall.objects.defer("search_vector")
    for word in search_words(q):
        rows = rows.filter(search_text__icontains=word)
    rows = rows.order_by(F("created_at").desc(nulls_last=True), "-id")
    list(rows[:PER_PAGE])
    return rows.count()


def after(q: str, *, masked: bool = False) -> int:
    """The full-text search: the same page and count, as the list reads them (``masked``: as a
    role that sees personal data masked searches, in the masked copy)."""
    from calls.archive.search import archived_page
    from calls.truedy.filters import CallFilters

    return archived_page(CallFilters(q=q, masked_search=masked), offset=0, limit=PER_PAGE)[1]


def after_whole_page(q: str, *, masked: bool = False) -> int:
    """What a search page asks of the database: page, count and the page's matching lines."""
    from calls.services.listing import archive_page
    from calls.truedy.filters import CallFilters

    return archive_page(CallFilters(q=q, masked_search=masked), 1, PER_PAGE).total


def after_masked(q: str) -> int:
    return after(q, masked=True)


def after_whole_page_masked(q: str) -> int:
    return after_whole_page(q, masked=True)


class CpuClock:
    """CPU time spent on a search by this thread and by its PostgreSQL backend (from the
    backend's /proc/<pid>/schedstat, in nanoseconds): what the search costs whatever else the
    machine runs at the same time. None when PostgreSQL runs elsewhere."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self._path = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")

    def read(self) -> float | None:
        try:
            server_ns = int(self._path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return server_ns / 1e6 + time.thread_time() * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(percentile(ordered, 0.95), 2),
        "max_ms": round(ordered[-1], 2),
    }


def measure(work: Callable[[str], int], runs: int) -> dict[str, Any]:
    clock = CpuClock()
    wall: list[float] = []
    cpu: list[float] = []
    hits: dict[str, int] = {}
    per_search: dict[str, float] = {}
    for q in SEARCHES:
        hits[q] = work(q)  # warm-up
        mine = []
        for _ in range(runs):
            cpu_before, started = clock.read(), time.perf_counter()
            work(q)
            mine.append((time.perf_counter() - started) * 1000)
            cpu_after = clock.read()
            if cpu_before is not None and cpu_after is not None:
                cpu.append(cpu_after - cpu_before)
        per_search[q] = round(statistics.median(mine), 2)
        wall += mine
    return {
        "n": len(wall),
        **_summary(wall),
        "cpu": _summary(cpu) if len(cpu) == len(wall) else None,
        "hits": hits,
        "p50_ms_per_search": per_search,
    }


def explain(q: str, *, masked: bool = False) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each query a search page sends, as sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as sent:
        after_whole_page(q, masked=masked)
    plans = []
    with connection.cursor() as cursor:
        for query in sent.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
            plans.append(f"-- {query['sql'][:300]}\n{plan}")
    who = "masked " if masked else ""
    return f"-- the {who}search page of {q!r}\n" + "\n\n".join(plans)


# --- the run --------------------------------------------------------------------------------------


def _archived_already() -> int | None:
    """How many calls a database an earlier ``--keep`` run left holds (None: none left)."""
    try:
        with psycopg.connect(f"{SERVER}/{DATABASE}") as connection:
            row = connection.execute("SELECT count(*) FROM calls_archivedcall").fetchone()
            return int(row[0]) if row else None
    except psycopg.Error:
        return None


def run(*, calls: int, runs: int, before_runs: int, keep: bool) -> dict[str, Any]:
    reuse = keep and _archived_already() == calls
    if not reuse:
        create_database()
    _setup_django()
    try:
        if reuse:
            print(f"reusing {DATABASE} (left by a --keep run) ...", flush=True)
            archive = archive_figures(calls, text_chars=None, seconds=None)
        else:
            print(f"filling {DATABASE} with {calls:,} archived calls ...", flush=True)
            archive = fill_archive(calls)
        print(
            f"  {archive['calls']:,} calls ({archive['with_transcript']:,} with a transcript, "
            f"{archive['mean_search_text_chars']} characters of text on average), "
            f"table {archive['table_size']}, GIN index {archive['gin_index_size']}, "
            f"filled in {archive['fill_seconds']} s",
            flush=True,
        )
        print("searching ...", flush=True)
        load_before = os.getloadavg()
        results = {
            "archive": archive,
            "before_icontains": measure(before, before_runs),
            "after_full_text": measure(after, runs),
            "after_whole_page": measure(after_whole_page, runs),
            "after_masked": measure(after_masked, runs),
            "after_whole_page_masked": measure(after_whole_page_masked, runs),
            "explain": {
                f"{q} ({'masked' if masked else 'unmasked'})": explain(q, masked=masked)
                for q in EXPLAINED
                for masked in (False, True)
            },
        }
        results["load_average"] = {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        if not keep:
            drop_database()
    return results


def report(results: dict[str, Any]) -> bool:
    old, new, page, masked, masked_page = (
        results["before_icontains"],
        results["after_full_text"],
        results["after_whole_page"],
        results["after_masked"],
        results["after_whole_page_masked"],
    )
    print(
        f"\n{'search':<20} {'hits':>7} {'masked':>7} {'before p50':>11} {'after p50':>10}"
        f" {'page p50':>9} {'masked p50':>11} {'its page':>9}"
    )
    for q, hits in new["hits"].items():
        print(
            f"{q:<20} {hits:>7,} {masked['hits'][q]:>7,} {old['p50_ms_per_search'][q]:>8.1f} ms"
            f" {new['p50_ms_per_search'][q]:>7.1f} ms {page['p50_ms_per_search'][q]:>6.1f} ms"
            f" {masked['p50_ms_per_search'][q]:>8.1f} ms"
            f" {masked_page['p50_ms_per_search'][q]:>6.1f} ms"
        )
    if new["hits"] != old["hits"]:
        print("(hits differ: the full-text search stems words and matches whole words only)")
    ok = new["p95_ms"] <= TARGET_P95_MS and masked["p95_ms"] <= TARGET_P95_MS
    calls = results["archive"]["calls"]
    print(f"\ntwo-word search, {calls:,} archived calls (PostgreSQL), first page + count:")
    rows = (
        ("before (icontains scan)", old),
        ("after (full-text)", new),
        ("after, whole page", page),
        ("after, masked (Viewer)", masked),
        ("after, masked whole page", masked_page),
    )
    for label, figures in rows:
        cpu = figures["cpu"]
        spent = f"   CPU p50 {cpu['p50_ms']:>6.1f} p95 {cpu['p95_ms']:>6.1f} ms" if cpu else ""
        verdict = ""
        if figures is new or figures is masked:
            met = figures["p95_ms"] <= TARGET_P95_MS
            verdict = f"   target p95 <= {TARGET_P95_MS:.0f} ms {'PASS' if met else 'MISS'}"
        print(
            f"  {label:<24} p50 {figures['p50_ms']:>7.1f} ms  p95 {figures['p95_ms']:>7.1f} ms"
            f"{spent}{verdict}"
        )
    load = results["load_average"]
    print(
        f"  (load average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after, on "
        f"{os.cpu_count()} CPUs; CPU: this process and its PostgreSQL backend, the time a search "
        "costs whatever else runs)"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="archived calls to search")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each search")
    parser.add_argument("--before-runs", type=int, default=5, help="the same for the scan")
    parser.add_argument("--quick", action="store_true", help="2,000 calls, 2 runs: a smoke test")
    parser.add_argument(
        "--keep", action="store_true", help=f"keep {DATABASE} afterwards, and reuse a kept one"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "search.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.runs, args.before_runs = 2000, 2, 2
    try:
        _server(sql.SQL("SELECT 1"))
    except psycopg.OperationalError as error:
        print(f"PostgreSQL at {SERVER} did not answer ({error}): start it to run this")
        return 2
    results = run(calls=args.calls, runs=args.runs, before_runs=args.before_runs, keep=args.keep)
    ok = report(results)
    results["config"] = {
        "calls": args.calls,
        "runs": args.runs,
        "before_runs": args.before_runs,
        "per_page": PER_PAGE,
        "searches": SEARCHES,
        "target_p95_ms": TARGET_P95_MS,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nEXPLAIN ANALYZE and the figures: {args.out}")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
