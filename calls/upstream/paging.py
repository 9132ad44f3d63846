"""Every call matching the list's filters, newest first, read page by page from Truedy.

Used by the CSV export and the totals: they need *all* matching calls, which no single API
request gives (``limit`` is at most 100). Pages come through ``reads.read_list_page_once``:
each passes the cool-down and the circuit breaker like any other read, but is not cached, since
a pinned read never asks for the same page again.

- Lazy, with a small bounded prefetch: at most ``prefetch`` pages are being fetched (worker
  threads over the one shared, thread-safe client) while the current page is handed out, so at
  most ``prefetch + 1`` pages are ever held. Pages are yielded strictly in order.
- Limit/offset drift: calls that arrive during a long read would push older ones down a page
  (a duplicate; with pages fetched out of order, a skipped call). ``created_before`` is pinned to
  the moment reading starts, so the listing cannot move; ids are deduplicated anyway, over a
  bounded window of recent ids (ids only, never calls), which is where a shift would show up.
- Time: a page's upstream deadline (``calls.truedy.client.deadline``) is per page, not per
  request. The request's own deadline lives in a contextvar that neither worker threads nor a
  streamed response body (read after the middleware has returned) can see, and a long export
  must not die after ``TRUEDY_PAGE_DEADLINE`` seconds anyway; each page gets that budget of its
  own instead.
- Rate limits: a page refused for a short rate limit (or the shared cool-down) is asked again
  after the wait, a few times, so a long export survives a busy minute instead of dying halfway.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from calls.truedy.client import deadline, time_left
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, CallPage
from calls.upstream import budget, gateway, reads
from calls.upstream.resilience import waiting_out_short_limits

logger = logging.getLogger("calls.paging")

PAGE_SIZE = 100  # the API's largest `limit`
# A rate limit this short is waited out; a longer one ends the read (the caller reports it).
MAX_RATE_LIMIT_WAIT = 30.0
MAX_RATE_LIMIT_WAITS = 3

FetchPage = Callable[..., CallPage]


def iter_matching_calls(
    filters: CallFilters,
    *,
    page_size: int = PAGE_SIZE,
    prefetch: int = 2,
    as_of: datetime | None = None,
    fetch_page: FetchPage | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Generator[Call, None, None]:
    """Every call matching ``filters`` (their API filters: Truedy cannot search).

    ``as_of``: the instant the listing is pinned to (default: now, on Truedy's clock); calls
    created after it are left out. ``fetch_page`` replaces ``reads.read_list_page_once`` (tests).
    Raises the ``TruedyError`` of a page that fails, after yielding every call before it.
    """
    if not 1 <= page_size <= PAGE_SIZE:
        raise ValueError(f"page_size must be in 1..{PAGE_SIZE}, got {page_size}")
    if prefetch < 1:
        raise ValueError(f"prefetch must be at least 1, got {prefetch}")
    fetch = fetch_page or reads.read_list_page_once
    pinned = filters.api_params() | {"created_before": pinned_before(filters.created_before, as_of)}
    # Worker threads do not inherit context variables: pages ahead are read at the reader's
    # priority on Truedy's request budget.
    level = budget.current_priority()

    def load(offset: int) -> CallPage:
        with budget.priority(level):
            return _fetch_with_budget(fetch, pinned, page_size, offset, sleep)

    # The first page is fetched in the caller's thread: a failure there comes before any row.
    first = load(0)
    if not first.calls:
        return
    seen = _RecentIds(limit=(prefetch + 2) * page_size)
    pool = ThreadPoolExecutor(max_workers=prefetch, thread_name_prefix="truedy-paging")
    in_flight: deque[Future[CallPage]] = deque()
    next_offset = page_size
    total = first.total
    try:
        page: CallPage | None = first
        while page is not None:
            total = page.total or total
            while len(in_flight) < prefetch and next_offset < total:
                in_flight.append(pool.submit(load, next_offset))
                next_offset += page_size
            for call in page.calls:
                if seen.add(call.id):
                    yield call
            page = in_flight.popleft().result() if in_flight else None
            if page is not None and not page.calls:
                break  # the listing ended early (calls deleted meanwhile)
    finally:
        # A finished, failed or abandoned read (the browser went away) asks for nothing more
        # and does not wait for a page still on its way: that thread ends on its own.
        pool.shutdown(wait=False, cancel_futures=True)


def pinned_before(given: datetime | None, as_of: datetime | None) -> datetime:
    """The ``created_before`` a whole read shares: the given bound, but never later than the
    moment reading starts. ``created_before`` is exclusive, so the start instant itself is in."""
    start = (as_of or gateway.now()) + timedelta(microseconds=1)
    return start if given is None else min(given, start)


def _fetch_with_budget(
    fetch: FetchPage,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    sleep: Callable[[float], None],
) -> CallPage:
    """One page, with a deadline of its own, waiting out a short rate limit a few times."""

    def attempt() -> CallPage:
        left = time_left()  # the request's deadline, when called inside one
        seconds = settings.TRUEDY_PAGE_DEADLINE if left is None else max(0.0, left)
        with deadline(min(seconds, settings.TRUEDY_PAGE_DEADLINE)):
            return fetch(**filters, limit=limit, offset=offset)

    def note(wait: float) -> None:
        logger.warning("Paging calls: rate-limited at offset %d, waiting %.1f s", offset, wait)

    return waiting_out_short_limits(
        attempt,
        longest=MAX_RATE_LIMIT_WAIT,
        waits=MAX_RATE_LIMIT_WAITS,
        sleep=sleep,
        on_wait=note,
    )


class _RecentIds:
    """The ids of the last ``limit`` calls handed out: enough to catch a page that shifted."""

    def __init__(self, *, limit: int) -> None:
        self._order: deque[str] = deque()
        self._ids: set[str] = set()
        self._limit = limit

    def add(self, call_id: str) -> bool:
        """True if ``call_id`` is new (and now remembered), False if it was seen recently."""
        if call_id in self._ids:
            return False
        self._ids.add(call_id)
        self._order.append(call_id)
        if len(self._order) > self._limit:
            self._ids.discard(self._order.popleft())
        return True
