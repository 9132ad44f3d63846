"""Campaigns (batch calls) in the client: records parsed from each documented shape, requests
built, ids guarded; and the client against the simulator's campaigns."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator
from calls.truedy.client import TruedyClient
from calls.truedy.errors import InvalidCampaignId, MalformedResponse, NotFound
from calls.truedy.records import (
    Agent,
    Campaign,
    parse_agent,
    parse_call,
    parse_campaign,
    parse_campaign_page,
    parse_contact_page,
)
from tests.payloads import API_KEY, BASE_URL, call_payload

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def campaign_payload(**changes: Any) -> dict[str, Any]:
    """The API reference's example batch call."""
    base = {
        "id": "batch_c3d4e5f6",
        "name": "Q2 Outreach Campaign",
        "status": "running",
        "agent_id": "agt_f9447372",
        "from_number": "+18005559876",
        "schedule_type": "immediate",
        "scheduled_at": None,
        "timezone": "America/New_York",
        "concurrency": 5,
        "retry_attempts": 2,
        "total_contacts": 500,
        "called": 312,
        "completed": 298,
        "failed": 14,
        "pending": 188,
        "created_at": "2026-04-01T09:00:00Z",
        "updated_at": "2026-04-05T10:22:00Z",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not OMIT}


OMIT = object()


def contact_payload(**changes: Any) -> dict[str, Any]:
    base = {
        "contact_id": "ctc_aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "phone_number": "+15551234567",
        "first_name": "John",
        "call_status": "completed",
        "call_id": "call_a1b2c3d4",
        "called_at": "2026-03-05T09:15:00.000000Z",
    }
    base.update(changes)
    return base


# --- records ------------------------------------------------------------------------------------


def test_the_documented_example_is_parsed_with_running_read_as_active() -> None:
    campaign = parse_campaign(campaign_payload())
    assert campaign.status == "active"
    assert (campaign.total_contacts, campaign.called, campaign.completed) == (500, 312, 298)
    assert (campaign.failed, campaign.pending, campaign.in_flight) == (14, 188, 0)
    assert campaign.created_at == datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert campaign.scheduled_at is None and campaign.timezone == "America/New_York"


@pytest.mark.parametrize(
    ("raw", "status"),
    [("active", "active"), ("Completed", "completed"), ("RUNNING", "active"), ("weird", "weird")],
)
def test_statuses_are_normalised_and_unknown_ones_kept(raw: str, status: str) -> None:
    assert parse_campaign(campaign_payload(status=raw)).status == status


def test_missing_counters_are_zero_and_the_total_is_called_plus_pending() -> None:
    campaign = parse_campaign(campaign_payload(total_contacts=OMIT, completed=OMIT, name=OMIT))
    assert campaign.total_contacts == 312 + 188
    assert campaign.completed == 0
    assert campaign.in_flight == 312 - 14
    assert campaign.name == "batch_c3d4e5f6"  # a nameless campaign shows its id


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        campaign_payload(id=OMIT),
        campaign_payload(id="../calls"),
        campaign_payload(called=-1),
        campaign_payload(called="many"),
        campaign_payload(created_at="yesterday"),
    ],
)
def test_a_malformed_campaign_is_malformed(bad: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_campaign(bad)


def test_pages_read_meta_or_pagination() -> None:
    primary = parse_campaign_page(
        {"data": [campaign_payload()], "meta": {"total": 24, "limit": 50, "offset": 0}}
    )
    reference = parse_campaign_page(
        {
            "data": [campaign_payload()],
            "meta": {"request_id": "req_1", "ts": "2026-04-05T10:22:00Z"},
            "pagination": {"total": 24, "limit": 50, "offset": 0, "has_more": False},
        }
    )
    assert primary == reference
    assert primary.total == 24 and primary.has_more


def test_contacts_keep_the_join_and_drop_the_person() -> None:
    page = parse_contact_page(
        {
            "data": [contact_payload(), contact_payload(call_id=None, called_at=None)],
            "meta": {"total": 500},
        },
        limit=50,
        offset=0,
    )
    called, pending = page.contacts
    assert (called.call_id, called.call_status) == ("call_a1b2c3d4", "completed")
    assert called.called_at == datetime(2026, 3, 5, 9, 15, tzinfo=UTC)
    assert pending.call_id is None and pending.called_at is None
    assert not hasattr(called, "phone_number")
    assert (page.total, page.limit, page.has_more) == (500, 50, True)


def test_a_contact_with_an_odd_call_id_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        parse_contact_page({"data": [contact_payload(call_id="a/b")], "meta": {"total": 1}})


def test_agents_say_whether_they_record_and_unknown_is_not_off() -> None:
    base = {"id": "agt_1", "name": "A", "status": "active"}
    assert parse_agent({**base, "recording_enabled": False}).recording_enabled is False
    assert parse_agent({**base, "recording_enabled": True}).recording_enabled is True
    assert parse_agent(base).recording_enabled is None
    with pytest.raises(MalformedResponse):
        parse_agent({**base, "recording_enabled": "no"})


def test_an_agent_cached_before_recording_enabled_still_unpickles() -> None:
    agent = Agent("agt_1", "A", "active", True)
    assert pickle.loads(pickle.dumps(agent)) == agent  # noqa: S301
    old = Agent.__new__(Agent)
    old.__setstate__(["agt_1", "A", "active"])  # what an older dashboard stored
    assert (old.id, old.recording_enabled) == ("agt_1", None)


def test_the_contacts_vocabulary_reads_as_one_spelling() -> None:
    for raw, read in [
        ("no_answer", "no-answer"),
        ("not_interested", "not-interested"),
        ("Contacted", "contacted"),
        ("ESCALATED", "escalated"),
        ("demo_booked", "demo_booked"),  # unknown labels stay as they came
    ]:
        assert parse_call(call_payload(outcome=raw)).outcome == read


def test_a_call_cached_before_recording_link_expired_still_unpickles() -> None:
    call = parse_call(call_payload())
    restored = pickle.loads(pickle.dumps(call))  # noqa: S301
    assert restored == call and restored.metadata == call.metadata
    _, values = call.__reduce__()
    older = type(call).__reduce__(call)[0](*values[:-1])  # one value fewer, as before
    assert older == call and older.recording_link_expired is False


campaign_like = st.fixed_dictionaries(
    {},
    optional={
        key: st.none() | st.booleans() | st.integers(-5, 10**16) | st.text(max_size=20)
        for key in campaign_payload()
    },
).map(lambda d: {"id": "cmp_1", **d})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaign_like)
def test_garbage_campaigns_raise_only_malformed(payload: dict[str, Any]) -> None:
    try:
        campaign = parse_campaign(payload)
    except MalformedResponse:
        return
    assert isinstance(campaign, Campaign)
    assert min(campaign.called, campaign.completed, campaign.failed, campaign.pending) >= 0


