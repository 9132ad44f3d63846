"""How a Truedy call moves through its life, as the API documents it: which statuses are live,
whether anybody spoke, when its signed recording link dies, what a page can say about its
transcript and recording, and when it is *settled*. Pure rules on ``Call`` values: no Django, no
cache, no database.

Settled (``is_settled``): nothing about the call can change upstream any more, so a copy of it
is as good as Truedy's answer. All of:

- its status is terminal (``ended``, ``failed`` or ``cancelled``: a call never leaves these);
- a grace period has passed since it ended (``grace``; SETTLED_GRACE_SECONDS): late billing
  and the last ``updated_at`` land in it;
- it has been analysed: an outcome or summary is present, or nobody spoke (there is nothing
  to analyse), or Truedy was last seen (``seen_at``) after the analysis window
  (``processing_window``, TRANSCRIPT_PROCESSING_WINDOW) had passed without one;
- its transcript is present, or known absent: nobody spoke, or Truedy said "no transcript"
  after that window had passed (a list row never carries one, so ``seen_at`` must be when the
  call itself was last read).

Reference: https://docs.truedy.ai/guides/call-management ("The Call object" for the statuses
and ``recording_url``; "Retention and export": recordings for 24 hours, records for 12 months).
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timedelta
from typing import Protocol

from calls.truedy.records import Call

# Truedy's signed recording links stop working 24 h after the call ends.
RECORDING_LIFETIME = timedelta(hours=24)
# A link is treated as dead this long before it expires, so none is handed out stale.
RECORDING_EXPIRY_MARGIN = timedelta(minutes=2)
# Truedy keeps call records for 12 months.
TRUEDY_KEEPS_CALLS = timedelta(days=365)
LIVE_STATUSES = frozenset({"queued", "ringing", "in-progress"})
TERMINAL_STATUSES = frozenset({"ended", "failed", "cancelled"})


class CallLike(Protocol):
    """A call as Truedy sends it or as the archive keeps it: enough to judge who spoke."""

    @property
    def status(self) -> str: ...

    @property
    def started_at(self) -> datetime | None: ...


class TranscriptState(enum.Enum):
    READY = "ready"  # turns to show (possibly none: nobody spoke)
    LIVE = "live"  # the call has not ended yet
    PROCESSING = "processing"  # ended moments ago; Truedy is still transcribing
    NONE = "none"  # there is not and will not be a transcript


class RecordingState(enum.Enum):
    AVAILABLE = "available"
    NOT_YET = "not-yet"  # the call has not ended
    EXPIRED = "expired"  # Truedy's 24 h link lifetime has passed
    NONE = "none"  # the call was not recorded
    OFF = "off"  # not recorded: its agent's recording is off


def is_live(call: CallLike) -> bool:
    return call.status in LIVE_STATUSES


def talked(call: CallLike) -> bool:
    """Somebody spoke: an ended call, or a failed one that had been answered (dropped)."""
    return call.status == "ended" or (call.status == "failed" and call.started_at is not None)


def is_settled(
    call: Call,
    now: datetime,
    *,
    seen_at: datetime | None,
    processing_window: timedelta,
    grace: timedelta,
) -> bool:
    """Whether ``call`` can no longer change upstream (the module's docstring has the rule).

    ``seen_at``: when Truedy last described the call in full (None: not known)."""
    if call.status not in TERMINAL_STATUSES:
        return False
    ended = call.ended_at or call.updated_at or call.created_at
    if ended is None or now - ended < grace:
        return False
    if not talked(call):
        return True  # nobody spoke: nothing to transcribe or analyse
    window_seen = seen_at is not None and seen_at - ended >= processing_window
    analysed = bool(call.outcome or call.summary) or window_seen
    transcribed = call.transcript is not None or window_seen
    return analysed and transcribed


def recording_expiry(call: Call) -> datetime | None:
    """When the call's signed recording link stops working (None until the call has ended)."""
    return call.ended_at + RECORDING_LIFETIME if call.ended_at else None


def link_expired(call: Call, now: datetime) -> bool:
    """Truedy's link for this call is dead, or will be before a copy of it could be used."""
    expiry = recording_expiry(call)
    return expiry is not None and expiry - RECORDING_EXPIRY_MARGIN <= now


def without_expired_link(call: Call, now: datetime) -> Call:
    """A dead signed link is useless and still a secret: it is never kept or shown. That there
    was one is kept (``recording_link_expired``): the call was recorded."""
    if call.recording_url and link_expired(call, now):
        return dataclasses.replace(call, recording_url=None, recording_link_expired=True)
    return call


def transcript_state(call: Call, now: datetime, *, processing_window: timedelta) -> TranscriptState:
    """``processing_window``: how long after a call ends Truedy may still be transcribing."""
    if call.transcript is not None:
        return TranscriptState.READY
    if is_live(call):
        return TranscriptState.LIVE
    if talked(call) and call.ended_at is not None and now - call.ended_at < processing_window:
        return TranscriptState.PROCESSING
    return TranscriptState.NONE


def recording_state(
    call: Call,
    now: datetime,
    *,
    recording_enabled: bool | None = None,
    had_recording: bool | None = None,
) -> RecordingState:
    """What can be said of the call's recording.

    "Expired" only of a recording that existed: Truedy gave the call a link, now dead
    (``recording_link_expired``), or the archive says it had one (``had_recording``). A call
    without one is "off" when its agent does not record (``recording_enabled`` False: the
    agents API's default), else simply not recorded; None means not known.
    """
    if call.recording_url:
        return RecordingState.AVAILABLE
    if is_live(call):
        return RecordingState.NOT_YET
    if call.recording_link_expired or had_recording:
        return RecordingState.EXPIRED if link_expired(call, now) else RecordingState.NONE
    if recording_enabled is False:
        return RecordingState.OFF
    return RecordingState.NONE


RECORDING_MESSAGES = {
    RecordingState.NOT_YET: "The call has not ended yet, so there is no recording.",
    RecordingState.EXPIRED: "Truedy keeps recordings for 24 hours after a call ends; "
    "this one has expired.",
    RecordingState.NONE: "This call was not recorded.",
    RecordingState.OFF: "This call was not recorded: recording was off for its agent.",
}
