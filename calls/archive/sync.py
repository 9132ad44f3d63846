"""The sync engine: copy Truedy's calls, transcripts and recordings into the archive.

Pages through ``GET /calls`` (newest first) inside a window pinned when the run starts, so calls
that arrive meanwhile cannot shift the offsets; each page's rows and the cursor's next offset
are committed together, so a crashed run resumes at the page after the last one stored. A second
run while one is going does nothing, and a run stores nothing that the archive already holds.
``manage.py sync_calls`` runs it by hand; the background task ``sync_archive`` runs it every
few seconds with a budget of Truedy requests (``max_requests``), so it stays cheap and leaves
Truedy's rate limit to people's pages: a run that spends its budget stops where it is and the
next one carries on.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from calls.archive.recordings import CopyFailed, give_up_recording, save_recording
from calls.archive.retention import purge_expired, retention_cutoff
from calls.archive.store import get_archived, retry_if_locked, store_call
from calls.models import ArchivedCall, SyncCursor
from calls.truedy.errors import MalformedResponse, NotFound, TruedyError
from calls.truedy.lifecycle import LIVE_STATUSES, RECORDING_LIFETIME, talked
from calls.truedy.records import Call, parse_timestamp
from calls.upstream import cache, gateway, resilience
from calls.upstream.problems import trouble

T = TypeVar("T")

CURSOR_NAME = "calls"
# Each run starts this far before the last one ended: calls created just before it may have
# been listed before they settled (a later update would otherwise be missed).
OVERLAP = timedelta(minutes=5)
# A run that has not reported progress for this long is taken to have died: its lock lapses.
STALE_LOCK = timedelta(minutes=15)
# Archived calls Truedy may still change: live ones created this recently, transcripts that
# may yet arrive for calls ended this recently, recordings whose link may still work.
LIVE_LOOKBACK = timedelta(days=1)
TRANSCRIPT_LOOKBACK = timedelta(hours=1)
PENDING_LIMIT = 500  # call details fetched per run to bring pending rows up to date
# A pending row is fetched again at most this often (its last check: ``checked_at``).
PENDING_RECHECK = timedelta(seconds=30)
# A rate limit shorter than this is waited out (by hand: the scheduled runs wait for nothing);
# a longer one ends the run (the next resumes it).
MAX_RATE_LIMIT_WAIT = 60.0
MAX_RATE_LIMIT_WAITS = 5

# Archived rows of calls in which somebody spoke (calls.truedy.lifecycle.talked, as a query).
TALKED = Q(status="ended") | Q(status="failed", started_at__isnull=False)


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: ``7d`` (days back from now) or an ISO 8601 date or date-time (UTC if no
    offset)."""
    text = text.strip()
    if text[:-1].isdigit() and text[-1:].lower() == "d":
        return now - timedelta(days=int(text[:-1]))
    try:
        moment = parse_timestamp(text + "T00:00:00Z" if len(text) == 10 else text)
    except MalformedResponse:
        moment = None
    if moment is None:
        raise ValueError(
            f"--since {text!r} is neither a number of days (7d) nor an ISO 8601 date "
            "(2026-11-01 or 2026-11-01T09:00:00Z)"
        )
    if moment > now:
        raise ValueError("--since lies in the future")
    return moment


def failure(error: TruedyError) -> str:
    detail = f" ({error.message}" + (
        f"; request id {error.request_id})" if error.request_id else ")"
    )
    return f"{trouble(error)}{detail}. Progress is saved: the next run carries on from here."


class BudgetSpent(Exception):
    """The run has made as many Truedy requests as it may: it stops, its progress saved."""


def acquire_lock() -> bool:
    """Mark the cursor running, unless a live run already did (works on SQLite and PostgreSQL:
    one conditional UPDATE)."""
    SyncCursor.objects.get_or_create(name=CURSOR_NAME)
    moment = timezone.now()
    taken = (
        SyncCursor.objects.filter(pk=CURSOR_NAME)
        .filter(Q(running=False) | Q(updated_at__lt=moment - STALE_LOCK))
        .update(running=True, updated_at=moment)
    )
    return taken == 1


def release_lock() -> None:
    SyncCursor.objects.filter(pk=CURSOR_NAME).update(running=False)


