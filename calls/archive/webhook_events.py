"""Webhook events in the archive: each stored once, then acted on after the answer.

``store_event`` keeps a verified delivery (a retry or a copy is recognised and not stored
again); ``process_event`` refreshes the call it names, cache and archive, and notes the outcome
on the row. ``Refreshes`` runs that work after the 204 has gone.
"""

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import cast

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from calls.archive.store import retry_if_locked, store_call
from calls.models import WebhookEvent
from calls.truedy.client import deadline, is_valid_call_id
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.webhooks import CALL_EVENTS, ParsedEvent
from calls.upstream import cache, reads
from calls.upstream.problems import trouble
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


def store_event(parsed: ParsedEvent, body: bytes) -> WebhookEvent | None:
    """The new row, or None when the event was stored before (a retry, or a copy delivered at
    the same moment: the unique index lets exactly one insert win)."""
    key = event_key(parsed, body)

    def insert() -> WebhookEvent:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                event_key=key,
                event=parsed.event[:64],
                call_id=(parsed.call_id or "")[:64],
                occurred_at=parsed.occurred_at,
                raw_body=body.decode("utf-8"),
            )

    try:
        # On SQLite a refresh writing the archive in the background can hold the database.
        return retry_if_locked(insert)
    except IntegrityError:
        if WebhookEvent.objects.filter(event_key=key).exists():
            return None
        raise


# --- after the answer: refresh the call -------------------------------------------------------


def process_event(stored: WebhookEvent, parsed: ParsedEvent) -> None:
    """Refresh the call the event is about (cache and archive) and note the outcome on the row.

    Never raises: it runs after the response, where nobody could be told.
    """
    try:
        try:
            problem = _refresh_call(parsed)
        except Exception:
            logger.exception("webhook event %s: processing failed", stored.pk)
            problem = "processing failed (see the server log)"
        retry_if_locked(
            lambda: WebhookEvent.objects.filter(pk=stored.pk).update(
                processed_at=timezone.now(), process_error=problem[:500]
            )
        )
    except Exception:
        logger.exception("webhook event %s: could not record its processing", stored.pk)


def _refresh_call(parsed: ParsedEvent) -> str:
    """What went wrong, or "" once the cache and the archive hold Truedy's current call."""
    if parsed.event not in CALL_EVENTS:
        return f"not acted on: unknown event {parsed.event[:64]!r}"
    if parsed.call_id is None:
        return "not acted on: the event names no call"
    if not is_valid_call_id(parsed.call_id):
        return "not acted on: not a valid call id"  # never sent upstream
    cache.invalidate_call(parsed.call_id)
    # Outside any page, so its own budget: a slow Truedy holds a refresh thread no longer.
    with deadline(settings.TRUEDY_PAGE_DEADLINE), collecting_stale_reads() as stale:
        try:
            call = reads.get_call(parsed.call_id, fresh=True)
        except NotFound:
            return "Truedy has no such call"
        except TruedyError as error:
            return f"call not refreshed: {trouble(error)}"
    if stale:
        # The answer is the cached copy Truedy's failure fell back to: nothing new to archive.
        return f"call not refreshed: {trouble(stale[0].error)}"
    store_call(call, source="webhook")
    return ""


class Refreshes:
    """A few threads that refresh calls after the answer, so neither the worker thread nor the
    connection a webhook came in on waits for Truedy: a load balancer reuses its connections to
    gunicorn for other people's requests, which would queue behind a slow refresh.

    Bounded: at most ``limit`` refreshes waiting or running; past that one runs in the request's
    own thread (back-pressure instead of an unbounded queue). A process that stops first loses
    what was waiting; those rows keep ``processed_at`` empty and ``sync_calls`` catches the calls
    up. The pool starts on first use, so a gunicorn ``--preload`` fork never inherits it.
    """

    def __init__(self, *, workers: int, limit: int) -> None:
        self._workers = workers
        self._limit = limit
        self._pending = 0
        self._done = threading.Condition()
        self._pool: ThreadPoolExecutor | None = None

    def run(self, task: Callable[[], None]) -> None:
        if settings.TRUEDY_WEBHOOK_REFRESH_INLINE or not self._reserve():
            task()
            return
        try:
            self._get_pool().submit(self._run_pooled, task)
        except RuntimeError:  # the interpreter is shutting down: no new threads
            self._release()
            task()

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is waiting or running (tests; a graceful stop)."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def _reserve(self) -> bool:
        with self._done:
            if self._pending >= self._limit:
                return False
            self._pending += 1
            return True

    def _release(self) -> None:
        with self._done:
            self._pending -= 1
            self._done.notify_all()

    def _get_pool(self) -> ThreadPoolExecutor:
        with self._done:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="webhook")
            return self._pool

    def _run_pooled(self, task: Callable[[], None]) -> None:
        try:
            task()
        finally:
            connections.close_all()  # this thread's own; the next task opens a fresh one
            self._release()


refreshes = Refreshes(workers=2, limit=200)
