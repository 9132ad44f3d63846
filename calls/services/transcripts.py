"""When each transcript turn is spoken, where the line goes quiet, and who talks how long.

Truedy gives each turn's start only. A turn is taken to last as long as its words take to say
at ``CHARS_PER_SECOND`` (measured on the simulator's recorded calls: 16.5 characters a second
median; 15 keeps silences on the conservative side), never past the next turn's start nor the
end of the call. The rest is silence; a silence of ``threshold`` seconds or more is dead air,
and the transcript marks the dead air that stands out (``marked_silences``).
"""

import math
import re

from django.conf import settings

from calls.truedy.records import Call

# The rules themselves are plain Python on turns, shared with the archive (each call's longest
# silence is stored when it is archived); their names stay importable from here.
from calls.truedy.timing import (  # noqa: F401
    CHARS_PER_SECOND,
    FEWEST_GAPS_FOR_TYPICAL,
    MOST_MARKED_SILENCES,
    NOTABLE_SILENCE_FACTOR,
    SHORTEST_TURN_SECONDS,
    TimedTurn,
    TranscriptTiming,
    marked_silences,
    time_transcript,
)


def timing_of(call: Call) -> TranscriptTiming | None:
    """The call's transcript timed, dead air marked at ``DEAD_AIR_SECONDS`` (None without one)."""
    if not call.transcript:
        return None
    threshold = settings.DEAD_AIR_SECONDS
    return time_transcript(call.transcript, call.duration_seconds, threshold=threshold)


def turn_at(timing: TranscriptTiming | None, moment: float | None) -> int | None:
    """The number of the turn being spoken at ``moment`` (the last one started by then)."""
    if timing is None or moment is None:
        return None
    number = None
    for timed in timing.turns:
        if timed.start > moment:
            break
        number = timed.number
    return number or 1


# --- moments in links ---------------------------------------------------------------------------

# ASCII digits only ("٣" is not a time), as in player.js, which reads "jump to time" by these rules.
_CLOCK = re.compile(r"(?:(\d{1,2}):)?(\d{1,3}):(\d{2}(?:\.\d{1,3})?)", re.ASCII)
_UNITS = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,3})m)?(?:(\d{1,5}(?:\.\d{1,3})?)s)?", re.ASCII)
_SECONDS = re.compile(r"\d{1,5}(?:\.\d{1,3})?", re.ASCII)
LONGEST = 24 * 3600.0

MOMENT_HELP = "a moment is seconds from the start of the call, like t=83, t=1:23 or t=1m23s"


def parse_offset(text: str) -> float:
    """A moment in a call as a link writes it (``?t=83``, ``?t=1:23``, ``?t=1m23s``, ``?t=83.5``):
    seconds from the start of the call; ValueError with a sentence for anything else."""
    value = text.strip().lower()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
    elif match := _CLOCK.fullmatch(value):
        hours, minutes, secs = match.groups()
        if float(secs) >= 60 or (hours and int(minutes) >= 60):
            raise ValueError(f"“{text[:20]}” is not a time: {MOMENT_HELP}.")
        seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)
    elif value and (match := _UNITS.fullmatch(value)) and any(match.groups()):
        hours, minutes, secs = match.groups()
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
    else:
        raise ValueError(f"“{text[:20]}” is not a time: {MOMENT_HELP}.")
    if not math.isfinite(seconds) or seconds > LONGEST:
        raise ValueError(f"“{text[:20]}” is longer than any call: {MOMENT_HELP}.")
    return seconds