class Sync:
    """One run: the window's pages, then the pending rows, then the retention purge."""

    def __init__(
        self,
        out: OutputWrapper,
        *,
        page_size: int,
        now: datetime,
        since: datetime | None,
        max_requests: int | None = None,
        longest_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT,
        on_copy_failed: Callable[[str], None] | None = None,
    ) -> None:
        self.out = out
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.page_size = page_size
        self.now = now
        self.since = since
        self.max_requests = max_requests
        self.longest_rate_limit_wait = longest_rate_limit_wait
        # Called with the id of a call whose recording download failed but may work later.
        self.on_copy_failed = on_copy_failed
        self.client = gateway.get_client()
        self.seen: set[str] = set()
        self.stored = self.details = self.recordings = self.requests = 0
        self.window_finished = False

    def run(self) -> None:
        """The whole run; with a budget, as much as it allows (BudgetSpent is not raised)."""
        purged = 0
        try:
            cursor = self._start_window()
            self._sync_window(cursor)
            self._finish_window(cursor)
            self._refresh_pending()
            purged = purge_expired(self.now)
            if purged:
                self._move_synced_from_to_cutoff()
        except BudgetSpent:
            pass
        self.out.write(
            f"Done: {self.stored:,} calls stored or updated, {self.details:,} call details "
            f"fetched, {self.recordings:,} recordings copied, {purged:,} expired calls deleted"
            f" ({self.requests:,} Truedy requests"
            + ("" if self.window_finished else "; the window is not finished yet")
            + ")."
        )

    def _budget_left(self) -> int | None:
        return None if self.max_requests is None else self.max_requests - self.requests

    # --- the window ---------------------------------------------------------------------------

    def _start_window(self) -> SyncCursor:
        cursor = SyncCursor.objects.get(pk=CURSOR_NAME)
        resuming = cursor.window_before is not None and self.since is None
        if resuming:
            self.out.write(
                f"Resuming the run started at {cursor.window_before:%Y-%m-%d %H:%M:%S} UTC "
                f"after {cursor.next_offset:,} calls."
            )
            return cursor
        if self.since is not None:
            after = self.since
        elif cursor.synced_until is not None:
            after = cursor.synced_until - OVERLAP
        else:
            after = None  # the first run: everything Truedy still has
        cursor.window_after, cursor.window_before = after, self.now
        cursor.next_offset, cursor.total = 0, None
        cursor.updated_at = timezone.now()
        cursor.save()
        return cursor

    def _sync_window(self, cursor: SyncCursor) -> None:
        while True:
            offset = cursor.next_offset
            limit = self.page_size
            left = self._budget_left()
            if left is not None:
                if left < 2 and offset > 0:
                    raise BudgetSpent
                # Room for the list request and a detail for every row it may bring.
                limit = max(1, min(limit, left - 1))
            page = self._upstream(
                partial(
                    self.client.list_calls,
                    created_after=cursor.window_after,
                    created_before=cursor.window_before,
                    limit=limit,
                    offset=offset,
                )
            )
            calls = [self._complete(call) for call in page.calls]
            retry_if_locked(partial(self._store_page, cursor, calls, offset, page.total))
            for call in calls:  # downloads only once the rows are committed
                self._copy(call)
            self._progress(cursor.next_offset, page.total)
            if not calls or cursor.next_offset >= page.total:
                break
        if self.tty:
            self.out.write("")  # end the \r line

    def _store_page(self, cursor: SyncCursor, calls: list[Call], offset: int, total: int) -> None:
        """The page's rows and the cursor past them, together or not at all."""
        with transaction.atomic():
            for call in calls:
                self._store(call, copy=False)
            cursor.next_offset = offset + len(calls)
            cursor.total = total
            cursor.updated_at = timezone.now()  # also the lock's heartbeat
            cursor.save(update_fields=["next_offset", "total", "updated_at"])

    def _finish_window(self, cursor: SyncCursor) -> None:
        """The window is in the archive: widen what the archive is known to cover."""
        after, before = cursor.window_after, cursor.window_before
        assert before is not None  # _start_window set it (or found it set, when resuming)
        contiguous = cursor.synced_until is not None and (
            after is None or after <= cursor.synced_until
        )
        if cursor.synced_until is None or contiguous:
            old_from = cursor.synced_from if cursor.synced_until is not None else after
            cursor.synced_from = None if after is None or old_from is None else min(old_from, after)
        else:  # a gap since the last run (a --since later than it): only this window counts
            cursor.synced_from = after
        cursor.synced_until = max(before, cursor.synced_until or before)
        cursor.window_after = cursor.window_before = cursor.total = None
        cursor.next_offset = 0
        cursor.updated_at = cursor.finished_at = timezone.now()
        cursor.save()
        self.window_finished = True

    # --- rows Truedy may still change ----------------------------------------------------------

    def _refresh_pending(self) -> None:
        """Fetch again the archived calls that were live, awaiting a transcript, or missing their
        recording copy when last seen, and are outside this run's window."""
        pending = (
            ArchivedCall.objects.filter(
                Q(status__in=LIVE_STATUSES, created_at__gt=self.now - LIVE_LOOKBACK)
                | Q(
                    TALKED,
                    transcript__isnull=True,
                    ended_at__gt=self.now - TRANSCRIPT_LOOKBACK,
                )
                | Q(
                    has_recording=True,
                    recording="",
                    recording_error="",  # given up on, with a reason
                    ended_at__gt=self.now - RECORDING_LIFETIME,
                )
            )
            .exclude(checked_at__gt=self.now - PENDING_RECHECK)
            .order_by(F("checked_at").asc(nulls_first=True), "-created_at")
            .values_list("id", flat=True)
        )
        fetched = 0
        for call_id in list(pending[: PENDING_LIMIT + len(self.seen)]):
            if call_id in self.seen:
                continue  # this run has just stored it
            if fetched >= PENDING_LIMIT:
                break
            fetched += 1
            try:
                call = self._detail(call_id)
            except NotFound:
                # Truedy no longer has it: the archive's copy is all there is.
                ArchivedCall.objects.filter(pk=call_id).update(checked_at=timezone.now())
                continue
            self._store(call, copy=False)
            self._copy(call)

    # --- helpers ------------------------------------------------------------------------------

    def _complete(self, call: Call) -> Call:
        """A list row carries no transcript: fetch the call itself when one should exist and
        the archive lacks it."""
        if call.transcript is not None or not talked(call):
            return call
        stored = get_archived(call.id)
        if stored is not None and stored.transcript is not None:
            return call
        try:
            return self._detail(call.id)
        except NotFound:
            return call  # deleted between the list and now: keep what the list said

    def _detail(self, call_id: str) -> Call:
        self.details += 1
        return self._upstream(lambda: self.client.get_call(call_id))

    def _store(self, call: Call, *, copy: bool) -> None:
        before = get_archived(call.id)
        after = store_call(call, source="sync", copy=copy)
        ArchivedCall.objects.filter(pk=call.id).update(checked_at=timezone.now())
        self.seen.add(call.id)
        if before is None or after.refreshed_at != before.refreshed_at:
            self.stored += 1

    def _copy(self, call: Call) -> None:
        """Copy the recording while its link works; a failure that may pass goes to
        ``on_copy_failed`` (a retried task), one that cannot is noted on the row."""
        if not call.recording_url or not talked(call):
            return
        stored = get_archived(call.id)
        if stored is None or stored.recording or stored.recording_error:
            return
        try:
            save_recording(stored, call)
        except CopyFailed as failed:
            if failed.final:
                give_up_recording(call.id, failed.reason)
            elif self.on_copy_failed is not None:
                self.on_copy_failed(call.id)
            return
        self.recordings += 1

    def _upstream(self, request: Callable[[], T]) -> T:
        """``request()`` through the dashboard's breaker and shared cool-down (the sync spends
        the same Truedy budget as the users), waiting out short rate limits; anything else is
        for the caller. BudgetSpent once the run's budget is."""
        left = self._budget_left()
        if left is not None and left <= 0:
            raise BudgetSpent
        self.requests += 1
        return resilience.waiting_out_short_limits(
            lambda: cache.read_once(request),
            longest=self.longest_rate_limit_wait,
            waits=MAX_RATE_LIMIT_WAITS,
            on_wait=lambda wait: self.out.write(f"Truedy is rate-limiting: waiting {wait:.0f} s."),
        )

    def _move_synced_from_to_cutoff(self) -> None:
        cutoff = retention_cutoff(self.now)
        cursor = SyncCursor.objects.get(pk=CURSOR_NAME)
        if cutoff is not None and (cursor.synced_from is None or cursor.synced_from < cutoff):
            cursor.synced_from = cutoff
            cursor.save(update_fields=["synced_from"])

    def _progress(self, done: int, total: int) -> None:
        share = f" ({100 * done // total}%)" if total else ""
        line = (
            f"Calls {done:,}/{total:,}{share} · {self.details:,} details · "
            f"{self.recordings:,} recordings"
        )
        if self.tty:
            self.out.write(f"\r{line}", ending="")
            self.out.flush()
        else:
            self.out.write(line)
