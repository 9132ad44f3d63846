"""Saved views (calls/views/saved_views.py): name the list's filters, find them in the menu
again."""

import pytest
from django.test import Client

from calls.models import SavedView

pytestmark = pytest.mark.django_db

SAVE = "/calls/saved-views/"


def delete_url(view: SavedView) -> str:
    return f"/calls/saved-views/{view.pk}/delete"


def test_save_then_find_it_in_the_menu_and_open_it(staff_client, staff_user, frozen_simulator):
    query = "status=failed&direction=inbound&tz=Europe/Berlin&per_page=50"
    listed = staff_client.get(f"/calls/?{query}&page=2")
    save_query = listed.context_data["save_query"]
    assert save_query == "status=failed&direction=inbound&tz=Europe/Berlin&per_page=50"
    response = staff_client.post(SAVE, {"name": "  Dropped   inbound ", "query": save_query})
    assert response.status_code == 303
    assert response["Location"] == f"/calls/?{save_query}"
    saved = SavedView.objects.get(user=staff_user)
    assert (saved.name, saved.query) == ("Dropped inbound", save_query)
    html = staff_client.get("/calls/").content.decode()
    assert "Saved view “Dropped inbound”." in html, "the save is confirmed"
    link = f'href="/calls/?{save_query.replace("&", "&amp;")}">Dropped inbound</a>'
    assert link in html
    assert staff_client.get(f"/calls/?{save_query}").status_code == 200


def test_the_query_is_revalidated_and_made_canonical(staff_client, staff_user):
    response = staff_client.post(
        SAVE, {"name": "x", "query": "page=4&direction=inbound&junk=1&status=&tz=UTC"}
    )
    assert response.status_code == 303
    assert SavedView.objects.get(user=staff_user).query == "direction=inbound&tz=UTC"


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("", "status=ended", "Give the view a name."),
        ("   ", "status=ended", "Give the view a name."),
        ("n" * 81, "status=ended", "at most 80 characters (this one has 81)"),
        ("tab\x07bell", "status=ended", "control characters"),
        ("bad", "status=bogus", "These filters are not valid"),
    ],
)
def test_bad_saves_are_a_400_with_the_reason(staff_client, staff_user, name, query, message):
    response = staff_client.post(SAVE, {"name": name, "query": query})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SavedView.objects.filter(user=staff_user).exists()


def test_a_name_in_use_asks_before_replacing(staff_client, staff_user):
    SavedView.objects.create(user=staff_user, name="Mine", query="status=ended")
    asked = staff_client.post(SAVE, {"name": "Mine", "query": "status=failed"})
    html = asked.content.decode()
    assert asked.status_code == 400
    assert "You already have a view named “Mine”" in html
    assert 'name="replace"' in html
    assert SavedView.objects.get(user=staff_user).query == "status=ended"
    replaced = staff_client.post(SAVE, {"name": "Mine", "query": "status=failed", "replace": "1"})
    assert replaced.status_code == 303
    assert SavedView.objects.get(user=staff_user).query == "status=failed&tz=UTC"


def test_other_users_views_are_invisible_and_cannot_be_deleted(
    staff_client, staff_user, django_user_model, frozen_simulator
):
    other = django_user_model.objects.create_user(username="kim", password="x" * 20, is_staff=True)
    theirs = SavedView.objects.create(user=other, name="Kim's secret view", query="status=ended")
    mine = SavedView.objects.create(user=staff_user, name="Mine", query="status=failed")
    html = staff_client.get("/calls/").content.decode()
    assert "Mine" in html and "Kim&#x27;s secret view" not in html and "Kim's" not in html
    assert staff_client.post(delete_url(theirs)).status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk).exists()
    # Same name, another user: no clash.
    assert staff_client.post(SAVE, {"name": "Kim's secret view", "query": ""}).status_code == 303
    response = staff_client.post(
        delete_url(mine), HTTP_REFERER="http://testserver/calls/?direction=webrtc&page=3"
    )
    assert response.status_code == 303
    assert response["Location"] == "/calls/?direction=webrtc&tz=UTC"  # the link carries a zone
    assert not SavedView.objects.filter(pk=mine.pk).exists()


def test_delete_goes_back_to_the_plain_list_without_a_usable_referer(staff_client, staff_user):
    view = SavedView.objects.create(user=staff_user, name="v", query="")
    response = staff_client.post(delete_url(view), HTTP_REFERER="https://evil.example/x?status=x")
    assert response["Location"] == "/calls/"


def test_saving_and_deleting_need_the_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    view = SavedView.objects.create(user=staff_user, name="v", query="")
    assert client.post(SAVE, {"name": "n", "query": ""}).status_code == 403
    assert client.post(delete_url(view)).status_code == 403
    assert SavedView.objects.filter(user=staff_user).count() == 1


def test_the_menu_forms_carry_the_csrf_token(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?status=ended").content.decode()
    form = html[html.index('<form class="save-view"') :]
    form = form[: form.index("</form>")]
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'name="query" value="status=ended&amp;tz=UTC"' in form


def test_an_htmx_filter_change_updates_what_save_saves(staff_client, frozen_simulator):
    html = staff_client.get(
        "/calls/?status=failed", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    ).content.decode()
    assert 'id="save-query" name="query" value="status=failed&amp;tz=UTC"' in html
    assert 'hx-swap-oob="true"' in html


def test_get_is_not_allowed(staff_client):
    assert staff_client.get(SAVE).status_code == 405


def test_a_swap_of_the_results_marks_the_saved_view_it_shows(
    staff_client, staff_user, frozen_simulator
):
    """The saved views stand beside the filters as links; the one whose filters the list shows
    is marked, also after an htmx filter change (out of band, one query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    SavedView.objects.create(user=staff_user, name="Failed", query="status=failed&tz=UTC")
    SavedView.objects.create(user=staff_user, name="Ended", query="status=ended&tz=UTC")
    with CaptureQueriesContext(connection) as swap:
        response = staff_client.get(
            "/calls/?status=failed&page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
        )
    html = response.content.decode()
    assert (
        '<nav id="saved-view-chips" class="saved-view-chips" aria-label="Saved views"'
        ' hx-swap-oob="true">' in html
    )
    assert 'href="/calls/?status=failed&amp;tz=UTC" aria-current="true">Failed</a>' in html
    assert 'href="/calls/?status=ended&amp;tz=UTC">Ended</a>' in html
    savedview = SavedView._meta.db_table
    assert len([q for q in swap.captured_queries if savedview in q["sql"]]) == 1
    page = staff_client.get("/calls/?status=ended").content.decode()
    assert 'href="/calls/?status=ended&amp;tz=UTC" aria-current="true">Ended</a>' in page
    assert 'href="/calls/?status=failed&amp;tz=UTC">Failed</a>' in page
