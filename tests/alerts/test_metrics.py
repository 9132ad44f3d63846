"""Measuring a rule over hand-made archived calls at a fixed instant (no clock read): each
metric, the view's filters and dates, above and below, and the cool-down."""

from datetime import timedelta

import pytest

from calls.alert_forms import BadViewQuery, rule_filters
from calls.models import AlertIssue, AlertIssueCall, AutomaticScore, OutcomeCorrection
from calls.services import alerts
from calls.truedy.filters import CallFilters
from tests.alerts.conftest import GAPPY, NOW, QUIET, archived, make_rule
from tests.scorecards.conftest import make_scorecard, questions_of

# Run again on PostgreSQL by `make test` (the archive's filters and the issue's rows).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

EVERY = CallFilters()


def measure(rule, filters=EVERY, now=NOW):
    return alerts.measure(rule, filters=filters, now=now)


def test_the_number_of_calls_counts_only_the_window():
    for index, minutes in enumerate((5, 20, 59)):
        archived(f"call_in_{index}", minutes_ago=minutes)
    archived("call_too_old", minutes_ago=61)
    rule = make_rule(metric="calls", threshold=2)
    measured = measure(rule)
    assert measured.value == 3
    assert measured.fired_ids == ("call_in_0", "call_in_1", "call_in_2")  # newest first
    assert measured.breaches(rule)
    assert (measured.window_start, measured.window_end) == (NOW - timedelta(minutes=60), NOW)


def test_a_call_created_after_now_is_not_in_the_window():
    archived("call_later", minutes_ago=-1)
    assert measure(make_rule()).value == 0


def test_the_saved_views_filters_and_dates_narrow_the_calls():
    archived("call_a", minutes_ago=10, agent_id="agent_a")
    archived("call_b", minutes_ago=10, agent_id="agent_b")
    archived("call_b_early", minutes_ago=50, agent_id="agent_b")
    filters = rule_filters("agent_id=agent_b&created_after=2026-11-24T11:30&tz=UTC")
    measured = measure(make_rule(), filters)
    assert measured.fired_ids == ("call_b",)
    # The list's bounds are exclusive: From 11:30 is after 11:29:59.999999.
    assert measured.window_start == NOW - timedelta(minutes=30, microseconds=1)


def test_a_share_of_an_outcome_counts_corrections(reviewer):
    archived("call_1", minutes_ago=1, outcome="voicemail")
    archived("call_2", minutes_ago=2, outcome="voicemail")  # corrected away below
    archived("call_3", minutes_ago=3, outcome="success")  # corrected to voicemail below
    archived("call_4", minutes_ago=4, outcome="success")
    for call_id, ai, outcome in (
        ("call_2", "voicemail", "success"),
        ("call_3", "success", "voicemail"),
    ):
        OutcomeCorrection.objects.create(
            call_id=call_id,
            ai_outcome=ai,
            outcome=outcome,
            reason="heard it",
            corrected_by=reviewer,
        )
    rule = make_rule(metric="outcome", outcome="voicemail", as_share=True, threshold=40)
    measured = measure(rule)
    assert (measured.value, measured.counted, measured.judged) == (50.0, 2, 4)
    assert measured.fired_ids == ("call_1", "call_3")
    assert measured.breaches(rule)
    assert "50 % calls with outcome “voicemail” (2 of 4)" in alerts.describe_measurement(
        rule, measured
    )


def test_below_a_threshold_the_other_calls_fire_it():
    archived("call_1", minutes_ago=1, outcome="success")
    archived("call_2", minutes_ago=2, outcome="voicemail")
    archived("call_3", minutes_ago=3, outcome="voicemail")
    rule = make_rule(
        metric="outcome", outcome="success", as_share=True, direction="below", threshold=50
    )
    measured = measure(rule)
    assert round(measured.value, 1) == 33.3
    assert measured.breaches(rule)
    assert measured.fired_ids == ("call_2", "call_3")  # the calls that pulled the share down


