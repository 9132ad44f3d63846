"""One Truedy request budget for every process and instance: paced, and people first.

Truedy allows about 100 requests a minute per key (``../shared/truedy-api.md``). Every API
request, retries included, takes a token here first (the client's ``before_request`` hook, wired
in ``calls.upstream.gateway``: the one choke point).

- Paced: a GCRA token bucket (a "theoretical arrival time" per key) refilling continuously,
  holding at most ``TRUEDY_BUDGET_BURST`` tokens. After a quiet spell a burst of that size may
  go at once, then requests are spaced evenly; nothing lets a minute's whole allowance go at once.
- Truedy's whole allowance, never more: Truedy counts ``TRUEDY_REQUESTS_PER_MINUTE`` requests
  in fixed windows of ``TRUEDY_BUDGET_WINDOW`` seconds (the simulator: each clock minute; a
  429's reset time says where a window ends, and the budget learns it: ``learn_window``). The
  budget counts its own requests per window, keeps a margin of 2 % unused, and spreads what is
  left of the current window evenly over the rest of it (at most ``MAX_SPEEDUP`` times the
  steady pace): a busy minute gets the allowance less the margin, one that began quiet still
  gets its unused share, and no window gets more. ``TRUEDY_BUDGET_WINDOW=0`` treats the limit
  as a rolling rate instead: a steady pace of ``TRUEDY_REQUESTS_PER_MINUTE`` (set it under
  Truedy's then).
- Prioritised: a person waiting for a page (``Priority.PAGE``, set by the middleware for every
  request) may use the whole bucket; background work (Celery tasks, the sync, a streamed export
  or ZIP, anything outside a request: ``Priority.BACKGROUND``, the default) only while more than
  ``TRUEDY_BUDGET_RESERVE`` tokens are left, so the reserve is always there for people and
  background work yields while they keep the bucket low.
- Shared: on Redis (the production cache) one Lua script reads and moves the arrival time
  atomically, on Redis's own clock, so every process and instance draws from one bucket. On any
  other cache (local memory: one process) the same arithmetic runs under a process lock. A cache
  outage falls back to a bucket of this process's own, never to an error.
- Refused: a page reserves the next token if it comes within ``TRUEDY_BUDGET_PAGE_WAIT``
  seconds (over all its reads, within its deadline) and waits for it; so only that many seconds'
  worth of pages ever wait, holding server threads. A read may be told to wait less
  (``waiting_at_most``; ``without_waiting``: a free token or none): a shorter wait is a lower
  place in line, since a longer one reserves a token further ahead (calls.upstream.cache gives
  the full wait to what people keep asking for and to pages with nothing else to show).
  Background work asks again after each wait, at most ``TRUEDY_BUDGET_BACKGROUND_WAIT``
  seconds, so pages arriving meanwhile go first. Else ``BudgetExhausted``: a ``RateLimited``
  that pages answer with the "waiting for Truedy" page that fills itself in, and the sync and
  exports wait out like a short rate limit. It never starts the shared cool-down or counts
  against the breaker (``calls.upstream.resilience``): nothing was asked of Truedy.

``TRUEDY_REQUESTS_PER_MINUTE=0`` turns the budget off.
"""

import enum
import logging
import math
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
# This window's start, its requests and its background ones (a hash: s, n, b).
WINDOW_KEY = f"{UPSTREAM_PREFIX}:budget:window"
# Where Truedy's windows start, in seconds past a multiple of the window (learned from a 429).
PHASE_KEY = f"{UPSTREAM_PREFIX}:budget:phase"
PHASE_KEEP_SECONDS = 7 * 24 * 3600
# A window's allowance is spread over its rest at most this much faster than the steady pace.
MAX_SPEEDUP = 4.0
# Background work's share of a window it may take in line with pages, a place just behind the
# pages waiting (above it, only what pages leave): people first, but the sync that keeps the
# archive current (and so keeps pages off Truedy altogether) is never starved by a busy minute.
BACKGROUND_SHARE = 0.1


class Priority(enum.StrEnum):
    PAGE = "page"  # a person is waiting for this page
    BACKGROUND = "background"  # refreshes, the sync, exports, ZIPs: may wait


_priority: ContextVar[Priority] = ContextVar("truedy_priority", default=Priority.BACKGROUND)
# Seconds a page may still spend waiting for tokens, over all its reads (None: no page limit).
_page_wait_left: ContextVar[list[float] | None] = ContextVar("truedy_page_wait", default=None)
# The longest a request may wait for a token here (None: as its priority allows; 0: only a
# token free now, for a read whose stale copy can stand in).
_wait_cap: ContextVar[float | None] = ContextVar("truedy_wait_cap", default=None)


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
    with waiting_at_most(0.0):
        yield


@contextmanager
def waiting_at_most(seconds: float) -> Iterator[None]:
    """Requests made inside wait at most ``seconds`` for a token (never longer than their
    priority allows): a shorter wait is a lower place in line, since a page takes a token only
    if it comes within its wait and a longer wait reserves one further ahead."""
    current = _wait_cap.get()
    token = _wait_cap.set(seconds if current is None else min(current, seconds))
    try:
        yield
    finally:
        _wait_cap.reset(token)


