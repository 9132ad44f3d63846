"""Live calls: what changed in a list (or on a call page) since the browser last looked.

Browsers poll ``calls.views.live`` every few seconds while calls on their screen are live; each
poll is answered from one shared *snapshot* of the newest calls, never from a Truedy request of
its own, so Truedy is asked the same whether one person watches or fifty:

- **archive** — when Truedy's webhooks are configured and the archive is current (its sync is
  within ``ARCHIVE_FRESHNESS_BOUND``), the snapshot is read from the archive, which the webhook
  follow-ups and the incremental sync keep up to date: no Truedy request at all. It is rebuilt
  at most once every ``ARCHIVE_SNAPSHOT_SECONDS`` for everyone (one database query).
- **truedy** — otherwise, one read of Truedy's first page (the newest ``SNAPSHOT_ROWS`` calls,
  unfiltered) every ``TRUEDY_SNAPSHOT_SECONDS``, through the cache's read-through: one refresh
  per key at a time (a ``cache.add`` lock, across processes with Redis), stale-if-error, the
  breaker and the shared cool-down. Each refresh marks the calls it saw change as changed
  (``cache.invalidate_call``), so the list page and the call page the browser reloads next are
  read afresh rather than from a copy cached before the change.

Each view's answer is computed from the snapshot here: its live calls ("Live now: N"), the
calls newer than the top row that match its filters (new calls), and the rows being watched.
When the snapshot cannot be had, or is older than ``PAUSE_AFTER_SECONDS``, the answer says the
updates are paused and why; the browser says so and keeps asking, more slowly, until they resume.

A call's *progress* orders what a page can show of it — (status rank, last update, follow-up
state) — so a browser replaces what it shows only by something newer, whichever of the two
sources answered.
"""

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from django.utils.html import escape

from calls.archive.freshness import archive_freshness
from calls.archive.store import LEAN_FIELDS, lean_record, status_rank, to_record
from calls.models import ArchivedCall
from calls.truedy.client import deadline
from calls.truedy.errors import TruedyError
from calls.truedy.filters import CallFilters
from calls.truedy.lifecycle import LIVE_STATUSES, TranscriptState, is_live
from calls.truedy.records import Call
from calls.truedy.webhooks import configured_secrets
from calls.upstream import cache, gateway, reads, resilience
from calls.upstream.problems import trouble

logger = logging.getLogger("calls.live")

# Truedy's first page, read for everyone at most this often (12 of its 100 requests a minute).
TRUEDY_SNAPSHOT_SECONDS = 5
# How many of the newest calls the snapshot holds (Truedy's largest page).
SNAPSHOT_ROWS = 100
# The archive's snapshot, rebuilt at most this often for everyone.
ARCHIVE_SNAPSHOT_SECONDS = 1
# Live calls older than this are not looked for in the archive (a row stuck "live" forever).
ARCHIVE_LIVE_LOOKBACK = timedelta(days=1)
ARCHIVE_LIVE_ROWS = 500
# Whether the archive is current is judged at most this often.
ARCHIVE_CURRENT_SECONDS = 15
# A snapshot read this recently is not read again (a poll that took the refresh lock just after
# another poll let go of it, having stored a fresh one).
JUST_READ_SECONDS = 1.0
# One poll waits at most this long for Truedy (the others meanwhile get the last snapshot).
TRUEDY_READ_DEADLINE = 4.0
# A snapshot older than this is not passed off as live: the updates say they are paused.
PAUSE_AFTER_SECONDS = 3 * TRUEDY_SNAPSHOT_SECONDS
# Seconds the browser waits before it asks again: while watched calls move, while it only
# waits for new calls on the first page, and while the updates are paused.
POLL_SECONDS = 2
IDLE_POLL_SECONDS = 5
PAUSED_POLL_SECONDS = 10
# The most calls one poll may watch (a list page shows at most 100).
MAX_WATCHED = 100
# New calls named in one answer (the count is exact).
MAX_NEW_IDS = 50

SNAPSHOT_KEY = {
    "truedy": cache.cache_key("live-snapshot", {"source": "truedy", "rows": SNAPSHOT_ROWS}),
    "archive": cache.cache_key("live-snapshot", {"source": "archive", "rows": SNAPSHOT_ROWS}),
}
ARCHIVE_CURRENT_KEY = cache.cache_key("live-archive-current", {})

