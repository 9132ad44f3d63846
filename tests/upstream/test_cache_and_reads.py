"""Reading Truedy through the cache (calls.upstream.cache, calls.upstream.reads): namespaced
keys, stale-if-error, one refresh per key, call TTLs and neighbours."""

import dataclasses
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from calls.truedy import lifecycle
from calls.truedy.errors import UpstreamUnavailable
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, Turn
from calls.upstream import cache, gateway, reads

# Also run on PostgreSQL and Redis by `make test` (test-shared-backends).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]


def test_a_cached_list_makes_one_upstream_request(simulator):
    first = reads.list_calls(status="ended", limit=25)
    second = reads.list_calls(status="ended", limit=25)
    assert first == second
    assert len(simulator.requests) == 1


def test_different_filters_are_different_cache_entries(simulator):
    reads.list_calls(status="ended", limit=25)
    reads.list_calls(status="failed", limit=25)
    assert len(simulator.requests) == 2


def test_a_cached_call_makes_one_upstream_request(simulator):
    call_id = reads.list_calls(limit=1).calls[0].id
    simulator.reset_requests()
    assert reads.get_call(call_id) == reads.get_call(call_id)
    assert len(simulator.requests) == 1


def test_agent_names_are_cached(simulator):
    names = reads.agent_names()
    assert names
    requests_after_first = len(simulator.requests)
    reads.agent_names()
    assert len(simulator.requests) == requests_after_first


def test_cache_keys_are_namespaced_and_canonical():
    key_a = cache.cache_key("calls", {"status": "ended", "limit": 25})
    key_b = cache.cache_key("calls", {"limit": 25, "status": "ended"})
    assert key_a == key_b
    assert key_a.startswith("truedy:v2:calls:")


# --- TTLs by call state -----------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def a_call(**changes) -> Call:
    base = Call(
        id="call_1",
        agent_id="agt_1",
        status="ended",
        direction="outbound",
        created_at=NOW - timedelta(hours=3),
        started_at=NOW - timedelta(hours=3),
        ended_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(hours=2),
        to_number="+15550100",
        from_number="+15550101",
        duration_seconds=60,
        cost_cents=10,
        outcome="interested",
        summary="A call.",
        transcript=(Turn("agent", "Hello", 0.0),),
        recording_url=None,
        metadata=MappingProxyType({}),
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def ttls(settings):
    settings.CACHE_TTL_CALL_FINAL = 600
    settings.CACHE_TTL_CALL_PENDING = 5
    settings.TRANSCRIPT_PROCESSING_WINDOW = 600


def test_an_ended_call_with_its_transcript_is_kept_long(ttls):
    assert reads.call_ttl(a_call(), NOW) == 600


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress"])
def test_a_live_call_is_kept_very_briefly(ttls, status):
    call = a_call(status=status, ended_at=None, transcript=None)
    assert reads.transcript_state(call, NOW) is lifecycle.TranscriptState.LIVE
    assert reads.call_ttl(call, NOW) == 5


def test_a_transcript_being_processed_is_kept_very_briefly(ttls):
    call = a_call(ended_at=NOW - timedelta(seconds=10), transcript=None)
    assert reads.transcript_state(call, NOW) is lifecycle.TranscriptState.PROCESSING
    assert reads.call_ttl(call, NOW) == 5


def test_a_transcript_still_missing_after_the_window_is_final(ttls):
    call = a_call(ended_at=NOW - timedelta(minutes=11), transcript=None)
    assert reads.transcript_state(call, NOW) is lifecycle.TranscriptState.NONE
    assert reads.call_ttl(call, NOW) == 600


def test_a_failed_call_that_was_never_answered_never_gets_a_transcript(ttls):
    call = a_call(status="failed", transcript=None, started_at=None, ended_at=NOW)
    assert reads.transcript_state(call, NOW) is lifecycle.TranscriptState.NONE


def test_a_call_that_dropped_mid_call_is_still_transcribed(ttls):
    call = a_call(status="failed", transcript=None, ended_at=NOW - timedelta(seconds=5))
    assert reads.transcript_state(call, NOW) is lifecycle.TranscriptState.PROCESSING


def test_a_signed_link_is_not_cached_past_two_minutes_before_it_expires(ttls):
    ended = NOW - timedelta(hours=23, minutes=55)  # the link dies in 5 minutes
    call = a_call(ended_at=ended, recording_url="https://storage.example/r.mp3?sig=x")
    assert reads.call_ttl(call, NOW) == 180


def test_a_fresh_link_leaves_the_ttl_alone(ttls):
    call = a_call(ended_at=NOW - timedelta(hours=1), recording_url="https://s.example/r.mp3")
    assert reads.call_ttl(call, NOW) == 600


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"recording_url": "https://s.example/r.mp3"}, lifecycle.RecordingState.AVAILABLE),
        ({"status": "in-progress", "ended_at": None}, lifecycle.RecordingState.NOT_YET),
        (
            {"ended_at": NOW - timedelta(hours=30), "recording_link_expired": True},
            lifecycle.RecordingState.EXPIRED,
        ),
        ({"ended_at": NOW - timedelta(hours=30)}, lifecycle.RecordingState.NONE),  # never had one
        ({}, lifecycle.RecordingState.NONE),
    ],
)
def test_recording_states(changes, state):
    assert lifecycle.recording_state(a_call(**changes), NOW) is state


