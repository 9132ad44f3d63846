"""The call list at /calls/: filters, pagination, htmx fragments and caching, through Django's
test client against the frozen embedded simulator."""

from urllib.parse import parse_qs, urlsplit

import pytest

from calls.upstream import gateway
from tests.conftest import upstream_paths

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
DELETED_AGENT = "agt_catvazccblskrt05uiro"  # "Theo – Winter Solar Promo": no longer listed
JORDAN = "agt_dd4v30t9nt3w5uzbikci"


def last_list_query(sim) -> dict[str, str]:
    calls = [request for request in sim.requests if request.path.endswith("/calls")]
    assert calls, "no GET /calls reached the simulator"
    return calls[-1].query


def test_full_page_has_the_form_and_the_results(staff_client, frozen_simulator):
    response = staff_client.get("/calls/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form class="filters"' in html
    assert 'id="results"' in html
    assert "<table" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_request_gets_only_the_results_fragment(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?status=ended", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<table" in html
    assert "<html" not in html
    assert "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_response_pushes_the_canonical_shareable_url(staff_client, frozen_simulator):
    response = staff_client.get(
        "/calls/?agent_id=&status=failed&direction=&created_after=&created_before="
        "&tz=Europe%2FBerlin&per_page=25",
        **HTMX,
    )
    assert response["HX-Push-Url"] == "/calls/?status=failed&tz=Europe/Berlin"


def test_history_restore_gets_the_full_page(staff_client, frozen_simulator):
    response = staff_client.get(
        "/calls/?status=ended", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("agent_id=" + JORDAN, {"agent_id": JORDAN}),
        ("status=failed", {"status": "failed"}),
        ("direction=inbound", {"direction": "inbound"}),
        ("status=in-progress&direction=webrtc", {"status": "in-progress", "direction": "webrtc"}),
        (
            "created_after=2026-11-20&created_before=2026-11-21&tz=UTC",
            {
                "created_after": "2026-11-19T23:59:59.999999Z",
                "created_before": "2026-11-22T00:00:00Z",
            },
        ),
        (
            "created_after=2026-11-20T09:30&tz=America%2FNew_York",
            {"created_after": "2026-11-20T14:29:59.999999Z"},
        ),
        ("created_before=2026-11-20T09:30:00%2B02:00", {"created_before": "2026-11-20T07:30:00Z"}),
        # A page is read inside its block of 100 rows (calls.upstream.reads.LIST_BLOCK).
        ("per_page=50&page=3", {"limit": "100", "offset": "100"}),
        ("", {"limit": "100", "offset": "0"}),
    ],
)
def test_each_filter_reaches_the_api_as_documented(staff_client, frozen_simulator, query, expected):
    response = staff_client.get(f"/calls/?{query}")
    assert response.status_code in (200, 404)
    sent = last_list_query(frozen_simulator)
    for name, value in expected.items():
        assert sent[name] == value
    unfiltered = {"agent_id", "status", "direction", "created_after", "created_before"}
    assert not (unfiltered - expected.keys()) & sent.keys(), "a filter nobody asked for was sent"


@pytest.mark.parametrize(
    ("day", "after", "before"),
    [
        # Europe/Berlin springs forward on 2026-03-29 (a 23-hour day) ...
        ("2026-03-29", "2026-03-28T22:59:59.999999Z", "2026-03-29T22:00:00Z"),
        # ... and falls back on 2026-10-25 (a 25-hour day).
        ("2026-10-25", "2026-10-24T21:59:59.999999Z", "2026-10-25T23:00:00Z"),
    ],
)
def test_a_whole_day_in_the_viewers_zone_across_a_dst_change(
    staff_client, frozen_simulator, day, after, before
):
    staff_client.get(f"/calls/?created_after={day}&created_before={day}&tz=Europe%2FBerlin")
    sent = last_list_query(frozen_simulator)
    assert (sent["created_after"], sent["created_before"]) == (after, before)


def test_the_browser_zone_cookie_sets_the_zone(staff_client, frozen_simulator):
    staff_client.cookies["tz"] = "Europe/Berlin"
    response = staff_client.get("/calls/?created_after=2026-03-29")
    assert last_list_query(frozen_simulator)["created_after"] == "2026-03-28T22:59:59.999999Z"
    assert "times in Europe/Berlin" in response.content.decode()


def test_a_zone_in_the_link_wins_over_the_cookie(staff_client, frozen_simulator):
    staff_client.cookies["tz"] = "Asia/Tokyo"
    staff_client.get("/calls/?created_after=2026-03-29&tz=UTC")
    assert last_list_query(frozen_simulator)["created_after"] == "2026-03-28T23:59:59.999999Z"


def test_without_a_zone_times_are_in_time_zone_setting(staff_client, frozen_simulator, settings):
    settings.TIME_ZONE = "America/Chicago"
    response = staff_client.get("/calls/")
    assert "times in America/Chicago" in response.content.decode()


def test_created_times_are_shown_in_the_viewers_zone(staff_client, frozen_simulator):
    utc = staff_client.get("/calls/?per_page=10&tz=UTC").context["calls"][0]
    html = staff_client.get("/calls/?per_page=10&tz=Asia%2FKolkata").content.decode()
    local = utc.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata"))
    assert local.strftime("%Y-%m-%d %H:%M") in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Status"),
        ("direction=sideways", "Direction"),
        ("page=-1", "Page"),
        ("page=abc", "Page"),
        ("page=0", "Page"),
        ("per_page=1000", "per page"),
        ("per_page=5", "per page"),
        ("created_after=2026-02-30", "From"),
        ("created_before=yesterday", "To"),
        ("created_after=2026-11-20&created_before=2026-11-19", "earlier"),
        ("tz=Mars%2FOlympus", "time zone"),
        ("agent_id=..%2Fetc", "Agent"),
        ("created_after=2026-03-29T02:30&tz=Europe%2FBerlin", "does not exist"),
    ],
)
def test_invalid_input_is_a_400_with_a_message_and_no_upstream_request(
    staff_client, frozen_simulator, query, message
):
    response = staff_client.get(f"/calls/?{query}")
    html = response.content.decode()
    assert response.status_code == 400
    assert "These filters cannot be used" in html
    assert message.lower() in html.lower()
    assert '<form class="filters"' in html, "the form is shown again to fix the input"
    assert frozen_simulator.requests == []


