"""Truedy as pages read it: list pages, calls, agents and recordings, through the cache.

Each read goes through ``calls.upstream.cache`` (fresh, stale-if-error, one refresh per key at a
time) and the gateway's one client. What a call's state means comes from
``calls.truedy.lifecycle``; here it only decides how long a copy may be trusted.
"""

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from calls.truedy import lifecycle
from calls.truedy.client import PAGE_LIMIT_MAX, RecordingStream
from calls.truedy.errors import RecordingUnavailable
from calls.truedy.filters import CallFilters
from calls.truedy.records import Agent, Call, CallPage, Campaign, CampaignContact, CampaignPage
from calls.upstream import budget, cache, gateway
from calls.upstream.cache import AGENTS_KEY, LIST_DEFAULTS, LISTS_CHANGED_KEY

# A list page is read from Truedy inside a block of this many rows (Truedy's largest page), and
# the block's other pages of the same size are stored with it: one request answers a list's
# "Next" too, and the pages beside a call (its neighbours), Truedy's scarcest resource being
# requests, not rows.
LIST_BLOCK = PAGE_LIMIT_MAX


def list_calls(
    *,
    agent_id: str | None = None,
    status: str | None = None,
    direction: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    limit: int = LIST_DEFAULTS["limit"],
    offset: int = 0,
) -> CallPage:
    params: dict[str, Any] = {
        "agent_id": agent_id,
        "status": status,
        "direction": direction,
        "created_after": created_after,
        "created_before": created_before,
        "limit": limit,
        "offset": offset,
    }
    return cache.read_through(
        cache.list_key(params),
        lambda: _read_list_page(params),
        lambda page: settings.CACHE_TTL_CALL_LIST,
        changed_key=LISTS_CHANGED_KEY,
    )


def _read_list_page(params: dict[str, Any]) -> CallPage:
    """The page ``params`` ask for, read as part of its block of ``LIST_BLOCK`` rows when its
    size divides the block's; the block's other pages with calls on them are stored too."""
    limit, offset = params["limit"], params["offset"]
    client = gateway.get_client()
    if limit >= LIST_BLOCK or LIST_BLOCK % limit or offset % limit:
        return client.list_calls(**params)
    start = offset - offset % LIST_BLOCK
    block = client.list_calls(**(params | {"limit": LIST_BLOCK, "offset": start}))
    pages = {
        page_offset: CallPage(
            block.calls[page_offset - start : page_offset - start + limit],
            block.total,
            limit,
            page_offset,
        )
        for page_offset in range(start, start + LIST_BLOCK, limit)
    }
    beside = {
        cache.list_key(params | {"offset": page_offset}): page
        for page_offset, page in pages.items()
        if page_offset != offset and page.calls
    }
    cache.store_beside(beside, settings.CACHE_TTL_CALL_LIST)
    return pages[offset]


def filtered_page(filters: CallFilters, *, page: int, per_page: int) -> CallPage:
    """Page ``page`` (1-based) of the filtered list, ``per_page`` calls to a page."""
    return list_calls(**filters.api_params(), limit=per_page, offset=(page - 1) * per_page)


def read_list_page_once(**params: Any) -> CallPage:
    """A list page read once (``cache.read_once``): a pinned read's pages are never asked again."""
    params = LIST_DEFAULTS | params
    return cache.read_once(lambda: gateway.get_client().list_calls(**params))


def get_call(call_id: str, *, fresh: bool = False) -> Call:
    """One call with its transcript, cached for as long as what it says can still be trusted.

    A stale copy never carries a dead signed link: links are checked on every read.
    """
    call = cache.read_through(
        cache.call_key(call_id),
        lambda: lifecycle.without_expired_link(
            gateway.get_client().get_call(call_id), gateway.now()
        ),
        lambda call: call_ttl(call, gateway.now()),
        fresh=fresh,
        stand_in=_list_row_stands_in.get(),
    )
    return lifecycle.without_expired_link(call, gateway.now())


# True while a call page opened from a list reads its call: the call's row in that list can
# stand in until Truedy answers, so a first asking takes a free token or none.
_list_row_stands_in: ContextVar[bool] = ContextVar("list_row_stands_in", default=False)


