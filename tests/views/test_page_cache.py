"""The list's rows from the page cache (calls.services.page_cache): a hit skips the review-work
queries and the rows' building, and no cached row ever shows what its viewer should not see or
what has changed since (a verdict, a correction, another zone, another role)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import OutcomeCorrection, Review
from calls.services import page_cache
from calls.upstream import resilience
from tests.reviews.conftest import person, signed_in

pytestmark = pytest.mark.django_db

LIST = "/calls/?tz=UTC"


def rows(response) -> str:
    html = response.content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


def first_call_id(response) -> str:
    found = re.search(r'data-call-id="([^"]+)"', rows(response))
    assert found
    return found.group(1)


def review_work_queries(queries) -> list[str]:
    tables = (Review._meta.db_table, OutcomeCorrection._meta.db_table)
    return [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in tables)]


def test_a_repeated_list_reads_its_rows_from_the_cache(staff_client, frozen_simulator):
    first = staff_client.get(LIST)
    with CaptureQueriesContext(connection) as again:
        second = staff_client.get(LIST)
    assert second.status_code == 200
    assert rows(second) == rows(first)
    assert review_work_queries(again) == []


def test_a_verdict_shows_at_once_on_a_cached_list(
    staff_client, frozen_simulator, django_user_model
):
    call_id = first_call_id(staff_client.get(LIST))
    staff_client.get(LIST)  # cached now
    reviewer = person(django_user_model, "rita", "Reviewer")
    Review.objects.create(call_id=call_id, verdict="fail", reviewer=reviewer)
    shown = rows(staff_client.get(LIST))
    row = shown[shown.index(f'data-call-id="{call_id}"') :].split("</tr>")[0]
    assert "Fail" in row and "rita" in row


def test_a_correction_shows_at_once_on_a_cached_list(
    staff_client, frozen_simulator, django_user_model
):
    call_id = first_call_id(staff_client.get(LIST))
    reviewer = person(django_user_model, "rita", "Reviewer")
    OutcomeCorrection.objects.create(
        call_id=call_id, outcome="sale_made", corrected_by=reviewer, reason="heard it"
    )
    shown = rows(staff_client.get(LIST))
    row = shown[shown.index(f'data-call-id="{call_id}"') :].split("</tr>")[0]
    assert "supervisor set" in row


def test_masked_and_unmasked_viewers_never_share_rows(frozen_simulator, django_user_model):
    reviewer = signed_in(person(django_user_model, "rita", "Reviewer"))
    viewer = signed_in(person(django_user_model, "vic", None))
    unmasked = rows(reviewer.get(LIST))
    masked = rows(viewer.get(LIST))
    assert masked != unmasked
    assert rows(viewer.get(LIST)) == masked  # from the cache, still the viewer's own
    assert rows(reviewer.get(LIST)) == unmasked


def test_each_time_zone_has_its_own_rows(staff_client, frozen_simulator):
    utc = rows(staff_client.get(LIST))
    tokyo = rows(staff_client.get("/calls/?tz=Asia/Tokyo"))
    assert tokyo != utc
    assert "+09:00" in tokyo and "+09:00" not in utc


def test_an_entry_counts_only_at_the_generation_it_was_built_at():
    built = []

    def build() -> str:
        built.append(1)
        return "<tr></tr>"

    key = page_cache.entry_key("test", ("a",))
    assert page_cache.cached_html(key, build) == "<tr></tr>"  # no generation yet: not kept
    page_cache.cached_html(key, build)
    page_cache.cached_html(key, build)  # kept by the second
    assert len(built) == 2
    page_cache.bump()
    page_cache.cached_html(key, build)
    assert len(built) == 3


def test_a_lost_generation_never_revives_an_old_entry():
    key = page_cache.entry_key("test", ("a",))
    page_cache.cached_html(key, lambda: "old")  # starts the generation
    assert page_cache.cached_html(key, lambda: "old") == "old"
    resilience.safe_delete(page_cache.GENERATION_KEY)  # evicted
    assert page_cache.cached_html(key, lambda: "new") == "new"
    assert page_cache.cached_html(key, lambda: "newer") == "newer"  # the old one is gone


def test_keys_differ_with_any_part():
    assert page_cache.entry_key("rows", ("a", 1)) != page_cache.entry_key("rows", ("a", 2))
    assert page_cache.entry_key("rows", ("a",)) == page_cache.entry_key("rows", ("a",))
    assert page_cache.entry_key("rows", ("a",)).startswith("truedy:v1:page-cache:rows:")


def permission_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"auth_permission"' in q["sql"]]


def test_a_users_permissions_come_from_the_cache_after_their_first_page(
    frozen_simulator, django_user_model
):
    reviewer = signed_in(person(django_user_model, "rita", "Reviewer"))
    reviewer.get(LIST)  # starts the permissions' generation
    reviewer.get(LIST)  # reads them and keeps them
    with CaptureQueriesContext(connection) as again:
        assert reviewer.get(LIST).status_code == 200
    assert permission_queries(again) == []


def test_a_role_taken_away_counts_at_once(frozen_simulator, django_user_model):
    user = person(django_user_model, "rita", "Reviewer")
    reviewer = signed_in(user)
    for _ in range(3):
        unmasked = rows(reviewer.get(LIST))
    user.groups.clear()  # now a Viewer: masked
    masked = rows(reviewer.get(LIST))
    assert masked != unmasked
    viewer = signed_in(person(django_user_model, "vic", None))
    assert masked == rows(viewer.get(LIST))


def test_the_filters_show_each_query_as_typed(staff_client, frozen_simulator):
    for _ in range(2):  # the second of each from the cache
        ended = staff_client.get("/calls/?tz=UTC&status=ended").content.decode()
        failed = staff_client.get("/calls/?tz=UTC&status=failed").content.decode()
        assert '<option value="ended" selected>' in ended
        assert '<option value="failed" selected>' not in ended
        assert '<option value="failed" selected>' in failed
        assert '<option value="ended" selected>' not in failed
