"""Typed, immutable records built from Truedy API JSON.

This is the only module that knows Truedy's field names and their documented variants (see
https://docs.truedy.ai/guides/call-management, "The Call object" and "GET /calls"). Everything
past this boundary works with ``Call``, ``CallPage``, ``Turn``, ``Agent`` and the campaigns'
``Campaign``, ``CampaignPage`` and ``ContactPage``; a payload that is
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
# The Call Management guide's outcomes, and the contacts API's (`last_call_outcome`: contacted,
# voicemail, no_answer, escalated, interested, not_interested), as one spelling: a label Truedy
# writes with underscores or in capitals is read as the one here.
KNOWN_OUTCOMES = (
    "interested",
    "not-interested",
    "voicemail",
    "no-answer",
    "callback-requested",
    "contacted",
    "escalated",
)
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
    # Truedy gave a recording link that has since expired: the link is dropped (useless, and
    # still a secret: lifecycle.without_expired_link), but the call was recorded.
    recording_link_expired: bool = False

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
        values = [getattr(self, name) for name in _CALL_FIELDS]
        values[_CALL_FIELDS.index("metadata")] = dict(self.metadata)
        return (_rebuild_call, tuple(values))


def _rebuild_call(*values: Any) -> Call:
    # The fields in order; a call cached before a later field existed has fewer values, and
    # those fields take their defaults.
    fields = dict(zip(_CALL_FIELDS, values, strict=False))
    fields["metadata"] = MappingProxyType(fields["metadata"])
    return Call(**fields)


_CALL_FIELDS = tuple(Call.__dataclass_fields__)


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
    # Whether the agent records its calls (agents API: off unless turned on); None when Truedy
    # did not say, which is not the same as off.
    recording_enabled: bool | None = None

    def __setstate__(self, state: Any) -> None:
        # Agents cached before ``recording_enabled`` existed have fewer values: it is unknown.
        values = list(state) if isinstance(state, list | tuple) else []
        for index, name in enumerate(("id", "name", "status", "recording_enabled")):
            object.__setattr__(self, name, values[index] if index < len(values) else None)


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


def _opt_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise MalformedResponse(f"{key!r} is not true or false: {value!r:.40}")


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
    """Build an ``Agent``, keeping only id, name, status and whether it records (see the class
    docstring)."""
    agent = _require_dict(obj, "agent")
    agent_id = _req_str(agent, "id")
    return Agent(
        id=agent_id,
        name=_opt_str(agent, "name") or agent_id,  # nameless agent: show its id
        status=_opt_str(agent, "status") or "unknown",
        recording_enabled=_opt_bool(agent, "recording_enabled"),
    )


def parse_agent_page(body: Any) -> tuple[list[Agent], int]:
    """Agents and the total count from a whole ``GET /agents`` response body."""
    envelope, data = _list_data(body)
    total, _, _ = _page_numbers(envelope, limit=None, offset=None)
    return [parse_agent(item) for item in data], total


# --- campaigns (batch calls) -------------------------------------------------------------------
# https://docs.truedy.ai/api-reference/batch-calls/list-batch-calls, .../get-batch-call and
# .../list-batch-call-contacts: ``GET /batch-calls``, ``GET /batch-calls/{id}``,
# ``GET /batch-calls/{id}/contacts``.

CAMPAIGN_STATUSES = ("draft", "scheduled", "active", "paused", "completed", "failed", "cancelled")
# The API reference's list example shows "running", which its status filter does not list.
CAMPAIGN_STATUS_ALIASES = {"running": "active"}
COUNTERS = ("called", "completed", "failed", "pending")


@dataclass(frozen=True, slots=True)
class Campaign:
    """A batch call and its counters. ``called`` contacts have a call; of those, ``completed``
    and ``failed`` ones have a finished call (the rest are still under way)."""

    id: str
    name: str
    status: str
    agent_id: str | None
    total_contacts: int
    called: int
    completed: int
    failed: int
    pending: int
    created_at: datetime | None
    updated_at: datetime | None
    schedule_type: str | None = None
    scheduled_at: datetime | None = None
    timezone: str | None = None
    from_number: str | None = None
    concurrency: int | None = None
    retry_attempts: int | None = None

    @property
    def in_flight(self) -> int:
        """Contacts called whose call has neither completed nor failed yet."""
        return max(0, self.called - self.completed - self.failed)


@dataclass(frozen=True, slots=True)
class CampaignPage:
    campaigns: tuple[Campaign, ...]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.campaigns) < self.total


@dataclass(frozen=True, slots=True)
class CampaignContact:
    """One contact of a campaign: the join from the campaign to its call. Its phone number and
    name are dropped here: the dashboard shows the call, which has them."""

    contact_id: str | None
    call_status: str  # as Truedy spells it ("pending", "completed", ...): shown, never judged
    call_id: str | None  # None until the contact is called
    called_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactPage:
    contacts: tuple[CampaignContact, ...]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.contacts) < self.total


def _checked_id(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """An id that goes into our links and Truedy's URLs: only of the known shape."""
    value = _opt_str(obj, key)
    if value is not None and CALL_ID_PATTERN.fullmatch(value) is None:
        raise MalformedResponse(f"{what} is not of the documented shape")
    return value


