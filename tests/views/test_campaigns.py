"""Campaigns: /campaigns/, a campaign's page, and the call list filtered to exactly its calls
(campaign=<id>), through Django's test client against the frozen embedded simulator. Also what
the call page says of a recording that never existed."""

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from calls.archive import store
from calls.archive.suspicious import outcome_key
from calls.labels import label
from calls.services import campaigns
from calls.services.corrections import clean_label
from calls.truedy import lifecycle
from calls.truedy.records import parse_call
from calls.upstream import gateway
from tests.conftest import upstream_paths
from tests.payloads import call_payload

pytestmark = pytest.mark.django_db

ACTIVE = "cmp_brightline_sales_202611"  # Ava's month so far: 41 calls, 2 of them live
DONE = "cmp_brightline_sales_202610"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
HOUR_US = 3600 * 10**6


def contacts_of(campaign_id: str):
    client = gateway.get_client()
    return client.list_campaign_contacts(campaign_id, limit=100).contacts


def call_ids_of(campaign_id: str) -> set[str]:
    return {contact.call_id for contact in contacts_of(campaign_id) if contact.call_id}


def listed_ids(client, query: str) -> list[str]:
    """Every call id the list shows for ``query``, page by page."""
    ids: list[str] = []
    for page in range(1, 20):
        response = client.get(f"/calls/?{query}&per_page=10&page={page}")
        if response.status_code == 404:
            return ids
        assert response.status_code == 200
        ids += [call.id for call in response.context["calls"]]
    raise AssertionError("too many pages")


def archive_calls_of(campaign_id: str) -> None:
    client = gateway.get_client()
    for call_id in call_ids_of(campaign_id):
        store.store_call(client.get_call(call_id), source="test", copy=False)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- /campaigns/ -------------------------------------------------------------------------------


def test_the_campaigns_page_lists_each_with_its_progress(staff_client, frozen_simulator):
    response = staff_client.get("/campaigns/")
    html = text(response)
    assert response.status_code == 200
    assert response.context["total"] == 5
    assert "41 of 81 called · 29 completed · 10 failed · 2 under way" in html
    assert '<progress max="81" value="41"' in html
    assert "46 of 46 called · 43 completed · 3 failed" in html
    for status in ("Active", "Completed", "Paused", "Scheduled"):
        assert f">{status}</span>" in html
    assert f'href="/campaigns/{ACTIVE}/"' in html
    assert f'href="/calls/?campaign={ACTIVE}&amp;tz=UTC"' in html
    assert "Ava – Solar Outbound Sales" in html  # the agent by name
    # Text Truedy sends is escaped.
    assert "Harbor Mutual &quot;Autumn&quot; renewals &amp; reviews" in html
    assert '<a href="/campaigns/" aria-current="page">Campaigns</a>' in html  # in the header


def test_every_page_links_to_the_campaigns(staff_client, frozen_simulator):
    assert '<a href="/campaigns/">Campaigns</a>' in staff_client.get("/calls/").content.decode()


def test_the_campaigns_page_is_cached_like_a_list_page(staff_client, frozen_simulator):
    staff_client.get("/campaigns/")
    frozen_simulator.reset_requests()
    staff_client.get("/campaigns/")
    assert upstream_paths(frozen_simulator) == []


@pytest.mark.parametrize(("query", "status"), [("page=abc", 400), ("page=0", 400), ("page=9", 404)])
def test_a_bad_page_number_says_why(staff_client, frozen_simulator, query, status):
    response = staff_client.get(f"/campaigns/?{query}")
    assert response.status_code == status
    assert "campaign" in response.content.decode().lower()


def test_truedy_failing_is_a_friendly_page(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, status=500)
    listing = staff_client.get("/campaigns/")
    detail = staff_client.get(f"/campaigns/{ACTIVE}/")
    frozen_simulator.switches.reset()
    for response in (listing, detail):
        assert response.status_code == 502
        assert "Truedy could not be reached" in response.content.decode()


# --- a campaign's page -------------------------------------------------------------------------


def test_a_campaigns_page_shows_its_counters_and_links_to_its_calls(staff_client, frozen_simulator):
    response = staff_client.get(f"/campaigns/{ACTIVE}/")
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Brightline Solar – November 2026 outreach</h1>" in html
    for name, value in [
        ("Contacts", 81),
        ("Called", 41),
        ("Completed", 29),
        ("Failed", 10),
        ("Under way", 2),
        ("Still to call", 40),
    ]:
        assert f"<dt>{name}</dt><dd>{value}</dd>" in html
    assert f'href="/calls/?campaign={ACTIVE}&amp;tz=UTC">See its 41 calls</a>' in html


@pytest.mark.parametrize("campaign_id", ["cmp_nothing_here", "no%20such", "x" * 70])
def test_an_unknown_or_odd_campaign_is_a_404_page(staff_client, frozen_simulator, campaign_id):
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/campaigns/{campaign_id}/")
    assert response.status_code == 404
    assert "Campaign not found" in response.content.decode()
    if campaign_id != "cmp_nothing_here":
        assert upstream_paths(frozen_simulator) == []  # an odd id is never sent


