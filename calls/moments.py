"""A moment in a call, as written in a link: ``?t=83``, ``?t=1:23``, ``?t=1m23s`` or ``?t=83.5``."""

import math
import re

_CLOCK = re.compile(r"(?:(\d{1,2}):)?(\d{1,3}):(\d{2}(?:\.\d{1,3})?)")
_UNITS = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,3})m)?(?:(\d{1,5}(?:\.\d{1,3})?)s)?")
_SECONDS = re.compile(r"\d{1,5}(?:\.\d{1,3})?")
LONGEST = 24 * 3600.0

MOMENT_HELP = "a moment is seconds from the start of the call, like t=83, t=1:23 or t=1m23s"


def parse_moment(text: str) -> float:
    """Seconds from the start of the call; ValueError with a sentence for anything else."""
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
