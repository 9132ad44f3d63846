"""The real client against the embedded simulator: in-process, and over HTTP on 127.0.0.1."""

from datetime import UTC, datetime, timedelta

import pytest

from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator, serve
from calls.truedy.client import TruedyClient
from calls.truedy.errors import NotFound, RateLimited, RecordingUnavailable, Unauthorized
from calls.truedy.records import DIRECTIONS, STATUSES

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim():
    return Simulator(seed=7, call_count=1500, now=NOW)


@pytest.fixture(scope="module")
def http_server(sim):
    server = serve(sim, host="127.0.0.1", port=0)
    yield server
    server.shutdown()


def in_process_client(sim, **kwargs):
    return TruedyClient(
        base_url=f"http://sim.test{API_PREFIX}",
        api_key=DEFAULT_API_KEY,
        transport=sim.transport(),
        sleep=lambda _seconds: None,
        **kwargs,
    )


@pytest.fixture(params=["in-process", "http"])
def client(request, sim):
    if request.param == "in-process":
        client = in_process_client(sim)
    else:
        server = request.getfixturevalue("http_server")
        client = TruedyClient(base_url=server.base_url, api_key=DEFAULT_API_KEY)
    sim.switches.variant = "primary"
    yield client
    client.close()
    sim.switches.variant = "primary"


def first_recorded_call(client):
    for offset in range(0, 300, 100):
        for call in client.list_calls(status="ended", limit=100, offset=offset).calls:
            if call.recording_url and call.ended_at and call.ended_at > NOW - timedelta(hours=24):
                return client.get_call(call.id)
    raise AssertionError("the simulator has no recently recorded call")


def test_filters_combine_and_totals_match(client):
    everything = client.list_calls(limit=1)
    page = client.list_calls(status="ended", direction="outbound", limit=100)
    assert 0 < page.total < everything.total
    assert all(c.status == "ended" and c.direction == "outbound" for c in page.calls)
    after = NOW - timedelta(days=30)
    recent = client.list_calls(created_after=after, limit=100)
    assert all(c.created_at > after for c in recent.calls)


def test_pages_are_newest_first_and_do_not_overlap(client):
    first = client.list_calls(limit=50, offset=0).calls
    second = client.list_calls(limit=50, offset=50).calls
    created = [c.created_at for c in first + second]
    assert created == sorted(created, reverse=True)
    assert not {c.id for c in first} & {c.id for c in second}


def test_get_call_has_transcript_matching_duration(client):
    call = first_recorded_call(client)
    assert call.transcript
    assert all(turn.speaker in {"agent", "contact"} for turn in call.transcript)
    timestamps = [turn.timestamp for turn in call.transcript]
    assert timestamps == sorted(timestamps)
    assert timestamps[-1] <= call.duration_seconds + 1


def test_recording_streams_with_range(client):
    call = first_recorded_call(client)
    with client.open_recording(call.recording_url, range_header="bytes=0-99") as stream:
        body = b"".join(stream.iter_bytes())
        assert stream.status_code == 206
        assert stream.headers["content-range"].startswith("bytes 0-99/")
    assert len(body) == 100
    assert body[:3] == b"ID3" or body[0] == 0xFF


def test_expired_recording_link_is_unavailable(client):
    old = client.list_calls(created_before=NOW - timedelta(days=60), status="ended", limit=100)
    expired = next(c for c in old.calls if c.recording_url)
    with pytest.raises(RecordingUnavailable):
        client.open_recording(expired.recording_url)


def test_agents_drop_the_deleted_agent_and_keep_the_draft(client):
    agents = client.list_agents()
    assert len(agents) >= 5
    assert "draft" in {a.status for a in agents}
    agent_ids = {a.id for a in agents}
    referenced = {c.agent_id for c in client.list_calls(limit=100).calls}
    for offset in range(100, 1000, 100):
        referenced |= {c.agent_id for c in client.list_calls(limit=100, offset=offset).calls}
    assert referenced - agent_ids, "no call references an agent that no longer exists"


def test_unknown_call_is_not_found(client):
    with pytest.raises(NotFound) as caught:
        client.get_call("call_doesnotexist000000000000")
    assert caught.value.request_id


def test_reference_variant_is_normalised(client, sim):
    primary = client.list_calls(limit=20)
    sim.switches.variant = "reference"
    reference = client.list_calls(limit=20)
    assert reference.total == primary.total
    assert [c.id for c in reference.calls] == [c.id for c in primary.calls]
    for p, r in zip(primary.calls, reference.calls, strict=True):
        assert r.status == p.status and r.status in STATUSES
        assert r.direction in DIRECTIONS
        assert r.cost_cents == p.cost_cents
        assert r.contact_number == p.contact_number
        assert r.created_at == p.created_at.replace(microsecond=r.created_at.microsecond)


def test_wrong_key_is_unauthorized(sim):
    client = TruedyClient(
        base_url=f"http://sim.test{API_PREFIX}",
        api_key="truedy_" + "x" * 32,
        transport=sim.transport(),
    )
    with pytest.raises(Unauthorized):
        client.list_calls()


def test_injected_500s_are_retried_until_success(sim):
    client = in_process_client(sim, max_attempts=3)
    sim.reset_requests()
    sim.switches.fail_next(2, status=503)
    assert client.list_calls(limit=5).calls
    assert len(sim.requests) == 3


def test_long_rate_limit_fails_fast_with_retry_after(sim):
    slept = []
    client = TruedyClient(
        base_url=f"http://sim.test{API_PREFIX}",
        api_key=DEFAULT_API_KEY,
        transport=sim.transport(),
        sleep=slept.append,
        max_retry_wait=5,
    )
    sim.switches.rate_limit_next(1, retry_after=60)
    with pytest.raises(RateLimited) as caught:
        client.list_calls()
    assert caught.value.retry_after == pytest.approx(60, abs=1)
    assert slept == []


def test_listeners_holding_audio_streams_do_not_starve_api_reads(http_server):
    """Audio has its own pool: with every API connection's worth of streams open, reads work."""
    client = TruedyClient(
        base_url=http_server.base_url,
        api_key=DEFAULT_API_KEY,
        max_connections=2,
        max_recording_connections=8,
    )
    try:
        recorded = first_recorded_call(client)
        streams = [client.open_recording(recorded.recording_url) for _ in range(4)]
        try:
            assert client.list_calls(limit=5).calls
            assert client.get_call(recorded.id).id == recorded.id
        finally:
            for stream in streams:
                stream.close()
    finally:
        client.close()
