"""Truedy's answers in the Django cache: keys, the ``Entry`` envelope, and the read-through.

Each cached answer is an ``Entry`` kept for its fresh lifetime plus ``CACHE_STALE_WINDOW``:
fresh, it is served as is; stale, Truedy is asked again, and if Truedy fails the stale answer
is served with a notice. One request per key refreshes at a time; the others wait for it or
serve what is there, so a busy team asks Truedy once. Every upstream read passes the shared
cool-down and the circuit breaker first (calls.upstream.resilience).
"""

import dataclasses
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from calls.truedy.client import time_left
from calls.truedy.errors import TruedyError
from calls.upstream import budget, problems, resilience
from calls.upstream.keys import CACHE_PREFIX

T = TypeVar("T")
# A refresh lock outlives the slowest possible refresh; waiting for someone else's refresh
# polls this often, for at most this long.
LOCK_SECONDS = 15
WAIT_POLL_SECONDS = 0.05
WAIT_MAX_SECONDS = 5.0
# Who gets Truedy's scarce tokens, as the share of the page's wait a read may spend on one (a
# shorter wait is a lower place in line: calls.upstream.budget). First a page with nothing to
# show; then one with a stale copy (or a stand-in) of something asked for again within
# DEMAND_SECONDS (what people keep looking at); then a first asking with only a stand-in, a
# poorer thing to show than a stale copy (a call's list row: no transcript, no recording); a
# first asking for a stale copy takes a free token or none.
DEMAND_SECONDS = 60
IN_DEMAND = 2
IN_DEMAND_WAIT = 0.85
STAND_IN_WAIT = 0.3
FIRST_ASK_WAIT = 0.0

# The parameters of a list page's key, with the values a missing one takes. Frozen here, not
# read off a function's signature: a changed default must not silently re-key every list page.
LIST_DEFAULTS: dict[str, Any] = {
    "agent_id": None,
    "status": None,
    "direction": None,
    "created_after": None,
    "created_before": None,
    "limit": 25,
    "offset": 0,
}
# When a call last changed upstream (a webhook said so): list pages cached before it are stale.
LISTS_CHANGED_KEY = f"{CACHE_PREFIX}:lists-changed-at"
AGENTS_KEY = f"{CACHE_PREFIX}:agents"


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    data: Any
    fetched_at: datetime  # wall clock (UTC), shown in "showing data from 14:02"
    fresh_until: float  # time.time()


# --- keys ---------------------------------------------------------------------------------------


def cache_key(kind: str, params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, default=_json_default, separators=(",", ":"))
    return f"{CACHE_PREFIX}:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot key a cache entry on {type(value).__name__}")


def list_key(params: dict[str, Any]) -> str:
    """The cache key of a list page; missing parameters take ``LIST_DEFAULTS``."""
    return cache_key("calls", LIST_DEFAULTS | params)


def call_key(call_id: str) -> str:
    return cache_key("call", {"id": call_id})


def totals_key(filters: dict[str, Any], zone_key: str) -> str:
    """The cache key of a filtered list's totals (calls.services.totals), per viewer zone."""
    return cache_key("totals", {**filters, "zone": zone_key})


def cached(key: str, *, within: float | None = None) -> Any:
    """What the cache holds under ``key``, however old (or read from Truedy at most ``within``
    seconds ago), without asking Truedy (None if nothing)."""
    entry = resilience.safe_get(key)
    if not isinstance(entry, Entry):
        return None
    if within is not None:
        if (timezone.now() - entry.fetched_at).total_seconds() > within:
            return None
        _note_fresh_until(entry.fresh_until)  # shown as it is: a page on it lasts while it is fresh
    return entry.data


def store_beside(answers: dict[str, Any], fresh_seconds: float) -> None:
    """Answers a read brought besides its own (the other pages of a block of a list), stored as
    if each had been read: fresh for ``fresh_seconds``, then the stale fallback like any."""
    if not answers or fresh_seconds <= 0:
        return
    fetched_at, fresh_until = timezone.now(), time.time() + fresh_seconds
    entries = {key: Entry(data, fetched_at, fresh_until) for key, data in answers.items()}
    resilience.safe_set_many(entries, fresh_seconds + settings.CACHE_STALE_WINDOW)


def invalidate_call(call_id: str) -> None:
    """``call_id`` changed upstream: its cached copy and every cached list page stop being
    fresh. They are kept, not deleted, as the fallback if Truedy then fails."""
    key = call_key(call_id)
    entry = resilience.safe_get(key)
    if isinstance(entry, Entry):
        resilience.safe_set(
            key, dataclasses.replace(entry, fresh_until=0.0), settings.CACHE_STALE_WINDOW
        )
    # Outlives every list entry it judges (their fresh lifetime plus the stale window).
    keep = settings.CACHE_TTL_CALL_LIST + settings.CACHE_STALE_WINDOW
    resilience.safe_set(LISTS_CHANGED_KEY, timezone.now(), keep)


# --- how long what a page read stays fresh ------------------------------------------------------

# The instants (``time.time()``) until which the answers read under ``noting_freshness`` stay
# fresh; 0.0 for an answer that is not fresh (stale, or never stored). A page built from them
# may be kept until the earliest (calls.services.page_cache).
_fresh_until: ContextVar[list[float] | None] = ContextVar("fresh_until", default=None)


