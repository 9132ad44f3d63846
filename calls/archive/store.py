"""The call archive: our own copy of every call.

Truedy forgets recordings 24 h after a call ends and calls after 12 months; ``ArchivedCall``
rows (filled by the webhook receiver and ``manage.py sync_calls``) outlive both. ``store_call``
is the one way in: it upserts and never lets an older description of a call replace a newer
one, whatever order the webhook and the sync deliver them in.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from calls.archive import recordings
from calls.archive.suspicious import stored_contact_words
from calls.lib.personal_data import mask_text, mask_turns
from calls.models import ArchivedCall
from calls.truedy.lifecycle import talked
from calls.truedy.records import Call, Turn, transcript_as_text
from calls.truedy.timing import longest_silence_seconds

logger = logging.getLogger("calls.archive")

# A call moves through these in order and never back. A status we do not know ranks with
# "queued": any known status may replace it, and it never replaces a known later one.
STATUS_RANK = {
    "queued": 0,
    "created": 0,
    "ringing": 1,
    "in-progress": 2,
    "ended": 3,
    "failed": 3,
    "cancelled": 3,
}
UNKNOWN_STATUS_RANK = 0
TERMINAL_RANK = 3

T = TypeVar("T")

# SQLite "database is locked": tries in all, and the longest pause between two (seconds).
LOCKED_RETRIES = 20
LOCKED_PAUSE = 0.05

# Filled from a Call as is; transcript and summary are handled apart (a list row lacks them).
_PLAIN_FIELDS = ("status", "created_at", "started_at", "ended_at", "updated_at")
_COMPARED_FIELDS = (
    *_PLAIN_FIELDS,
    "agent_id",
    "direction",
    "to_number",
    "from_number",
    "outcome",
    "duration_seconds",
    "cost_cents",
    "metadata",
    "summary",
    "transcript",
    "search_text",
    "masked_search_text",
    "contact_words",
    "longest_silence",
    "has_recording",
)
# Text fields: an absent value is stored as "" (the columns are not nullable).
_TEXT_FIELDS = ("agent_id", "direction", "to_number", "from_number", "outcome")


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status, UNKNOWN_STATUS_RANK)


# --- storing ----------------------------------------------------------------------------------


def store_call(call: Call, *, source: str, copy: bool = True) -> ArchivedCall:
    """Upsert ``call`` into the archive, keeping whatever is newer; then (``copy``) copy its
    recording while the link works. ``copy=False`` is for callers inside a transaction, who
    copy once it has committed: a download must not hold the database.

    Never regresses: a lower status rank or an older ``updated_at`` does not overwrite the row,
    and a missing transcript or summary (list rows have none) never wipes a stored one. Safe
    when the webhook and a sync store the same call at once: the row is locked (PostgreSQL) or
    the write serialised (SQLite) and a racing insert falls back to an update.
    """
    archived = retry_if_locked(lambda: _upsert(call, source))
    if copy and call.recording_url and not archived.recording and talked(call):
        recordings.copy_recording(archived, call)
    return archived


def _upsert(call: Call, source: str) -> ArchivedCall:
    with transaction.atomic():
        archived = ArchivedCall.objects.select_for_update().filter(pk=call.id).first()
        if archived is None:
            try:
                with transaction.atomic():  # a savepoint: a racing insert must not doom us
                    archived = ArchivedCall(id=call.id)
                    _apply(archived, call, replace=True)
                    archived.source = source
                    archived.save(force_insert=True)
                return archived
            except IntegrityError:
                archived = ArchivedCall.objects.select_for_update().get(pk=call.id)
        _merge(archived, call, source)
        return archived


def retry_if_locked(work: Callable[[], T]) -> T:
    """``work()`` (one transaction), again after a pause if SQLite found the database locked.

    PostgreSQL waits on row locks by itself. SQLite locks the whole database and, when two
    transactions that both read first then want to write, fails one at once instead of waiting
    (and an in-memory shared-cache database never waits): that one is simply run again. Inside
    an outer transaction nothing can be retried, so the error goes to its owner.
    """
    for attempt in range(LOCKED_RETRIES):
        try:
            return work()
        except OperationalError as error:
            locked = connection.vendor == "sqlite" and "locked" in str(error)
            if not locked or connection.in_atomic_block or attempt + 1 == LOCKED_RETRIES:
                raise
            time.sleep(random.uniform(0, LOCKED_PAUSE * (attempt + 1)))
    raise AssertionError("unreachable: the last attempt returns or raises")


def _merge(archived: ArchivedCall, call: Call, source: str) -> None:
    changed = _apply(archived, call, replace=_is_newer(call, archived))
    if changed:
        archived.source = source
        archived.refreshed_at = timezone.now()
        archived.save()


def _is_newer(call: Call, archived: ArchivedCall) -> bool:
    """``call`` may replace what the row says: not an earlier status, not an older update."""
    if status_rank(call.status) < status_rank(archived.status):
        return False
    older = call.updated_at and archived.updated_at and call.updated_at < archived.updated_at
    return not older


def _apply(archived: ArchivedCall, call: Call, *, replace: bool) -> bool:
    """Copy ``call`` onto the row (all of it if ``replace``, else only what the row lacks)."""
    before = _snapshot(archived)
    if replace:
        for name in _PLAIN_FIELDS:
            setattr(archived, name, getattr(call, name))
        for name in _TEXT_FIELDS:
            setattr(archived, name, getattr(call, name) or "")
        archived.duration_seconds = call.duration_seconds
        archived.cost_cents = call.cost_cents
        archived.metadata = dict(call.metadata)
    if (call.recording_url or call.recording_link_expired) and talked(call):
        archived.has_recording = True  # a dead link still says the call was recorded
    elif replace and status_rank(call.status) == TERMINAL_RANK and not archived.has_recording:
        archived.has_recording = False
    if call.summary and (replace or not archived.summary):
        archived.summary = call.summary
    if call.transcript is not None and (replace or archived.transcript is None):
        archived.transcript = [
            {"speaker": turn.speaker, "text": turn.text, "timestamp": turn.timestamp}
            for turn in call.transcript
        ]
    record = to_record(archived)
    archived.search_text = search_text(record)
    archived.masked_search_text = masked_search_text(record)
    archived.contact_words = stored_contact_words(archived.transcript)
    archived.longest_silence = stored_longest_silence(
        archived.transcript, archived.duration_seconds
    )
    return _snapshot(archived) != before


def _snapshot(archived: ArchivedCall) -> tuple[Any, ...]:
    return tuple(getattr(archived, name) for name in _COMPARED_FIELDS)


def search_text(call: Call) -> str:
    """What the list's ``q`` search looks in: the transcript as text, then the summary."""
    parts = [transcript_as_text(call)] if call.transcript else []
    if call.summary:
        parts.append(call.summary)
    return "\n".join(parts).lower()