def test_a_failing_automatic_check_counts_only_known_answers(admin):
    version = make_scorecard(admin)
    question = questions_of(version)["Says it is an AI"]
    answers = {"call_no": "no", "call_yes": "yes", "call_unknown": "unknown"}
    for minutes, (call_id, answer) in enumerate(answers.items(), start=1):
        archived(call_id, minutes_ago=minutes)
        AutomaticScore.objects.create(
            call_id=call_id, version=version, results=[{"question": question, "answer": answer}]
        )
    archived("call_unscored", minutes_ago=9)
    rule = make_rule(metric="failed_check", check_question_id=question, as_share=True, threshold=10)
    measured = measure(rule)
    assert (measured.value, measured.counted, measured.judged) == (50.0, 1, 2)
    assert measured.fired_ids == ("call_no",)


def test_a_check_is_followed_to_the_scorecards_new_version(admin):
    from calls.services import scorecards
    from tests.scorecards.conftest import as_request, spec

    first = make_scorecard(admin)
    old_question = first.questions.get(text="Says it is an AI")
    second = scorecards.save_scorecard(
        as_request(admin), scorecard=first.scorecard, spec=spec(name="Quality, v2")
    )
    new_question = second.questions.get(text="Says it is an AI")
    assert alerts.current_question(old_question) == new_question


def test_long_silences_are_measured_from_the_transcript():
    archived("call_gappy", minutes_ago=1, transcript=GAPPY)
    archived("call_quiet", minutes_ago=2, transcript=QUIET)
    archived("call_untranscribed", minutes_ago=3, transcript=None)
    counted = make_rule(metric="long_silence", silence_seconds=20, threshold=0)
    measured = measure(counted)
    assert (measured.value, measured.judged, measured.fired_ids) == (1, 2, ("call_gappy",))
    shared = make_rule(metric="long_silence", silence_seconds=20, as_share=True, threshold=60)
    assert measure(shared).value == 50.0
    assert not measure(shared).breaches(shared)


def test_no_calls_at_all_fires_only_on_an_empty_window():
    rule = make_rule(metric="no_calls", window_minutes=15)
    archived("call_old", minutes_ago=20)
    assert measure(rule).breaches(rule)
    archived("call_new", minutes_ago=5)
    assert not measure(rule).breaches(rule)


def test_an_issue_holds_exactly_the_calls_that_fired_it():
    for index in range(3):
        archived(f"call_{index}", minutes_ago=index + 1)
    rule = make_rule(threshold=2)
    issue = alerts.check_rule(rule, filters=EVERY, now=NOW)
    assert issue is not None
    assert alerts.issue_call_ids(issue) == ["call_0", "call_1", "call_2"]
    assert (issue.call_count, issue.value, issue.state) == (3, 3.0, "open")
    rule.refresh_from_db()
    assert (rule.last_value, rule.last_fired_at, rule.last_checked_at) == (3.0, NOW, NOW)


def test_the_cool_down_stops_a_rule_firing_again_too_soon():
    archived("call_1", minutes_ago=1)
    rule = make_rule(threshold=0, cooldown_minutes=30)
    assert alerts.check_rule(rule, filters=EVERY, now=NOW) is not None
    rule.refresh_from_db()
    later = NOW + timedelta(minutes=29)
    assert alerts.check_rule(rule, filters=EVERY, now=later) is None
    rule.refresh_from_db()
    assert rule.last_checked_at == later  # checked, just not fired
    after = NOW + timedelta(minutes=30)
    archived("call_2", minutes_ago=-29)  # created within the later window
    assert alerts.check_rule(rule, filters=EVERY, now=after) is not None
    assert AlertIssue.objects.count() == 2


def test_a_rule_under_its_threshold_opens_nothing():
    archived("call_1", minutes_ago=1)
    assert alerts.check_rule(make_rule(threshold=1), filters=EVERY, now=NOW) is None
    assert not AlertIssue.objects.exists() and not AlertIssueCall.objects.exists()


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("campaign=cmp_1&tz=UTC", "only Truedy can list"),
        ("status=nonsense", "no longer read"),
    ],
)
def test_a_view_an_alert_cannot_watch_is_refused_with_its_reason(query, reason):
    with pytest.raises(BadViewQuery, match=reason):
        rule_filters(query)
