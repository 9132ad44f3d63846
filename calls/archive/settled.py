"""Settled calls read locally: an archived call that can no longer change upstream is served
from the archive with no Truedy request (the call page, its transcript downloads, its recording
when the archive holds a copy).

The rule is calls.truedy.lifecycle.is_settled, with the archive's own evidence: ``checked_at``
(when the sync last read the call itself) stands for "Truedy was last seen", and the recording
must be settled too: the archive holds its copy, or knows there is none (never recorded, or its
link died before it could be copied). A row that lacks that evidence, say one a webhook stored
whose follow-up has not run, is not settled: Truedy is asked, as before.

A call that is not settled may still be read from the archive while webhooks keep it current
(``archived_follows_truedy``): the live updates already show such calls' state from there.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from calls.archive.store import get_archived, to_record
from calls.models import ArchivedCall, WebhookEvent
from calls.truedy.lifecycle import is_live, is_settled, link_expired, talked
from calls.truedy.records import Call


def settled_grace() -> timedelta:
    return timedelta(seconds=settings.SETTLED_GRACE_SECONDS)


def analysis_window() -> timedelta:
    return timedelta(seconds=settings.TRANSCRIPT_PROCESSING_WINDOW)


def recording_settled(archived: ArchivedCall, call: Call, now: datetime) -> bool:
    """Nothing more will become of the call's recording: copied, never made, or lost."""
    if archived.recording or not talked(call) or archived.has_recording is False:
        return True
    if archived.has_recording is None:
        return False
    return bool(archived.recording_error) or link_expired(call, now)


def archived_is_settled(archived: ArchivedCall, now: datetime) -> bool:
    call = to_record(archived)
    return is_settled(
        call,
        now,
        seen_at=archived.checked_at,
        processing_window=analysis_window(),
        grace=settled_grace(),
    ) and recording_settled(archived, call, now)


def settled_archived(call_id: str, now: datetime) -> ArchivedCall | None:
    """The archive's row of ``call_id`` when the call is settled, else None (one query)."""
    archived = get_archived(call_id)
    if archived is None or not archived_is_settled(archived, now):
        return None
    return archived


def archived_follows_truedy(archived: ArchivedCall, now: datetime) -> bool:
    """The archive's copy of a call that is not settled shows what Truedy would, while webhooks
    keep the archive current (the caller knows; calls.services.live.archive_follows_truedy).

    Each change Truedy makes to a call sends a webhook whose follow-up stores the call, so the
    copy is as new as the last change, unless:
    - a webhook for the call has waited for its follow-up longer than a live call's copy is
      cached (CACHE_TTL_CALL_PENDING): one that arrived just now leaves the copy no staler than
      the cache would serve, and the live updates reload the page once it is stored;
    - the archive last heard from Truedy about the call longer ago than its freshness bound
      (the sync rechecks live and unsettled rows every run: a lost webhook shows here);
    - the call ended with a recording the archive has no copy of yet (only Truedy's signed
      link plays it).
    ``now``: Truedy's clock. One query, for the webhooks.
    """
    wall_now = timezone.now()  # our clock, as the row's moments and the webhooks'
    seen = max((m for m in (archived.checked_at, archived.refreshed_at) if m), default=None)
    if seen is None or wall_now - seen > timedelta(seconds=settings.ARCHIVE_FRESHNESS_BOUND):
        return False
    call = to_record(archived)
    if not is_live(call) and not recording_settled(archived, call, now):
        return False
    waited = wall_now - timedelta(seconds=settings.CACHE_TTL_CALL_PENDING)
    waiting = WebhookEvent.objects.filter(
        call_id=archived.id, processed_at__isnull=True, received_at__lt=waited
    )
    return not waiting.exists()