# What a page may still learn about a call: it is live, its transcript is being processed, or
# nothing more (a transcript, or none coming).
LIVE, PROCESSING, SETTLED = 0, 1, 2

Progress = tuple[int, int, int]


# --- a call's progress ---------------------------------------------------------------------------


def follow_state(call: Call, now: datetime) -> int:
    """LIVE, PROCESSING or SETTLED. A list row carries no transcript: its summary says the
    analysis is in (Truedy sends both together)."""
    if is_live(call):
        return LIVE
    if call.transcript is not None or call.summary:
        return SETTLED
    if reads.transcript_state(call, now) is TranscriptState.PROCESSING:
        return PROCESSING
    return SETTLED


def progress(call: Call, now: datetime) -> Progress:
    """(status rank, last update in epoch milliseconds, follow-up state): larger is newer."""
    moments = [m for m in (call.updated_at, call.ended_at, call.started_at, call.created_at) if m]
    updated = int(max(moments).timestamp() * 1000) if moments else 0
    return (status_rank(call.status), updated, follow_state(call, now))


def progress_text(call: Call, now: datetime) -> str:
    """``progress`` as the page carries it (``data-progress``): "3.1764000000000.2"."""
    return ".".join(str(part) for part in progress(call, now))


def live_since(call: Call) -> datetime | None:
    """Where a live call's running time counts from: its answer, else its creation."""
    return (call.started_at or call.created_at) if is_live(call) else None


def row_data(call: Call, now: datetime) -> str:
    """The ``data-`` attributes of a call's row in the list, for the live updates: its id, when
    it was created (the top row's is where new calls start), its progress, whether it is still
    watched, and where its running time counts from."""
    parts = [f' data-call-id="{escape(call.id)}"', f' data-progress="{progress_text(call, now)}"']
    if call.created_at is not None:
        parts.append(f' data-created="{call.created_at.astimezone(UTC).isoformat()}"')
    if follow_state(call, now) != SETTLED:
        parts.append(" data-watch")
    since = live_since(call)
    if since is not None:
        parts.append(f' data-live-since="{_epoch_ms(since)}"')
    return "".join(parts)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- the shared snapshot -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """The newest calls (newest first) as one source last described them, for everyone."""

    calls: tuple[Call, ...]
    source: str  # "truedy" or "archive"
    taken_at: datetime  # our wall clock (UTC)
    current: bool = True  # the archive's: within its freshness bound


def webhooks_configured() -> bool:
    return bool(configured_secrets(settings.TRUEDY_WEBHOOK_SECRET))


def archive_follows_truedy() -> bool:
    """Webhooks keep the archive's live and unsettled calls up to date and the archive is
    within its freshness bound: the condition under which the snapshot is the archive's, so a
    page may show a call's state from the archive as the live updates do (calls.services.calls).
    """
    return webhooks_configured() and _archive_current()


def snapshot() -> tuple[Snapshot | None, str]:
    """The snapshot the answers come from, and why the updates are paused ("" if they are not).

    The archive's when webhooks keep it current, else Truedy's first page. Raises nothing:
    without any snapshot, (None, the reason).
    """
    if webhooks_configured():
        try:
            archived = _archive_snapshot()
        except DatabaseError as error:
            logger.warning("live calls: the archive cannot be read (%s); asking Truedy", error)
        else:
            if archived.current:
                return archived, ""
    with resilience.collecting_stale_reads() as stale:
        try:
            with deadline(TRUEDY_READ_DEADLINE):
                read = cache.read_through(
                    SNAPSHOT_KEY["truedy"],
                    _read_truedy,
                    lambda snap: TRUEDY_SNAPSHOT_SECONDS,
                    gated=False,  # the page read inside passes the breaker and cool-down itself
                )
        except TruedyError as error:
            return None, f"{trouble(error)}: live updates are paused"
    if stale:
        return read, f"{trouble(stale[0].error)}: live updates are paused"
    if _age(read) > PAUSE_AFTER_SECONDS:
        # Someone else's refresh is taking long: their answer will come, this one is old.
        return read, "Truedy is slow to answer: live updates are paused"
    return read, ""