@contextmanager
def noting_freshness() -> Iterator[list[float]]:
    noted: list[float] = []
    token = _fresh_until.set(noted)
    try:
        yield noted
    finally:
        _fresh_until.reset(token)


def _note_fresh_until(moment: float) -> None:
    noted = _fresh_until.get()
    if noted is not None:
        noted.append(moment)


# --- the read-through ---------------------------------------------------------------------------


def read_once(fetch: Callable[[], T]) -> T:
    """``fetch()`` for a one-off read (an export, totals, the sync): through the breaker and
    the shared cool-down like every fetch, but never stored, since nobody asks for it again
    (a 100,000-call export would otherwise push everyone's pages out of the cache)."""
    return _refresh("", fetch, lambda data: 0, stale=None)


def read_through(
    key: str,
    fetch: Callable[[], T],
    fresh_seconds: Callable[[T], float],
    *,
    fresh: bool = False,
    changed_key: str | None = None,
    gated: bool = True,
    stand_in: bool = False,
) -> T:
    """The cached answer under ``key`` while fresh; else ``fetch()`` it, once per key at a time.

    ``fresh=True`` skips a fresh cached answer (the caller knows it is wrong) but still falls
    back to it if Truedy fails; so does an answer fetched before the instant stored under
    ``changed_key`` (read in the same round trip). ``gated=False`` is for a ``fetch`` made of
    reads that each pass the breaker and cool-down themselves (an aggregate such as totals):
    the outer one must not take the breaker's single probe from them.

    Truedy's tokens go first to pages with nothing else to show, then to what people keep
    looking at (``IN_DEMAND_WAIT``): a read with a stale copy takes a free token or none the
    first time, one with ``stand_in`` (the page has something poorer to show meanwhile: a call
    page, its row in the list it was opened from) waits ``STAND_IN_WAIT`` of its turn, and
    either waits for one once asked for again.
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
    # What is stored under ``key`` is what its ``fetch`` returned (``_refresh``): a T.
    if entry is not None and not fresh and not outdated and time.time() < entry.fresh_until:
        _note_fresh_until(entry.fresh_until)
        cached: T = entry.data
        return cached
    lock = f"{key}:refresh"
    token = secrets.token_hex(8)
    if not resilience.safe_add(lock, token, LOCK_SECONDS):
        if entry is not None:
            _note_fresh_until(0.0)
            cached = entry.data
            return cached  # someone is refreshing it right now
        waited = _wait_for(key, lock)
        if waited is not None:
            _note_fresh_until(waited.fresh_until)
            cached = waited.data
            return cached
    try:
        # Every asking while not fresh counts; 0 with the cache down (nothing known: every read
        # waits its turn as before).
        asked = resilience.safe_incr(f"{key}:demand", DEMAND_SECONDS)
        wait = 1.0
        if asked and asked >= IN_DEMAND and (entry is not None or stand_in):
            wait = IN_DEMAND_WAIT
        elif asked and entry is not None:
            wait = FIRST_ASK_WAIT
        elif asked and stand_in:
            wait = STAND_IN_WAIT
        return _refresh(key, fetch, fresh_seconds, stale=entry, gated=gated, wait=wait)
    finally:
        if resilience.safe_get(lock) == token:
            resilience.safe_delete(lock)


def _refresh(
    key: str,
    fetch: Callable[[], T],
    fresh_seconds: Callable[[T], float],
    *,
    stale: Entry | None,
    gated: bool = True,
    wait: float = 1.0,
) -> T:
    try:
        permit = resilience.admit() if gated else None
    except TruedyError as error:
        stale_data: T = _stale_or_raise(stale, error)  # ``stale`` is what ``fetch`` gave before
        return stale_data
    try:
        page = budget.current_priority() is budget.Priority.PAGE
        if stale is not None and not page:
            # Background work with a copy to fall back on takes a free token or none.
            with budget.without_waiting():
                data = fetch()
        elif page and wait < 1.0:
            # A page refreshing a stale copy people keep asking for waits for a token too, in
            # a lower place than pages with nothing: a copy nobody may refresh while cold pages
            # take every token would stay stale for good. Refused, the copy stands in, with its
            # notice.
            with budget.waiting_at_most(wait * settings.TRUEDY_BUDGET_PAGE_WAIT):
                data = fetch()
        else:
            data = fetch()
    except TruedyError as error:
        if permit is not None:
            resilience.failed(permit, error)
        stale_data = _stale_or_raise(stale, error)
        return stale_data
    if permit is not None:
        resilience.succeeded(permit)
    lifetime = max(0.0, float(fresh_seconds(data)))
    _note_fresh_until(time.time() + lifetime if lifetime > 0 and key else 0.0)
    if lifetime > 0:
        entry = Entry(data, timezone.now(), time.time() + lifetime)
        resilience.safe_set(key, entry, lifetime + settings.CACHE_STALE_WINDOW)
    return data


def _stale_or_raise(stale: Entry | None, error: TruedyError) -> Any:
    if stale is None or not problems.problem_of(error).stale_ok:
        raise error
    _note_fresh_until(0.0)
    resilience.note_stale(stale.fetched_at, error)
    return stale.data


def _wait_for(key: str, lock: str) -> Entry | None:
    """Another request is fetching ``key``: wait for its answer rather than ask again.

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
