"""The simulator's campaigns (batch calls): list, one campaign, its contacts, and their calls."""

from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator
from calls.simulator.campaigns import CAMPAIGN_STATUSES, CONTACT_STATUSES

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BASE = "http://simulator.truedy.local" + API_PREFIX
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
ACTIVE = "cmp_brightline_sales_202611"  # "Ava"'s month so far
LIVE = ("queued", "ringing", "in-progress")


def client_for(sim: Simulator) -> httpx.Client:
    return httpx.Client(transport=sim.transport(), base_url=BASE, headers=AUTH)


@pytest.fixture
def sim() -> Simulator:
    return Simulator(seed=42, call_count=2000, now=NOW)


@pytest.fixture
def api(sim: Simulator) -> httpx.Client:
    return client_for(sim)


def every_contact(api: httpx.Client, campaign_id: str) -> list[dict]:
    rows: list[dict] = []
    while True:
        body = api.get(f"/batch-calls/{campaign_id}/contacts", params={"offset": len(rows)})
        assert body.status_code == 200
        page = body.json()
        rows += page["data"]
        if not page["data"] or len(rows) >= page["meta"]["total"]:
            return rows


def test_a_few_campaigns_newest_first_one_of_each_kind(api):
    body = api.get("/batch-calls").json()
    campaigns = body["data"]
    assert body["meta"]["total"] == len(campaigns) == 5
    assert body["meta"]["limit"] == 50  # the documented default
    created = [c["created_at"] for c in campaigns]
    assert created == sorted(created, reverse=True)
    statuses = Counter(c["status"] for c in campaigns)
    assert statuses == {"active": 1, "completed": 2, "paused": 1, "scheduled": 1}
    assert all(c["status"] in CAMPAIGN_STATUSES for c in campaigns)
    for key in ("total_contacts", "called", "completed", "failed", "pending", "concurrency"):
        assert all(isinstance(c[key], int) for c in campaigns)
    scheduled = next(c for c in campaigns if c["status"] == "scheduled")
    assert scheduled["schedule_type"] == "scheduled" and scheduled["scheduled_at"] > NOW.isoformat()


