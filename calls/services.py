"""Reading Truedy through the Django cache. Every cache key, version and TTL lives here.

Each cached answer is an ``Entry`` kept for its fresh lifetime plus ``CACHE_STALE_WINDOW``:
fresh, it is served as is; stale, Truedy is asked again, and if Truedy fails the stale answer
is served with a notice (R5). One request per key refreshes at a time, the others wait for it
or serve what is there (R6); every upstream read passes the cool-down and the circuit breaker
first (R3, R4).
"""

import dataclasses
import enum
import hashlib
import inspect
import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from calls import archive, backend, resilience
from calls.client import RecordingStream, time_left
from calls.errors import (
    MalformedResponse,
    PaymentRequired,
    RateLimited,
    RecordingUnavailable,
    TruedyError,
    Unauthorized,
    UpstreamUnavailable,
)
from calls.records import Agent, Call, CallPage

CACHE_PREFIX = "truedy:v2"  # v2: entries are Entry envelopes

T = TypeVar("T")
# A refresh lock outlives the slowest possible refresh; waiting for someone else's refresh
# polls this often, for at most this long.
LOCK_SECONDS = 15
WAIT_POLL_SECONDS = 0.05
WAIT_MAX_SECONDS = 5.0
# Failures after which an older answer is better than an error page: Truedy down, garbled,
# rate-limiting, or refusing the account (key, billing: the notice names it). A 404 or a 400 is
# an answer, not a failure.
STALE_OK_ERRORS = (
    UpstreamUnavailable,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    PaymentRequired,
)

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
    return read_through(
        _list_key(params),
        lambda: backend.get_client().list_calls(**params),
        lambda page: settings.CACHE_TTL_CALL_LIST,
        changed_key=LISTS_CHANGED_KEY,
    )


# list_calls' own defaults, so a partial set of parameters keys the same page.
LIST_DEFAULTS: dict[str, Any] = {
    name: parameter.default for name, parameter in inspect.signature(list_calls).parameters.items()
}


def read_once(fetch: Callable[[], T]) -> T:
    """``fetch()`` for a one-off read (an export, totals, the sync): through the breaker and
    the shared cool-down like every fetch, but never stored, since nobody asks for it again
    (a 100,000-call export would otherwise push everyone's pages out of the cache)."""
    return _refresh("", fetch, lambda data: 0, stale=None)


def read_list_page_once(**params: Any) -> CallPage:
    """A list page read once (see ``read_once``): a pinned read's pages are never asked again."""
    params = LIST_DEFAULTS | params
    return read_once(lambda: backend.get_client().list_calls(**params))


def _list_key(params: dict[str, Any]) -> str:
    """The cache key of a list page; missing parameters take ``list_calls``' defaults."""
    return _cache_key("calls", LIST_DEFAULTS | params)


def totals_key(filters: dict[str, Any], zone_key: str) -> str:
    """The cache key of a filtered list's totals (calls/totals.py), per viewer zone."""
    return _cache_key("totals", {**filters, "zone": zone_key})


def get_call(call_id: str, *, fresh: bool = False) -> Call:
    """One call with its transcript, cached for as long as what it says can still be trusted.

    A stale copy never carries a dead signed link: links are checked on every read.
    """
    call = read_through(
        _cache_key("call", {"id": call_id}),
        lambda: _without_expired_link(backend.get_client().get_call(call_id), backend.now()),
        lambda call: call_ttl(call, backend.now()),
        fresh=fresh,
    )
    return _without_expired_link(call, backend.now())


# When a call last changed upstream (a webhook said so): list pages cached before it are stale.
LISTS_CHANGED_KEY = f"{CACHE_PREFIX}:lists-changed-at"


def invalidate_call(call_id: str) -> None:
    """``call_id`` changed upstream: its cached copy and every cached list page stop being
    fresh. They are kept, not deleted, as the fallback if Truedy then fails (R5)."""
    key = _cache_key("call", {"id": call_id})
    entry = resilience.safe_get(key)
    if isinstance(entry, Entry):
        resilience.safe_set(
            key, dataclasses.replace(entry, fresh_until=0.0), settings.CACHE_STALE_WINDOW
        )
    # Outlives every list entry it judges (their fresh lifetime plus the stale window).
    keep = settings.CACHE_TTL_CALL_LIST + settings.CACHE_STALE_WINDOW
    resilience.safe_set(LISTS_CHANGED_KEY, timezone.now(), keep)


# --- the read-through cache (R5, R6) ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    data: Any
    fetched_at: datetime  # wall clock (UTC), shown in "showing data from 14:02"
    fresh_until: float  # time.time()


