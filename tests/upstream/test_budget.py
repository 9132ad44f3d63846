"""Truedy's request budget: paced across the minute, pages before background work, a bounded
wait then a stale copy or the waiting page, shared by every thread and process on Redis."""

import threading
import time

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpResponse
from django.test import RequestFactory

from calls.middleware import UpstreamBudgetMiddleware
from calls.truedy.filters import CallFilters
from calls.truedy.records import CallPage
from calls.upstream import budget, paging, reads, resilience
from calls.upstream import cache as upstream_cache
from calls.upstream.budget import Limits, LocalBucket, Priority
from calls.upstream.problems import BudgetExhausted, problem_of
from tests.conftest import upstream_paths
from tests.services.test_export import T0, make_call  # a call numbered n, n minutes before T0

pytestmark = pytest.mark.django_db

PAGE, BACKGROUND = Priority.PAGE, Priority.BACKGROUND


class FakeClock:
    """One clock for the bucket, the waits and the page deadline: sleeping moves it."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch, settings):
    """A budget of 60 a minute (one a second), 10 at once, 4 kept for pages, on a fake clock:
    a rolling rate (no windows: see test_budget_window.py)."""
    settings.TRUEDY_REQUESTS_PER_MINUTE = 60
    settings.TRUEDY_BUDGET_WINDOW = 0
    settings.TRUEDY_BUDGET_BURST = 10
    settings.TRUEDY_BUDGET_RESERVE = 4
    settings.TRUEDY_BUDGET_PAGE_WAIT = 1.5
    settings.TRUEDY_BUDGET_BACKGROUND_WAIT = 10.0
    fake = FakeClock()
    local = LocalBucket(clock=fake)
    monkeypatch.setattr(budget, "_local", local)
    monkeypatch.setattr(budget, "_shared_bucket", lambda: local)  # on Redis too
    return fake


def take(clock: FakeClock, level: Priority = PAGE) -> None:
    with budget.priority(level):
        budget.before_request("calls", sleep=clock.sleep, monotonic=clock)


def taken_now(clock: FakeClock, level: Priority, attempts: int) -> int:
    """How many of ``attempts`` requests at ``level`` get a token without waiting."""
    limits = Limits.from_settings()
    assert limits is not None
    return sum(budget._local.try_take(limits, level)[0] for _ in range(attempts))


# --- pacing --------------------------------------------------------------------------------------


def test_a_quiet_bucket_allows_its_burst_then_one_request_per_interval(clock):
    assert taken_now(clock, PAGE, 50) == 10
    clock.now += 0.5
    assert taken_now(clock, PAGE, 5) == 0, "half an interval later, no whole token yet"
    clock.now += 0.5
    assert taken_now(clock, PAGE, 5) == 1


def test_a_busy_minute_is_spread_evenly_not_spent_at_its_start(clock):
    """Demand far above the budget, every 100 ms for five minutes: after the first burst, every
    10 s window gets the same share, and no 60 s window gets more than rate + burst."""
    passed: list[float] = []
    start = clock.now
    for _ in range(3000):
        if taken_now(clock, PAGE, 1):
            passed.append(clock.now - start)
        clock.now += 0.1
    assert len(passed) == pytest.approx(10 + 300, abs=2)
    per_window = [sum(1 for t in passed if w <= t < w + 10) for w in range(60, 300, 10)]
    assert set(per_window) <= {10, 11}, per_window
    for second in range(0, 240):
        in_minute = sum(1 for t in passed if second <= t < second + 60)
        assert in_minute <= 60 + 10


def test_the_budget_is_off_at_zero_requests_per_minute(clock, settings):
    settings.TRUEDY_REQUESTS_PER_MINUTE = 0
    for _ in range(1000):
        take(clock, BACKGROUND)
    assert clock.slept == []


# --- priority ------------------------------------------------------------------------------------


def test_background_work_leaves_the_reserve_to_pages(clock):
    assert taken_now(clock, BACKGROUND, 20) == 6, "10 in the bucket, 4 kept for pages"
    assert taken_now(clock, PAGE, 20) == 4


def test_background_work_yields_while_pages_keep_the_bucket_low(clock):
    """Pages asking once a second take every token as it comes; background work gets none
    until they stop, and then only above the reserve."""
    assert taken_now(clock, PAGE, 10) == 10
    background = 0
    for _ in range(30):
        clock.now += 1.0
        assert taken_now(clock, PAGE, 1) == 1
        background += taken_now(clock, BACKGROUND, 1)
    assert background == 0
    clock.now += 10.0
    assert taken_now(clock, BACKGROUND, 20) == 6


def test_requests_outside_a_page_are_background_and_a_page_is_a_page(rf: RequestFactory):
    assert budget.current_priority() is BACKGROUND
    seen: list[Priority] = []

    def view(request):
        seen.append(budget.current_priority())
        return HttpResponse()

    UpstreamBudgetMiddleware(view)(rf.get("/"))
    assert seen == [PAGE]
    assert budget.current_priority() is BACKGROUND


def test_pages_read_ahead_in_worker_threads_keep_the_readers_priority():
    """A page's totals read every matching page, some in worker threads: still a page's."""
    seen: set[Priority] = set()

    def fetch_page(**params):
        seen.add(budget.current_priority())
        offset, limit = params["offset"], params["limit"]
        calls = tuple(make_call(n) for n in range(offset, min(offset + limit, 250)))
        return CallPage(calls, 250, limit, offset)

    with budget.priority(PAGE):
        read = list(
            paging.iter_matching_calls(CallFilters(), fetch_page=fetch_page, as_of=T0, prefetch=2)
        )
    assert len(read) == 250
    assert seen == {PAGE}


# --- waiting and refusing ------------------------------------------------------------------------


def test_a_page_waits_a_moment_for_the_next_token(clock):
    for _ in range(10):
        take(clock)
    take(clock)
    assert sum(clock.slept) == pytest.approx(1.0, abs=0.01)


def test_a_refusal_never_waits_past_the_page_wait(clock, settings):
    settings.TRUEDY_BUDGET_PAGE_WAIT = 0.5
    for _ in range(10):
        take(clock)
    with pytest.raises(BudgetExhausted) as refused:
        take(clock)
    assert clock.slept == [], "the token is 1 s away: longer than the page may wait"
    assert refused.value.retry_after == pytest.approx(1.0, abs=0.1)


def test_pages_reserve_their_place_in_line_so_few_wait_at_once(clock):
    """Five pages at once on an empty bucket: the first gets the next token (a second away)
    and waits for it; the others would wait longer than a page may, and are answered now."""
    limits = Limits.from_settings()
    assert taken_now(clock, PAGE, 10) == 10
    reserved = [budget._local.try_take(limits, PAGE, 1.5) for _ in range(5)]
    assert [taken for taken, _ in reserved] == [True, False, False, False, False]
    assert reserved[0][1] == pytest.approx(1.0)
    assert taken_now(clock, BACKGROUND, 1) == 0, "a reserved token is nobody else's"


def test_a_pages_reads_share_one_wait(clock):
    """1.5 s of waiting for the whole page: the first read waits 1 s, the second is refused
    rather than hold the server's thread another second."""
    for _ in range(10):
        take(clock)
    with budget.priority(PAGE):
        budget.before_request("calls", sleep=clock.sleep, monotonic=clock)
        assert sum(clock.slept) == pytest.approx(1.0, abs=0.01)
        with pytest.raises(BudgetExhausted):
            budget.before_request("agents", sleep=clock.sleep, monotonic=clock)
    assert sum(clock.slept) == pytest.approx(1.0, abs=0.01)


