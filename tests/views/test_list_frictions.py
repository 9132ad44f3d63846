"""The list page's range control, error region, presets, saved-view marks, time-zone picker and
totals charts, through Django's test client (the browser side: tests/e2e/test_list_page.py)."""

from datetime import date
from urllib.parse import parse_qs

import pytest

from calls.lib.timezones import CHOSEN_ZONE_COOKIE, zone_names, zone_names_json
from calls.lib.timezones import zone_names_version as version
from calls.models import SavedView
from calls.templatetags.charts import NONE_RECORDED, calls_per_day, outcome_bars

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


# --- invalid filters: the reasons beside the filters --------------------------------------------


def test_an_htmx_request_with_bad_filters_answers_only_the_reasons_beside_the_filters(
    staff_client, frozen_simulator
):
    response = staff_client.get("/calls/?created_after=0002-11-23&tz=UTC", **HTMX)
    html = response.content.decode()
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#filter-errors"
    assert response["HX-Reswap"] == "outerHTML"
    assert response["HX-Push-Url"] == "false", "the address bar keeps the list it shows"
    assert html.lstrip().startswith('<div id="filter-errors">'), "no out-of-band attribute"
    assert "From: “0002-11-23” is out of range" in html
    assert "The list below still shows the last filters that worked." in html
    assert "<table" not in html and "<html" not in html
    assert frozen_simulator.requests == []


