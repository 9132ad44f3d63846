"""One Truedy request budget for every process and instance: paced, and people first.

Truedy allows about 100 requests a minute per key (``../shared/truedy-api.md``). Every API
request, retries included, takes a token here first (the client's ``before_request`` hook, wired
in ``calls.upstream.gateway``: the one choke point).

- Paced: a GCRA token bucket (a "theoretical arrival time" per key) refilling continuously at
  ``TRUEDY_REQUESTS_PER_MINUTE``, holding at most ``TRUEDY_BUDGET_BURST`` tokens. After a quiet
  spell a burst of that size may go at once, then requests are spaced evenly across the minute;
  nothing lets the minute's whole allowance go at its start.
- Prioritised: a person waiting for a page (``Priority.PAGE``, set by the middleware for every
  request) may use the whole bucket; background work (Celery tasks, the sync, a streamed export
  or ZIP, anything outside a request: ``Priority.BACKGROUND``, the default) only while more than
  ``TRUEDY_BUDGET_RESERVE`` tokens are left, so the reserve is always there for people and
  background work yields while they keep the bucket low.
- Shared: on Redis (the production cache) one Lua script reads and moves the arrival time
  atomically, on Redis's own clock, so every process and instance draws from one bucket. On any
  other cache (local memory: one process) the same arithmetic runs under a process lock. A cache
  outage falls back to a bucket of this process's own, never to an error.
- Refused: a read whose stale copy can stand in never waits (``without_waiting``: the copy is
  shown at once, with its notice). A page with nothing to show reserves the next token if it
  comes within ``TRUEDY_BUDGET_PAGE_WAIT`` seconds (over all its reads, within its deadline) and
  waits for it; so only that many seconds' worth of pages ever wait, holding server threads.
  Background work asks again after each wait, at most ``TRUEDY_BUDGET_BACKGROUND_WAIT``
  seconds, so pages arriving meanwhile go first. Else ``BudgetExhausted``: a ``RateLimited``
  that pages answer with the "waiting for Truedy" page that fills itself in, and the sync and
  exports wait out like a short rate limit. It never starts the shared cool-down or counts
  against the breaker (``calls.upstream.resilience``): nothing was asked of Truedy.

``TRUEDY_REQUESTS_PER_MINUTE=0`` turns the budget off.
"""

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from calls.truedy.client import time_left
from calls.upstream.keys import UPSTREAM_PREFIX
from calls.upstream.problems import BudgetExhausted

logger = logging.getLogger("calls.upstream")

BUDGET_KEY = f"{UPSTREAM_PREFIX}:budget:tat"


class Priority(enum.StrEnum):
    PAGE = "page"  # a person is waiting for this page
    BACKGROUND = "background"  # refreshes, the sync, exports, ZIPs: may wait


_priority: ContextVar[Priority] = ContextVar("truedy_priority", default=Priority.BACKGROUND)
# Seconds a page may still spend waiting for tokens, over all its reads (None: no page limit).
_page_wait_left: ContextVar[list[float] | None] = ContextVar("truedy_page_wait", default=None)
# False while a stale copy can stand in for the answer: no waiting for a token then.
_may_wait: ContextVar[bool] = ContextVar("truedy_may_wait", default=True)


@contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Requests made inside take tokens at ``level`` (the middleware wraps every request). A
    page waits ``TRUEDY_BUDGET_PAGE_WAIT`` seconds for tokens in all, however many reads it
    makes: a slow page holds a server thread that other people's pages need."""
    allowance = [float(settings.TRUEDY_BUDGET_PAGE_WAIT)] if level is Priority.PAGE else None
    token, wait_token = _priority.set(level), _page_wait_left.set(allowance)
    try:
        yield
    finally:
        _page_wait_left.reset(wait_token)
        _priority.reset(token)


@contextmanager
def without_waiting() -> Iterator[None]:
    """Requests made inside take a token only if one is free now: for a read whose stale copy
    can be shown at once (with its notice) rather than keep a person waiting."""
    token = _may_wait.set(False)
    try:
        yield
    finally:
        _may_wait.reset(token)


def current_priority() -> Priority:
    return _priority.get()


# --- the arithmetic (GCRA) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    interval: float  # seconds per token: 60 / requests per minute
    burst: int  # tokens the bucket holds
    reserve: int  # tokens only pages may use

    @classmethod
    def from_settings(cls) -> "Limits | None":
        rate = settings.TRUEDY_REQUESTS_PER_MINUTE
        if rate <= 0:
            return None
        burst = max(1, settings.TRUEDY_BUDGET_BURST)
        return cls(60.0 / rate, burst, min(max(0, settings.TRUEDY_BUDGET_RESERVE), burst - 1))

    @property
    def horizon(self) -> float:
        """The furthest ahead of now the arrival time can be: the whole bucket, and a page's
        longest reservation beyond it."""
        return self.burst * self.interval + max(0.0, settings.TRUEDY_BUDGET_PAGE_WAIT)

    def backlog_allowed(self, level: Priority) -> float:
        """How far ahead of now the arrival time may run after taking a token, in seconds."""
        tokens = self.burst if level is Priority.PAGE else self.burst - self.reserve
        return tokens * self.interval


def take(
    tat: float,
    now: float,
    *,
    interval: float,
    allowed: float,
    horizon: float,
    delay: float = 0.0,
) -> tuple[float | None, float]:
    """One GCRA step. Taken: (the new arrival time, seconds to wait before sending: 0, or up to
    ``delay`` for a token reserved ahead). Refused: (None, seconds until a token is free).

    ``tat`` is the stored arrival time (0 when none). One further ahead than ``horizon`` (the
    whole bucket and the longest reservation) can only come from a clock that went back."""
    if tat > now + horizon:
        tat = now
    new_tat = max(tat, now) + interval
    backlog = new_tat - now
    if backlog > allowed + delay + 1e-9:
        return None, backlog - allowed
    return new_tat, max(0.0, backlog - allowed)