def test_the_list_pages_and_filters_like_the_call_list(api):
    first = api.get("/batch-calls", params={"limit": 2}).json()
    rest = api.get("/batch-calls", params={"limit": 2, "offset": 2}).json()
    past = api.get("/batch-calls", params={"offset": 10}).json()
    assert [len(first["data"]), len(rest["data"]), past["data"]] == [2, 2, []]
    assert first["meta"]["total"] == rest["meta"]["total"] == past["meta"]["total"] == 5
    everything = api.get("/batch-calls").json()["data"]
    assert [c["id"] for c in first["data"] + rest["data"]] == [c["id"] for c in everything[:4]]
    completed = api.get("/batch-calls", params={"status": "completed"}).json()
    assert completed["meta"]["total"] == 2
    assert {c["status"] for c in completed["data"]} == {"completed"}
    running = api.get("/batch-calls", params={"status": "running"}).json()  # the example's word
    assert [c["id"] for c in running["data"]] == [ACTIVE]


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"limit": "x"}, {"status": "done"}],
)
def test_bad_parameters_are_refused_with_422(api, params):
    response = api.get("/batch-calls", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    contacts = api.get(f"/batch-calls/{ACTIVE}/contacts", params=params)
    assert contacts.status_code == 422


def test_an_unknown_campaign_is_404(api):
    for path in ("/batch-calls/cmp_nope", "/batch-calls/cmp_nope/contacts"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/batch-calls/{ACTIVE}/other").status_code == 404


def test_the_api_key_is_required(sim):
    bare = httpx.Client(transport=sim.transport(), base_url=BASE)
    assert bare.get("/batch-calls").status_code == 401


def test_counters_agree_with_the_contacts_and_their_calls(api):
    for campaign in api.get("/batch-calls").json()["data"]:
        one = api.get(f"/batch-calls/{campaign['id']}").json()["data"]
        assert one == campaign
        contacts = every_contact(api, campaign["id"])
        statuses = Counter(c["call_status"] for c in contacts)
        assert set(statuses) <= set(CONTACT_STATUSES)
        called = [c for c in contacts if c["call_id"]]
        assert campaign["total_contacts"] == len(contacts)
        assert campaign["called"] == len(called)
        assert campaign["pending"] == statuses["pending"] == len(contacts) - len(called)
        assert campaign["completed"] == statuses["completed"]
        assert campaign["failed"] == statuses["failed"] + statuses["cancelled"]
        for contact in called:
            call = api.get(f"/calls/{contact['call_id']}").json()["data"]  # a real call
            assert call["agent_id"] == campaign["agent_id"]
            assert call["direction"] == "outbound"
            assert call["created_at"] == contact["called_at"]
            # The join the API reference's example shows: the call names its batch.
            assert call["metadata"]["campaign_id"] == campaign["id"]
            assert call["metadata"]["contact_id"] == contact["contact_id"]
            expected = {"ended": "completed", "failed": "failed", "cancelled": "cancelled"}
            assert contact["call_status"] == expected.get(call["status"], "in_progress")
        pending = [c for c in contacts if not c["call_id"]]
        assert all(c["called_at"] is None and c["phone_number"] for c in pending)


def test_the_active_campaign_is_dialling_its_live_calls(api):
    campaign = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    assert campaign["status"] == "active"
    assert campaign["pending"] > 0
    in_flight = campaign["called"] - campaign["completed"] - campaign["failed"]
    assert in_flight >= 2
    contacts = every_contact(api, ACTIVE)
    live_ids = {c["call_id"] for c in contacts if c["call_status"] == "in_progress"}
    listed_live = set()
    for status in LIVE:
        page = api.get("/calls", params={"status": status, "limit": 100}).json()["data"]
        listed_live |= {call["id"] for call in page}
    assert live_ids and live_ids <= listed_live  # they are the data set's own live calls


def test_the_counters_follow_the_clock(sim, api):
    before = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    sim.clock.advance(10 * 60)  # every live call of the anchor has ended
    after = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    assert after["called"] == before["called"]
    assert after["completed"] + after["failed"] == after["called"]
    assert after["completed"] > before["completed"]
    assert after["updated_at"] > before["updated_at"]


def test_a_call_placed_for_the_agent_dials_the_next_pending_contact(sim, api):
    before = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    call_id = sim.place_call(agent_id=before["agent_id"])
    after = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    assert (after["called"], after["pending"]) == (before["called"] + 1, before["pending"] - 1)
    assert after["total_contacts"] == before["total_contacts"]
    contacts = every_contact(api, ACTIVE)
    assert contacts[after["called"] - 1]["call_id"] == call_id  # dial order: newest last


def test_the_reference_variant_pages_with_pagination_and_says_running(sim, api):
    sim.switches.variant = "reference"
    body = api.get("/batch-calls", params={"limit": 2}).json()
    assert body["pagination"] == {"total": 5, "limit": 2, "offset": 0, "has_more": True}
    assert "ts" in body["meta"]
    active = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    assert active["status"] == "running"
    assert active["created_at"].endswith(".000000Z")
    contacts = api.get(f"/batch-calls/{ACTIVE}/contacts", params={"limit": 1}).json()
    assert contacts["pagination"]["has_more"] is True


def test_contacts_filter_by_their_call_status(api):
    pending = api.get(f"/batch-calls/{ACTIVE}/contacts", params={"status": "pending"}).json()
    campaign = api.get(f"/batch-calls/{ACTIVE}").json()["data"]
    assert pending["meta"]["total"] == campaign["pending"]
    assert {c["call_status"] for c in pending["data"]} == {"pending"}


def test_campaigns_are_the_same_for_a_seed_and_differ_across_seeds(api):
    again = client_for(Simulator(seed=42, call_count=2000, now=NOW))
    other = client_for(Simulator(seed=7, call_count=2000, now=NOW))
    assert api.get("/batch-calls").json()["data"] == again.get("/batch-calls").json()["data"]
    assert every_contact(api, ACTIVE) == every_contact(again, ACTIVE)
    assert every_contact(api, ACTIVE) != every_contact(other, ACTIVE)


def test_campaigns_change_no_call_but_label_theirs_in_the_contacts_vocabulary(sim, api):
    # The data set does not know campaigns: the same calls with or without them.
    bare = Simulator(seed=42, call_count=2000, now=NOW).data
    assert [(c.id, c.created, c.final, c.outcome) for c in bare.calls] == [
        (c.id, c.created, c.final, c.outcome) for c in sim.data.calls
    ]
    spelled = Counter()
    for contact in every_contact(api, "cmp_brightline_sales_202610"):
        call = api.get(f"/calls/{contact['call_id']}").json()["data"]
        skeleton = sim.data.by_id[call["id"]]
        if skeleton.recording is not None or call["status"] != "ended":
            continue  # a recording keeps its own label
        spelled[call["outcome"]] += 1
        assert call["outcome"] not in ("not-interested", "no-answer")
    assert spelled["not_interested"] or spelled["no_answer"]
    outside = api.get("/calls", params={"direction": "inbound", "limit": 100}).json()["data"]
    assert not [c for c in outside if c["outcome"] and "_" in c["outcome"]]


def test_agents_say_whether_they_record(sim, api):
    agents = {
        a["name"].split()[0]: a for a in api.get("/agents", params={"limit": 100}).json()["data"]
    }
    assert all(isinstance(a["recording_enabled"], bool) for a in agents.values())
    assert agents["Jordan"]["recording_enabled"] is True
    assert agents["Zoë"]["recording_enabled"] is False  # an inbound agent left at the default
    off = {a["id"] for a in agents.values() if not a["recording_enabled"]}
    # Recording off means no call of that agent was ever recorded.
    assert not [c for c in sim.data.calls if c.agent_id in off and c.recording is not None]
