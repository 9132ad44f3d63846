"""The call archive: our own copy of every call and its recording (issue 6).

Truedy forgets recordings 24 h after a call ends and calls after 12 months; ``ArchivedCall``
rows (filled by the webhook receiver and ``manage.py sync_calls``) and the MP3s copied into
Django's default storage outlive both. ``store_call`` is the one way in: it upserts and never
lets an older description of a call replace a newer one, whatever order the webhook and the
sync deliver them in.
"""

import hashlib
import logging
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from types import MappingProxyType
from typing import Any, TypeVar

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from calls import backend, services
from calls.errors import TruedyError
from calls.models import ArchivedCall
from calls.records import Call, Turn, transcript_as_text
from calls.simulator.audio import RangeNotSatisfiable, parse_range

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

CHUNK_BYTES = 64 * 1024
PURGE_BATCH = 500
AUDIO_TYPE = "audio/mpeg"

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
    "has_recording",
)
# Text fields: an absent value is stored as "" (the columns are not nullable).
_TEXT_FIELDS = ("agent_id", "direction", "to_number", "from_number", "outcome")


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status, UNKNOWN_STATUS_RANK)


def talked(call: Call | ArchivedCall) -> bool:
    """Somebody spoke: an ended call, or a failed one that had been answered (dropped)."""
    return call.status == "ended" or (call.status == "failed" and call.started_at is not None)


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
        copy_recording(archived, call)
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
    if call.recording_url and talked(call):
        archived.has_recording = True
    elif replace and status_rank(call.status) == TERMINAL_RANK and not archived.has_recording:
        archived.has_recording = False
    if call.summary and (replace or not archived.summary):
        archived.summary = call.summary
    if call.transcript is not None and (replace or archived.transcript is None):
        archived.transcript = [
            {"speaker": turn.speaker, "text": turn.text, "timestamp": turn.timestamp}
            for turn in call.transcript
        ]
    archived.search_text = search_text(to_record(archived))
    return _snapshot(archived) != before


def _snapshot(archived: ArchivedCall) -> tuple[Any, ...]:
    return tuple(getattr(archived, name) for name in _COMPARED_FIELDS)


def search_text(call: Call) -> str:
    """What the list's ``q`` search looks in: the transcript as text, then the summary."""
    parts = [transcript_as_text(call)] if call.transcript else []
    if call.summary:
        parts.append(call.summary)
    return "\n".join(parts).lower()


# --- reading ----------------------------------------------------------------------------------


def get_archived(call_id: str) -> ArchivedCall | None:
    return ArchivedCall.objects.filter(pk=call_id).first()


def to_record(archived: ArchivedCall) -> Call:
    """The archived call as the rest of the dashboard reads calls (no recording link: an
    archived copy, if any, is served by ``open_archived_recording``)."""
    transcript = None
    if archived.transcript is not None:
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


# --- recordings -------------------------------------------------------------------------------


def copy_recording(archived: ArchivedCall, call: Call) -> bool:
    """Copy the call's MP3 from its signed link into default storage, chunk by chunk.

    True once the archive holds a copy. A dead link, a failing Truedy or storage is logged and
    left for the next sync to retry; nothing is raised.
    """
    if archived.recording:
        return True
    if not call.recording_url or _link_expired(call):
        return False
    name = recording_name(call)
    try:
        with tempfile.TemporaryFile() as spool:
            size = _download(call.recording_url, spool)
            spool.seek(0)
            saved = default_storage.save(name, File(spool, name=name))
    except (TruedyError, OSError) as error:
        logger.warning("recording of call %s not copied (will retry): %s", call.id, error)
        return False
    # Another process may have copied it meanwhile: the first copy recorded wins.
    won = ArchivedCall.objects.filter(pk=archived.pk, recording="").update(
        recording=saved, recording_bytes=size
    )
    if not won:
        default_storage.delete(saved)
        archived.refresh_from_db(fields=["recording", "recording_bytes"])
        return bool(archived.recording)
    archived.recording.name, archived.recording_bytes = saved, size
    logger.info("recording of call %s archived (%d bytes)", call.id, size)
    return True


def recording_name(call: Call) -> str:
    created = call.created_at or timezone.now()
    return f"recordings/{created:%Y/%m}/{call.id}.mp3"


def _link_expired(call: Call) -> bool:
    expiry = services.recording_expiry(call)
    return expiry is not None and expiry - services.RECORDING_EXPIRY_MARGIN <= backend.now()