def _read_truedy() -> Snapshot:
    """Truedy's first page as a snapshot; the calls it shows changed since the last one are
    marked changed in the cache (their copies, and every list page, are read afresh next)."""
    previous = cache.cached(SNAPSHOT_KEY["truedy"])
    if isinstance(previous, Snapshot) and _age(previous) < JUST_READ_SECONDS:
        # Another poll stored it between our look and our lock: one read is enough.
        return previous
    page = reads.read_list_page_once(limit=SNAPSHOT_ROWS, offset=0)
    fresh = Snapshot(calls=page.calls, source="truedy", taken_at=timezone.now())
    _mark_changed(previous if isinstance(previous, Snapshot) else None, fresh)
    return fresh


def _age(snap: Snapshot) -> float:
    return (timezone.now() - snap.taken_at).total_seconds()


def _mark_changed(previous: Snapshot | None, fresh: Snapshot) -> None:
    now = gateway.now()
    if previous is None:
        # Nothing to compare with: whatever was cached before may predate any of these.
        changed = [call.id for call in fresh.calls if is_live(call)] or [
            call.id for call in fresh.calls[:1]
        ]
    else:
        before = {call.id: progress(call, now) for call in previous.calls}
        changed = [call.id for call in fresh.calls if before.get(call.id) != progress(call, now)]
    for call_id in changed:
        cache.invalidate_call(call_id)


def _archive_snapshot() -> Snapshot:
    read: Snapshot = cache.read_through(
        SNAPSHOT_KEY["archive"],
        _read_archive,
        lambda snap: ARCHIVE_SNAPSHOT_SECONDS,
        gated=False,  # the database, not Truedy
    )
    return read


def _read_archive() -> Snapshot:
    """The snapshot's counts need only lean records (the rows shown are read whole:
    ``watched_rows``)."""
    now = gateway.now()
    newest = ArchivedCall.objects.order_by("-created_at", "-id").values_list(*LEAN_FIELDS)
    live = (
        ArchivedCall.objects.filter(
            status__in=LIVE_STATUSES, created_at__gte=now - ARCHIVE_LIVE_LOOKBACK
        )
        .order_by("-created_at", "-id")
        .values_list(*LEAN_FIELDS)
    )
    rows = {row[0]: row for row in list(newest[:SNAPSHOT_ROWS]) + list(live[:ARCHIVE_LIVE_ROWS])}
    calls = sorted(
        (lean_record(*row) for row in rows.values()),
        key=lambda call: (call.created_at or datetime.min.replace(tzinfo=UTC), call.id),
        reverse=True,
    )
    fresh = Snapshot(
        calls=tuple(calls), source="archive", taken_at=timezone.now(), current=_archive_current()
    )
    # The webhook's follow-up marked them changed already, in its own process's cache: this one
    # may be another (a local-memory cache per process, as `make run` has).
    previous = cache.cached(SNAPSHOT_KEY["archive"])
    _mark_changed(previous if isinstance(previous, Snapshot) else None, fresh)
    return fresh


def _archive_current() -> bool:
    """The archive is within its freshness bound (judged for everyone every few seconds)."""
    known = resilience.safe_get(ARCHIVE_CURRENT_KEY)
    if isinstance(known, bool):
        return known
    current = archive_freshness(gateway.now()).current
    resilience.safe_set(ARCHIVE_CURRENT_KEY, current, ARCHIVE_CURRENT_SECONDS)
    return current


# --- one view's answer ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class WatchedRow:
    call: Call
    progress: str
    watch: bool  # still live or being transcribed: the browser keeps asking about it
    live_since: int | None  # epoch milliseconds


@dataclasses.dataclass(frozen=True, slots=True)
class LiveAnswer:
    """What one poll is told (``as_json``), and an ETag over everything but the clock."""

    source: str | None
    paused: str  # why the updates are paused; "" when they are not
    poll: int  # seconds before the next poll; 0: no need to ask again
    now: datetime  # Truedy's clock (or the simulator's): running times count on from it
    live_now: int | None  # live calls matching the view (None: the view cannot say)
    new_ids: tuple[str, ...]  # calls newer than the top row that match the view, newest first
    new_count: int
    rows: dict[str, WatchedRow]
    missing: tuple[str, ...]  # watched calls the snapshot does not hold

    @property
    def etag(self) -> str:
        state = {
            "source": self.source,
            "paused": self.paused,
            "poll": self.poll,
            "live_now": self.live_now,
            "new": [self.new_count, self.new_ids],
            "rows": {call_id: [row.progress, row.watch] for call_id, row in self.rows.items()},
            "missing": self.missing,
        }
        digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
        return f'"live-{digest[:32]}"'

    def as_json(self, rows_html: dict[str, str] | None = None) -> dict[str, object]:
        return {
            "source": self.source,
            "paused": self.paused or None,
            "poll": self.poll,
            "now": _epoch_ms(self.now),
            "live_now": self.live_now,
            "new": self.new_count,
            "new_ids": list(self.new_ids),
            "rows": {
                call_id: {
                    "progress": row.progress,
                    "watch": row.watch,
                    "live_since": row.live_since,
                    **({"html": rows_html[call_id]} if rows_html and call_id in rows_html else {}),
                }
                for call_id, row in self.rows.items()
            },
            "missing": list(self.missing),
        }