def current_priority() -> Priority:
    return _priority.get()


# --- the arithmetic (GCRA) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    interval: float  # seconds per token at the steady pace
    burst: int  # tokens the bucket holds
    reserve: int  # tokens only pages may use
    window: float = 0.0  # Truedy's fixed window in seconds (0: a rolling rate, no windows)
    window_limit: int = 0  # requests the budget lets go in one window
    background_share: int = 0  # of them, background requests that may stand in line with pages

    @classmethod
    def from_settings(cls) -> "Limits | None":
        rate = settings.TRUEDY_REQUESTS_PER_MINUTE
        if rate <= 0:
            return None
        burst = max(1, settings.TRUEDY_BUDGET_BURST)
        reserve = min(max(0, settings.TRUEDY_BUDGET_RESERVE), burst - 1)
        window = max(0.0, float(settings.TRUEDY_BUDGET_WINDOW))
        if not window:
            return cls(60.0 / rate, burst, reserve)
        allowance = rate * window / 60.0
        # 2 % kept unused: Truedy counts a request when it arrives, a moment after we do.
        limit = max(1, math.floor(allowance - allowance // 50))
        share = math.floor(limit * BACKGROUND_SHARE)
        return cls(window / limit, burst, reserve, window, limit, share)

    @property
    def horizon(self) -> float:
        """The furthest ahead of now the arrival time can be: the whole bucket, and the longest
        reservation beyond it (background work's within its share)."""
        return self.burst * self.interval + self.background_reach

    @property
    def background_reach(self) -> float:
        """How far beyond a full bucket background work within its share may reserve: past the
        pages waiting (``TRUEDY_BUDGET_PAGE_WAIT``) by two tokens, so it gets a place in line."""
        return max(0.0, settings.TRUEDY_BUDGET_PAGE_WAIT) + 2 * self.interval

    def tokens(self, level: Priority) -> int:
        """How many tokens ahead of now ``level`` may take."""
        return self.burst if level is Priority.PAGE else self.burst - self.reserve

    def backlog_allowed(self, level: Priority) -> float:
        """How far ahead of now the arrival time may run after taking a token, in seconds."""
        return self.tokens(level) * self.interval


def window_start(wall: float, *, length: float, phase: float) -> float:
    """The start of Truedy's window holding the moment ``wall`` (Unix seconds)."""
    return math.floor((wall - phase) / length) * length + phase


def window_interval(
    wall: float, *, start: float, length: float, left: int, interval: float
) -> float | None:
    """The pace for this window: what is left of its allowance spread evenly over what is left
    of it, never slower than the steady ``interval`` nor more than ``MAX_SPEEDUP`` times faster.
    None when the window's allowance is spent."""
    if left <= 0:
        return None
    rest = max(0.0, start + length - wall)
    return max(interval / MAX_SPEEDUP, min(interval, rest / left))


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


# Same as ``take`` with the window (``window_start``, ``window_interval``), atomically in Redis,
# on Redis's clock. Floats travel as strings (a Lua number returned to Redis is truncated to an
# integer). KEYS: the arrival time, the window's count, the learned phase.
_LUA = """
local interval = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local delay = tonumber(ARGV[4])
local length = tonumber(ARGV[5])
local limit = tonumber(ARGV[6])
local speedup = tonumber(ARGV[7])
local share = tonumber(ARGV[8])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local start = 0
local used = 0
local background = 0
if length > 0 then
  local phase = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
  start = math.floor((now - phase) / length) * length + phase
  local stored = redis.call('HMGET', KEYS[2], 's', 'n', 'b')
  if stored[1] and math.abs(tonumber(stored[1]) - start) < 0.001 then
    used = tonumber(stored[2]) or 0
    background = tonumber(stored[3] or '0') or 0
  end
  if share >= 0 then
    if background < share then
      tokens = tonumber(ARGV[9])
      delay = math.min(delay, tonumber(ARGV[10]))
    else
      delay = 0
    end
  end
  local left = limit - used
  if left <= 0 then
    return {0, tostring(math.max(0.01, start + length - now))}
  end
  interval = math.max(interval / speedup, math.min(interval, (start + length - now) / left))
end
local allowed = tokens * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now or tat > now + tonumber(ARGV[3]) then tat = now end
local new_tat = tat + interval
local backlog = new_tat - now
if backlog > allowed + delay + 0.000000001 then
  return {0, tostring(backlog - allowed)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(backlog * 1000) + 1000)
if length > 0 then
  if share >= 0 then background = background + 1 end
  redis.call('HSET', KEYS[2], 's', tostring(start), 'n', used + 1, 'b', background)
  redis.call('PEXPIRE', KEYS[2], math.ceil(length * 2000))
end
return {1, tostring(math.max(0, backlog - allowed))}
"""


class LocalBucket:
    """The bucket for one process (the local-memory cache, or Redis unreachable). ``clock``
    paces; ``wall`` (Unix seconds) says which of Truedy's windows it is."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self._clock = clock
        self._wall = wall or (time.time if clock is time.monotonic else clock)
        self._lock = threading.Lock()
        self._tat = 0.0
        self._window = (0.0, 0, 0)  # (start, requests counted in it, background ones)

    def try_take(self, limits: Limits, level: Priority, delay: float = 0.0) -> tuple[bool, float]:
        """(True, seconds to wait before sending) if a token was taken, reserved at most
        ``delay`` ahead; else (False, seconds until one is free)."""
        with self._lock:
            interval, start, used, background = limits.interval, 0.0, 0, 0
            tokens = limits.tokens(level)
            if limits.window:
                wall = self._wall()
                start = window_start(wall, length=limits.window, phase=_phase)
                if abs(self._window[0] - start) < 0.001:
                    used, background = self._window[1], self._window[2]
                if level is Priority.BACKGROUND:
                    if background < limits.background_share:
                        tokens = limits.tokens(Priority.PAGE)  # in line with pages
                        delay = min(delay, limits.background_reach)
                    else:
                        delay = 0.0  # only what pages leave, asking again after each wait
                paced = window_interval(
                    wall,
                    start=start,
                    length=limits.window,
                    left=limits.window_limit - used,
                    interval=limits.interval,
                )
                if paced is None:
                    return False, max(0.01, start + limits.window - wall)
                interval = paced
            new_tat, seconds = take(
                self._tat,
                self._clock(),
                interval=interval,
                allowed=tokens * interval,
                horizon=limits.horizon,
                delay=delay,
            )
            if new_tat is not None:
                self._tat = new_tat
                self._window = (start, used + 1, background + (level is Priority.BACKGROUND))
            return new_tat is not None, seconds

    def reset(self) -> None:
        with self._lock:
            self._tat = 0.0
            self._window = (0.0, 0, 0)


class RedisBucket:
    """The bucket every process and instance shares, under one Redis key."""

    def __init__(self, cache: RedisCache) -> None:
        self._cache = cache
        self._script: Any = None

    def try_take(self, limits: Limits, level: Priority, delay: float = 0.0) -> tuple[bool, float]:
        client = self._cache._cache.get_client(write=True)
        if self._script is None:
            self._script = client.register_script(_LUA)
        keys = [self._cache.make_and_validate_key(k) for k in (BUDGET_KEY, WINDOW_KEY, PHASE_KEY)]
        background = level is Priority.BACKGROUND
        args = (
            limits.interval,
            limits.tokens(level),
            limits.horizon,
            delay,
            limits.window,
            limits.window_limit,
            MAX_SPEEDUP,
            limits.background_share if background else -1,  # -1: a page
            limits.tokens(Priority.PAGE),
            limits.background_reach,
        )
        taken, seconds = self._script(keys=keys, args=[repr(a) for a in args], client=client)
        return bool(int(taken)), float(seconds)

    def learn_phase(self, phase: float) -> None:
        # Raw, not pickled: the script reads it as a number.
        client = self._cache._cache.get_client(write=True)
        key = self._cache.make_and_validate_key(PHASE_KEY)
        client.set(key, repr(phase), ex=PHASE_KEEP_SECONDS)

    def reset(self) -> None:
        client = self._cache._cache.get_client(write=True)
        keys = [self._cache.make_and_validate_key(k) for k in (BUDGET_KEY, WINDOW_KEY, PHASE_KEY)]
        client.delete(*keys)


_local = LocalBucket()
_redis_buckets: dict[int, RedisBucket] = {}
_last_outage_log = 0.0
_phase = 0.0  # this process's idea of where Truedy's windows start (the local bucket's)


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
    """Forget every token taken and the learned window (tests)."""
    global _phase
    _phase = 0.0
    _local.reset()
    bucket = _shared_bucket()
    if bucket is not _local:
        bucket.reset()


def learn_window(reset_in: float, *, wall: float | None = None) -> None:
    """Truedy refused a request until its window ends ``reset_in`` seconds from now (a 429's
    Retry-After or ``reset_at``): from now on, count windows from there. A wait longer than a
    window is another limit (a daily quota) and says nothing about the window."""
    global _phase
    limits = Limits.from_settings()
    if limits is None or not limits.window or not 0 < reset_in <= limits.window:
        return
    phase = round(((wall if wall is not None else time.time()) + reset_in) % limits.window, 3)
    if phase == _phase:
        return
    _phase = phase
    logger.info("Truedy's rate-limit window starts %.0f s past the minute; pacing to it", phase)
    bucket = _shared_bucket()
    if isinstance(bucket, RedisBucket):
        try:
            bucket.learn_phase(phase)
        except Exception as error:  # Redis down: this process paces to it on its own
            logger.warning("could not share Truedy's window (%s)", type(error).__name__)


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
    cap = _wait_cap.get()
    if cap is not None:
        longest = min(longest, max(0.0, cap))
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
        # Background work within its share of the window stands in line just behind the pages
        # waiting (the bucket caps how far ahead); beyond it, it asks again after each wait.
        reserve = remaining if level is Priority.PAGE or limits.background_share else 0.0
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
