"""Keeping pages up while Truedy is slow, failing or rate-limiting.

- Every cache operation goes through ``safe_*``: a cache outage (Redis down) degrades to direct
  upstream calls, never to a 500.
- A shared cool-down: when Truedy says "retry after N s", no worker calls it for N s.
- A circuit breaker in the shared cache: after repeated failures, no upstream calls until one
  probe succeeds, so a failing Truedy is not hammered by every request.
- Stale notices: a page that shows cached data because Truedy failed says so, and from when
  (stale data must be visibly stale, RFC 5861). Services report stale reads here; the context
  processor hands them to the templates.

All of it lives in the Django cache, so with Redis every process agrees.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from calls.lib.server_timing import timed
from calls.truedy.errors import RateLimited, TruedyError
from calls.upstream import budget
from calls.upstream.keys import UPSTREAM_PREFIX
from calls.upstream.problems import BudgetExhausted, CircuitOpen, problem_of

T = TypeVar("T")

logger = logging.getLogger("calls.upstream")

PREFIX = UPSTREAM_PREFIX
COOLDOWN_KEY = f"{PREFIX}:cooldown-until"
FAILURES_KEY = f"{PREFIX}:breaker:failures"
OPEN_KEY = f"{PREFIX}:breaker:open-until"
PROBE_KEY = f"{PREFIX}:breaker:probe"


# --- the cache, failing soft -------------------------------------------------------------------

_last_outage_log = 0.0


def _cache_down(operation: str, error: Exception) -> None:
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log > 10:  # loud once, not once per request
        _last_outage_log = now
        logger.error(
            "cache %s failed (%s); reading Truedy directly", operation, type(error).__name__
        )


def safe_get(key: str) -> Any:
    try:
        with timed("cache"):
            return cache.get(key)
    except Exception as error:
        _cache_down("get", error)
        return None


def safe_get_many(keys: list[str]) -> dict[str, Any]:
    """Several keys in one round trip (Redis MGET); absent keys are left out."""
    try:
        with timed("cache"):
            return cache.get_many(keys)
    except Exception as error:
        _cache_down("get", error)
        return {}


def safe_set(key: str, value: Any, timeout: float) -> None:
    try:
        with timed("cache"):
            cache.set(key, value, timeout)
    except Exception as error:
        _cache_down("set", error)


def safe_set_many(values: dict[str, Any], timeout: float) -> None:
    """Several keys in one round trip (a Redis pipeline)."""
    try:
        with timed("cache"):
            cache.set_many(values, timeout)
    except Exception as error:
        _cache_down("set", error)


def safe_add(key: str, value: Any, timeout: float) -> bool:
    """Atomic "set if absent" (a lock). With the cache down everyone wins: direct calls."""
    try:
        with timed("cache"):
            return cache.add(key, value, timeout)
    except Exception as error:
        _cache_down("add", error)
        return True


def safe_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as error:
        _cache_down("delete", error)


def safe_incr(key: str, timeout: float) -> int:
    """Add one to a counter that lives ``timeout`` seconds from its first count; 0 with the
    cache down."""
    try:
        cache.add(key, 0, timeout)
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        safe_set(key, 1, timeout)
        return 1
    except Exception as error:
        _cache_down("incr", error)
        return 0


# --- the gate in front of every upstream read --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Permit:
    probe: bool  # this request is the breaker's single half-open probe


def admit() -> Permit:
    """May this request call Truedy now? Raises RateLimited or CircuitOpen if not."""
    now = time.time()
    until = safe_get(COOLDOWN_KEY)
    if until is not None and now < until:
        raise RateLimited(
            "Truedy asked us to slow down; no requests until the wait is over",
            retry_after=round(until - now, 1),
            code="cooldown",
        )
    open_until = safe_get(OPEN_KEY)
    if open_until is None:
        return Permit(probe=False)
    if now < open_until:
        raise CircuitOpen(
            "Truedy failed repeatedly; the dashboard pauses its requests for a moment",
            retry_after=round(open_until - now, 1),
            code="circuit_open",
        )
    # Half-open: exactly one request probes; the rest wait for its verdict.
    if safe_add(PROBE_KEY, 1, settings.TRUEDY_PAGE_DEADLINE + 1):
        return Permit(probe=True)
    raise CircuitOpen(
        "Truedy failed repeatedly; checking whether it is back",
        retry_after=1,
        code="circuit_open",
    )


def breaker_state() -> dict[str, Any]:
    """The breaker and cool-down as they stand, for the health check (information only)."""
    now = time.time()
    open_until = safe_get(OPEN_KEY)
    cooldown_until = safe_get(COOLDOWN_KEY)
    state = "closed" if open_until is None else "open" if now < open_until else "half-open"
    cooling = cooldown_until is not None and now < cooldown_until
    return {"breaker": state, "cooldown_seconds": round(cooldown_until - now) if cooling else 0}


def succeeded(permit: Permit) -> None:
    # Only a probe gets through an open breaker, so only a probe can close one.
    if permit.probe:
        logger.warning("Truedy answers again: circuit closed")
    if permit.probe or safe_get(FAILURES_KEY):
        for key in (FAILURES_KEY, OPEN_KEY, PROBE_KEY):
            safe_delete(key)


def failed(permit: Permit, error: TruedyError) -> None:
    """Count a failure. Only Truedy being down or garbled trips the breaker; 4xx answers (a
    missing call, a refused key) are answers, and a rate limit starts a cool-down instead."""
    problem = problem_of(error)
    # Our own budget's refusal (nothing reached Truedy) is not Truedy asking everyone to wait.
    if error.retry_after and problem.passes_by_itself and not isinstance(error, BudgetExhausted):
        _cool_down(error.retry_after)
        if isinstance(error, RateLimited) and error.code != "cooldown":
            budget.learn_window(error.retry_after)  # where Truedy's window ends
    if not problem.trips_breaker:
        if permit.probe:
            safe_delete(PROBE_KEY)
        return
    reset = settings.TRUEDY_BREAKER_RESET
    failures = safe_incr(FAILURES_KEY, reset * 10)
    if permit.probe or failures >= settings.TRUEDY_BREAKER_FAILURES:
        safe_set(OPEN_KEY, time.time() + reset, reset * 10)
        safe_delete(PROBE_KEY)
        logger.error(
            "Truedy failed %d times in a row (last: %s); circuit open for %d s",
            failures,
            type(error).__name__,
            reset,
        )


def _cool_down(seconds: float) -> None:
    until = time.time() + seconds
    current = safe_get(COOLDOWN_KEY)
    if current is None or current < until:
        safe_set(COOLDOWN_KEY, until, seconds + 1)
        logger.warning("Truedy asked us to wait %.0f s; no requests until then", seconds)


# --- stale notices for the page ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaleRead:
    fetched_at: datetime
    error: TruedyError


_stale_reads: ContextVar[list[StaleRead] | None] = ContextVar("stale_reads", default=None)


@contextmanager
def collecting_stale_reads() -> Iterator[list[StaleRead]]:
    reads: list[StaleRead] = []
    token = _stale_reads.set(reads)
    try:
        yield reads
    finally:
        _stale_reads.reset(token)


def note_stale(fetched_at: datetime, error: TruedyError) -> None:
    reads = _stale_reads.get()
    if reads is not None:
        reads.append(StaleRead(fetched_at, error))


def stale_reads() -> list[StaleRead]:
    return list(_stale_reads.get() or ())


def waiting_out_short_limits(
    request: Callable[[], T],
    *,
    longest: float,
    waits: int,
    sleep: Callable[[float], None] | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> T:
    """``request()``, made again after a rate limit (Truedy's, or our shared cool-down) of at
    most ``longest`` seconds, at most ``waits`` times: for long reads (an export, the sync)
    that can afford to wait where a page cannot. A longer limit, or one more, is raised."""
    for attempt in range(waits + 1):
        try:
            return request()
        except RateLimited as error:
            wait = error.retry_after
            if attempt == waits or wait is None or wait > longest:
                raise
            if on_wait is not None:
                on_wait(wait)
            (sleep or time.sleep)(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")