# --- the list of exactly its calls -------------------------------------------------------------


def test_the_list_shows_exactly_the_campaigns_calls(staff_client, frozen_simulator):
    ids = listed_ids(staff_client, f"campaign={ACTIVE}&tz=UTC")
    assert len(ids) == len(set(ids)) == 41
    assert set(ids) == call_ids_of(ACTIVE)
    response = staff_client.get(f"/calls/?campaign={ACTIVE}&tz=UTC")
    created = [call.created_at for call in response.context["calls"]]
    assert created == sorted(created, reverse=True)  # newest first, as every list
    html = text(response)
    # A chip names the campaign and removes the filter; the form keeps it for other changes.
    assert '<input type="hidden" name="campaign" value="cmp_brightline_sales_202611">' in html
    assert 'class="chip removable" href="/calls/?tz=UTC"' in html
    assert 'Brightline Solar – November 2026 outreach<span class="visually-hidden">' in html
    # The page says where the calls came from: none archived yet, so Truedy, one by one.
    assert "its 41 calls: 0 read from the dashboard's archive, 41 asked of Truedy one by one." in (
        html
    )
    # The usual columns and actions, for these calls only.
    assert f'href="/calls/export.csv?campaign={ACTIVE}&amp;tz=UTC"' in html
    assert "Showing 1–25 of 41 calls" in html


def test_from_the_archive_when_it_holds_them_all(staff_client, frozen_simulator):
    archive_calls_of(DONE)
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/?campaign={DONE}&tz=UTC")
    assert response.status_code == 200
    assert "its 46 calls, read from the dashboard's archive." in text(response)
    asked = upstream_paths(frozen_simulator)
    assert not [path for path in asked if "/calls/" in path]  # no call asked of Truedy
    assert {call.id for call in response.context["calls"]} <= call_ids_of(DONE)


def test_calls_past_the_cap_are_left_out_and_the_page_says_so(
    staff_client, frozen_simulator, monkeypatch
):
    monkeypatch.setattr(campaigns, "MAX_CALLS_FROM_TRUEDY", 5)
    ids = listed_ids(staff_client, f"campaign={DONE}&tz=UTC")
    assert len(ids) == 5
    html = text(staff_client.get(f"/calls/?campaign={DONE}&tz=UTC"))
    assert "0 read from the dashboard's archive, 5 asked of Truedy one by one." in html
    assert "41 more are not listed yet" in html
    assert "at most 5 calls one by one" in html


def test_other_filters_apply_within_the_campaign(staff_client, frozen_simulator):
    failed = {c.call_id for c in contacts_of(ACTIVE) if c.call_status == "failed"}
    assert failed
    ids = listed_ids(staff_client, f"campaign={ACTIVE}&status=failed&tz=UTC")
    assert set(ids) == failed
    archive_calls_of(ACTIVE)  # the same from the archive, filtered by the database
    assert set(listed_ids(staff_client, f"campaign={ACTIVE}&status=failed&tz=UTC")) == failed


def test_htmx_swaps_keep_the_campaign_in_the_shareable_url(staff_client, frozen_simulator):
    response = staff_client.get(
        f"/calls/?agent_id=&status=ended&campaign={ACTIVE}&tz=UTC&per_page=25", **HTMX
    )
    assert response.status_code == 200
    url = urlsplit(response["HX-Push-Url"])
    assert parse_qs(url.query) == {"status": ["ended"], "campaign": [ACTIVE], "tz": ["UTC"]}
    assert "campaign-note" in response.content.decode()


def test_totals_and_the_export_cover_exactly_the_campaign(staff_client, frozen_simulator):
    totals = staff_client.get(f"/calls/totals/?campaign={ACTIVE}&tz=UTC")
    assert totals.status_code == 200
    assert totals.context["totals"].count == 41
    export = staff_client.get(f"/calls/export.csv?campaign={ACTIVE}&tz=UTC")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == call_ids_of(ACTIVE)
    archive_calls_of(ACTIVE)
    archived = staff_client.get(f"/calls/totals/?campaign={ACTIVE}&tz=UTC")
    assert archived.context["totals"].count == 41
    assert archived.context["totals"].source == "archive"


