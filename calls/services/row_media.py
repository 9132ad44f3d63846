"""What a row of the call list can say about a call's recording and transcript, unopened.

Truedy's list rows (``GET /calls``) carry ``recording_url``, null when the call was not recorded,
but no transcript: only ``GET /calls/{id}`` has one (see ``calls.archive.sync``, which fetches
each call for it). So a row read from Truedy knows its recording and not its transcript. The
archive knows both for the calls it holds: whether Truedy had a transcript when the call was last
fetched, whether a recording existed, and whether the dashboard keeps a copy. What neither knows
is shown as unknown, never guessed. One database query a page, no request to Truedy.
"""

import dataclasses
import enum
from collections.abc import Iterable
from datetime import datetime

from django.db.models import BooleanField, ExpressionWrapper, Q

from calls.models import ArchivedCall
from calls.truedy.lifecycle import is_live, link_expired, recording_expiry, talked
from calls.truedy.records import Call
from calls.upstream import gateway, reads


class Media(enum.StrEnum):
    YES = "yes"  # there is one to play or read (a recording: through Truedy's link)
    ARCHIVED = "archived"  # a recording whose Truedy link is gone: the archive's copy plays
    EXPIRED = "expired"  # a recording existed; its link has expired and no copy was kept
    LATER = "later"  # the call is live, or ended moments ago and is being transcribed
    NO = "no"  # there is none and will be none
    UNKNOWN = "unknown"  # neither Truedy's list row nor the archive can tell


@dataclasses.dataclass(frozen=True, slots=True)
class RowMedia:
    recording: Media
    transcript: Media


@dataclasses.dataclass(frozen=True, slots=True)
class _Archived:
    """What the archive holds of a call, without reading its transcript."""

    status: str
    started_at: datetime | None
    ended_at: datetime | None
    transcript_known: bool  # Truedy sent a transcript (possibly empty)
    has_turns: bool
    has_copy: bool  # the dashboard keeps the MP3
    has_recording: bool | None  # Truedy gave a recording link (None: not known yet)


def media_of_rows(
    calls: Iterable[Call], *, from_archive: bool, now: datetime | None = None
) -> dict[str, RowMedia]:
    """Call id -> its recording and transcript as far as anybody knows. ``from_archive``: the
    rows were read from the archive (they carry no recording link, whatever the call had)."""
    calls = list(calls)
    now = now if now is not None else gateway.now()
    archived = _archived([call.id for call in calls])
    return {
        call.id: RowMedia(
            recording=_recording(call, archived.get(call.id), now, from_archive=from_archive),
            transcript=_transcript(call, archived.get(call.id), now),
        )
        for call in calls
    }


def _recording(
    call: Call, archived: _Archived | None, now: datetime, *, from_archive: bool
) -> Media:
    copy = archived is not None and archived.has_copy
    if call.recording_url:
        if not link_expired(call, now):
            return Media.YES
        return Media.ARCHIVED if copy else Media.EXPIRED
    if copy:
        return Media.ARCHIVED
    if is_live(call):
        return Media.LATER
    if not talked(call):
        return Media.NO  # nobody spoke: nothing was recorded
    if archived is not None and archived.has_recording is not None:
        if not archived.has_recording:
            return Media.NO
        expiry = recording_expiry(call)
        return Media.EXPIRED if expiry is not None and expiry <= now else Media.YES
    # Truedy's own row says null: "not recorded", as documented. An archived row has no link.
    return Media.UNKNOWN if from_archive else Media.NO


def _transcript(call: Call, archived: _Archived | None, now: datetime) -> Media:
    if call.transcript is not None:  # an archived row (or a list that carries transcripts)
        return Media.YES if call.transcript else Media.NO
    if is_live(call):
        return Media.LATER
    if not talked(call):
        return Media.NO  # nobody spoke
    if archived is None:
        return Media.UNKNOWN  # Truedy's list leaves transcripts out; the archive lacks the call
    if archived.transcript_known:
        return Media.YES if archived.has_turns else Media.NO
    # The archive fetched the call and Truedy had none: still processing, or never coming.
    ended = archived.ended_at or call.ended_at
    if ended is not None and now - ended < reads.processing_window():
        return Media.LATER
    return Media.NO


def _archived(ids: list[str]) -> dict[str, _Archived]:
    if not ids:
        return {}

    def flag(condition: Q) -> ExpressionWrapper:
        return ExpressionWrapper(condition, output_field=BooleanField())

    rows = (
        ArchivedCall.objects.filter(pk__in=ids)
        .annotate(
            transcript_known=flag(Q(transcript__isnull=False)),
            has_turns=flag(Q(transcript__0__isnull=False)),
            has_copy=flag(~Q(recording="")),
        )
        .values_list(
            "id",
            "status",
            "started_at",
            "ended_at",
            "transcript_known",
            "has_turns",
            "has_copy",
            "has_recording",
        )
    )
    return {row[0]: _Archived(*row[1:]) for row in rows}