# Same as ``take``, atomically in Redis, on Redis's clock. Floats travel as strings (a Lua number
# returned to Redis is truncated to an integer).
_LUA = """
local interval = tonumber(ARGV[1])
local allowed = tonumber(ARGV[2])
local delay = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now or tat > now + tonumber(ARGV[3]) then tat = now end
local new_tat = tat + interval
local backlog = new_tat - now
if backlog > allowed + delay + 0.000000001 then
  return {0, tostring(backlog - allowed)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(backlog * 1000) + 1000)
return {1, tostring(math.max(0, backlog - allowed))}
"""


class LocalBucket:
    """The bucket for one process (the local-memory cache, or Redis unreachable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tat = 0.0

    def try_take(self, limits: Limits, level: Priority, delay: float = 0.0) -> tuple[bool, float]:
        """(True, seconds to wait before sending) if a token was taken, reserved at most
        ``delay`` ahead; else (False, seconds until one is free)."""
        with self._lock:
            new_tat, seconds = take(
                self._tat,
                self._clock(),
                interval=limits.interval,
                allowed=limits.backlog_allowed(level),
                horizon=limits.horizon,
                delay=delay,
            )
            if new_tat is not None:
                self._tat = new_tat
            return new_tat is not None, seconds

    def reset(self) -> None:
        with self._lock:
            self._tat = 0.0


class RedisBucket:
    """The bucket every process and instance shares, under one Redis key."""

    def __init__(self, cache: RedisCache) -> None:
        self._cache = cache
        self._script: Any = None

    def try_take(self, limits: Limits, level: Priority, delay: float = 0.0) -> tuple[bool, float]:
        client = self._cache._cache.get_client(write=True)
        if self._script is None:
            self._script = client.register_script(_LUA)
        key = self._cache.make_and_validate_key(BUDGET_KEY)
        args = (limits.interval, limits.backlog_allowed(level), limits.horizon, delay)
        taken, seconds = self._script(keys=[key], args=[repr(a) for a in args], client=client)
        return bool(int(taken)), float(seconds)

    def reset(self) -> None:
        self._cache.delete(BUDGET_KEY)


_local = LocalBucket()
_redis_buckets: dict[int, RedisBucket] = {}
_last_outage_log = 0.0


def _shared_bucket() -> LocalBucket | RedisBucket:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return _local
    bucket = _redis_buckets.get(id(cache))
    if bucket is None:
        bucket = _redis_buckets[id(cache)] = RedisBucket(cache)
    return bucket


def _try_take(limits: Limits, level: Priority, delay: float = 0.0) -> tuple[bool, float]:
    bucket = _shared_bucket()
    try:
        return bucket.try_take(limits, level, delay)
    except Exception as error:  # Redis down: pace this process on its own rather than fail
        if bucket is _local:
            raise
        global _last_outage_log
        if time.monotonic() - _last_outage_log > 10:
            _last_outage_log = time.monotonic()
            logger.error(
                "request budget in Redis failed (%s); pacing locally", type(error).__name__
            )
        return _local.try_take(limits, level, delay)


def reset() -> None:
    """Forget every token taken (tests)."""
    _local.reset()
    bucket = _shared_bucket()
    if bucket is not _local:
        bucket.reset()


# --- the hook in front of every request --------------------------------------------------------


def before_request(
    path: str = "",
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Take a token for one Truedy request at the current priority, waiting a bounded time for
    one; raise ``BudgetExhausted`` if none comes in time."""
    limits = Limits.from_settings()
    if limits is None:
        return
    level = _priority.get()
    page_left = _page_wait_left.get()
    longest = (
        settings.TRUEDY_BUDGET_PAGE_WAIT
        if level is Priority.PAGE
        else settings.TRUEDY_BUDGET_BACKGROUND_WAIT
    )
    if page_left is not None:
        longest = min(longest, page_left[0])
    if not _may_wait.get():
        longest = 0.0
    left = time_left()
    if left is not None:
        longest = min(longest, max(0.0, left - 0.5))  # keep time for the request itself
    started = monotonic()
    give_up = started + longest
    try:
        _take_within(limits, level, path, give_up, sleep=sleep, monotonic=monotonic)
    finally:
        if page_left is not None:
            page_left[0] = max(0.0, page_left[0] - (monotonic() - started))


def _take_within(
    limits: Limits,
    level: Priority,
    path: str,
    give_up: float,
    *,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> None:
    """A page reserves the next free token if it comes before ``give_up`` and waits for it: a
    definite place in line, so at most a second or two of pages wait at once and the rest are
    answered at once. Background work asks again after each wait instead, so a page arriving
    meanwhile goes first."""
    while True:
        remaining = max(0.0, give_up - monotonic())
        reserve = remaining if level is Priority.PAGE else 0.0
        taken, seconds = _try_take(limits, level, reserve)
        if taken:
            if seconds > 0:
                sleep(seconds)
            return
        if level is Priority.PAGE or seconds > remaining:
            logger.info(
                "Truedy budget: %s request for %s refused (next token in %.1f s)",
                level,
                path or "?",
                seconds,
            )
            raise BudgetExhausted(
                "The dashboard's share of Truedy's requests is used up for the moment",
                retry_after=round(max(seconds, 0.1), 1),
                code="budget",
            )
        sleep(seconds + 0.001)
