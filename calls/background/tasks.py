"""Every piece of background work, as Celery tasks. Each is idempotent: a task run twice (a
worker killed mid-task runs it again) leaves the archive as one run would.

- ``process_webhook_event``: refresh the call a stored webhook names, then copy its recording.
- ``archive_recording``: copy one call's recording before its link dies, retried until then.
- ``sync_archive``: the incremental sync, every ARCHIVE_SYNC_INTERVAL seconds (the scheduler).
- ``requeue_webhook_events``: send again the follow-ups whose message was lost.
- ``heartbeat``: proves the scheduler, the queue and a worker all work (/healthz).
"""

import io
import logging
import socket
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone

from calls.archive import recordings, sync, webhook_events
from calls.archive.store import get_archived
from calls.background.retrying import MAX_RETRIES, retry_delay
from calls.models import WorkerHeartbeat
from calls.truedy.client import PAGE_LIMIT_MAX, deadline
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.lifecycle import recording_expiry, talked
from calls.truedy.records import Call
from calls.upstream import gateway, reads
from calls.upstream.problems import problem_of, trouble

logger = logging.getLogger("calls.background")

# An event whose follow-up has not run this long after it was due is sent again.
REQUEUE_GRACE = timedelta(seconds=60)


# --- webhooks ---------------------------------------------------------------------------------


def enqueue_follow_up(event_id: int) -> None:
    """Called inside the transaction that stores the event: the message is sent when it
    commits (never for a row that was rolled back). Should sending fail, the event stays
    unprocessed and ``requeue_webhook_events`` sends it again."""
    transaction.on_commit(lambda: _send(process_webhook_event, event_id), robust=True)


def _send(task: Task, *args: object, countdown: float = 0) -> None:
    try:
        task.apply_async(args, countdown=countdown)
    except Exception:
        logger.exception("could not enqueue %s%r (it will be sent again)", task.name, args)


@shared_task(bind=True, max_retries=MAX_RETRIES)
def process_webhook_event(self: Task, event_id: int) -> None:
    try:
        call = webhook_events.process_event(event_id)
    except webhook_events.RefreshDeferred as deferred:
        retries = self.request.retries
        if retries >= MAX_RETRIES:
            webhook_events.mark_processed(
                event_id, f"gave up after {retries + 1} attempts: {deferred.reason}"
            )
            raise  # stored as a failed task: staff see it and can run it again
        delay = retry_delay(retries, deferred.retry_after)
        retry_at = timezone.now() + timedelta(seconds=delay)
        webhook_events.mark_deferred(event_id, f"retrying: {deferred.reason}", retry_at)
        raise self.retry(countdown=delay, exc=deferred) from None
    if call is not None:
        copy_recording_soon(call)


@shared_task
def requeue_webhook_events() -> int:
    overdue = webhook_events.overdue_events(timezone.now(), REQUEUE_GRACE)
    for event_id in overdue:
        _send(process_webhook_event, event_id)
    if overdue:
        logger.warning("%d webhook follow-ups were overdue: sent again", len(overdue))
    return len(overdue)


# --- recordings -------------------------------------------------------------------------------


def copy_recording_soon(call: Call) -> None:
    """Copy the call's recording now if the archive lacks it; a failure that may pass becomes
    an ``archive_recording`` task, one that cannot is noted on the row."""
    if not call.recording_url or not talked(call):
        return
    archived = get_archived(call.id)
    if archived is None or archived.recording or archived.recording_error:
        return
    try:
        recordings.save_recording(archived, call)
    except recordings.CopyFailed as failed:
        if failed.final:
            recordings.give_up_recording(call.id, failed.reason)
        else:
            _send(archive_recording, call.id, countdown=retry_delay(0))


@shared_task(bind=True, max_retries=MAX_RETRIES)
def archive_recording(self: Task, call_id: str) -> None:
    archived = get_archived(call_id)
    if archived is None or archived.recording or archived.recording_error:
        return
    retries = self.request.retries
    try:
        with deadline(settings.TRUEDY_PAGE_DEADLINE):
            call = reads.get_call(call_id)  # a fresh signed link, from the cache when it has one
    except NotFound:
        recordings.give_up_recording(call_id, "Truedy no longer has the call")
        return
    except TruedyError as error:
        if not problem_of(error).stale_ok or retries >= MAX_RETRIES:
            recordings.give_up_recording(call_id, f"Truedy failed: {trouble(error)}")
            return
        raise self.retry(countdown=retry_delay(retries, error.retry_after), exc=error) from None
    if not call.recording_url:
        if archived.has_recording:  # it had a link, and Truedy no longer gives a live one
            recordings.give_up_recording(call_id, recordings.LINK_EXPIRED)
        return
    try:
        recordings.save_recording(archived, call)
    except recordings.CopyFailed as failed:
        delay = retry_delay(retries)
        expiry = recording_expiry(call)
        too_late = expiry is not None and gateway.now() + timedelta(seconds=delay) >= expiry
        if failed.final or retries >= MAX_RETRIES or too_late:
            recordings.give_up_recording(call_id, failed.reason)
            return
        raise self.retry(countdown=delay, exc=failed) from None


# --- the archive's sync -----------------------------------------------------------------------


@shared_task
def sync_archive() -> str:
    """One budgeted run of the incremental sync. Never waits on Truedy's rate limit or the
    open breaker: it yields to people's pages and the next run carries on."""
    if not sync.acquire_lock():
        return "another run holds the lock"
    out = io.StringIO()
    try:
        sync.Sync(
            OutputWrapper(out),
            page_size=PAGE_LIMIT_MAX,
            now=gateway.now(),
            since=None,
            max_requests=settings.ARCHIVE_SYNC_REQUESTS_PER_RUN,
            longest_rate_limit_wait=0,
            on_copy_failed=lambda call_id: _send(
                archive_recording, call_id, countdown=retry_delay(0)
            ),
        ).run()
    except TruedyError as error:
        logger.warning("archive sync stopped (the next run carries on): %s", trouble(error))
        return f"stopped: {trouble(error)}"
    finally:
        sync.release_lock()
    summary = out.getvalue().strip().splitlines()[-1:]
    logger.info("archive sync: %s", summary[0] if summary else "nothing to do")
    return summary[0] if summary else ""


# --- liveness ---------------------------------------------------------------------------------

HEARTBEAT = "worker"


@shared_task
def heartbeat() -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=HEARTBEAT, defaults={"beat_at": timezone.now(), "worker": socket.gethostname()}
    )
