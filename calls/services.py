"""Reading Truedy through the Django cache. Every cache key, version and TTL lives here."""

import dataclasses
import enum
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from calls import backend
from calls.client import RecordingStream
from calls.errors import RecordingUnavailable
from calls.records import Agent, Call, CallPage

CACHE_PREFIX = "truedy:v1"

# Truedy's signed recording links stop working 24 h after the call ends (truedy-api.md).
RECORDING_LIFETIME = timedelta(hours=24)
# A link is dropped from the cache this long before it expires, so none is handed out stale.
RECORDING_EXPIRY_MARGIN = timedelta(minutes=2)
LIVE_STATUSES = frozenset({"queued", "ringing", "in-progress"})


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


def _cache_key(kind: str, params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, default=_json_default, separators=(",", ":"))
    return f"{CACHE_PREFIX}:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot key a cache entry on {type(value).__name__}")


def list_calls(
    *,
    agent_id: str | None = None,
    status: str | None = None,
    direction: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    limit: int = 25,
    offset: int = 0,
) -> CallPage:
    params = {
        "agent_id": agent_id,
        "status": status,
        "direction": direction,
        "created_after": created_after,
        "created_before": created_before,
        "limit": limit,
        "offset": offset,
    }
    key = _cache_key("calls", params)
    page = cache.get(key)
    if page is None:
        page = backend.get_client().list_calls(**params)
        cache.set(key, page, settings.CACHE_TTL_CALL_LIST)
    return page


def get_call(call_id: str, *, fresh: bool = False) -> Call:
    """One call with its transcript, cached for as long as what it says can still be trusted."""
    key = _cache_key("call", {"id": call_id})
    call = None if fresh else cache.get(key)
    if call is None:
        now = backend.now()
        call = _without_expired_link(backend.get_client().get_call(call_id), now)
        ttl = call_ttl(call, now)
        if ttl > 0:
            cache.set(key, call, ttl)
    return call


def call_ttl(call: Call, now: datetime) -> int:
    """Seconds to cache a call: long once final, briefly while it can still change, and never
    past the moment its signed recording link stops working."""
    if transcript_state(call, now) in (TranscriptState.LIVE, TranscriptState.PROCESSING):
        ttl = settings.CACHE_TTL_CALL_PENDING
    else:
        ttl = settings.CACHE_TTL_CALL_FINAL
    expiry = recording_expiry(call)
    if call.recording_url and expiry is not None:
        ttl = min(ttl, int((expiry - RECORDING_EXPIRY_MARGIN - now).total_seconds()))
    return max(ttl, 0)


def recording_expiry(call: Call) -> datetime | None:
    return call.ended_at + RECORDING_LIFETIME if call.ended_at else None


def _link_expired(call: Call, now: datetime) -> bool:
    """Truedy's link for this call is dead, or will be before a cached copy could be used."""
    expiry = recording_expiry(call)
    return expiry is not None and expiry - RECORDING_EXPIRY_MARGIN <= now


def _without_expired_link(call: Call, now: datetime) -> Call:
    """A dead signed link is useless and still a secret: it is never kept or shown."""
    if call.recording_url and _link_expired(call, now):
        return dataclasses.replace(call, recording_url=None)
    return call


def transcript_state(call: Call, now: datetime) -> TranscriptState:
    if call.transcript is not None:
        return TranscriptState.READY
    if call.status in LIVE_STATUSES:
        return TranscriptState.LIVE
    window = timedelta(seconds=settings.TRANSCRIPT_PROCESSING_WINDOW)
    talked = call.status == "ended" or (call.status == "failed" and call.started_at is not None)
    if talked and call.ended_at is not None and now - call.ended_at < window:
        return TranscriptState.PROCESSING
    return TranscriptState.NONE


def recording_state(call: Call, now: datetime) -> RecordingState:
    if call.recording_url:
        return RecordingState.AVAILABLE
    if call.status in LIVE_STATUSES:
        return RecordingState.NOT_YET
    if _link_expired(call, now):
        return RecordingState.EXPIRED
    return RecordingState.NONE


def open_recording(
    call_id: str, *, range_header: str | None = None, if_range: str | None = None
) -> RecordingStream:
    """Stream a call's recording through its current signed link.

    A link refused by storage is retried once with a freshly fetched call: the cached link may
    have been re-signed or revoked upstream since it was cached.
    """
    call = get_call(call_id)
    try:
        return _open_link(call, range_header=range_header, if_range=if_range)
    except RecordingUnavailable:
        if not call.recording_url:
            raise
        fresh = get_call(call_id, fresh=True)
        if fresh.recording_url == call.recording_url:
            raise
        return _open_link(fresh, range_header=range_header, if_range=if_range)


def _open_link(call: Call, *, range_header: str | None, if_range: str | None) -> RecordingStream:
    if not call.recording_url:
        state = recording_state(call, backend.now())
        raise RecordingUnavailable(_RECORDING_MESSAGES[state], code=state.value)
    return backend.get_client().open_recording(
        call.recording_url, range_header=range_header, if_range=if_range
    )


_RECORDING_MESSAGES = {
    RecordingState.NOT_YET: "The call has not ended yet, so there is no recording.",
    RecordingState.EXPIRED: "Truedy keeps recordings for 24 hours after a call ends; "
    "this one has expired.",
    RecordingState.NONE: "This call was not recorded.",
}


def list_agents(*, cached_only: bool = False) -> tuple[Agent, ...]:
    """Every agent, for the filter's names. ``cached_only``: what the cache holds, or nothing,
    for pages that must not call upstream (a request with invalid filters)."""
    key = f"{CACHE_PREFIX}:agents"
    agents = cache.get(key)
    if agents is None and cached_only:
        return ()
    if agents is None:
        agents = backend.get_client().list_agents()
        cache.set(key, agents, settings.CACHE_TTL_AGENTS)
    return agents


def agent_names(*, cached_only: bool = False) -> dict[str, str]:
    return {agent.id: agent.name for agent in list_agents(cached_only=cached_only)}


@dataclasses.dataclass(frozen=True, slots=True)
class Neighbour:
    call_id: str
    page: int  # the page of the filtered list it is on, so "back to list" lands beside it


@dataclasses.dataclass(frozen=True, slots=True)
class Neighbours:
    position: int  # 1-based place of the call in the filtered list
    total: int
    previous: Neighbour | None
    next: Neighbour | None


def find_neighbours(
    call_id: str, *, page: int, per_page: int, filters: dict[str, Any]
) -> Neighbours | None:
    """The calls before and after ``call_id`` in a filtered list, from the cached list pages.

    New calls push older ones down the list, so a call not on its page is looked for one page
    further on; None if it has left both.
    """
    for number in (page, page + 1):
        listing = list_calls(**filters, limit=per_page, offset=(number - 1) * per_page)
        ids = [call.id for call in listing.calls]
        if call_id in ids:
            break
    else:
        return None
    index = ids.index(call_id)
    previous = next_ = None
    if index > 0:
        previous = Neighbour(ids[index - 1], number)
    elif number > 1:
        before = list_calls(**filters, limit=per_page, offset=(number - 2) * per_page)
        if before.calls:
            previous = Neighbour(before.calls[-1].id, number - 1)
    if index + 1 < len(ids):
        next_ = Neighbour(ids[index + 1], number)
    elif listing.has_more:
        after = list_calls(**filters, limit=per_page, offset=number * per_page)
        if after.calls:
            next_ = Neighbour(after.calls[0].id, number + 1)
    return Neighbours(
        position=listing.offset + index + 1,
        total=listing.total,
        previous=previous,
        next=next_,
    )