def selects(filters: CallFilters, call: Call) -> bool | None:
    """Whether the view's filters select ``call`` as Truedy's list would (``admits``); None
    for filters a row cannot be judged on (a search, the review work, a campaign), nor placed
    (a sort: a new call is not simply on top), nor the archive's own filters."""
    if filters.searches or filters.needs_current_archive:
        return None
    return filters.admits(call)


def answer(
    *,
    filters: CallFilters,
    watch: Sequence[str] = (),
    top: datetime | None = None,
    first_page: bool = False,
) -> LiveAnswer:
    """What changed for a view: its live calls, new calls above ``top`` (the created time of
    the row at its top, on its first page only), and the current state of the ``watch``ed
    calls. ``filters`` with a search cannot count (None): only watched rows are answered."""
    now = gateway.now()
    snap, paused = snapshot()
    if snap is None or paused:
        return _paused(snap, paused, now)
    try:
        rows = {call.id: _watched_row(call, now) for call in watched_calls(snap, watch)}
    except DatabaseError as error:
        logger.warning("live calls: the archive cannot be read (%s)", error)
        return _paused(snap, "The archive cannot be read: live updates are paused", now)
    live_now: int | None = None
    new: list[str] = []
    if not filters.searches:
        live_now = sum(1 for call in snap.calls if is_live(call) and selects(filters, call))
        if first_page and top is not None:
            new = [
                call.id
                for call in snap.calls
                if call.created_at is not None and call.created_at > top and selects(filters, call)
            ]
    if watch:
        poll = POLL_SECONDS
    elif first_page and not filters.searches:
        poll = IDLE_POLL_SECONDS
    else:
        poll = 0
    return LiveAnswer(
        source=snap.source,
        paused="",
        poll=poll,
        now=now,
        live_now=live_now,
        new_ids=tuple(new[:MAX_NEW_IDS]),
        new_count=len(new),
        rows=rows,
        missing=tuple(call_id for call_id in watch if call_id not in rows),
    )


def parse_progress(text: str) -> Progress:
    """A page's ``progress_text`` back as a tuple; ValueError if it is not one."""
    parts = text.split(".")
    if len(parts) != 3 or not all(part.isdigit() and len(part) <= 16 for part in parts):
        raise ValueError(f"not a call's progress: {text[:40]!r}")
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def _paused(snap: Snapshot | None, reason: str, now: datetime) -> LiveAnswer:
    """Nothing is known meanwhile: the page keeps what it shows and asks again later."""
    return LiveAnswer(
        source=snap.source if snap else None,
        paused=reason,
        poll=PAUSED_POLL_SECONDS,
        now=now,
        live_now=None,
        new_ids=(),
        new_count=0,
        rows={},
        missing=(),
    )


def _watched_row(call: Call, now: datetime) -> WatchedRow:
    since = live_since(call)
    return WatchedRow(
        call=call,
        progress=progress_text(call, now),
        watch=follow_state(call, now) != SETTLED,
        live_since=_epoch_ms(since) if since is not None else None,
    )


def watched_calls(snap: Snapshot, watch: Iterable[str]) -> list[Call]:
    """The watched calls as the snapshot's source describes them now: from Truedy's page, or
    read whole from the archive (the snapshot keeps only what its counts need)."""
    wanted = list(dict.fromkeys(watch))
    if not wanted:
        return []
    if snap.source == "archive":
        archived = ArchivedCall.objects.filter(pk__in=wanted).defer("search_text")
        found = {row.id: to_record(row) for row in archived}
    else:
        found = {call.id: call for call in snap.calls if call.id in set(wanted)}
    return [found[call_id] for call_id in wanted if call_id in found]