def _download(recording_url: str, spool: Any) -> int:
    """Write the whole recording into ``spool``; its size. A short read is an error."""
    with backend.get_client().open_recording(recording_url) as stream:
        if stream.status_code != 200:
            raise OSError(f"storage answered {stream.status_code} to a plain GET")
        expected = stream.headers.get("content-length")
        size = 0
        for chunk in stream.iter_bytes(CHUNK_BYTES):
            spool.write(chunk)
            size += len(chunk)
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise OSError(f"recording cut short: {size} of {expected} bytes")
    if size == 0:
        raise OSError("recording is empty")
    return size


class ArchivedRecordingStream:
    """Our copy of a recording, answering one HTTP Range like the upstream proxy does.

    Same face as ``calls.client.RecordingStream``: ``status_code``, ``headers`` (lower-case
    names) and ``iter_bytes``, so the recording view streams either without knowing which.
    """

    def __init__(
        self, archived: ArchivedCall, *, range_header: str | None, if_range: str | None
    ) -> None:
        self._name = archived.recording.name
        size = archived.recording_bytes
        if size is None:
            size = default_storage.size(self._name)
        # The copy never changes once written, so its name and size identify it.
        etag = '"' + hashlib.sha256(f"{self._name}:{size}".encode()).hexdigest()[:32] + '"'
        self.headers: dict[str, str] = {"accept-ranges": "bytes", "etag": etag}
        modified = _modified_time(self._name)
        if modified is not None:
            self.headers["last-modified"] = format_datetime(modified, usegmt=True)
        validators = (etag, self.headers.get("last-modified"))
        if if_range is not None and if_range.strip() not in validators:
            range_header = None  # the client's copy is another file: send it all
        try:
            wanted = parse_range(range_header, size)
        except RangeNotSatisfiable:
            self.status_code = 416
            self.headers["content-range"] = f"bytes */{size}"
            self.headers["content-length"] = "0"
            self._first, self._length = 0, 0
            return
        if wanted is None:
            self.status_code, first, last = 200, 0, size - 1
        else:
            self.status_code, (first, last) = 206, wanted
            self.headers["content-range"] = f"bytes {first}-{last}/{size}"
        self.headers["content-type"] = AUDIO_TYPE
        self._first, self._length = first, max(last - first + 1, 0)
        self.headers["content-length"] = str(self._length)

    def iter_bytes(self, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        if self._length == 0:
            return
        with default_storage.open(self._name, "rb") as handle:
            handle.seek(self._first)
            remaining = self._length
            while remaining > 0:
                block = handle.read(min(chunk_size, remaining))
                if not block:
                    return
                remaining -= len(block)
                yield block

    def close(self) -> None:
        """Nothing is open until ``iter_bytes`` runs (and that closes its own file)."""


def _modified_time(name: str) -> datetime | None:
    try:
        return default_storage.get_modified_time(name)
    except (NotImplementedError, OSError):
        return None


def open_archived_recording(
    call_id: str, *, range_header: str | None = None, if_range: str | None = None
) -> ArchivedRecordingStream | None:
    """Our copy of the call's recording, or None when the archive holds none."""
    archived = get_archived(call_id)
    if archived is None or not archived.recording:
        return None
    if not default_storage.exists(archived.recording.name):
        logger.error("archived recording of call %s is missing from storage", call_id)
        return None
    return ArchivedRecordingStream(archived, range_header=range_header, if_range=if_range)


# --- retention --------------------------------------------------------------------------------


def retention_cutoff(now: datetime) -> datetime | None:
    """Calls created before this are deleted; None when the archive keeps everything."""
    days = settings.ARCHIVE_RETENTION_DAYS
    return now - timedelta(days=days) if days > 0 else None


def purge_expired(now: datetime) -> int:
    """Delete archived calls older than ``ARCHIVE_RETENTION_DAYS``, recordings included."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    deleted = 0
    while batch := list(
        ArchivedCall.objects.filter(created_at__lt=cutoff).values_list("id", "recording")[
            :PURGE_BATCH
        ]
    ):
        for _, recording in batch:
            if not recording:
                continue
            try:
                default_storage.delete(recording)
            except OSError as error:  # the row goes anyway: an orphan file beats a kept call
                logger.warning("could not delete %s: %s", recording, error)
        ids = [call_id for call_id, _ in batch]
        deleted += ArchivedCall.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("archive retention: deleted %d calls created before %s", deleted, cutoff)
    return deleted