def test_an_expired_link_is_dropped_before_caching(frozen_simulator):
    now_us = frozen_simulator.clock.now_us()
    old = next(
        c
        for c in frozen_simulator.data.calls
        if c.recording and c.ended and now_us - c.ended > 48 * 3600 * 10**6
    )
    assert gateway.get_client().get_call(old.id).recording_url, "Truedy still sends the dead link"
    assert reads.get_call(old.id).recording_url is None


def test_an_upstream_error_is_not_cached(frozen_simulator):
    frozen_simulator.switches.fail_next(3, status=500)
    with pytest.raises(UpstreamUnavailable):
        reads.list_calls(status="ended", limit=25)
    frozen_simulator.switches.reset()
    frozen_simulator.reset_requests()
    assert reads.list_calls(status="ended", limit=25).calls
    assert len(frozen_simulator.requests) == 1


def test_cached_only_agents_never_call_upstream(frozen_simulator):
    assert reads.agent_names(cached_only=True) == {}
    assert frozen_simulator.requests == []
    reads.agent_names()
    frozen_simulator.reset_requests()
    assert reads.agent_names(cached_only=True)
    assert frozen_simulator.requests == []


def test_neighbours_cross_page_edges(frozen_simulator):
    page1 = reads.list_calls(limit=10, offset=0).calls
    page2 = reads.list_calls(limit=10, offset=10).calls
    found = reads.find_neighbours(page1[-1].id, page=1, per_page=10, filters=CallFilters())
    assert found.position == 10
    assert found.previous == reads.Neighbour(page1[-2].id, 1)
    assert found.next == reads.Neighbour(page2[0].id, 2)


def test_a_call_pushed_to_the_next_page_is_still_found(frozen_simulator):
    page2 = reads.list_calls(limit=10, offset=10).calls
    found = reads.find_neighbours(page2[3].id, page=1, per_page=10, filters=CallFilters())
    assert found.position == 14


# --- a list page is read in its block of 100 rows ---------------------------------------------


def test_one_request_reads_a_lists_next_pages_too(frozen_simulator):
    """Page 1 of 25 is read as rows 1-100: pages 2-4 are Truedy's same answer, stored with it;
    page 5 starts the next block."""
    first = reads.list_calls(status="ended", limit=25)
    pages = [reads.list_calls(status="ended", limit=25, offset=25 * n) for n in (1, 2, 3)]
    assert len(frozen_simulator.requests) == 1
    assert frozen_simulator.requests[0].query["limit"] == "100"
    every = gateway.get_client().list_calls(status="ended", limit=100)
    assert [c.id for p in (first, *pages) for c in p.calls] == [c.id for c in every.calls]
    assert [(p.offset, p.limit, p.total) for p in pages] == [
        (25, 25, every.total),
        (50, 25, every.total),
        (75, 25, every.total),
    ]
    frozen_simulator.reset_requests()
    reads.list_calls(status="ended", limit=25, offset=100)
    assert len(frozen_simulator.requests) == 1


def test_a_page_size_that_does_not_divide_the_block_is_read_as_asked(frozen_simulator):
    page = reads.list_calls(limit=30, offset=30)
    assert (page.limit, page.offset, len(page.calls)) == (30, 30, 30)
    assert frozen_simulator.requests[0].query["limit"] == "30"
    reads.list_calls(limit=30, offset=60)
    assert len(frozen_simulator.requests) == 2


def test_the_end_of_a_list_within_a_block(frozen_simulator):
    total = gateway.get_client().list_calls(status="queued", limit=1).total
    frozen_simulator.reset_requests()
    assert total < 100, "the simulator's queued calls fit in one block"
    reads.list_calls(status="queued", limit=10)
    last = reads.list_calls(status="queued", limit=10, offset=(total - 1) // 10 * 10)
    assert not last.has_more and last.calls and last.total == total
    assert len(frozen_simulator.requests) == 1
