"""The viewer's time zone: the names a picker offers, and safe lookup of a name.

Pure Python (no Django). Names come from the system's IANA database via ``zoneinfo``.

Which names a picker offers: the zones of tzdata's ``zone.tab`` (every country's zones, in their
current spelling: "Asia/Kolkata", "Europe/Oslo") plus "UTC". The rest of ``available_timezones()``
are links kept for backward compatibility ("Asia/Calcutta", "US/Eastern", "Etc/GMT+5"), which
would list one zone twice. ``zone1970.tab`` is not used: it merges countries whose clocks have
agreed since 1970 (Norway into "Europe/Berlin"), and people look for their own city. A link is
still accepted wherever a name is (a shared link, a browser that reports an old name).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import zoneinfo
from pathlib import Path

# The browser-detected zone name (Intl.DateTimeFormat().resolvedOptions().timeZone), set by JS.
ZONE_COOKIE = "tz"
# The zone the viewer picked in the list's "Times in" picker (static/js/zone-picker.js): it
# wins over the browser's zone until they pick the browser's zone again.
CHOSEN_ZONE_COOKIE = "tz_choice"

ZONE_TAB = "zone.tab"
# Without a zone.tab: drop the families of links by name.
_LEGACY_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
_NOT_ZONES = frozenset({"posixrules", "localtime"})


@functools.cache
def _available() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone_tab_text() -> str | None:
    """tzdata's zone.tab where ``zoneinfo`` finds its zones: a TZPATH folder, else the tzdata
    package."""
    for folder in zoneinfo.TZPATH:
        path = Path(folder, ZONE_TAB)
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return importlib.resources.files("tzdata").joinpath("zoneinfo", ZONE_TAB).read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        return None


def zone_tab_names(text: str) -> frozenset[str]:
    """The zone names of a zone.tab (country code, coordinates, name, comments; "#" comments)."""
    names = set()
    for line in text.splitlines():
        columns = line.split("\t")
        if not line.startswith("#") and len(columns) >= 3:
            names.add(columns[2].strip())
    return frozenset(names)


def _is_offered_by_name(name: str) -> bool:
    if name == "UTC":
        return True
    return "/" in name and not name.startswith(_LEGACY_PREFIXES) and name not in _NOT_ZONES


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Sorted canonical IANA names ("Africa/Abidjan", ..., "UTC") for a picker."""
    available = _available()
    text = _zone_tab_text()
    if text is None:
        return tuple(sorted(name for name in available if _is_offered_by_name(name)))
    canonical = (zone_tab_names(text) | {"UTC"}) & available
    return tuple(sorted(canonical))


@functools.cache
def zone_names_json() -> bytes:
    """The picker's names as a JSON document: ``{"zones": [...]}``."""
    return json.dumps({"zones": zone_names()}, separators=(",", ":")).encode()


@functools.cache
def zone_names_version() -> str:
    """A short digest of ``zone_names_json()``: it changes exactly when the list does (a tzdata
    update), so a URL carrying it can be cached for ever."""
    return hashlib.sha256(zone_names_json()).hexdigest()[:12]


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
