"""Recordings in the archive: copied from Truedy's signed link into Django's default storage
while the link works, and served back with HTTP Range like the upstream proxy serves them."""

import hashlib
import logging
import tempfile
from collections.abc import Generator
from datetime import datetime
from email.utils import format_datetime
from typing import Any, cast

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Count
from django.utils import timezone

from calls.lib.http_range import (
    AUDIO_TYPE,
    CHUNK_BYTES,
    RangeNotSatisfiable,
    parse_range,
    read_range,
)
from calls.models import ArchivedCall
from calls.truedy.errors import TruedyError
from calls.truedy.lifecycle import link_expired, recording_expiry
from calls.truedy.records import Call
from calls.upstream import gateway

logger = logging.getLogger("calls.archive")


class CopyFailed(Exception):
    """The recording was not copied: ``reason`` says why; ``final`` when trying again cannot
    help (the link has expired)."""

    def __init__(self, reason: str, *, final: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


LINK_EXPIRED = "its link expired before it could be copied"
# A call first archived after its link died (a backfill of old calls): nothing could be done.
EXPIRED_BEFORE_ARCHIVED = "its link had expired before the call reached the archive"


def copy_recording(archived: ArchivedCall, call: Call) -> bool:
    """Copy the call's MP3 from its signed link into default storage, chunk by chunk.

    True once the archive holds a copy. A dead link, a failing Truedy or storage is logged and
    left for a retry; nothing is raised.
    """
    try:
        save_recording(archived, call)
    except CopyFailed as failed:
        logger.warning("recording of call %s not copied: %s", call.id, failed.reason)
        return False
    return True


def save_recording(archived: ArchivedCall, call: Call) -> None:
    """Copy the call's MP3 into default storage unless the archive holds it; CopyFailed if not.

    A call that never had a recording link is nothing to copy (no error).
    """
    if archived.recording or not call.recording_url:
        return
    if link_expired(call, gateway.now()):
        expiry = recording_expiry(call)
        late = expiry is not None and archived.archived_at >= expiry
        raise CopyFailed(EXPIRED_BEFORE_ARCHIVED if late else LINK_EXPIRED, final=True)
    name = recording_name(call)
    try:
        with tempfile.TemporaryFile() as spool:
            size = _download(call.recording_url, spool)
            spool.seek(0)
            saved = default_storage.save(name, File(spool, name=name))
    except (TruedyError, OSError) as error:
        raise CopyFailed(f"download failed: {error}"[:300], final=False) from error
    # Another process may have copied it meanwhile: the first copy recorded wins.
    won = ArchivedCall.objects.filter(pk=archived.pk, recording="").update(
        recording=saved, recording_bytes=size, recording_error=""
    )
    if not won:
        default_storage.delete(saved)
        archived.refresh_from_db(fields=["recording", "recording_bytes"])
        return
    archived.recording.name, archived.recording_bytes = saved, size
    logger.info("recording of call %s archived (%d bytes)", call.id, size)


def give_up_recording(call_id: str, reason: str) -> None:
    """Note that this call's recording will not be archived, and why (the staff page counts
    these)."""
    ArchivedCall.objects.filter(pk=call_id, recording="").update(recording_error=reason[:300])
    logger.error("recording of call %s not archived: %s", call_id, reason)


def recordings_not_archived() -> dict[str, int]:
    """How many recordings could not be archived, by reason, most frequent first."""
    rows = (
        ArchivedCall.objects.exclude(recording_error="")
        .values_list("recording_error")
        .annotate(count=Count("pk"))
        .order_by("-count")
    )
    return dict(rows)


def recording_name(call: Call) -> str:
    created = call.created_at or timezone.now()
    return f"recordings/{created:%Y/%m}/{call.id}.mp3"


def _download(recording_url: str, spool: Any) -> int:
    """Write the whole recording into ``spool``; its size. A short read is an error."""
    with gateway.get_client().open_recording(recording_url) as stream:
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

    Same face as ``calls.truedy.client.RecordingStream``: ``status_code``, ``headers`` (lower-case
    names) and ``iter_bytes``, so the recording view streams either without knowing which.
    """

    def __init__(
        self, archived: ArchivedCall, *, range_header: str | None, if_range: str | None
    ) -> None:
        # Opened only for a call whose copy is in storage (open_archived_recording): named.
        self._name = cast(str, archived.recording.name)
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

    def iter_bytes(self, chunk_size: int = CHUNK_BYTES) -> Generator[bytes, None, None]:
        if self._length == 0:
            return
        with default_storage.open(self._name, "rb") as handle:
            yield from read_range(handle, self._first, self._length, chunk_size)

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
    archived = ArchivedCall.objects.filter(pk=call_id).first()
    if archived is None or not archived.recording:
        return None
    # A FieldFile is true only when it has a name.
    if not default_storage.exists(cast(str, archived.recording.name)):
        logger.error("archived recording of call %s is missing from storage", call_id)
        return None
    return ArchivedRecordingStream(archived, range_header=range_header, if_range=if_range)
