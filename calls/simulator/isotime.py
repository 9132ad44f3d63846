"""Instants as integer microseconds since the Unix epoch (UTC), and their ISO 8601 forms.

Integers keep the data set compact, sortable and exact: a call's timestamps never drift by a
rounding error between the list, the filters and the detail view.
"""

import re
import time
from datetime import UTC, datetime, timedelta, timezone

US = 1_000_000
DAY_US = 86_400 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?"
)


def wall_us() -> int:
    return time.time_ns() // 1000


def to_us(moment: datetime) -> int:
    """A datetime as epoch microseconds; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def format_us(us: int, digits: int) -> str:
    """`2026-11-23T10:15:02Z`, `...02.123Z` or `...02.123456Z` (digits 0, 3 or 6, truncated)."""
    moment = to_datetime(us)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    return text + "Z"


def parse_iso(text: str) -> int | None:
    """Epoch microseconds of an ISO 8601 date or date-time, or None when it is not one.

    Accepts `Z` or a `±HH:MM` offset, 0-6 fractional digits; no offset means UTC.
    """
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    try:
        zone = UTC
        if sign is not None:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = timezone(-offset if sign == "-" else offset)
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return to_us(moment)
