"""Typed, immutable records built from Truedy API JSON.

This is the only module that knows Truedy's field names and their documented variants (see
https://docs.truedy.ai/guides/call-management, "The Call object" and "GET /calls"). Everything
past this boundary works with ``Call``, ``CallPage``, ``Turn`` and ``Agent``; a payload that is
not the documented shape raises ``MalformedResponse`` and never a
``KeyError``/``TypeError``/``ValueError``. Unknown fields are ignored. Pure Python: no Django,
no httpx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, TypeGuard

from calls.truedy.errors import MalformedResponse

# Opaque Truedy ids are UUIDs or `call_…`: this covers both and can hold no `/`, `.`, `%`, `?`,
# `#`, quote or line break, so a checked id can never change the shape of a URL or a header.
# Use with fullmatch().
CALL_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATUSES = ("queued", "ringing", "in-progress", "ended", "failed", "cancelled")
DIRECTIONS = ("outbound", "inbound", "webrtc")
KNOWN_OUTCOMES = ("interested", "not-interested", "voicemail", "no-answer", "callback-requested")
SPEAKERS = ("agent", "contact")
SPEAKER_LABELS = {"agent": "Agent", "contact": "Contact"}

# Status spellings seen in other Truedy doc pages, mapped to the Call Management guide's values.
STATUS_ALIASES = {"in_progress": "in-progress", "completed": "ended", "created": "queued"}

# The documented default page size; used only when neither the response nor the caller says.
DEFAULT_LIMIT = 20

_EMPTY_METADATA: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Turn:
    """One transcript turn. ``speaker`` is "agent" or "contact" (unknown speakers kept raw)."""

    speaker: str
    text: str
    timestamp: float  # seconds from the start of the call


@dataclass(frozen=True, slots=True)
class Call:
    id: str
    agent_id: str | None
    status: str
    direction: str | None
    created_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    updated_at: datetime | None
    to_number: str | None
    from_number: str | None
    duration_seconds: int | None
    cost_cents: int | None
    outcome: str | None
    summary: str | None
    transcript: tuple[Turn, ...] | None  # None: not ready yet, not recorded, or not in a list
    recording_url: str | None
    # Read-only view; excluded from hash() because a mapping proxy is not hashable.
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY_METADATA, hash=False)

    @property
    def contact_number(self) -> str | None:
        """The other party's number: callee when we dialled out, caller when they dialled in."""
        if self.direction == "webrtc":
            return None
        if self.direction == "inbound":
            return self.from_number or self.to_number
        return self.to_number or self.from_number

    def __reduce__(self) -> tuple[Any, ...]:
        # Calls are cached (pickled) by calls.upstream.cache, and a mappingproxy cannot be
        # pickled: rebuild from a plain dict instead.
        values = [getattr(self, name) for name in self.__slots__]
        values[-1] = dict(self.metadata)
        return (_rebuild_call, tuple(values))


def _rebuild_call(*values: Any) -> Call:
    *head, metadata = values
    # ``head`` is every field before ``metadata`` (``__reduce__``); mypy cannot count a *list.
    return Call(*head, metadata=MappingProxyType(metadata))  # type: ignore[misc]


def transcript_as_text(call: Call) -> str:
    """Truedy's plain-text form of a transcript: one ``Agent: …`` / ``Contact: …`` line a turn."""
    lines = [
        f"{SPEAKER_LABELS.get(turn.speaker, turn.speaker)}: {turn.text}"
        for turn in call.transcript or ()
    ]
    return "\n".join(lines) + "\n" if lines else ""