def test_a_page_with_bad_filters_shows_the_reasons_beside_the_form(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?created_after=2026-11-24&created_before=2026-11-20")
    html = response.content.decode()
    assert response.status_code == 400
    region = html[html.index('<div id="filter-errors">') : html.index('<div id="results">')]
    assert "“From” must be earlier than “To”." in region
    assert "still shows" not in html  # there is no earlier list on a page of its own
    assert 'value="2026-11-24"' in html, "the form keeps what was typed"


def test_a_good_swap_clears_the_reasons_and_updates_the_presets(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?status=failed&tz=UTC", **HTMX).content.decode()
    assert '<div id="filter-errors" hx-swap-oob="true">' in html
    assert '<div id="range-presets" role="group" aria-label="Date presets" hx-swap-oob="true">' in (
        html
    )
    assert 'id="saved-view-chips"' in html


def test_under_debug_no_script_replaces_the_page_with_an_error(staff_client, settings):
    """django-htmx's debug handler (added by its htmx_script tag) swaps the whole document for
    any 400 fragment; the page loads htmx alone in every mode."""
    for debug in (False, True):
        settings.DEBUG = debug
        html = staff_client.get("/calls/?status=bogus").content.decode()
        assert "django-htmx.js" not in html
        assert "django_htmx/htmx-2.min.js" in html


# --- the range control and its presets -----------------------------------------------------------


def test_the_dates_are_text_fields_that_show_the_typed_value(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?created_after=2026-11-20T09:30&tz=UTC").content.decode()
    assert (
        '<input id="f-after" name="created_after" type="text" value="2026-11-20T09:30"'
        ' data-applied="2026-11-20T09:30" placeholder="YYYY-MM-DD"' in html
    )
    assert 'data-min-year="1970" data-max-year="2100"' in html
    assert (
        "hx-trigger"
        not in html[html.index('<fieldset class="field range"') :].split("</fieldset>")[0]
    ), "the dates have no trigger of their own"


def test_four_presets_in_the_viewers_zone_and_the_active_one_marked(staff_client, frozen_simulator):
    # The frozen clock reads 2026-11-24 12:00 UTC: already the 25th in Auckland.
    response = staff_client.get(
        "/calls/?created_after=2026-10-27&created_before=2026-11-25&tz=Pacific%2FAuckland"
    )
    presets = response.context["presets"]
    assert [(p.label, p.first, p.last) for p in presets] == [
        ("Today", date(2026, 11, 25), date(2026, 11, 25)),
        ("Yesterday", date(2026, 11, 24), date(2026, 11, 24)),
        ("Last 7 days", date(2026, 11, 19), date(2026, 11, 25)),
        ("Last 30 days", date(2026, 10, 27), date(2026, 11, 25)),
    ]
    assert [p.label for p in presets if p.active] == ["Last 30 days"]
    assert parse_qs(presets[0].query)["created_after"] == ["2026-11-25"]
    html = response.content.decode()
    assert 'data-from="2026-10-27" data-to="2026-11-25" aria-current="true">Last 30 days<' in html
    assert html.count('aria-current="true"') == 1


def test_no_preset_is_marked_on_bad_filters(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?created_after=2026-11-24&created_before=2026-11-24&page=x")
    assert response.status_code == 400
    assert not [p for p in response.context["presets"] if p.active]


# --- the time-zone picker ---------------------------------------------------------------------


def test_the_page_carries_only_the_zone_in_effect(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?tz=Asia%2FTokyo").content.decode()
    assert "Africa/Abidjan" not in html
    assert 'id="f-tz" name="tz" value="Asia/Tokyo"' in html
    assert f'data-zone-names="/calls/time-zones/{version()}.json"' in html
    assert '<datalist id="f-tz-names"></datalist>' in html


def test_the_zone_names_are_served_once_for_ever(staff_client):
    response = staff_client.get(f"/calls/time-zones/{version()}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.json() == {"zones": list(zone_names())}
    assert response.content == zone_names_json()


def test_an_old_version_of_the_names_redirects_to_the_current_one(staff_client):
    response = staff_client.get("/calls/time-zones/2019c.json")
    assert response.status_code == 302
    assert response["Location"] == f"/calls/time-zones/{version()}.json"


def test_the_zone_names_need_a_staff_sign_in(client):
    response = client.get(f"/calls/time-zones/{version()}.json")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_picked_zone_is_the_default_when_the_link_has_none(staff_client, frozen_simulator):
    staff_client.cookies["tz"] = "Europe/Berlin"
    staff_client.cookies[CHOSEN_ZONE_COOKIE] = "Asia/Tokyo"
    assert "times in Asia/Tokyo" in staff_client.get("/calls/").content.decode()
    assert "times in UTC" in staff_client.get("/calls/?tz=UTC").content.decode()
    staff_client.cookies[CHOSEN_ZONE_COOKIE] = "Mars/Olympus"  # ignored, never an error
    response = staff_client.get("/calls/")
    assert response.status_code == 200
    assert "times in Europe/Berlin" in response.content.decode()


def test_an_unknown_zone_typed_in_the_picker_is_the_clear_400(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?tz=tokyo", **HTMX)
    assert response.status_code == 400
    assert "Time zone: Unknown time zone “tokyo”." in response.content.decode()


# --- saved views ------------------------------------------------------------------------------


def test_saving_replacing_and_deleting_a_view_each_say_so(staff_client, staff_user):
    saved = staff_client.post(
        "/calls/saved-views/", {"name": "Mine", "query": "status=ended&tz=UTC"}, follow=True
    )
    assert "Saved view “Mine”." in saved.content.decode()
    replaced = staff_client.post(
        "/calls/saved-views/",
        {"name": "Mine", "query": "status=failed&tz=UTC", "replace": "1"},
        follow=True,
    )
    assert "Replaced view “Mine”." in replaced.content.decode()
    view = SavedView.objects.get(user=staff_user)
    deleted = staff_client.post(f"/calls/saved-views/{view.pk}/delete", follow=True)
    assert "Deleted view “Mine”." in deleted.content.decode()


def test_saved_views_are_links_beside_the_filters(staff_client, staff_user, frozen_simulator):
    SavedView.objects.create(user=staff_user, name="Failed", query="status=failed&tz=UTC")
    html = staff_client.get("/calls/?tz=UTC").content.decode()
    chips = html[html.index('<nav id="saved-view-chips"') :]
    chips = chips[: chips.index("</nav>")]
    assert '<a class="chip" href="/calls/?status=failed&amp;tz=UTC">Failed</a>' in chips
    assert "<details" not in chips


# --- totals charts ----------------------------------------------------------------------------


def test_a_single_day_is_a_bar_with_its_figure_in_words():
    chart = str(calls_per_day(((date(2026, 11, 24), 18),)))
    assert "<rect" in chart and "<polyline" not in chart and "<circle" not in chart
    assert "18 calls on 2026-11-24" in chart
    assert 'role="img"' in chart and "style=" not in chart
    assert "1 call on 2026-11-24" in str(calls_per_day(((date(2026, 11, 24), 1),)))


def test_day_labels_carry_the_year_as_the_table_writes_dates():
    chart = str(calls_per_day(((date(2025, 12, 30), 2), (date(2026, 1, 2), 5))))
    assert ">2025-12-30</text>" in chart and ">2026-01-02</text>" in chart


def test_calls_without_any_outcome_are_no_finding():
    assert str(outcome_bars((("", 12),), 12)) == f'<p class="muted chart-none">{NONE_RECORDED}</p>'
    mixed = str(outcome_bars((("", 3), ("interested", 1)), 4))
    assert "No outcome 3 (75%)" in mixed, "among other outcomes, none is a share like any"