def test_background_work_waits_longer_than_a_page(clock):
    for _ in range(6):
        take(clock, BACKGROUND)
    take(clock, BACKGROUND)  # below the reserve: waits for the bucket to refill
    assert sum(clock.slept) == pytest.approx(1.0, abs=0.01)


def test_a_refusal_is_a_wait_not_a_truedy_problem():
    problem = problem_of(BudgetExhausted("used up", retry_after=2, code="budget"))
    assert problem.kind == "waiting" and problem.stale_ok and problem.passes_by_itself
    assert not problem.trips_breaker


# --- through the reads: stale with a notice, or the waiting page ---------------------------------


@pytest.fixture
def tight(settings, simulator, monkeypatch):
    """A budget of one request with no waiting, on the real clock."""
    settings.TRUEDY_REQUESTS_PER_MINUTE = 1
    settings.TRUEDY_BUDGET_WINDOW = 0
    settings.TRUEDY_BUDGET_BURST = 1
    settings.TRUEDY_BUDGET_RESERVE = 0
    settings.TRUEDY_BUDGET_PAGE_WAIT = 0
    settings.TRUEDY_BUDGET_BACKGROUND_WAIT = 0
    local = LocalBucket()
    monkeypatch.setattr(budget, "_local", local)
    monkeypatch.setattr(budget, "_shared_bucket", lambda: local)
    return simulator