def test_a_review_queue_of_the_campaign_opens_one_of_its_calls(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/review/start?campaign={DONE}&tz=UTC")
    assert response.status_code == 303
    call_id = urlsplit(response["Location"]).path.split("/")[2]
    assert call_id in call_ids_of(DONE)


def test_a_call_opened_from_the_campaign_walks_its_calls(staff_client, frozen_simulator):
    first = staff_client.get(f"/calls/?campaign={DONE}&tz=UTC").context["calls"][0]
    page = staff_client.get(f"/calls/{first.id}/?campaign={DONE}&tz=UTC")
    assert page.status_code == 200
    neighbours = page.context["neighbours"]
    assert (neighbours["position"], neighbours["total"]) == (1, 46)
    assert neighbours["next"][0] in call_ids_of(DONE)


def test_an_unknown_campaign_filter_is_a_404_page(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?campaign=cmp_nothing_here")
    assert response.status_code == 404
    assert "Campaign not found" in response.content.decode()


def test_an_odd_campaign_id_is_refused_with_the_reason(staff_client, frozen_simulator):
    frozen_simulator.reset_requests()
    response = staff_client.get("/calls/?campaign=%3Cscript%3E")
    assert response.status_code == 400
    assert "Campaign: “&lt;script&gt;” is not a campaign id." in response.content.decode()
    assert upstream_paths(frozen_simulator) == []


def test_a_campaign_nobody_was_called_for_yet_says_so(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?campaign=cmp_northwind_reminders_202612&tz=UTC")
    html = text(response)
    assert response.status_code == 200
    assert "none of its contacts has been called yet." in html
    assert "No calls match these filters" in html


def test_the_contacts_vocabulary_shows_as_the_known_labels(staff_client, frozen_simulator):
    # The simulator labels this campaign's calls "not_interested", "no_answer", ...
    response = staff_client.get(f"/calls/?campaign={DONE}&tz=UTC&per_page=50")
    outcomes = {call.outcome for call in response.context["calls"]}
    assert not [outcome for outcome in outcomes if outcome and "_" in outcome]
    html = response.content.decode()
    assert 'class="badge outcome-no-answer">No answer<' in html or "outcome-not-interested" in html


# --- recording off is not "expired" -------------------------------------------------------------


def agent_id(sim, persona: str) -> str:
    return next(agent.id for agent in sim.data.agents if agent.spec.persona == persona)


def ended_call(sim, persona: str, *, recorded: bool, older_than_a_day: bool):
    now = sim.clock.now_us()
    wanted = agent_id(sim, persona)
    for call in sim.data.calls:
        if call.agent_id != wanted or call.status_at(now) != "ended" or call.ended is None:
            continue
        old = now - call.ended > 30 * HOUR_US
        if (call.recording is not None) == recorded and old == older_than_a_day:
            return call
    raise AssertionError("no such call")


def test_a_call_of_an_agent_with_recording_off_says_so(staff_client, frozen_simulator):
    # Leo calls out, Zoë takes calls in: neither agent records (the agents API's default).
    for persona, older in (("Leo", False), ("Zoë", True)):
        call = ended_call(frozen_simulator, persona, recorded=False, older_than_a_day=older)
        response = staff_client.get(f"/calls/{call.id}/")
        assert response.context["recording_state"] == "off"
        assert "This call was not recorded: recording was off for this agent." in (
            response.content.decode()
        )


def test_expired_only_for_a_recording_that_existed(staff_client, frozen_simulator):
    never = ended_call(frozen_simulator, "Jordan", recorded=False, older_than_a_day=True)
    page = staff_client.get(f"/calls/{never.id}/")
    assert page.context["recording_state"] == "none"
    assert "This call was not recorded." in page.content.decode()
    existed = ended_call(frozen_simulator, "Jordan", recorded=True, older_than_a_day=True)
    page = staff_client.get(f"/calls/{existed.id}/")
    assert page.context["recording_state"] == "expired"
    assert "The recording is no longer available" in page.content.decode()


def test_a_search_within_a_campaign_looks_in_its_archived_calls(staff_client, frozen_simulator):
    empty = text(staff_client.get(f"/calls/?campaign={DONE}&q=solar&tz=UTC"))
    assert "the search looks in the 0 of its 46 calls the dashboard's archive holds" in empty
    archive_calls_of(DONE)
    response = staff_client.get(f"/calls/?campaign={DONE}&q=solar&tz=UTC")
    assert "the search looks in its 46 calls, all in the dashboard's archive." in text(response)
    found = {call.id for call in response.context["calls"]}
    assert found and found <= call_ids_of(DONE)


# --- the contacts API's outcome vocabulary -----------------------------------------------------


@pytest.mark.parametrize(
    ("spellings", "words"),
    [
        (("no_answer", "no-answer", "No_Answer"), "No answer"),
        (("not_interested", "not-interested"), "Not interested"),
        (("contacted",), "Contacted"),
        (("escalated",), "Escalated"),
    ],
)
def test_each_spelling_of_an_outcome_reads_and_compares_as_one(spellings, words):
    # As Truedy's answers are read (records.KNOWN_OUTCOMES), then shown, compared and stored.
    assert {label(parse_call(call_payload(outcome=s)).outcome) for s in spellings} == {words}
    assert len({outcome_key(spelling) for spelling in spellings}) == 1
    assert len({clean_label(spelling) for spelling in spellings}) == 1


def test_the_archive_remembers_a_recording_whose_link_had_died(frozen_simulator):
    existed = ended_call(frozen_simulator, "Jordan", recorded=True, older_than_a_day=True)
    call = gateway.get_client().get_call(existed.id)
    dropped = lifecycle.without_expired_link(call, gateway.now())
    assert dropped.recording_url is None
    assert store.store_call(dropped, source="test", copy=False).has_recording is True