@contextmanager
def list_row_standing_in(stands_in: bool = True) -> Iterator[None]:
    """Calls read inside are for a page that can show the call's row from the list it was
    opened from while Truedy's budget is spent (calls.upstream.cache: ``stand_in``)."""
    token = _list_row_stands_in.set(stands_in)
    try:
        yield
    finally:
        _list_row_stands_in.reset(token)


def processing_window() -> timedelta:
    """How long after a call ends Truedy may still be transcribing it."""
    return timedelta(seconds=settings.TRANSCRIPT_PROCESSING_WINDOW)


def transcript_state(call: Call, now: datetime) -> lifecycle.TranscriptState:
    return lifecycle.transcript_state(call, now, processing_window=processing_window())


def call_ttl(call: Call, now: datetime) -> int:
    """Seconds to cache a call: long once final, briefly while it can still change, and never
    past the moment its signed recording link stops working."""
    pending = (lifecycle.TranscriptState.LIVE, lifecycle.TranscriptState.PROCESSING)
    if transcript_state(call, now) in pending:
        ttl: int = settings.CACHE_TTL_CALL_PENDING
    else:
        ttl = settings.CACHE_TTL_CALL_FINAL
    expiry = lifecycle.recording_expiry(call)
    if call.recording_url and expiry is not None:
        margin = lifecycle.RECORDING_EXPIRY_MARGIN
        ttl = min(ttl, int((expiry - margin - now).total_seconds()))
    return max(ttl, 0)


def cached_list_page(**params: Any) -> CallPage | None:
    """A list page as the cache holds it, however old, without asking Truedy."""
    page = cache.cached(cache.list_key(params))
    return page if isinstance(page, CallPage) else None


def cached_list_row(call_id: str, *, page: int, per_page: int, filters: CallFilters) -> Call | None:
    """The call's row from the cached list it was opened from (no transcript, no recording):
    enough for a call page to stand on while Truedy is out of reach."""
    for number in (page, page + 1, page - 1):
        if number < 1:
            continue
        listing = cached_list_page(
            **filters.api_params(), limit=per_page, offset=(number - 1) * per_page
        )
        for call in listing.calls if listing else ():
            if call.id == call_id:
                return dataclasses.replace(call, transcript=None, recording_url=None)
    return None


def list_agents(*, cached_only: bool = False) -> tuple[Agent, ...]:
    """Every agent, for the filter's names. ``cached_only``: what the cache holds, or nothing,
    for pages that must not call upstream (a request with invalid filters)."""
    if cached_only:
        return cache.cached(AGENTS_KEY) or ()
    return cache.read_through(
        AGENTS_KEY,
        lambda: gateway.get_client().list_agents(),
        lambda agents: settings.CACHE_TTL_AGENTS,
    )


def agent_names(*, cached_only: bool = False) -> dict[str, str]:
    return {agent.id: agent.name for agent in list_agents(cached_only=cached_only)}


# --- campaigns (batch calls) -------------------------------------------------------------------

# A campaign's contacts are read this far at most (100 a request, so 20 requests): the join to
# its calls stops there, and the pages say so.
MAX_CAMPAIGN_CONTACTS = 2_000
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignCallIds:
    """The calls a campaign's contacts got, as its contacts list says."""

    call_ids: tuple[str, ...]  # each once, the most recently called first
    contacts_read: int
    total_contacts: int  # as Truedy counts them

    @property
    def complete(self) -> bool:
        """Every contact was read (not stopped at ``MAX_CAMPAIGN_CONTACTS``)."""
        return self.contacts_read >= self.total_contacts


def _campaign_fresh_seconds(_: object) -> int:
    # Counters move with every call: as long as a list page, and out of date on a webhook.
    return int(settings.CACHE_TTL_CALL_LIST)


def list_campaigns(*, page: int, per_page: int) -> CampaignPage:
    """Page ``page`` (1-based) of the campaigns, newest first, with their counters."""
    limit, offset = per_page, (page - 1) * per_page
    return cache.read_through(
        cache.cache_key("campaigns", {"limit": limit, "offset": offset}),
        lambda: gateway.get_client().list_campaigns(limit=limit, offset=offset),
        _campaign_fresh_seconds,
        changed_key=LISTS_CHANGED_KEY,
    )