def _campaign_status(raw: str | None) -> str:
    if raw is None:
        return "unknown"
    key = raw.strip().lower()
    return CAMPAIGN_STATUS_ALIASES.get(key, key if key in CAMPAIGN_STATUSES else raw)


def parse_campaign(obj: Any) -> Campaign:
    """Build a ``Campaign`` from one batch-call object."""
    campaign = _require_dict(obj, "batch call")
    campaign_id = _checked_id(campaign, "id", "batch call id")
    if not campaign_id:
        raise MalformedResponse("batch call has no id")
    counts = {name: _opt_int(campaign, name, minimum=0) or 0 for name in COUNTERS}
    total = _opt_int(campaign, "total_contacts", minimum=0)
    return Campaign(
        id=campaign_id,
        name=_opt_str(campaign, "name") or campaign_id,  # a nameless campaign: its id
        status=_campaign_status(_opt_str(campaign, "status")),
        agent_id=_opt_str(campaign, "agent_id"),
        total_contacts=total if total is not None else counts["called"] + counts["pending"],
        called=counts["called"],
        completed=counts["completed"],
        failed=counts["failed"],
        pending=counts["pending"],
        created_at=parse_timestamp(campaign.get("created_at")),
        updated_at=parse_timestamp(campaign.get("updated_at")),
        schedule_type=_opt_str(campaign, "schedule_type"),
        scheduled_at=parse_timestamp(campaign.get("scheduled_at")),
        timezone=_opt_str(campaign, "timezone"),
        from_number=_opt_str(campaign, "from_number"),
        concurrency=_opt_int(campaign, "concurrency", minimum=0),
        retry_attempts=_opt_int(campaign, "retry_attempts", minimum=0),
    )


def parse_campaign_page(
    body: Any, *, limit: int | None = None, offset: int | None = None
) -> CampaignPage:
    """A whole ``GET /batch-calls`` response body: ``meta.total`` or ``pagination.total``."""
    envelope, data = _list_data(body)
    total, page_limit, page_offset = _page_numbers(envelope, limit=limit, offset=offset)
    return CampaignPage(
        campaigns=tuple(parse_campaign(item) for item in data),
        total=total,
        limit=page_limit,
        offset=page_offset,
    )


def parse_contact(obj: Any) -> CampaignContact:
    contact = _require_dict(obj, "contact")
    return CampaignContact(
        contact_id=_opt_str(contact, "contact_id", "id"),
        call_status=(_opt_str(contact, "call_status", "status") or "unknown").strip().lower(),
        call_id=_checked_id(contact, "call_id", "contact's call id"),
        called_at=parse_timestamp(contact.get("called_at")),
    )


def parse_contact_page(
    body: Any, *, limit: int | None = None, offset: int | None = None
) -> ContactPage:
    """A whole ``GET /batch-calls/{id}/contacts`` response body."""
    envelope, data = _list_data(body)
    total, page_limit, page_offset = _page_numbers(envelope, limit=limit, offset=offset)
    return ContactPage(
        contacts=tuple(parse_contact(item) for item in data),
        total=total,
        limit=page_limit,
        offset=page_offset,
    )