def test_an_exhausted_budget_serves_the_stale_copy_with_a_notice_and_no_cool_down(tight):
    first = reads.list_calls(limit=5)
    assert len(upstream_paths(tight)) == 1
    key = upstream_cache.list_key({"limit": 5})
    entry = cache.get(key)
    cache.set(key, entry.__class__(entry.data, entry.fetched_at, 0.0), 600)  # now stale

    with budget.priority(PAGE), resilience.collecting_stale_reads() as stale:
        again = reads.list_calls(limit=5)
    assert again == first
    assert len(stale) == 1 and isinstance(stale[0].error, BudgetExhausted)
    assert len(upstream_paths(tight)) == 1, "no request went to Truedy"
    assert resilience.safe_get(resilience.COOLDOWN_KEY) is None
    assert not resilience.safe_get(resilience.FAILURES_KEY)


def test_a_stale_copy_is_shown_at_once_when_no_token_comes_within_the_wait(tight, settings):
    """The next token is a minute away, more than the page may wait (30 s): no waiting."""
    settings.TRUEDY_BUDGET_PAGE_WAIT = 30
    reads.list_calls(limit=5)
    key = upstream_cache.list_key({"limit": 5})
    entry = cache.get(key)
    cache.set(key, entry.__class__(entry.data, entry.fetched_at, 0.0), 600)

    started = time.monotonic()
    with budget.priority(PAGE), resilience.collecting_stale_reads() as stale:
        reads.list_calls(limit=5)
    assert time.monotonic() - started < 1, "no waiting for the next token (a minute away)"
    assert len(stale) == 1 and isinstance(stale[0].error, BudgetExhausted)


def test_a_cold_list_page_with_the_budget_spent_is_the_waiting_page(tight, staff_client):
    reads.list_agents()  # the one token
    response = staff_client.get("/calls/")
    assert response.status_code == 200  # the page, with its results waiting in place
    assert b'class="notice waiting"' in response.content
    assert b"share of Truedy&#x27;s requests is used up for the moment" in response.content
    assert b"loads by itself" in response.content
    # Our own budget said wait, not Truedy: the heading does not blame Truedy.
    assert b"this one waits its turn" in response.content
    assert b"Truedy asked the dashboard to slow down" not in response.content
    assert resilience.safe_get(resilience.COOLDOWN_KEY) is None


# --- shared: Redis -------------------------------------------------------------------------------


@pytest.mark.shared_backends
def test_threads_with_their_own_redis_connections_share_one_paced_bucket(settings):
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the shared bucket lives in Redis (make test-shared-backends)")
    settings.TRUEDY_REQUESTS_PER_MINUTE = 60  # one a second
    settings.TRUEDY_BUDGET_WINDOW = 0
    settings.TRUEDY_BUDGET_BURST = 6
    settings.TRUEDY_BUDGET_RESERVE = 2
    budget.reset()
    limits = Limits.from_settings()
    assert limits is not None
    taken = {PAGE: 0, BACKGROUND: 0}
    lock = threading.Lock()
    go = threading.Barrier(4)

    def worker(level: Priority) -> None:
        bucket = budget._shared_bucket()  # each thread: its own cache object and connections
        assert isinstance(bucket, budget.RedisBucket)
        go.wait()
        got = sum(bucket.try_take(limits, level)[0] for _ in range(10))
        with lock:
            taken[level] += got

    threads = [threading.Thread(target=worker, args=(BACKGROUND,)) for _ in range(2)]
    threads += [threading.Thread(target=worker, args=(PAGE,)) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 1, "the test assumes no token refilled meanwhile"
    assert taken[PAGE] + taken[BACKGROUND] == 6, taken
    assert taken[BACKGROUND] <= 4, "background never dips into the reserve"

    taken, wait = budget._shared_bucket().try_take(limits, PAGE)
    assert not taken and 0 < wait <= 1.0
    time.sleep(wait + 0.05)
    assert budget._shared_bucket().try_take(limits, PAGE)[0], "refilled one token in time"
    taken, delay = budget._shared_bucket().try_take(limits, PAGE, 1.5)
    assert taken and 0.5 < delay <= 1.0, "a page reserves the next token and waits for it"
    budget.reset()
