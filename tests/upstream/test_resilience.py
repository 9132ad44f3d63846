"""The page deadline, the shared cool-down, the circuit breaker, one upstream call per cold key
and a dead cache."""

import logging
import socket
import threading
import time
import types
import uuid

import httpx
import pytest
from django.core.cache import caches
from django.test import override_settings

from calls.truedy.client import TruedyClient, deadline
from calls.truedy.errors import NotFound, RateLimited, UpstreamUnavailable
from calls.upstream import cache as upstream_cache
from calls.upstream import gateway, reads, resilience
from calls.upstream.problems import CircuitOpen
from tests.conftest import upstream_paths

# Also run on PostgreSQL and Redis by `make test` (test-shared-backends).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

LIST = "/api/public/v1/calls"


@pytest.fixture
def sim(frozen_simulator, monkeypatch):
    monkeypatch.setattr(gateway.get_client(), "_sleep", lambda seconds: None)
    frozen_simulator.reset_requests()
    return frozen_simulator


@pytest.fixture
def one_attempt(sim, monkeypatch):
    """No retries: each failing read is one upstream request."""
    monkeypatch.setattr(gateway.get_client(), "_max_attempts", 1)


@pytest.fixture
def clock(monkeypatch):
    """The wall clock resilience and services read, under the test's control."""
    now = [time.time()]
    fake = types.SimpleNamespace(time=lambda: now[0], monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(resilience, "time", fake)
    monkeypatch.setattr(upstream_cache, "time", fake)

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def list_requests(sim) -> int:
    return sum(1 for path in upstream_paths(sim) if path == LIST)


# --- circuit breaker -----------------------------------------------------------------------------


def test_repeated_failures_open_the_breaker_and_one_probe_closes_it(
    sim, one_attempt, clock, settings
):
    settings.TRUEDY_BREAKER_FAILURES = 5
    settings.TRUEDY_BREAKER_RESET = 30
    sim.switches.fail_next(5, 503)
    for offset in range(5):
        with pytest.raises(UpstreamUnavailable):
            reads.list_calls(offset=offset)
    assert list_requests(sim) == 5

    sim.reset_requests()
    for offset in range(100):
        with pytest.raises(CircuitOpen):
            reads.list_calls(offset=offset)
    assert upstream_paths(sim) == [], "an open breaker makes no upstream request"

    clock(31)  # half-open: exactly one probe goes out, and it succeeds
    reads.list_calls(offset=1000)
    assert list_requests(sim) == 1
    reads.list_calls(offset=1001)
    assert list_requests(sim) == 2, "closed again"


def test_a_failed_probe_keeps_the_breaker_open(sim, one_attempt, clock, settings):
    settings.TRUEDY_BREAKER_FAILURES = 2
    sim.switches.fail_next(3, 500)
    for offset in range(2):
        with pytest.raises(UpstreamUnavailable):
            reads.list_calls(offset=offset)
    clock(settings.TRUEDY_BREAKER_RESET + 1)
    with pytest.raises(UpstreamUnavailable):
        reads.list_calls(offset=50)  # the probe fails
    sim.reset_requests()
    with pytest.raises(CircuitOpen):
        reads.list_calls(offset=51)
    assert upstream_paths(sim) == []


def test_answers_that_are_not_outages_do_not_trip_the_breaker(sim, settings):
    settings.TRUEDY_BREAKER_FAILURES = 2
    for _ in range(4):
        with pytest.raises(NotFound):
            reads.get_call("call_doesnotexist000000000000")
    reads.list_calls()  # still called: 404s are answers
    assert list_requests(sim) == 1


def test_the_breaker_protects_pages_and_says_so(staff_client, sim, one_attempt, settings):
    settings.TRUEDY_BREAKER_FAILURES = 1
    sim.switches.fail_next(1, 500)
    assert staff_client.get("/calls/").status_code == 502
    sim.reset_requests()
    response = staff_client.get("/calls/")
    assert response.status_code == 503
    assert "pauses its requests" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= settings.TRUEDY_BREAKER_RESET
    assert upstream_paths(sim) == []


# --- shared cool-down ----------------------------------------------------------------------------


def test_retry_after_starts_a_cool_down_for_everyone(sim, clock):
    sim.switches.rate_limit_next(1, retry_after=30)
    with pytest.raises(RateLimited):
        reads.list_calls()
    assert list_requests(sim) == 1, "no retry: 30 s is longer than a page may wait"
    sim.reset_requests()
    for offset in range(1, 20):
        with pytest.raises(RateLimited) as raised:
            reads.list_calls(offset=offset)
        assert 0 < raised.value.retry_after <= 30
    assert upstream_paths(sim) == [], "nobody calls Truedy during the cool-down"
    clock(31)
    reads.list_calls(offset=99)
    assert list_requests(sim) == 1


def test_a_short_retry_after_is_waited_out_within_the_page(sim, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(gateway.get_client(), "_sleep", slept.append)
    sim.switches.rate_limit_next(1, retry_after=2)
    reads.list_calls()
    assert slept == [2]
    assert list_requests(sim) == 2


def test_cool_down_serves_stale_data_with_a_notice(staff_client, sim, clock):
    assert staff_client.get("/calls/").status_code == 200
    clock(3600)
    sim.switches.rate_limit_next(1, retry_after=60)
    first = staff_client.get("/calls/")
    sim.reset_requests()
    second = staff_client.get("/calls/")
    for response in (first, second):
        assert response.status_code == 200
        assert (
            "Truedy is rate-limiting the dashboard — showing data from" in response.content.decode()
        )
    assert upstream_paths(sim) == []


# --- one deadline per page -----------------------------------------------------------------------


def test_retries_and_waits_stop_at_the_pages_deadline():
    seen: list[float] = []

    def slow_failure(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        time.sleep(0.3)
        return httpx.Response(503, json={"error": {"code": "x", "message": "down"}})

    client = TruedyClient(
        base_url="https://api.example.test/v1",
        api_key="k",
        transport=httpx.MockTransport(slow_failure),
        max_attempts=10,
        backoff_base=0.01,
        read_timeout=8,
    )
    started = time.monotonic()
    with deadline(0.5), pytest.raises(UpstreamUnavailable):
        client.list_calls()
    elapsed = time.monotonic() - started
    assert len(seen) == 2, "the third attempt would start after the deadline"
    assert elapsed < 0.5 + 0.3 + 0.1
    assert seen[0] <= 0.5 and seen[1] <= 0.25, "each attempt's read timeout fits what is left"


def test_without_a_deadline_the_configured_timeouts_apply():
    timeouts = []

    def ok(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json={"data": [], "meta": {"total": 0}})

    client = TruedyClient(
        base_url="https://api.example.test/v1", api_key="k", transport=httpx.MockTransport(ok)
    )
    client.list_calls()
    assert timeouts == [8.0]


def test_the_page_deadline_is_set_for_every_request(staff_client, sim, settings, monkeypatch):
    settings.TRUEDY_PAGE_DEADLINE = 0.4
    sim.switches.latency_seconds = 0.25
    sim.switches.fail_next(10, 503)
    started = time.monotonic()
    response = staff_client.get("/calls/")
    assert response.status_code == 502
    assert time.monotonic() - started < 0.4 + 0.25 + 0.2
    assert 1 <= len(upstream_paths(sim)) <= 2, "the third attempt never fits"


# --- one upstream call per cold key --------------------------------------------------------------


def concurrent_cold_reads(sim, threads: int = 20) -> int:
    sim.switches.latency_seconds = 0.2
    barrier = threading.Barrier(threads)
    errors = []

    def read():
        barrier.wait()
        try:
            reads.list_calls(status="ended", limit=50)
        except Exception as error:
            errors.append(error)

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return list_requests(sim)


def test_twenty_readers_of_a_cold_key_make_one_upstream_call(sim):
    assert concurrent_cold_reads(sim) == 1


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_cache():
    if not redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    redis = {
        "default": {
            "BACKEND": "calls.upstream.redis_cache.SharedClientRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"test-resilience-{uuid.uuid4().hex}",
        }
    }
    # A key prefix of its own, never FLUSHDB: other processes may share this Redis database.
    with override_settings(CACHES=redis):
        yield caches["default"]


def test_with_redis_the_lock_is_shared_so_still_one_call(sim, redis_cache):
    """SET NX in Redis: the same lock every gunicorn worker sees."""
    assert concurrent_cold_reads(sim) == 1
    assert (
        redis_cache.get(
            upstream_cache.cache_key(
                "calls",
                {
                    "agent_id": None,
                    "status": "ended",
                    "direction": None,
                    "created_after": None,
                    "created_before": None,
                    "limit": 50,
                    "offset": 0,
                },
            )
        )
        is not None
    )


# --- the cache is down ---------------------------------------------------------------------------


@pytest.fixture
def dead_cache():
    dead = {
        "default": {
            "BACKEND": "calls.upstream.redis_cache.SharedClientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=dead):  # undone before the suite's own cache.clear()
        yield caches["default"]


def test_a_dead_cache_degrades_to_direct_upstream_calls(staff_client, sim, dead_cache, caplog):
    with caplog.at_level(logging.ERROR, logger="calls.upstream"):
        for _ in range(2):
            response = staff_client.get("/calls/")
            assert response.status_code == 200
            assert "Showing 1–25 of" in response.content.decode()
    assert list_requests(sim) == 2, "nothing cached, so each view asks Truedy"
    call_id = response.context["calls"][0].id
    assert staff_client.get(f"/calls/{call_id}/").status_code == 200


# --- 401/403 are loud ----------------------------------------------------------------------------


def test_a_refused_key_is_logged_loudly_and_not_retried(staff_client, sim, caplog):
    sim.switches.fail_next(1, 401)
    with caplog.at_level(logging.ERROR, logger="calls.views"):
        response = staff_client.get("/calls/")
    assert response.status_code == 502
    assert "check <code>TRUEDY_API_KEY</code>" in response.content.decode()
    assert len(upstream_paths(sim)) == 1
    assert any(
        r.levelno == logging.ERROR and "refused the dashboard" in r.getMessage()
        for r in caplog.records
    )


# --- pages that wait out a rate limit -----------------------------------------------------------


def test_a_call_never_cached_stands_on_its_list_row_while_truedy_rate_limits(staff_client, sim):
    listing = staff_client.get("/calls/?status=ended&tz=UTC")
    call = listing.context["calls"][3]
    sim.switches.rate_limit_next(5, retry_after=30)
    response = staff_client.get(f"/calls/{call.id}/?status=ended&tz=UTC")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Truedy is rate-limiting the dashboard — this call is shown from the list" in text
    assert call.contact_number in text
    assert 'hx-trigger="every 31s"' in text, "the call fills itself in later"
    assert "The transcript appears here as soon as Truedy answers." in text
    assert "<audio" not in text
    # Once Truedy answers, the poll brings the whole call.
    sim.switches.reset()
    resilience.safe_delete(resilience.COOLDOWN_KEY)
    poll = staff_client.get(
        f"/calls/{call.id}/?status=ended&tz=UTC", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="call"
    )
    assert poll.status_code == 200
    assert 'id="transcript-turns"' in poll.content.decode()
    assert "shown from the list" not in poll.content.decode()


def test_without_its_list_a_call_gets_the_waiting_page(staff_client, sim):
    call_id = reads.list_calls(status="ended").calls[0].id
    sim.switches.rate_limit_next(5, retry_after=30)
    response = staff_client.get(f"/calls/{call_id}/")
    assert response.status_code == 200
    assert "loads by itself in about 31 seconds" in response.content.decode()


def test_a_waiting_results_fragment_retries_itself_into_the_results(staff_client, sim):
    sim.switches.rate_limit_next(5, retry_after=20)
    response = staff_client.get(
        "/calls/?status=failed", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert 'hx-target="#results" hx-get="/calls/?status=failed" hx-trigger="load delay:21s"' in text
    assert 'id="results"' not in text


def test_waiting_for_a_refresh_stops_when_it_fails(sim, monkeypatch):
    """Another request holds the refresh lock, then gives up without an answer: stop waiting."""
    key = upstream_cache.cache_key("calls", {"x": 1})
    lock = f"{key}:refresh"
    resilience.safe_add(lock, "someone-else", 15)

    def give_up():  # a thread that sleeps, not a threading.Timer: libfaketime breaks timed waits
        time.sleep(0.2)
        resilience.safe_delete(lock)

    threading.Thread(target=give_up).start()
    started = time.monotonic()
    assert upstream_cache._wait_for(key, lock) is None
    assert time.monotonic() - started < 1.0


def test_the_redis_backend_keeps_one_client_per_pool(redis_cache):
    """Django builds a redis.Redis per operation; ours builds one and shares it (thread-safe)."""
    client = redis_cache._cache
    assert client.get_client() is client.get_client(write=True)
    redis_cache.set("shared-client", {"n": 1})
    assert redis_cache.get("shared-client") == {"n": 1}


def test_long_reads_wait_out_short_rate_limits_only():
    from calls.upstream.resilience import waiting_out_short_limits

    answers = [RateLimited("slow", retry_after=2), RateLimited("slow", retry_after=1), "page"]
    pauses = []

    def request():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert waiting_out_short_limits(request, longest=5, waits=3, sleep=pauses.append) == "page"
    assert pauses == [2, 1]
    too_long = RateLimited("slow", retry_after=6)
    with pytest.raises(RateLimited):
        waiting_out_short_limits(lambda: (_ for _ in ()).throw(too_long), longest=5, waits=3)
    again = []
    with pytest.raises(RateLimited):
        waiting_out_short_limits(
            lambda: (_ for _ in ()).throw(RateLimited("slow", retry_after=1)),
            longest=5,
            waits=2,
            sleep=again.append,
        )
    assert again == [1, 1], "two waits, then the third limit is raised"
