"""The budget against Truedy's fixed windows: Truedy's whole allowance (less a 2 % margin) in
every window, never more, paced over what is left of it; and the window learned from a 429."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from calls.truedy.errors import RateLimited
from calls.upstream import budget, resilience
from calls.upstream.budget import MAX_SPEEDUP, Limits, LocalBucket, Priority
from calls.upstream.problems import BudgetExhausted

pytestmark = pytest.mark.django_db

PAGE, BACKGROUND = Priority.PAGE, Priority.BACKGROUND
START = 1_800_000_000.0  # a multiple of 60: a window starts here


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def window(settings, monkeypatch):
    """Truedy's 100 a minute in clock minutes, 10 at once, 4 kept for pages, on a fake clock."""
    settings.TRUEDY_REQUESTS_PER_MINUTE = 100
    settings.TRUEDY_BUDGET_WINDOW = 60
    settings.TRUEDY_BUDGET_BURST = 10
    settings.TRUEDY_BUDGET_RESERVE = 4
    settings.TRUEDY_BUDGET_PAGE_WAIT = 0.75
    monkeypatch.setattr(budget, "_phase", 0.0)
    clock = FakeClock()
    bucket = LocalBucket(clock=clock)
    monkeypatch.setattr(budget, "_local", bucket)
    monkeypatch.setattr(budget, "_shared_bucket", lambda: bucket)
    return clock, bucket


def limits() -> Limits:
    found = Limits.from_settings()
    assert found is not None
    return found