@dataclass(frozen=True, slots=True)
class CallPage:
    calls: tuple[Call, ...]
    total: int  # every call matching the filters, not just this page
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.calls) < self.total


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent, for the filter. ``system_prompt`` and phone numbers are deliberately dropped:
    they must never reach a browser, so they never leave this module."""

    id: str
    name: str
    status: str


# --- timestamps --------------------------------------------------------------------------------

_TIMESTAMP_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?"
    r"(?:(?P<zulu>[Zz])|(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2}))?"
)


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse Truedy's ISO 8601 timestamps into aware UTC datetimes.

    Accepts ``Z`` or ``±HH:MM`` offsets and 0-9 fractional digits (more than 6 are truncated to
    microseconds). Truedy documents every timestamp as UTC, so one without an offset is read as
    UTC. ``None`` and ``""`` mean "not reached yet".
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedResponse(f"timestamp is not a string: {type(value).__name__}")
    match = _TIMESTAMP_RE.fullmatch(value.strip())
    if match is None:
        raise MalformedResponse(f"not an ISO 8601 timestamp: {value[:40]!r}")
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        micros = int((match["frac"] or "").ljust(6, "0")[:6])
        tz = UTC
        if match["sign"]:
            offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"]))
            if int(match["om"]) >= 60:
                raise ValueError("offset minutes out of range")
            tz = timezone(-offset if match["sign"] == "-" else offset)
        parsed = datetime(
            year,
            month,
            day,
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            micros,
            tzinfo=tz,
        )
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedResponse(f"invalid timestamp {value[:40]!r}: {exc}") from exc


# --- field helpers -----------------------------------------------------------------------------


def _require_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponse(f"{what} is not an object: {type(value).__name__}")
    return value


def _opt_str(obj: Mapping[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` whose value is not null; it must be a string."""
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise MalformedResponse(f"{key!r} is not a string: {type(value).__name__}")
        return value
    return None


def _req_str(obj: Mapping[str, Any], key: str) -> str:
    value = _opt_str(obj, key)
    if not value:
        raise MalformedResponse(f"{key!r} is missing or empty")
    return value


def _is_number(value: Any) -> TypeGuard[int | float]:
    # abs() < 1e15 also rejects NaN and infinities, and keeps huge ints away from float().
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) < 1e15  # beyond any real duration, cost or timestamp: garbage
    )


def _opt_int(obj: Mapping[str, Any], *keys: str, minimum: int | None = None) -> int | None:
    """The first non-null of ``keys`` as an int; floats are rounded (``12.6`` -> ``13``)."""
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if not _is_number(value):
            raise MalformedResponse(f"{key!r} is not a number: {value!r:.40}")
        result = round(value)
        if minimum is not None and result < minimum:
            raise MalformedResponse(f"{key!r} is below {minimum}: {value!r}")
        return result
    return None


def _normalise_status(raw: str) -> str:
    key = raw.strip().lower()
    if key in STATUSES:
        return key
    if key in STATUS_ALIASES:
        return STATUS_ALIASES[key]
    return raw  # unknown: shown as its raw string, never a crash


def _normalise_label(raw: str | None, known: tuple[str, ...]) -> str | None:
    """Map harmless spelling differences (case, ``_`` for ``-``) onto a known value."""
    if raw is None:
        return None
    key = raw.strip().lower().replace("_", "-")
    return key if key in known else raw


# What one field may hold once parsed: a post-call summary is a paragraph, a turn a few
# sentences. Longer text (a 50 MB summary was once accepted) is cut, saying so, before it is
# cached, archived or shown.
MAX_SUMMARY_CHARS = 20_000
MAX_TURN_CHARS = 10_000
CUT_MARK = " … [cut: {} more characters]"