def read_through(
    key: str,
    fetch: Callable[[], T],
    fresh_seconds: Callable[[T], float],
    *,
    fresh: bool = False,
    changed_key: str | None = None,
    gated: bool = True,
) -> T:
    """The cached answer under ``key`` while fresh; else ``fetch()`` it, once per key at a time.

    ``fresh=True`` skips a fresh cached answer (the caller knows it is wrong) but still falls
    back to it if Truedy fails; so does an answer fetched before the instant stored under
    ``changed_key`` (read in the same round trip). ``gated=False`` is for a ``fetch`` made of
    reads that each pass the breaker and cool-down themselves (an aggregate such as totals):
    the outer one must not take the breaker's single probe from them.
    """
    if changed_key is None:
        entry, changed_at = resilience.safe_get(key), None
    else:
        found = resilience.safe_get_many([key, changed_key])
        entry, changed_at = found.get(key), found.get(changed_key)
    if not isinstance(entry, Entry):
        entry = None
    outdated = (
        entry is not None and isinstance(changed_at, datetime) and entry.fetched_at <= changed_at
    )
    if entry is not None and not fresh and not outdated and time.time() < entry.fresh_until:
        return entry.data
    lock = f"{key}:refresh"
    token = secrets.token_hex(8)
    if not resilience.safe_add(lock, token, LOCK_SECONDS):
        if entry is not None:
            return entry.data  # someone is refreshing it right now: theirs is moments away
        waited = _wait_for(key, lock)
        if waited is not None:
            return waited.data
    try:
        return _refresh(key, fetch, fresh_seconds, stale=entry, gated=gated)
    finally:
        if resilience.safe_get(lock) == token:
            resilience.safe_delete(lock)


def _refresh(
    key: str,
    fetch: Callable[[], T],
    fresh_seconds: Callable[[T], float],
    *,
    stale,
    gated: bool = True,
):
    try:
        permit = resilience.admit() if gated else None
    except TruedyError as error:
        return _stale_or_raise(stale, error)
    try:
        data = fetch()
    except TruedyError as error:
        if permit is not None:
            resilience.failed(permit, error)
        return _stale_or_raise(stale, error)
    if permit is not None:
        resilience.succeeded(permit)
    lifetime = max(0.0, float(fresh_seconds(data)))
    if lifetime > 0:
        entry = Entry(data, timezone.now(), time.time() + lifetime)
        resilience.safe_set(key, entry, lifetime + settings.CACHE_STALE_WINDOW)
    return data


def _stale_or_raise(stale: Entry | None, error: TruedyError):
    if stale is None or not isinstance(error, STALE_OK_ERRORS):
        raise error
    resilience.note_stale(stale.fetched_at, error)
    return stale.data


def _wait_for(key: str, lock: str) -> Entry | None:
    """Another request is fetching ``key``: wait for its answer rather than ask again (R6).

    Stops as soon as that request lets go of the lock without an answer (it failed).
    """
    left = time_left()
    give_up = time.monotonic() + min(
        WAIT_MAX_SECONDS, left if left is not None else WAIT_MAX_SECONDS
    )
    while time.monotonic() < give_up:
        time.sleep(WAIT_POLL_SECONDS)
        entry = resilience.safe_get(key)
        if isinstance(entry, Entry):
            return entry
        if resilience.safe_get(lock) is None:
            # Let go: with an answer stored just now (read it), or after failing (none).
            entry = resilience.safe_get(key)
            return entry if isinstance(entry, Entry) else None
    return None


def cached_list_page(**params: Any) -> CallPage | None:
    """A list page as the cache holds it, however old, without asking Truedy."""
    entry = resilience.safe_get(_list_key(params))
    return entry.data if isinstance(entry, Entry) else None


def cached_list_row(
    call_id: str, *, page: int, per_page: int, filters: dict[str, Any]
) -> Call | None:
    """The call's row from the cached list it was opened from (no transcript, no recording):
    enough for a call page to stand on while Truedy is out of reach."""
    for number in (page, page + 1, page - 1):
        if number < 1:
            continue
        listing = cached_list_page(**filters, limit=per_page, offset=(number - 1) * per_page)
        for call in listing.calls if listing else ():
            if call.id == call_id:
                return dataclasses.replace(call, transcript=None, recording_url=None)
    return None


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
) -> "RecordingStream | archive.ArchivedRecordingStream":
    """Stream a call's recording: through Truedy's signed link while it works, else from the
    archive's copy (link expired or refused, call gone from Truedy, Truedy unreachable)."""
    try:
        return _open_upstream_recording(call_id, range_header=range_header, if_range=if_range)
    except TruedyError:
        copy = archive.open_archived_recording(
            call_id, range_header=range_header, if_range=if_range
        )
        if copy is None:
            raise
        return copy


def _open_upstream_recording(
    call_id: str, *, range_header: str | None, if_range: str | None
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
    if cached_only:
        entry = resilience.safe_get(key)
        return entry.data if isinstance(entry, Entry) else ()
    return read_through(
        key, lambda: backend.get_client().list_agents(), lambda agents: settings.CACHE_TTL_AGENTS
    )


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
