"""The AI's outcome against the reviewers': pure figures, the database's labels, and the page."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.models import OutcomeCorrection, Review
from calls.services import agreement
from calls.services.agreement import Judged, judged_calls, reviewer_labels
from calls.truedy.filters import CallFilters
from calls.upstream import reads
from tests.conftest import upstream_paths
from tests.notes.calls_for_tests import make_call

LABELS = ("interested", "not-interested", "booked", "")


def judged(ai, reviewer, agent="agt_1", number=[0]):  # noqa: B006 (a counter for unique ids)
    number[0] += 1
    return Judged(f"call_{number[0]:07d}", agent, ai, reviewer)


# --- the figures -------------------------------------------------------------------------------


def test_nothing_judged_gives_an_empty_table():
    figures = agreement.agreement([])
    assert (figures.n, figures.rows, figures.per_label, figures.per_agent) == (0, (), (), ())


def test_the_confusion_table_counts_each_pair_and_the_diagonal_lines_up():
    figures = agreement.agreement(
        [
            judged("interested", "interested"),
            judged("interested", "not-interested"),
            judged("interested", "interested"),
            judged("booked", "booked", agent="agt_2"),
            judged("", "voicemail", agent="agt_2"),
        ]
    )
    assert (figures.n, figures.agreed, figures.percent) == (5, 3, 60)
    # The AI's labels first (those a reviewer also used), in row order, then the reviewers' own.
    assert figures.columns == ("interested", "booked", "not-interested", "voicemail")
    rows = {row.ai: dict(row.cells) for row in figures.rows}
    assert [row.ai for row in figures.rows] == ["interested", "", "booked"]
    assert rows["interested"] == {
        "interested": 2,
        "booked": 0,
        "not-interested": 1,
        "voicemail": 0,
    }
    assert rows[""]["voicemail"] == 1
    assert [(r.key, r.n, r.agreed, r.percent) for r in figures.per_label] == [
        ("interested", 3, 2, 67),
        ("", 1, 0, 0),
        ("booked", 1, 1, 100),
    ]
    assert [(r.key, r.n, r.agreed) for r in figures.per_agent] == [("agt_1", 3, 2), ("agt_2", 2, 1)]


pairs = st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)), max_size=40)


@given(pairs)
def test_every_judged_call_is_in_exactly_one_cell(labelled):
    figures = agreement.agreement(judged(ai, reviewer) for ai, reviewer in labelled)
    assert figures.n == len(labelled)
    assert sum(count for row in figures.rows for _, count in row.cells) == len(labelled)
    assert sum(row.total for row in figures.rows) == len(labelled)
    assert figures.agreed == sum(1 for ai, reviewer in labelled if ai == reviewer)
    assert sum(rate.n for rate in figures.per_label) == len(labelled)
    assert sum(rate.agreed for rate in figures.per_agent) == figures.agreed
    diagonal = sum(dict(row.cells).get(row.ai, 0) for row in figures.rows)
    assert diagonal == figures.agreed


# --- the database's labels ---------------------------------------------------------------------


@pytest.fixture
def judged_in_db(reviewer):
    """Call 1 reviewed only; 2 reviewed and corrected twice; 3 corrected only; 4 untouched."""
    Review.objects.create(call_id="call_0000001", verdict="pass", reviewer=reviewer)
    Review.objects.create(call_id="call_0000002", verdict="fail", reviewer=reviewer)
    for outcome in ("booked", "Not_Interested"):
        OutcomeCorrection.objects.create(
            call_id="call_0000002",
            ai_outcome="interested",
            outcome=outcome,
            reason="The contact declined.",
            corrected_by=reviewer,
        )
    OutcomeCorrection.objects.create(
        call_id="call_0000003",
        ai_outcome="interested",
        outcome="voicemail",
        reason="A mailbox.",
        corrected_by=reviewer,
    )


@pytest.mark.django_db
@pytest.mark.shared_backends
def test_a_review_agrees_and_the_latest_correction_counts(judged_in_db):
    ids = [f"call_{n:07d}" for n in range(1, 5)]
    assert reviewer_labels(ids) == {
        "call_0000001": None,
        "call_0000002": "Not_Interested",
        "call_0000003": "voicemail",
    }
    found = list(judged_calls(make_call(n) for n in range(1, 5)))
    assert [(j.call_id, j.ai, j.reviewer, j.agrees) for j in found] == [
        ("call_0000001", "interested", "interested", True),
        ("call_0000002", "interested", "not-interested", False),
        ("call_0000003", "interested", "voicemail", False),
    ]


@pytest.mark.django_db
def test_without_any_review_the_view_is_not_read(frozen_simulator):
    frozen_simulator.reset_requests()
    figures = agreement.for_filters(CallFilters(status="ended"))
    assert figures.n == 0
    assert upstream_paths(frozen_simulator) == []


# --- the page ----------------------------------------------------------------------------------


def ended_calls(count: int) -> list:
    filters = CallFilters(status="ended", direction="inbound")
    page = reads.filtered_page(filters, page=1, per_page=count)
    return list(page.calls)


@pytest.mark.django_db
def test_the_page_shows_the_table_for_exactly_that_view(viewer_client, reviewer, frozen_simulator):
    calls = [call for call in ended_calls(50) if call.outcome][:3]
    for call in calls:
        Review.objects.create(call_id=call.id, verdict="pass", reviewer=reviewer)
    OutcomeCorrection.objects.create(
        call_id=calls[0].id,
        ai_outcome=calls[0].outcome or "",
        outcome="demo-booked",
        reason="Booked a demo.",
        corrected_by=reviewer,
    )
    Review.objects.create(call_id="call_notinthisview0000000", verdict="fail", reviewer=reviewer)
    response = viewer_client.get("/calls/agreement/?status=ended&direction=inbound")
    html = response.content.decode()
    assert response.status_code == 200
    assert "agreed with the AI's outcome on <strong>2 of 3</strong> reviewed calls (67 %)" in html
    assert '<th scope="col">Demo booked</th>' in html
    assert "<caption>" in html and 'scope="row"' in html
    assert 'href="/calls/?status=ended&amp;direction=inbound' in html


@pytest.mark.django_db
def test_a_view_nobody_reviewed_says_how_to_get_figures(viewer_client, frozen_simulator):
    response = viewer_client.get("/calls/agreement/?status=failed")
    assert response.status_code == 200
    assert "No call of this view has been reviewed yet" in response.content.decode()
    assert "Review some calls of this view" in response.content.decode()


@pytest.mark.django_db
def test_bad_filters_are_a_400_that_says_why(viewer_client, frozen_simulator):
    frozen_simulator.reset_requests()
    response = viewer_client.get("/calls/agreement/?status=bogus&created_after=2026-02-30")
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters cannot be read" in html and "bogus" in html
    assert upstream_paths(frozen_simulator) == []


@pytest.mark.django_db
def test_truedy_failing_is_said_with_its_status(viewer_client, reviewer, frozen_simulator):
    Review.objects.create(call_id="call_0000001", verdict="pass", reviewer=reviewer)
    frozen_simulator.switches.fail_next(50, status=500)
    response = viewer_client.get("/calls/agreement/?status=cancelled")
    assert response.status_code in (502, 503)
    assert "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_a_big_view_from_truedy_is_read_to_its_newest_thousand(
    viewer_client, reviewer, frozen_simulator
):
    Review.objects.create(call_id="call_0000001", verdict="pass", reviewer=reviewer)
    frozen_simulator.reset_requests()
    response = viewer_client.get("/calls/agreement/")
    assert response.status_code == 200
    assert "the figures cover its newest 1,000" in response.content.decode()
    pages = [path for path in upstream_paths(frozen_simulator) if path.endswith("/calls")]
    assert len(pages) <= 12