def _capped(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + CUT_MARK.format(f"{len(text) - limit:,}")


def _parse_turn(obj: Any, index: int) -> Turn:
    turn = _require_dict(obj, f"transcript[{index}]")
    speaker = _req_str(turn, "speaker")
    text = _opt_str(turn, "text")
    if text is None:
        raise MalformedResponse(f"transcript[{index}] has no text")
    timestamp = turn.get("timestamp")
    if not _is_number(timestamp):
        raise MalformedResponse(f"transcript[{index}] timestamp is not a number")
    return Turn(
        speaker=_normalise_label(speaker, SPEAKERS) or speaker,
        text=_capped(text, MAX_TURN_CHARS) or "",
        timestamp=float(timestamp),
    )


def _parse_transcript(value: Any) -> tuple[Turn, ...] | None:
    if value is None:  # absent (list items omit it) or null (not ready / transcription off)
        return None
    if not isinstance(value, list):
        raise MalformedResponse(f"transcript is not a list: {type(value).__name__}")
    return tuple(_parse_turn(item, index) for index, item in enumerate(value))


# --- public parsers ----------------------------------------------------------------------------


def parse_call(obj: Any) -> Call:
    """Build a ``Call`` from one Truedy call object (the ``data`` of ``GET /calls/{id}``)."""
    call = _require_dict(obj, "call")
    call_id = _req_str(call, "id")
    if CALL_ID_PATTERN.fullmatch(call_id) is None:
        # It goes into our links, file names and Truedy's URLs: only ids of the known shape.
        raise MalformedResponse("call id is not of the documented shape")
    status = _opt_str(call, "status")
    if status is None:
        raise MalformedResponse("call has no status")
    direction = _normalise_label(_opt_str(call, "direction"), DIRECTIONS)

    to_number = _opt_str(call, "to", "to_number")
    from_number = _opt_str(call, "from", "from_number")
    # The API reference's single `phone_number` is the contact's number: the caller of an
    # inbound call, the callee otherwise.
    phone_number = _opt_str(call, "phone_number")
    if phone_number is not None:
        if direction == "inbound":
            from_number = from_number or phone_number
        else:
            to_number = to_number or phone_number

    # ASSUMPTION: the API reference's `cost_credits` is in Truedy credits, and 1 credit = 1 US
    # cent (Truedy bills in USD cents). Not confirmed by Truedy; revisit if billing disagrees.
    # Either may be fractional, so round to whole cents.
    cost_cents = _opt_int(call, "cost_cents", "cost_credits")

    metadata = call.get("metadata")
    if metadata is None:
        frozen_metadata = _EMPTY_METADATA
    else:
        frozen_metadata = MappingProxyType(dict(_require_dict(metadata, "metadata")))

    return Call(
        id=call_id,
        agent_id=_opt_str(call, "agent_id"),
        status=_normalise_status(status),
        direction=direction,
        created_at=parse_timestamp(call.get("created_at")),
        started_at=parse_timestamp(call.get("started_at")),
        ended_at=parse_timestamp(call.get("ended_at")),
        updated_at=parse_timestamp(call.get("updated_at")),
        to_number=to_number,
        from_number=from_number,
        duration_seconds=_opt_int(call, "duration_seconds", minimum=0),
        cost_cents=cost_cents,
        outcome=_normalise_label(_opt_str(call, "outcome"), KNOWN_OUTCOMES),
        summary=_capped(_opt_str(call, "summary"), MAX_SUMMARY_CHARS),
        transcript=_parse_transcript(call.get("transcript")),
        recording_url=_opt_str(call, "recording_url"),
        metadata=frozen_metadata,
    )


def _page_numbers(
    body: Mapping[str, Any], *, limit: int | None, offset: int | None
) -> tuple[int, int, int]:
    """``total``/``limit``/``offset`` from ``meta`` (primary) or ``pagination`` (API reference
    variant); limit and offset fall back to what was requested."""
    sources = []
    for key in ("meta", "pagination"):
        section = body.get(key)
        if section is not None:
            sources.append(_require_dict(section, key))

    def pick(name: str) -> int | None:
        for section in sources:
            value = section.get(name)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise MalformedResponse(f"pagination {name!r} is not a non-negative integer")
            return value
        return None

    total = pick("total")
    if total is None:
        raise MalformedResponse("list response has neither meta.total nor pagination.total")
    page_limit = pick("limit")
    page_offset = pick("offset")
    if page_limit is None:
        page_limit = limit if limit is not None else DEFAULT_LIMIT
    if page_offset is None:
        page_offset = offset if offset is not None else 0
    return total, page_limit, page_offset


def _list_data(body: Any) -> tuple[Mapping[str, Any], list[Any]]:
    envelope = _require_dict(body, "response")
    data = envelope.get("data")
    if not isinstance(data, list):
        raise MalformedResponse(f"list response data is not a list: {type(data).__name__}")
    return envelope, data


def parse_call_page(body: Any, *, limit: int | None = None, offset: int | None = None) -> CallPage:
    """Build a ``CallPage`` from a whole ``GET /calls`` response body (envelope included).

    ``limit``/``offset`` are the request's, used only when the response does not echo them.
    """
    envelope, data = _list_data(body)
    total, page_limit, page_offset = _page_numbers(envelope, limit=limit, offset=offset)
    return CallPage(
        calls=tuple(parse_call(item) for item in data),
        total=total,
        limit=page_limit,
        offset=page_offset,
    )


def parse_agent(obj: Any) -> Agent:
    """Build an ``Agent``, keeping only id, name and status (see the class docstring)."""
    agent = _require_dict(obj, "agent")
    agent_id = _req_str(agent, "id")
    return Agent(
        id=agent_id,
        name=_opt_str(agent, "name") or agent_id,  # nameless agent: show its id
        status=_opt_str(agent, "status") or "unknown",
    )


def parse_agent_page(body: Any) -> tuple[list[Agent], int]:
    """Agents and the total count from a whole ``GET /agents`` response body."""
    envelope, data = _list_data(body)
    total, _, _ = _page_numbers(envelope, limit=None, offset=None)
    return [parse_agent(item) for item in data], total