def test_invalid_input_in_an_htmx_request_swaps_in_the_message(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?status=bogus", **HTMX)
    assert response.status_code == 400
    assert "These filters cannot be used" in response.content.decode()
    assert "<html" not in response.content.decode()
    assert frozen_simulator.requests == []


def test_showing_range_and_total(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?page=3")
    total = response.context["total"]
    assert total > 1000
    assert f"Showing 51–75 of {total:,} calls" in response.content.decode()


def test_first_page_has_no_first_or_previous_link(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?status=ended")
    links = response.context["page_links"]
    assert links["first"] is None
    assert links["previous"] is None
    assert parse_qs(links["next"])["page"] == ["2"]
    assert parse_qs(links["last"])["page"] == [str(response.context["num_pages"])]
    assert parse_qs(links["next"])["status"] == ["ended"], "pager links keep the filters"


def test_last_page_has_the_remainder_and_no_next_link(staff_client, frozen_simulator):
    first = staff_client.get("/calls/?per_page=100")
    total, num_pages = first.context["total"], first.context["num_pages"]
    last = staff_client.get(f"/calls/?per_page=100&page={num_pages}")
    assert last.status_code == 200
    assert len(last.context["calls"]) == total - 100 * (num_pages - 1)
    assert last.context["page_links"]["next"] is None
    assert last.context["page_links"]["last"] is None
    assert parse_qs(last.context["page_links"]["previous"])["page"] == [str(num_pages - 1)]


def test_a_page_past_the_end_is_a_404_that_points_to_the_last_page(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?status=failed&page=999")
    html = response.content.decode()
    assert response.status_code == 404
    assert "There is no page 999" in html
    last = response.context["num_pages"]
    assert f"page={last}" in html


def test_page_size_choice(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?per_page=10")
    assert len(response.context["calls"]) == 10
    assert "Showing 1–10 of" in response.content.decode()


def test_no_matching_calls_shows_the_empty_state(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?created_before=2001-01-01&tz=UTC")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No calls match these filters" in html
    assert 'href="/calls/?tz=UTC"' in html


def test_rows_link_to_the_call_page_with_the_lists_filters(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?status=ended&page=2&tz=UTC")
    call = response.context["calls"][0]
    link = f'href="/calls/{call.id}/?status=ended&amp;tz=UTC&amp;page=2"'
    assert link in response.content.decode()


def test_rows_show_agent_names_and_formatted_values(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/?agent_id={JORDAN}&status=ended&per_page=10")
    html = response.content.decode()
    assert "Jordan – Northwind Internet Support" in html
    call = response.context["calls"][0]
    minutes, seconds = divmod(call.duration_seconds, 60)
    assert f"{minutes}:{seconds:02d}" in html
    assert f"${call.cost_cents // 100}.{call.cost_cents % 100:02d}" in html
    assert 'class="badge status-ended"' in html


def test_calls_of_an_agent_truedy_no_longer_lists_show_its_raw_id(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/?agent_id={DELETED_AGENT}")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["calls"], "the deleted agent's calls are still listed"
    assert f'<td data-label="Agent">{DELETED_AGENT}</td>' in html
    assert f'<option value="{DELETED_AGENT}" selected>{DELETED_AGENT}</option>' in html


def test_agent_select_lists_every_agent_by_name(staff_client, frozen_simulator):
    html = staff_client.get("/calls/").content.decode()
    assert f'<option value="{JORDAN}">Jordan – Northwind Internet Support</option>' in html
    assert "system_prompt" not in html


def test_repeating_a_view_within_its_ttl_makes_no_upstream_request(staff_client, frozen_simulator):
    staff_client.get("/calls/?status=ended&page=2")
    first = upstream_paths(frozen_simulator)
    assert sorted(first) == ["/api/public/v1/agents", "/api/public/v1/calls"]
    frozen_simulator.reset_requests()
    staff_client.get("/calls/?status=ended&page=2")
    staff_client.get("/calls/?page=2&status=ended", **HTMX)  # same params, other order
    assert frozen_simulator.requests == []


def test_a_different_filter_is_a_cache_miss(staff_client, frozen_simulator):
    staff_client.get("/calls/?status=ended")
    frozen_simulator.reset_requests()
    staff_client.get("/calls/?status=failed")
    assert upstream_paths(frozen_simulator) == ["/api/public/v1/calls"]


def test_an_upstream_failure_is_a_friendly_page_and_is_not_cached(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, status=503)
    failed = staff_client.get("/calls/")
    assert failed.status_code == 502
    assert "Truedy could not be reached" in failed.content.decode()
    frozen_simulator.switches.reset()
    frozen_simulator.reset_requests()
    recovered = staff_client.get("/calls/")
    assert recovered.status_code == 200
    assert frozen_simulator.requests, "the failure was cached as if it were data"


def test_an_upstream_failure_in_an_htmx_request_is_a_fragment(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, status=500)
    response = staff_client.get("/calls/?status=ended", **HTMX)
    frozen_simulator.switches.reset()
    html = response.content.decode()
    assert response.status_code == 502
    assert "Truedy could not be reached" in html
    assert "<html" not in html


def test_date_presets_link_to_whole_days_in_the_viewers_zone(staff_client, frozen_simulator):
    # The frozen clock reads 2026-11-24 12:00 UTC: 21:00 in Tokyo, the same date.
    response = staff_client.get("/calls/?tz=Asia%2FTokyo&status=failed")
    presets = {preset.label: preset.query for preset in response.context["presets"]}
    query = parse_qs(presets["Yesterday"])
    assert query["created_after"] == ["2026-11-23"]
    assert query["created_before"] == ["2026-11-23"]
    assert query["status"] == ["failed"]


def test_yesterdays_failed_inbound_calls_of_one_agent(staff_client, frozen_simulator):
    """A supervisor's typical review: find them, open one, read it, play it."""
    query = (
        f"agent_id={JORDAN}&status=failed&direction=inbound"
        "&created_after=2026-11-23&created_before=2026-11-23&tz=UTC"
    )
    response = staff_client.get(f"/calls/?{query}")
    rows = response.context["calls"]
    expected = gateway.get_client().list_calls(
        agent_id=JORDAN, status="failed", direction="inbound", limit=100
    )
    in_day = [c for c in expected.calls if c.created_at.date().isoformat() == "2026-11-23"]
    assert len(rows) >= 2
    assert [c.id for c in rows] == [c.id for c in in_day]
    for call in rows:
        assert (call.agent_id, call.status, call.direction) == (JORDAN, "failed", "inbound")

    page = staff_client.get(f"/calls/{rows[0].id}/?{query}").content.decode()
    assert '<ol class="turns" id="transcript-turns">' in page
    assert f'preload="metadata" src="/calls/{rows[0].id}/recording"' in page
    audio = staff_client.get(f"/calls/{rows[0].id}/recording", HTTP_RANGE="bytes=0-1023")
    assert audio.status_code == 206
    assert len(b"".join(audio.streaming_content)) == 1024


def test_the_root_url_redirects_to_the_list(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/calls/"


def test_date_presets_follow_filters_chosen_with_htmx(staff_client, frozen_simulator):
    """A swap of the results updates the preset links out of band, so they carry the filters
    picked since (their links serve without JavaScript and in a new tab)."""
    fragment = staff_client.get("/calls/?status=failed&direction=inbound&tz=UTC", **HTMX)
    html = fragment.content.decode()
    oob = '<div id="range-presets" role="group" aria-label="Date presets" hx-swap-oob="true">'
    assert oob in html
    assert 'class="presets"' in html
    assert (
        'href="?status=failed&amp;direction=inbound&amp;created_after=2026-11-23'
        '&amp;created_before=2026-11-23&amp;tz=UTC"' in html
    )
