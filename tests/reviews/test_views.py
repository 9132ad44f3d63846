"""Review work through HTTP (calls/views/reviews.py): forms, refusals, queues and samples."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.db import DatabaseError

from calls.models import AuditEvent, OutcomeCorrection, Review, ReviewSample
from calls.services import review_queue
from calls.truedy.client import format_timestamp
from calls.upstream import reads
from tests.conftest import upstream_paths
from tests.reviews.conftest import ended_calls

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "review-work"}


@pytest.fixture
def call(frozen_simulator):
    return ended_calls(frozen_simulator, 1)[0]


def review_url(call_id: str, query: str = "") -> str:
    return f"/calls/{call_id}/review" + (f"?{query}" if query else "")


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- a call's review page -----------------------------------------------------------------------


def test_the_review_page_shows_the_forms_to_a_reviewer(reviewer_client, call):
    response = reviewer_client.get(review_url(call.id))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="verdict" value="follow-up"' in html and "Correct the outcome" in html
    assert "Not reviewed yet." in html
    assert 'option value="rita"' in html  # a follow-up can be handed to a reviewer
    assert AuditEvent.objects.filter(action="view_call", call_id=call.id).exists()


def test_a_viewer_reads_the_review_page_without_its_forms(viewer_client, call):
    response = viewer_client.get(review_url(call.id))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your role (Viewer) can read reviews but not give them." in html
    assert 'name="verdict"' not in html and "Correct the outcome" not in html


@pytest.mark.parametrize("call_id", ["call_does_not_exist_0000000", "bad id", "<b>"])
def test_an_unknown_or_odd_call_is_404(reviewer_client, frozen_simulator, call_id):
    frozen_simulator.reset_requests()
    for response in (
        reviewer_client.get(review_url(call_id)),
        reviewer_client.post(review_url(call_id), {"verdict": "pass"}),
        reviewer_client.post(f"/calls/{call_id}/outcome", {"outcome": "x", "reason": "y"}),
    ):
        assert response.status_code == 404
    assert not Review.objects.exists() and not OutcomeCorrection.objects.exists()
    if call_id != "call_does_not_exist_0000000":
        assert upstream_paths(frozen_simulator) == []  # an odd id never goes upstream


# --- verdicts ----------------------------------------------------------------------------------


def test_a_verdict_without_javascript_redirects_back_with_a_message(reviewer_client, call):
    query = "status=ended&tz=UTC&page=2"
    response = reviewer_client.post(
        review_url(call.id, query), {"verdict": "pass", "note": "Fine."}
    )
    assert response.status_code == 303
    assert response["Location"] == f"/calls/{call.id}/?{query}"
    assert texts(response) == ["Saved: pass"]
    review = Review.objects.get()
    assert (review.call_id, review.verdict, review.note) == (call.id, "pass", "Fine.")
    assert AuditEvent.objects.filter(action="review_call", call_id=call.id).count() == 1


def test_a_verdict_from_the_review_page_returns_there(reviewer_client, call):
    response = reviewer_client.post(review_url(call.id), {"verdict": "fail", "return_to": "review"})
    assert response["Location"] == f"/calls/{call.id}/review"


def test_a_verdict_with_htmx_swaps_the_panel_and_announces_it(reviewer_client, call, teammate):
    response = reviewer_client.post(
        review_url(call.id),
        {"verdict": "follow-up", "note": "Ask billing.", "assigned_to": "tom"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="review-work"' in html
    assert 'hx-swap-oob="innerHTML">Saved: follow-up</p>' in html
    assert "handed to tom" in html
    assert Review.objects.get().assigned_to == teammate


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a verdict: pass, fail, follow-up."),
        ({"verdict": "great"}, "“great” is not a verdict"),
        ({"verdict": "pass", "note": "x" * 2001}, "A note has at most 2000 characters"),
        ({"verdict": "pass", "assigned_to": "rita"}, "Only a follow-up can be handed"),
        ({"verdict": "follow-up", "assigned_to": "vic"}, "only to a teammate who reviews"),
        ({"verdict": "follow-up", "assigned_to": "nobody"}, "only to a teammate who reviews"),
    ],
)
def test_a_bad_verdict_is_a_400_saying_why(reviewer_client, viewer, call, data, message):
    for extra in ({}, HTMX):
        response = reviewer_client.post(review_url(call.id), data, **extra)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Review.objects.exists()


def test_a_note_is_shown_as_text_never_as_html(reviewer_client, call):
    note = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    reviewer_client.post(review_url(call.id), {"verdict": "fail", "note": note})
    html = reviewer_client.get(review_url(call.id)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html


def test_a_database_failure_saves_nothing_says_so_and_keeps_the_input(
    reviewer_client, call, monkeypatch
):
    def refuse(**fields):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Review.objects, "create", refuse)
    response = reviewer_client.post(
        review_url(call.id), {"verdict": "pass", "note": "Kept for the retry."}, **HTMX
    )
    assert response.status_code == 503
    html = response.content.decode()
    assert "Not saved: the database could not store it." in html
    assert "Kept for the retry." in html
    assert not AuditEvent.objects.filter(action="review_call").exists()


def test_a_viewer_may_not_give_a_verdict_and_nothing_is_written(viewer_client, call):
    response = viewer_client.post(review_url(call.id), {"verdict": "pass"})
    assert response.status_code == 403
    assert "Reviewing needs the Reviewer role" in response.content.decode()
    fragment = viewer_client.post(review_url(call.id), {"verdict": "pass"}, **HTMX)
    assert fragment.status_code == 403 and "<html" not in fragment.content.decode()
    assert not Review.objects.exists()
    assert not AuditEvent.objects.filter(action="review_call").exists()


# --- outcome corrections --------------------------------------------------------------------------


def test_a_correction_shows_both_outcomes(reviewer_client, call):
    response = reviewer_client.post(
        f"/calls/{call.id}/outcome",
        {"outcome": "Demo booked", "reason": "The contact booked on the call."},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved: outcome Demo booked" in html
    ai_words = call.outcome.replace("-", " ").capitalize()
    assert f"AI said <strong>{ai_words}</strong> · supervisor set <strong>Demo booked</strong>" in (
        html
    )
    correction = OutcomeCorrection.objects.get()
    assert (correction.ai_outcome, correction.outcome) == (call.outcome, "demo-booked")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "<b>booked</b>", "reason": "r"}, "only letters, digits"),
        ({"outcome": "x" * 65, "reason": "r"}, "at most 64 characters"),
        ({"outcome": "booked", "reason": ""}, "a reason is required"),
        ({"outcome": "booked", "reason": "x" * 501}, "A reason has at most 500"),
        ({"reason": "r"}, "Give an outcome."),
    ],
)
def test_a_bad_correction_is_a_400_saying_why(reviewer_client, call, data, message):
    response = reviewer_client.post(f"/calls/{call.id}/outcome", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not OutcomeCorrection.objects.exists()


def test_setting_the_outcome_it_already_has_changes_nothing(reviewer_client, call):
    response = reviewer_client.post(
        f"/calls/{call.id}/outcome", {"outcome": call.outcome, "reason": "same"}
    )
    assert response.status_code == 400
    assert "already this call&#x27;s outcome" in response.content.decode()


def test_a_correction_without_javascript_redirects_back(reviewer_client, call):
    response = reviewer_client.post(
        f"/calls/{call.id}/outcome?status=ended&tz=UTC", {"outcome": "voicemail", "reason": "r"}
    )
    assert response.status_code == 303
    assert response["Location"] == f"/calls/{call.id}/?status=ended&tz=UTC"
    assert texts(response) == ["Saved: outcome Voicemail"]


def test_a_correction_needs_the_ais_outcome_so_waits_for_truedy(reviewer_client, frozen_simulator):
    call = ended_calls(frozen_simulator, 1)[0]
    frozen_simulator.switches.fail_next(10, status=503)
    response = reviewer_client.post(
        f"/calls/{call.id}/outcome", {"outcome": "voicemail", "reason": "Kept."}
    )
    assert response.status_code == 503
    assert "Truedy is unreachable" in response.content.decode()
    assert "Kept." in response.content.decode()
    assert not OutcomeCorrection.objects.exists()


def test_a_viewer_may_not_correct(viewer_client, call):
    response = viewer_client.post(f"/calls/{call.id}/outcome", {"outcome": "x", "reason": "y"})
    assert response.status_code == 403
    assert not OutcomeCorrection.objects.exists()


# --- queues ------------------------------------------------------------------------------------


def forty_failed_calls() -> str:
    """A view of exactly 40 calls: failed ones from the 40th newest on (From is inclusive)."""
    fortieth = reads.list_calls(status="failed", limit=40).calls[-1]
    query = f"status=failed&created_after={format_timestamp(fortieth.created_at)}&tz=UTC"
    return query.replace("+", "%2B")


def test_a_queue_walk_of_40_calls_asks_truedy_only_what_opening_each_call_costs(
    reviewer_client, frozen_simulator
):
    """The figure in the issue: starting reads the view once (one page of 100), each verdict
    and step reads nothing upstream; only the call pages themselves do."""
    query = forty_failed_calls()
    frozen_simulator.reset_requests()
    response = reviewer_client.get(f"/calls/review/start?{query}")
    assert response.status_code == 303
    start_cost = len(upstream_paths(frozen_simulator))
    page_cost = step_cost = 0
    reviewed = []
    url = response["Location"]
    while urlsplit(url).path != "/calls/review/done":
        frozen_simulator.reset_requests()
        assert reviewer_client.get(url).status_code == 200  # the call page
        page_cost += len(upstream_paths(frozen_simulator))
        call_id = urlsplit(url).path.split("/")[2]
        frozen_simulator.reset_requests()
        response = reviewer_client.post(
            review_url(call_id, urlsplit(url).query), {"verdict": "pass"}
        )
        step_cost += len(upstream_paths(frozen_simulator))
        assert response.status_code == 303
        reviewed.append(call_id)
        url = response["Location"]
    frozen_simulator.reset_requests()
    done = reviewer_client.get(url)
    assert done.status_code == 200 and "40 of 40 reviewed" in done.content.decode()
    assert upstream_paths(frozen_simulator) == []
    assert len(reviewed) == len(set(reviewed)) == 40
    assert (start_cost, step_cost) == (1, 0)
    print(f"\n40-call queue: start {start_cost}, call pages {page_cost}, verdicts {step_cost}")


def test_start_opens_the_first_unreviewed_call_at_its_page(reviewer_client, frozen_simulator):
    ids = [call.id for call in reads.list_calls(status="failed", limit=30).calls]
    for call_id in ids[:27]:
        Review.objects.create(call_id=call_id, verdict="pass", reviewer=reviewer_client_user())
    response = reviewer_client.get("/calls/review/start?status=failed&per_page=10&tz=UTC")
    location = urlsplit(response["Location"])
    assert location.path == f"/calls/{ids[27]}/"
    params = parse_qs(location.query)
    assert params["page"] == ["3"] and params["queue"] == ["1"] and params["per_page"] == ["10"]
    assert review_queue.holder(ids[27]) is not None


def reviewer_client_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="rita")


def test_the_call_page_of_a_queue_shows_its_progress_in_the_panel(
    reviewer_client, frozen_simulator
):
    start = reviewer_client.get("/calls/review/start?status=failed&direction=inbound&tz=UTC")
    location = urlsplit(start["Location"])
    call_id = location.path.split("/")[2]
    page = reviewer_client.get(review_url(call_id, location.query)).content.decode()
    total = reads.list_calls(status="failed", direction="inbound", limit=1).total
    assert f"0 of {total} reviewed" in page and "this is call 1 of the queue" in page
    assert "Skip this call" in page
    assert f'action="/calls/{call_id}/review?status=failed&amp;direction=inbound&amp;tz=UTC' in page


def test_a_verdict_with_htmx_in_a_queue_goes_to_the_next_call(reviewer_client, frozen_simulator):
    start = reviewer_client.get("/calls/review/start?status=failed&tz=UTC")
    location = urlsplit(start["Location"])
    call_id = location.path.split("/")[2]
    response = reviewer_client.post(
        review_url(call_id, location.query), {"verdict": "fail"}, **HTMX
    )
    assert response.status_code == 200
    following = urlsplit(response["HX-Redirect"])
    assert following.path != location.path and "queue=1" in following.query
    assert texts(response) == ["Saved: fail"]


def test_skip_leaves_the_call_to_others(reviewer_client, teammate_client, frozen_simulator):
    start = reviewer_client.get("/calls/review/start?status=failed&tz=UTC")
    first = urlsplit(start["Location"])
    call_id = first.path.split("/")[2]
    response = reviewer_client.post(f"/calls/{call_id}/review/skip?{first.query}")
    assert response.status_code == 303
    assert urlsplit(response["Location"]).path != first.path
    theirs = teammate_client.get("/calls/review/start?status=failed&tz=UTC")
    assert urlsplit(theirs["Location"]).path == first.path


def test_skip_outside_a_queue_is_a_400(reviewer_client, call):
    response = reviewer_client.post(f"/calls/{call.id}/review/skip?status=ended")
    assert response.status_code == 400
    assert "not part of a review queue" in response.content.decode()


def test_a_viewer_walks_a_queue_without_claiming(viewer_client, reviewer_client, frozen_simulator):
    seen = viewer_client.get("/calls/review/start?status=failed&tz=UTC")["Location"]
    given = reviewer_client.get("/calls/review/start?status=failed&tz=UTC")["Location"]
    assert urlsplit(seen).path == urlsplit(given).path


def test_a_queue_with_nothing_left_goes_to_its_done_page(reviewer_client, frozen_simulator):
    ids = [c.id for c in reads.list_calls(status="failed", direction="inbound", limit=100).calls]
    user = reviewer_client_user()
    for call_id in ids:
        Review.objects.create(call_id=call_id, verdict="fail", reviewer=user)
    response = reviewer_client.get("/calls/review/start?status=failed&direction=inbound&tz=UTC")
    assert urlsplit(response["Location"]).path == "/calls/review/done"
    done = reviewer_client.get(response["Location"]).content.decode()
    assert "This review queue is done" in done
    assert f"{len(ids)} of {len(ids)} reviewed" in done and "100 % of these calls reviewed" in done


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=nonsense", "is not a call status"),
        ("sample=999", "There is no sample 999."),
        ("sample=abc", "is the number of a sample"),
        ("part=1/2", "Only a sample can be split"),
        ("created_after=2026-02-30", "is not a date or time"),
    ],
)
def test_a_bad_queue_is_a_400_saying_why(reviewer_client, frozen_simulator, query, message):
    frozen_simulator.reset_requests()
    for path in ("/calls/review/start", "/calls/review/done"):
        response = reviewer_client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert message in response.content.decode()
    assert upstream_paths(frozen_simulator) == []


def test_truedy_down_at_the_start_is_the_friendly_page(reviewer_client, frozen_simulator):
    frozen_simulator.switches.fail_next(20, status=503)
    response = reviewer_client.get("/calls/review/start?status=failed&tz=UTC")
    assert response.status_code in (502, 503)
    assert "Try again" in response.content.decode()


# --- samples ----------------------------------------------------------------------------------


def test_a_sample_is_drawn_and_its_queue_started(reviewer_client, frozen_simulator):
    response = reviewer_client.post(
        "/calls/review/sample", {"query": "status=failed&tz=UTC&page=3", "count": "7"}
    )
    assert response.status_code == 303
    sample = ReviewSample.objects.get()
    assert (sample.size, sample.percent, sample.query) == (7, None, "status=failed&tz=UTC")
    assert len(sample.seed) == 32 and sample.created_by.username == "rita"
    assert response["Location"] == f"/calls/review/start?status=failed&tz=UTC&sample={sample.pk}"
    first = reviewer_client.get(response["Location"])
    assert f"sample={sample.pk}" in first["Location"]
    taken = review_queue.snapshot(review_queue.Queue(reads_filters("status=failed&tz=UTC"), sample))
    assert len(taken.call_ids) == 7
    assert urlsplit(first["Location"]).path == f"/calls/{taken.call_ids[0]}/"


def reads_filters(query: str):
    from zoneinfo import ZoneInfo

    from django.http import QueryDict

    from calls.forms import CallFilterForm

    form = CallFilterForm(QueryDict(query), default_zone=ZoneInfo("UTC"))
    assert form.is_valid()
    return form.list_filters()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Give a percent (1 to 100) or a number of calls"),
        ({"percent": "10", "count": "5"}, "not both"),
        ({"percent": "0"}, "A percent is a whole number from 1 to 100."),
        ({"percent": "101"}, "A percent is a whole number from 1 to 100."),
        ({"percent": "ten"}, "A percent is a whole number from 1 to 100."),
        ({"count": "10001"}, "from 1 to 10,000"),
        ({"count": "5", "query": "status=nonsense"}, "is not a call status"),
    ],
)
def test_a_bad_sample_is_a_400_saying_why(reviewer_client, frozen_simulator, data, message):
    response = reviewer_client.post("/calls/review/sample", {"query": "status=failed"} | data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReviewSample.objects.exists()


def test_a_viewer_may_not_draw_a_sample(viewer_client, frozen_simulator):
    response = viewer_client.post("/calls/review/sample", {"query": "", "percent": "10"})
    assert response.status_code == 403
    assert not ReviewSample.objects.exists()


def test_a_samples_own_filters_make_the_queue(reviewer_client, frozen_simulator):
    reviewer_client.post("/calls/review/sample", {"query": "status=failed&tz=UTC", "count": "3"})
    sample = ReviewSample.objects.get()
    # The URL's list query says otherwise: the sample is of the view it was drawn from.
    response = reviewer_client.get(f"/calls/review/start?status=ended&sample={sample.pk}")
    call_id = urlsplit(response["Location"]).path.split("/")[2]
    assert reads.get_call(call_id).status == "failed"
    assert "status=failed" in response["Location"]


def test_the_done_page_of_a_queue_with_calls_left_says_so(reviewer_client, frozen_simulator):
    page = reviewer_client.get("/calls/review/done?status=failed&direction=inbound&queue=1")
    total = reads.list_calls(status="failed", direction="inbound", limit=1).total
    html = page.content.decode()
    assert f"{total} calls of this queue still to review" in html and "Go on reviewing" in html


def test_writes_need_the_csrf_token(reviewer, call):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reviewer)
    assert strict.post(review_url(call.id), {"verdict": "pass"}).status_code == 403
    assert strict.post("/calls/review/sample", {"percent": "5"}).status_code == 403
    assert not Review.objects.exists() and not ReviewSample.objects.exists()


def test_the_panel_renders_on_any_page_from_review_panel(rf, reviewer, call):
    """What the call page does to show the panel: its context, then the include."""
    from zoneinfo import ZoneInfo

    from django.template.loader import render_to_string
    from django_htmx.middleware import HtmxDetails

    from calls.views.reviews import review_panel

    request = rf.get(f"/calls/{call.id}/?status=ended&tz=UTC&queue=1")
    request.user, request.htmx = reviewer, HtmxDetails(request)
    request.viewer_zone = ZoneInfo("UTC")
    context = review_panel(request, call.id, ai_outcome=call.outcome)
    html = render_to_string("calls/review/panel.html", context, request=request)
    assert 'id="review-panel"' in html and 'id="review-status"' in html
    assert "of these calls reviewed" in html  # the queue's progress
    assert f'action="/calls/{call.id}/review?status=ended&amp;tz=UTC&amp;queue=1"' in html