def masked_search_text(call: Call) -> str:
    """``search_text`` with personal data replaced by placeholders: what a role that sees it
    masked searches in (calls.archive.search), so a masked value can never find a call."""
    transcript = None
    if call.transcript:
        texts = mask_turns([turn.text for turn in call.transcript])
        transcript = tuple(
            Turn(speaker=turn.speaker, text=text, timestamp=turn.timestamp)
            for turn, text in zip(call.transcript, texts, strict=True)
        )
    summary = mask_text(call.summary) if call.summary else None
    return search_text(replace(call, transcript=transcript, summary=summary))


def stored_longest_silence(transcript: Any, duration_seconds: int | None) -> float | None:
    """The longest silence of turns as the archive stores them (checked, not trusted: None for
    something that is not a list of turns), to the hundredth of a second."""
    if not isinstance(transcript, list):
        return None
    turns = []
    for turn in transcript:
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            continue
        stamp = turn.get("timestamp")
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            continue
        turns.append(Turn(speaker=str(turn.get("speaker", "")), text=turn["text"], timestamp=stamp))
    seconds = longest_silence_seconds(turns, duration_seconds)
    return None if seconds is None else round(seconds, 2)


# --- reading ----------------------------------------------------------------------------------


def get_archived(call_id: str) -> ArchivedCall | None:
    return ArchivedCall.objects.filter(pk=call_id).first()


# The fields of a lean record (``lean_record``): what tells calls apart and orders them.
LEAN_FIELDS = ("id", "agent_id", "status", "direction", "created_at", "updated_at")


def lean_record(
    call_id: str,
    agent_id: str,
    status: str,
    direction: str,
    created_at: datetime | None,
    updated_at: datetime | None,
) -> Call:
    """A call from its ``LEAN_FIELDS`` alone (``values_list(*LEAN_FIELDS)``), for readers that
    need no more (the live snapshot's counts, a call's neighbours in its list)."""
    return Call(
        id=call_id,
        agent_id=agent_id or None,
        status=status,
        direction=direction or None,
        created_at=created_at,
        started_at=None,
        ended_at=None,
        updated_at=updated_at,
        to_number=None,
        from_number=None,
        duration_seconds=None,
        cost_cents=None,
        outcome=None,
        summary=None,
        transcript=None,
        recording_url=None,
    )


# What a list row needs none of (Truedy's list rows carry no transcript): a page of rows
# read without them reads a fraction of the bytes, and masks and hashes no transcripts.
LIST_ROW_DEFERRED = ("transcript", "search_text", "masked_search_text")


def to_record(archived: ArchivedCall, *, with_transcript: bool = True) -> Call:
    """The archived call as the rest of the dashboard reads calls (no recording link: an
    archived copy, if any, is served by ``open_archived_recording``). ``with_transcript``
    False: a list row, as Truedy's list gives it (the row read without it: LIST_ROW_DEFERRED).
    """
    transcript = None
    if with_transcript and archived.transcript is not None:
        transcript = tuple(
            Turn(speaker=turn["speaker"], text=turn["text"], timestamp=float(turn["timestamp"]))
            for turn in archived.transcript
        )
    return Call(
        id=archived.id,
        agent_id=archived.agent_id or None,
        status=archived.status,
        direction=archived.direction or None,
        created_at=archived.created_at,
        started_at=archived.started_at,
        ended_at=archived.ended_at,
        updated_at=archived.updated_at,
        to_number=archived.to_number or None,
        from_number=archived.from_number or None,
        duration_seconds=archived.duration_seconds,
        cost_cents=archived.cost_cents,
        outcome=archived.outcome or None,
        summary=archived.summary or None,
        transcript=transcript,
        recording_url=None,
        metadata=MappingProxyType(dict(archived.metadata or {})),
    )
