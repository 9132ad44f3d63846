"""Settled calls read locally: an archived call that can no longer change upstream is served
from the archive with no Truedy request (the call page, its transcript downloads, its recording
when the archive holds a copy).

The rule is calls.truedy.lifecycle.is_settled, with the archive's own evidence: ``checked_at``
(when the sync last read the call itself) stands for "Truedy was last seen", and the recording
must be settled too: the archive holds its copy, or knows there is none (never recorded, or its
link died before it could be copied). A row that lacks that evidence, say one a webhook stored
whose follow-up has not run, is not settled: Truedy is asked, as before.
"""

from datetime import datetime, timedelta

from django.conf import settings

from calls.archive.store import get_archived, to_record
from calls.models import ArchivedCall
from calls.truedy.lifecycle import is_settled, link_expired, talked
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
