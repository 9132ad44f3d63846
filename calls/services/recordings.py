"""A call's recording: the archive's copy when it holds one, else Truedy's signed link, else
(the link expired or refused, the call gone from Truedy, Truedy out of reach) the archive's copy
once more, in case it was made meanwhile.

A copy is made only of an ended call's recording, which never changes after: it is the same
audio Truedy's link would play, so Truedy is not asked (not even for a fresh link). What the
call page says about the recording follows the same rule.
"""

from datetime import datetime

from calls.archive.recordings import ArchivedRecordingStream, open_archived_recording
from calls.archive.store import get_archived
from calls.models import ArchivedCall
from calls.truedy.client import RecordingStream
from calls.truedy.errors import TruedyError
from calls.truedy.lifecycle import RecordingState, is_live, recording_state
from calls.truedy.records import Call
from calls.upstream import reads

ARCHIVED = "archived"


def open_recording(
    call_id: str, *, range_header: str | None = None, if_range: str | None = None
) -> RecordingStream | ArchivedRecordingStream:
    """The archive's copy without asking Truedy; else Truedy's link, else the archive's copy."""
    copy = open_archived_recording(call_id, range_header=range_header, if_range=if_range)
    if copy is not None:
        return copy
    try:
        return reads.open_recording_link(call_id, range_header=range_header, if_range=if_range)
    except TruedyError:
        copy = open_archived_recording(call_id, range_header=range_header, if_range=if_range)
        if copy is None:
            raise
        return copy


def recording_state_for_page(
    call: Call, now: datetime, archived: ArchivedCall | None, *, settled: bool = False
) -> str:
    """What the recording section shows: a ``RecordingState`` value, or ``ARCHIVED`` when
    Truedy's link is gone but the archive holds a copy (the recording view then streams that).

    "Expired" is said only of a recording that existed: not of a call whose agent has recording
    off (``OFF``), nor of one the archive knows never had a link (``NONE``). A ``settled``
    call asks Truedy nothing: its agent's setting comes from the cache, if at all."""
    if call.recording_url:
        return RecordingState.AVAILABLE.value
    if archived is None and not is_live(call):
        archived = get_archived(call.id)
    if archived is not None and archived.recording:
        return ARCHIVED
    state = recording_state(
        call,
        now,
        recording_enabled=agent_records(call.agent_id, cached_only=settled),
        had_recording=archived.has_recording if archived is not None else None,
    )
    return state.value


def agent_records(agent_id: str | None, *, cached_only: bool = False) -> bool | None:
    """Whether the call's agent records its calls (None: not known, e.g. a deleted agent, or
    Truedy out of reach with no agents cached)."""
    if not agent_id:
        return None
    try:
        agents = reads.list_agents(cached_only=cached_only)
    except TruedyError:
        agents = reads.list_agents(cached_only=True)
    return next((agent.recording_enabled for agent in agents if agent.id == agent_id), None)
