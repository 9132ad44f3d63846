"""Automatic scores without a reviewer: every call the archive stores is scored on the current
versions that apply to it (calls/background/scoring.py), a sweep catches up after a new
version, and the list filters by the score (``auto_score``, archive only)."""

import json

import pytest

from calls.background import scoring
from calls.forms import CallFilterForm, parse_score_range
from calls.models import AutomaticScore, WebhookEvent
from calls.services import scorecards
from calls.truedy.filters import CallFilters
from calls.upstream import gateway, reads
from tests.scorecards.conftest import archive, as_request, make_scorecard, spec

# Run again on PostgreSQL by `make test` (the queries of versions, scores and the list filter).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]


def ended_calls(count: int):
    client = gateway.get_client()
    return [
        client.get_call(call.id) for call in reads.list_calls(status="ended", limit=count).calls
    ]


@pytest.fixture
def version(admin):
    return make_scorecard(admin)


def test_storing_an_ended_call_scores_it(
    frozen_simulator, version, django_capture_on_commit_callbacks
):
    call = ended_calls(1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        archive(call)
    row = AutomaticScore.objects.get()
    assert (row.call_id, row.version_id) == (call.id, version.pk)
    facts = scorecards.facts_of(call, end_reason=None)
    results = scorecards.automatic_results(version, facts)
    assert row.score == scorecards.automatic_score(version, results)
    assert [entry["question"] for entry in row.results] == list(results)
    assert {entry["answer"] for entry in row.results} <= {"yes", "no", "unknown"}


def test_storing_it_again_replaces_its_score(
    frozen_simulator, version, django_capture_on_commit_callbacks
):
    call = ended_calls(1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        archive(call)
    first = AutomaticScore.objects.get().computed_at
    scorecards.score_archived_call(call.id)
    assert AutomaticScore.objects.count() == 1
    assert AutomaticScore.objects.get().computed_at >= first


def test_a_call_that_has_not_ended_is_left_for_later(frozen_simulator, version):
    live = next(
        c
        for c in frozen_simulator.data.calls
        if c.status_at(frozen_simulator.clock.now_us()) == "in-progress"
    )
    archive(gateway.get_client().get_call(live.id))
    assert scorecards.score_archived_call(live.id) == 0
    assert AutomaticScore.objects.count() == 0


def test_nothing_is_computed_without_automatic_questions(
    frozen_simulator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        archive(ended_calls(1)[0])
    assert AutomaticScore.objects.count() == 0
    assert scoring.score_archive() == 0


def test_the_sweep_scores_what_a_new_version_has_not_scored_yet(frozen_simulator, admin, version):
    calls = ended_calls(6)
    for call in calls:
        archive(call)  # no on-commit here: as if the messages were lost
    assert AutomaticScore.objects.count() == 0
    assert scoring.score_archive() == 6
    assert AutomaticScore.objects.filter(version=version).count() == 6
    newer = scorecards.save_scorecard(
        as_request(admin), scorecard=version.scorecard, spec=spec(name="Quality, again")
    )
    assert scorecards.unscored_call_ids() != []
    # 4, then it sends itself again for the other 2 (run at once here: tasks run eagerly).
    assert scoring.score_archive(batch=4) == 4
    assert AutomaticScore.objects.filter(version=newer).count() == 6
    assert AutomaticScore.objects.filter(version=version).count() == 6  # old ones kept
    assert AutomaticScore.objects.current().count() == 6
    assert scorecards.unscored_call_ids() == []


def test_the_scope_of_a_scorecard_decides_which_calls_it_scores(frozen_simulator, admin):
    calls = ended_calls(8)
    agent = calls[0].agent_id
    mine = make_scorecard(admin, name="Mine", agent_ids=(agent,))
    for call in calls:
        archive(call)
    scoring.score_archive()
    scored = set(AutomaticScore.objects.filter(version=mine).values_list("call_id", flat=True))
    assert scored == {call.id for call in calls if call.agent_id == agent}


def test_who_ended_the_call_is_read_from_its_webhook(frozen_simulator, admin):
    version = make_scorecard(
        admin,
        questions=(
            scorecards.QuestionSpec(
                "Contact hung up", "yes_no", auto_check={"kind": "ended_by", "party": "contact"}
            ),
        ),
    )
    call = ended_calls(1)[0]
    archive(call)
    scorecards.score_archived_call(call.id)
    assert AutomaticScore.objects.get().results[0]["answer"] == "unknown"
    body = {"event": "call.ended", "data": {"call": {"callId": call.id, "endReason": "hangup"}}}
    WebhookEvent.objects.create(
        event_key="k1", event="call.ended", call_id=call.id, raw_body=json.dumps(body)
    )
    scorecards.score_archived_call(call.id)
    row = AutomaticScore.objects.get(version=version)
    assert row.results[0]["answer"] == "yes" and row.score == 100
    assert row.results[0]["evidence"] == "Truedy says the contact ended the call (hangup)."


# --- the list's filter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bounds"),
    [("below-80", (None, 80.0)), ("from-80", (80.0, None)), ("50-80", (50.0, 80.0))],
)
def test_a_score_range_reads(text, bounds):
    assert parse_score_range(text) == bounds


@pytest.mark.parametrize("text", ["below-101", "80-50", "50-50", "80", "below80", "-5", "lots"])
def test_a_bad_score_range_is_refused_with_a_sentence(staff_client, text, frozen_simulator):
    response = staff_client.get("/calls/", {"auto_score": text})
    assert response.status_code == 400
    assert "is not a score range: use below-80, from-80 or 50-80" in response.content.decode()


def test_the_filter_is_archive_only_and_dropped_for_truedy():
    filters = CallFilters(status="ended", auto_score=(None, 80.0))
    assert filters.archive_only and filters.searches
    assert filters.without_search() == CallFilters(status="ended")


def test_the_form_carries_the_range_into_the_filters_and_the_query(settings):
    from zoneinfo import ZoneInfo

    form = CallFilterForm({"auto_score": "60-90"}, default_zone=ZoneInfo("UTC"))
    assert form.is_valid()
    assert form.list_filters().auto_score == (60.0, 90.0)
    assert "auto_score=60-90" in form.query()
    assert ("60-90", "60 % to under 90 %") in form.fields["auto_score"].choices


def test_the_list_shows_the_calls_below_a_score(staff_client, frozen_simulator, version):
    calls = ended_calls(12)
    for call in calls:
        archive(call)
    scoring.score_archive()
    scores = dict(AutomaticScore.objects.values_list("call_id", "score"))
    below = {call_id for call_id, score in scores.items() if score is not None and score < 80}
    assert below and below != set(scores), scores  # the simulator's calls differ
    response = staff_client.get("/calls/", {"auto_score": "below-80", "per_page": "100"})
    assert response.status_code == 200
    assert {call.id for call in response.context["calls"]} == below
    assert "whose automatic score is below 80 %" in response.content.decode()
    upper = staff_client.get("/calls/", {"auto_score": "from-80", "per_page": "100"})
    assert {call.id for call in upper.context["calls"]} == {
        call_id for call_id, score in scores.items() if score is not None and score >= 80
    }
    scorecards.set_retired(as_request(version.created_by), version.scorecard, retired=True)
    gone = staff_client.get("/calls/", {"auto_score": "below-80"})
    assert list(gone.context["calls"]) == []  # only current scorecards count


def test_seed_demo_user_makes_the_demo_scorecard_once(django_user_model):
    from django.core.management import call_command

    from calls.models import ScorecardVersion
    from calls.services.automatic_checks import validate_check

    call_command("seed_demo_user", password="a-demo-password-123")
    call_command("seed_demo_user", password="a-demo-password-123")
    version = ScorecardVersion.objects.get()
    assert version.name == "Call quality (demo)" and version.agent_ids == []
    questions = list(version.questions.all())
    checks = [question.auto_check for question in questions if question.auto_check]
    assert len(questions) == 10 and len(checks) == 7
    assert {check["kind"] for check in checks} == {
        "phrase",
        "longest_silence",
        "talk_share",
        "duration",
        "ended_by",
    }
    for check in checks:
        assert validate_check(check) == check  # stored in its canonical form
