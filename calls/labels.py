"""Truedy's values as people read them: statuses, directions, outcomes, speakers and money.

One place for each wording, used by the templates (``call_format`` registers these as filters),
the filter form, the archive's search and the CSV export.
"""

import functools

from calls.truedy.records import SPEAKER_LABELS

# Labels whose plain capitalisation reads wrong.
LABELS = {"webrtc": "WebRTC", "in-progress": "In progress"}


@functools.lru_cache(maxsize=512)  # a handful of statuses and outcomes, asked for on every row
def label(value: str | None) -> str:
    """A status, direction or outcome as words: "callback-requested" -> "Callback requested"."""
    if not value:
        return ""
    if value in LABELS:
        return LABELS[value]
    words = value.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def speaker(value: str) -> str:
    return SPEAKER_LABELS.get(value, value.capitalize() if value else "Unknown")


def dollars(cents: int | None, *, plain: bool = False) -> str:
    """Cents as dollars, exactly (no float rounding): 123456 -> "$1,234.56"; ``plain`` gives
    "1234.56", a number a spreadsheet reads."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    if plain:
        return f"{sign}{whole}.{rest:02d}"
    return f"{sign}${whole:,}.{rest:02d}"