# --- requests -----------------------------------------------------------------------------------


def recording_client(answer: dict[str, Any]) -> tuple[TruedyClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    client = TruedyClient(
        base_url=BASE_URL, api_key=API_KEY, transport=httpx.MockTransport(handler)
    )
    return client, seen


def test_the_requests_send_limit_and_offset_always_and_status_when_asked() -> None:
    client, seen = recording_client({"data": [], "meta": {"total": 0}})
    client.list_campaigns()
    client.list_campaigns(status="paused", limit=10, offset=20)
    client.list_campaign_contacts("cmp_1", offset=100)
    assert seen[0].url.path.endswith("/batch-calls")
    assert dict(seen[0].url.params) == {"limit": "50", "offset": "0"}
    assert dict(seen[1].url.params) == {"limit": "10", "offset": "20", "status": "paused"}
    assert seen[2].url.path.endswith("/batch-calls/cmp_1/contacts")
    assert dict(seen[2].url.params) == {"limit": "100", "offset": "100"}


@pytest.mark.parametrize("bad_id", ["", "../calls", "a b", "x" * 65, "cmp%2F1"])
def test_an_unsafe_campaign_id_is_never_sent(bad_id: str) -> None:
    client, seen = recording_client({})
    with pytest.raises(InvalidCampaignId):
        client.get_campaign(bad_id)
    with pytest.raises(NotFound):
        client.list_campaign_contacts(bad_id)
    assert seen == []


def test_bad_paging_and_status_are_refused_before_asking() -> None:
    client, seen = recording_client({})
    for kwargs in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"status": "running"}):
        with pytest.raises(ValueError):
            client.list_campaigns(**kwargs)
    assert seen == []


def test_another_campaign_in_the_answer_is_malformed() -> None:
    client, _ = recording_client({"data": campaign_payload(id="cmp_2"), "meta": {}})
    with pytest.raises(MalformedResponse):
        client.get_campaign("cmp_1")


# --- against the simulator ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(seed=42, call_count=2000, now=NOW)


@pytest.mark.parametrize("variant", ["primary", "reference"])
def test_the_client_reads_the_simulators_campaigns(sim: Simulator, variant: str) -> None:
    sim.switches.variant = variant
    try:
        client = TruedyClient(
            base_url=f"http://sim.test{API_PREFIX}",
            api_key=DEFAULT_API_KEY,
            transport=sim.transport(),
        )
        page = client.list_campaigns()
        assert page.total == len(page.campaigns) == 5
        active = client.get_campaign("cmp_brightline_sales_202611")
        assert active.status == "active" and active in page.campaigns
        contacts = client.list_campaign_contacts(active.id, limit=100)
        called = [contact for contact in contacts.contacts if contact.call_id]
        assert len(called) == active.called and contacts.total == active.total_contacts
        call = client.get_call(called[0].call_id or "")
        assert call.metadata["campaign_id"] == active.id
        with pytest.raises(NotFound):
            client.get_campaign("cmp_nothing_here")
        agents = {agent.name.split()[0]: agent for agent in client.list_agents()}
        assert agents["Zoë"].recording_enabled is False and agents["Ava"].recording_enabled
    finally:
        sim.switches.variant = "primary"
