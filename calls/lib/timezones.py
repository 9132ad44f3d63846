"""The viewer's time zone: the names offered in a <select>, and safe lookup of a name.

Pure Python (no Django). Names come from the system's IANA database via ``zoneinfo``.
"""

from __future__ import annotations

import functools
import zoneinfo

# The browser-detected zone name (Intl.DateTimeFormat().resolvedOptions().timeZone), set by JS.
ZONE_COOKIE = "tz"

# Links kept for backwards compatibility: they duplicate canonical zones in a <select>.
_LEGACY_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
_NOT_ZONES = frozenset({"posixrules", "localtime"})


@functools.cache
def _available() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _is_offered(name: str) -> bool:
    if name == "UTC":
        return True
    return "/" in name and not name.startswith(_LEGACY_PREFIXES) and name not in _NOT_ZONES


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Sorted canonical IANA names ("Europe/Berlin", ..., "UTC") for a <select>."""
    return tuple(sorted(name for name in _available() if _is_offered(name)))


def zone_or_none(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone called ``name`` (legacy links such as "US/Eastern" included), else None.

    Never raises: the name is checked against the known keys before ``ZoneInfo`` sees it, so
    user input never becomes a file path.
    """
    if not isinstance(name, str) or name not in _available():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # a listed but unreadable file
        return None