def per_window(times: list[float], phase: float = 0.0) -> dict[int, int]:
    """Requests per Truedy window, the one holding START numbered 0."""
    counts: dict[int, int] = {}
    for moment in times:
        index = int((moment - START - phase) // 60)
        counts[index] = counts.get(index, 0) + 1
    return counts


@pytest.mark.parametrize(("rate", "limit"), [(100, 98), (60, 59), (49, 49), (1, 1), (300, 294)])
def test_a_window_keeps_two_percent_of_truedys_allowance_unused(settings, rate, limit):
    settings.TRUEDY_REQUESTS_PER_MINUTE = rate
    settings.TRUEDY_BUDGET_WINDOW = 60
    assert limits().window_limit == limit
    assert limits().interval == pytest.approx(60 / limit)


def test_no_window_is_the_rolling_rate_of_before(settings):
    settings.TRUEDY_REQUESTS_PER_MINUTE = 90
    settings.TRUEDY_BUDGET_WINDOW = 0
    assert limits().window == 0 and limits().interval == pytest.approx(60 / 90)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=600),
    pages=st.lists(st.booleans(), min_size=1, max_size=600),
    offset=st.floats(min_value=0.0, max_value=59.99),
)
def test_no_window_ever_gets_more_than_its_limit(window, gaps, pages, offset):
    """Whatever the demand, however bursty, whatever priority: at most 98 in any of Truedy's
    windows, and never more than the burst plus the fastest pace in any stretch."""
    clock, bucket = window
    bucket.reset()
    clock.now = START + offset
    found, taken = limits(), []
    for gap, page in zip(gaps, pages * (len(gaps) // len(pages) + 1), strict=False):
        clock.now += gap
        if bucket.try_take(found, PAGE if page else BACKGROUND)[0]:
            taken.append(clock.now)
    assert max(per_window(taken).values(), default=0) <= found.window_limit
    fastest = found.interval / MAX_SPEEDUP
    for index, first in enumerate(taken):
        within = sum(1 for moment in taken[index:] if moment - first < 5.0)
        assert within <= found.burst + 5.0 / fastest + 1


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(offset=st.floats(min_value=0.0, max_value=59.0), step=st.sampled_from([0.05, 0.1, 0.2]))
def test_a_busy_budget_uses_every_windows_allowance(window, offset, step):
    """People asking far faster than Truedy allows: every whole window gets its 98, and the
    window the demand began in gets what was left of it, spread over its rest."""
    clock, bucket = window
    bucket.reset()
    clock.now = START + offset
    found, taken = limits(), []
    while clock.now < START + 240:
        if bucket.try_take(found, PAGE)[0]:
            taken.append(clock.now)
        clock.now += step
    counts = per_window(taken)
    assert all(97 <= counts.get(i, 0) <= 98 for i in (1, 2, 3)), counts
    rest = 60 - offset
    # Never slower than the steady pace; and nearly all of it when asked often enough to.
    assert counts.get(0, 0) >= min(98, rest / max(step, found.interval)) - 2, counts
    asked = rest / step
    fastest = found.burst + rest / (found.interval / MAX_SPEEDUP)
    assert counts.get(0, 0) >= 0.93 * min(98, asked, fastest), counts


def test_requests_are_spread_over_the_window_not_spent_at_its_start(window):
    clock, bucket = window
    found, taken = limits(), []
    while clock.now < START + 60:
        if bucket.try_take(found, PAGE)[0]:
            taken.append(clock.now - START)
        clock.now += 0.01
    first_ten_seconds = sum(1 for moment in taken if moment < 10)
    assert first_ten_seconds <= 10 + 10 / found.interval + 1, "the burst, then the steady pace"
    assert len(taken) == 98


def test_the_spent_window_refuses_until_it_ends(window):
    clock, bucket = window
    found = limits()
    clock.now = START + 59.0
    taken = 0
    while clock.now < START + 59.9:
        taken += bucket.try_take(found, PAGE)[0]
        clock.now += 0.001
    # Quiet until 59 s: its whole allowance was left, but at most 4x the steady pace.
    assert taken <= found.burst + 0.9 / (found.interval / MAX_SPEEDUP) + 1


def test_a_429_teaches_where_truedys_window_ends(window, settings):
    clock, bucket = window
    budget.learn_window(12.5, wall=START + 30.0)  # this window ends at 42.5 s
    assert budget._phase == pytest.approx(42.5)
    found = limits()
    clock.now = START + 42.4
    taken = sum(bucket.try_take(found, PAGE)[0] for _ in range(200))
    assert taken == found.burst, "the window ending at 42.5 s: the burst only"
    clock.now = START + 42.6  # a new window, counted afresh
    assert bucket._window[0] == pytest.approx(START - 60 + 42.5)
    bucket.try_take(found, PAGE)
    assert bucket._window == (pytest.approx(START + 42.5), 1, 0)


@pytest.mark.parametrize("reset_in", [0.0, 61.0, 3600.0])
def test_a_wait_longer_than_a_window_says_nothing_about_it(window, reset_in):
    budget.learn_window(reset_in, wall=START + 30.0)
    assert budget._phase == 0.0


def test_truedys_rate_limit_is_learned_and_the_budgets_own_refusal_is_not(window, monkeypatch):
    learned: list[float] = []
    monkeypatch.setattr(budget, "learn_window", learned.append)
    permit = resilience.Permit(probe=False)
    resilience.failed(permit, BudgetExhausted("used up", retry_after=3, code="budget"))
    assert learned == []
    resilience.failed(permit, RateLimited("slow down", retry_after=7, code="rate_limit_exceeded"))
    assert learned == [7]


@pytest.mark.shared_backends
def test_on_redis_a_burst_never_passes_the_windows_limit(settings):
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the shared bucket lives in Redis (make test-shared-backends)")
    settings.TRUEDY_REQUESTS_PER_MINUTE = 300  # 10 in a window of 2 s
    settings.TRUEDY_BUDGET_WINDOW = 2
    settings.TRUEDY_BUDGET_BURST = 30
    settings.TRUEDY_BUDGET_RESERVE = 0
    budget.reset()
    found = limits()
    assert found.window_limit == 10
    bucket = budget._shared_bucket()
    assert isinstance(bucket, budget.RedisBucket)
    taken = sum(bucket.try_take(found, PAGE)[0] for _ in range(50))
    refused, wait = bucket.try_take(found, PAGE)
    budget.reset()
    assert 1 <= taken <= 10
    assert not refused and 0 < wait <= 2.0


# --- background work's share -------------------------------------------------------------------


def fill_then_ask_in_background(bucket, found: Limits) -> list[bool]:
    """Pages take all but the reserve's worth of a full bucket; then background work asks three
    times (a share of 2 in this window)."""
    assert sum(bucket.try_take(found, PAGE)[0] for _ in range(8)) == 8
    return [bucket.try_take(found, BACKGROUND)[0] for _ in range(3)]


@pytest.fixture
def share(settings):
    """20 a window (no margin below 50), so a background share of 2; 10 at once, 8 for pages."""
    settings.TRUEDY_REQUESTS_PER_MINUTE = 600
    settings.TRUEDY_BUDGET_WINDOW = 2
    settings.TRUEDY_BUDGET_BURST = 10
    settings.TRUEDY_BUDGET_RESERVE = 8
    found = limits()
    assert (found.window_limit, found.background_share) == (20, 2)
    return found


def test_background_work_gets_its_share_in_line_with_pages_then_only_what_they_leave(window, share):
    _, bucket = window
    assert fill_then_ask_in_background(bucket, share) == [True, True, False]


@pytest.mark.shared_backends
def test_on_redis_background_work_gets_its_share_in_line_with_pages(share):
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the shared bucket lives in Redis (make test-shared-backends)")
    budget.reset()
    bucket = budget._shared_bucket()
    try:
        # Well inside a window of 2 s, so the whole test stays in one.
        while (budget.time.time() % 2) > 1.0:
            budget.time.sleep(0.05)
        assert fill_then_ask_in_background(bucket, share) == [True, True, False]
    finally:
        budget.reset()


def test_a_busy_minute_leaves_background_work_its_share(window):
    """Pages asking every 50 ms keep the bucket empty; background work asking every 2 s still
    gets about its share of each window (10 % of 98), standing in line with them."""
    clock, bucket = window
    found = limits()
    assert found.background_share == 9
    taken: list[tuple[float, Priority]] = []
    next_background = START
    while clock.now < START + 180:
        if clock.now >= next_background:
            next_background += 2.0
            if bucket.try_take(found, BACKGROUND, 10.0)[0]:
                taken.append((clock.now, BACKGROUND))
        if bucket.try_take(found, PAGE, 0.75)[0]:
            taken.append((clock.now, PAGE))
        clock.now += 0.05
    for index in (1, 2):
        mine = [level for moment, level in taken if int((moment - START) // 60) == index]
        assert 5 <= mine.count(BACKGROUND) <= 9
        assert len(mine) <= 98
