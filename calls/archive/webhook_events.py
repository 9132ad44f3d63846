"""Webhook events in the archive: each stored once, then acted on by a background task.

``store_event`` keeps a verified delivery (a retry or a copy is recognised and not stored
again); ``process_event`` refreshes the call it names, cache and archive, and notes the outcome
on the row. calls/background enqueues that work in the transaction that stores the event.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from calls.archive.store import retry_if_locked, store_call
from calls.models import WebhookEvent
from calls.truedy.client import deadline, is_valid_call_id
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.records import Call
from calls.truedy.webhooks import CALL_EVENTS, BadPayload, ParsedEvent, parse_event
from calls.upstream import cache, reads
from calls.upstream.problems import problem_of, trouble
from calls.upstream.resilience import collecting_stale_reads

logger = logging.getLogger("calls.webhooks")


# --- storing each event once ------------------------------------------------------------------


def event_key(parsed: ParsedEvent, body: bytes) -> str:
    """The event's own id; without one, the body's hash (a retry resends the same bytes)."""
    if parsed.event_id is None:
        return hashlib.sha256(body).hexdigest()
    longest = cast(int, WebhookEvent._meta.get_field("event_key").max_length)  # a CharField's
    if len(parsed.event_id) > longest:
        return hashlib.sha256(parsed.event_id.encode()).hexdigest()
    return parsed.event_id


def store_event(
    parsed: ParsedEvent, body: bytes, *, then: "Callable[[WebhookEvent], None] | None" = None
) -> WebhookEvent | None:
    """The new row, or None when the event was stored before (a retry, or a copy delivered at
    the same moment: the unique index lets exactly one insert win).

    ``then(row)`` runs inside the transaction that inserts the row (to enqueue its follow-up:
    both happen or neither does).
    """
    key = event_key(parsed, body)

    def insert() -> WebhookEvent:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                event_key=key,
                event=parsed.event[:64],
                call_id=(parsed.call_id or "")[:64],
                occurred_at=parsed.occurred_at,
                raw_body=body.decode("utf-8"),
            )
            if then is not None:
                then(row)
            return row

    try:
        # On SQLite a worker writing the archive can hold the database for a moment.
        return retry_if_locked(insert)
    except IntegrityError:
        if WebhookEvent.objects.filter(event_key=key).exists():
            return None
        raise


# --- the follow-up: refresh the call ----------------------------------------------------------


class RefreshDeferred(Exception):
    """Truedy failed in a way that passes (rate limit, outage, breaker open): try again later,
    not before ``retry_after`` seconds when Truedy or the shared cool-down said so."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def process_event(event_id: int) -> Call | None:
    """Refresh the call the stored event names (cache and archive) and note the outcome on the
    row; the call as now archived, or None when there was nothing to refresh.

    Idempotent: an event already processed without error is left alone. Raises RefreshDeferred
    (the row stays unprocessed) when Truedy's failure may pass; any other outcome is final.
    """
    stored = WebhookEvent.objects.filter(pk=event_id).first()
    if stored is None or (stored.processed_at is not None and not stored.process_error):
        return None
    try:
        parsed = parse_event(stored.raw_body.encode("utf-8"))
    except BadPayload as error:  # it was checked on the way in; a hand-edited row, perhaps
        mark_processed(event_id, f"not acted on: {error}")
        return None
    problem, call = _refresh_call(parsed)
    mark_processed(event_id, problem)
    return call


def mark_processed(event_id: int, problem: str) -> None:
    retry_if_locked(
        lambda: WebhookEvent.objects.filter(pk=event_id).update(
            processed_at=timezone.now(), process_error=problem[:500]
        )
    )


def mark_deferred(event_id: int, reason: str, retry_at: datetime) -> None:
    retry_if_locked(
        lambda: WebhookEvent.objects.filter(pk=event_id).update(
            attempts=F("attempts") + 1, retry_at=retry_at, process_error=reason[:500]
        )
    )


def overdue_events(now: datetime, grace: timedelta) -> list[int]:
    """Unprocessed events whose follow-up should have run more than ``grace`` ago (its
    message was lost: a broker restarted empty, a crash between commit and send)."""
    due = Q(retry_at__isnull=True, received_at__lt=now - grace) | Q(retry_at__lt=now - grace)
    return list(
        WebhookEvent.objects.filter(due, processed_at__isnull=True)
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )


def _refresh_call(parsed: ParsedEvent) -> tuple[str, Call | None]:
    """What went wrong ("" once the cache and the archive hold Truedy's current call), and the
    call as archived."""
    if parsed.event not in CALL_EVENTS:
        return f"not acted on: unknown event {parsed.event[:64]!r}", None
    if parsed.call_id is None:
        return "not acted on: the event names no call", None
    if not is_valid_call_id(parsed.call_id):
        return "not acted on: not a valid call id", None  # never sent upstream
    cache.invalidate_call(parsed.call_id)
    # Outside any page, so its own budget: a slow Truedy holds a worker no longer.
    with deadline(settings.TRUEDY_PAGE_DEADLINE), collecting_stale_reads() as stale:
        try:
            call = reads.get_call(parsed.call_id, fresh=True)
        except NotFound:
            return "Truedy has no such call", None
        except TruedyError as error:
            _defer_or_answer(error)
            return f"call not refreshed: {trouble(error)}", None
    if stale:
        # The answer is the cached copy Truedy's failure fell back to: nothing new to archive.
        _defer_or_answer(stale[0].error)
        return f"call not refreshed: {trouble(stale[0].error)}", None
    store_call(call, source="webhook", copy=False)
    return "", call


def _defer_or_answer(error: TruedyError) -> None:
    """Raise RefreshDeferred for a failure worth retrying; an answer (a 404, a 400) is final."""
    if problem_of(error).stale_ok:
        raise RefreshDeferred(trouble(error), error.retry_after)