def get_campaign(campaign_id: str) -> Campaign:
    return cache.read_through(
        cache.cache_key("campaign", {"id": campaign_id}),
        lambda: gateway.get_client().get_campaign(campaign_id),
        _campaign_fresh_seconds,
        changed_key=LISTS_CHANGED_KEY,
    )


def campaign_call_ids(campaign_id: str) -> CampaignCallIds:
    """The ids of the calls the campaign's contacts got, from every page of its contacts (up to
    ``MAX_CAMPAIGN_CONTACTS``), cached like its counters."""
    return cache.read_through(
        cache.cache_key("campaign-calls", {"id": campaign_id}),
        lambda: _read_campaign_call_ids(campaign_id),
        _campaign_fresh_seconds,
        changed_key=LISTS_CHANGED_KEY,
    )


def _read_campaign_call_ids(campaign_id: str) -> CampaignCallIds:
    client = gateway.get_client()
    contacts: list[CampaignContact] = []
    total = 0
    while len(contacts) < MAX_CAMPAIGN_CONTACTS:
        page = client.list_campaign_contacts(
            campaign_id,
            limit=min(PAGE_LIMIT_MAX, MAX_CAMPAIGN_CONTACTS - len(contacts)),
            offset=len(contacts),
        )
        contacts.extend(page.contacts)
        total = page.total
        if not page.contacts or len(contacts) >= page.total:
            break
    called = sorted(
        (contact for contact in contacts if contact.call_id),
        key=lambda contact: contact.called_at or _EARLIEST,
        reverse=True,
    )
    ids = tuple(dict.fromkeys(contact.call_id for contact in called if contact.call_id))
    return CampaignCallIds(ids, len(contacts), max(total, len(contacts)))


def open_recording_link(
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
        state = lifecycle.recording_state(call, gateway.now())
        raise RecordingUnavailable(lifecycle.RECORDING_MESSAGES[state], code=state.value)
    return gateway.get_client().open_recording(
        call.recording_url, range_header=range_header, if_range=if_range
    )


# --- a call's place in its list ---------------------------------------------------------------


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
    call_id: str,
    *,
    page: int,
    per_page: int,
    filters: CallFilters,
    read_page: Callable[[CallFilters, int, int], CallPage] | None = None,
) -> Neighbours | None:
    """The calls before and after ``call_id`` in a filtered list, from the cached list pages
    as they were seen (``_list_as_seen``), or the pages ``read_page(filters, page, per_page)``
    gives, for a list Truedy cannot give.

    New calls push older ones down the list, so a call not on its page is looked for one page
    further on; None if it has left both.
    """

    def filtered_page(filters: CallFilters, *, page: int, per_page: int) -> CallPage:
        return (read_page or _list_as_seen)(filters, page, per_page)

    for number in (page, page + 1):
        listing = filtered_page(filters, page=number, per_page=per_page)
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
        before = filtered_page(filters, page=number - 1, per_page=per_page)
        if before.calls:
            previous = Neighbour(before.calls[-1].id, number - 1)
    if index + 1 < len(ids):
        next_ = Neighbour(ids[index + 1], number)
    elif listing.has_more:
        after = filtered_page(filters, page=number + 1, per_page=per_page)
        if after.calls:
            next_ = Neighbour(after.calls[0].id, number + 1)
    return Neighbours(
        position=listing.offset + index + 1,
        total=listing.total,
        previous=previous,
        next=next_,
    )


# A call's neighbours follow its list as the person who opened the call saw it: a copy of a
# page read from Truedy within this long stands as it is, stale or not (no request, no notice).
SEEN_LIST_SECONDS = 300


def _list_as_seen(filters: CallFilters, page: int, per_page: int) -> CallPage:
    params = filters.api_params() | {"limit": per_page, "offset": (page - 1) * per_page}
    seen = cache.cached(cache.list_key(params), within=SEEN_LIST_SECONDS)
    if isinstance(seen, CallPage):
        return seen
    # Only links depend on it: a free token or none, never one a person's page waits for.
    with budget.without_waiting():
        return filtered_page(filters, page=page, per_page=per_page)
