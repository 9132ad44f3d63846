"""Verdicts and outcome corrections as stored: append-only, audited in the same transaction,
the latest counting (calls/services/reviews.py, corrections.py, history.py, roles.py)."""

import string
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from calls.models import (
    AuditAction,
    AuditEvent,
    HistoryIsAppendOnly,
    OutcomeCorrection,
    Review,
)
from calls.services import corrections, reviews, roles
from calls.services.corrections import clean_label
from calls.services.history import in_chunks
from tests.reviews.conftest import person, role_group

pytestmark = pytest.mark.django_db


def request_by(user):
    request = RequestFactory().post("/", HTTP_USER_AGENT="pytest", REMOTE_ADDR="10.0.0.7")
    request.user = user
    return request


# --- verdicts -----------------------------------------------------------------------------------


def test_a_verdict_is_stored_with_its_audit_row(reviewer):
    review = reviews.record_review(
        request_by(reviewer), call_id="call_a", verdict="pass", note="Polite and correct."
    )
    assert (review.call_id, review.verdict, review.note, review.reviewer) == (
        "call_a",
        "pass",
        "Polite and correct.",
        reviewer,
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.call_id, event.detail, event.user) == (
        AuditAction.REVIEW_CALL,
        "call_a",
        "pass",
        reviewer,
    )
    assert event.ip == "10.0.0.7" and event.user_agent == "pytest"


def test_a_failed_audit_row_stores_no_verdict(reviewer, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("audit table is read-only")

    monkeypatch.setattr(AuditEvent.objects, "create", refuse)
    with pytest.raises(DatabaseError):
        reviews.record_review(request_by(reviewer), call_id="call_a", verdict="fail")
    assert not Review.objects.exists()


def test_the_latest_verdict_counts_and_the_history_keeps_every_one(reviewer, teammate):
    first = reviews.record_review(request_by(reviewer), call_id="call_a", verdict="fail")
    second = reviews.record_review(
        request_by(teammate), call_id="call_a", verdict="follow-up", assigned_to=reviewer
    )
    assert reviews.latest_reviews(["call_a"])["call_a"] == second
    assert reviews.review_history("call_a") == [second, first]
    facts = reviews.review_facts(["call_a", "call_b"])
    assert list(facts) == ["call_a"]
    assert facts["call_a"].verdict == "follow-up" and facts["call_a"].assigned_to == "rita"
    assert AuditEvent.objects.filter(action="review_call").count() == 2
    assert AuditEvent.objects.filter(detail="follow-up for rita").exists()


def test_same_instant_verdicts_are_ordered_by_their_row(reviewer):
    first = reviews.record_review(request_by(reviewer), call_id="call_a", verdict="fail")
    second = Review.objects.create(call_id="call_a", verdict="pass", reviewer=reviewer, at=first.at)
    assert reviews.latest_reviews(["call_a"])["call_a"] == second


def test_only_a_follow_up_keeps_its_assignee(reviewer, teammate):
    review = reviews.record_review(
        request_by(reviewer), call_id="call_a", verdict="pass", assigned_to=teammate
    )
    assert review.assigned_to is None


def test_verdicts_are_never_changed_or_deleted(reviewer):
    review = reviews.record_review(request_by(reviewer), call_id="call_a", verdict="pass")
    review.verdict = "fail"
    with pytest.raises(HistoryIsAppendOnly):
        review.save()
    with pytest.raises(HistoryIsAppendOnly):
        Review.objects.filter(pk=review.pk).update(verdict="fail")
    with pytest.raises(HistoryIsAppendOnly):
        review.delete()


def test_a_bad_verdict_or_an_over_long_note_is_refused(reviewer):
    with pytest.raises(ValueError):
        reviews.record_review(request_by(reviewer), call_id="call_a", verdict="great")
    with pytest.raises(ValueError):
        reviews.record_review(
            request_by(reviewer), call_id="call_a", verdict="pass", note="x" * 2001
        )
    assert not Review.objects.exists()


def test_verdict_counts_and_reviewed_calls(reviewer):
    for call_id, verdict in [("a", "pass"), ("b", "fail"), ("a", "fail"), ("c", "follow-up")]:
        reviews.record_review(request_by(reviewer), call_id=call_id, verdict=verdict)
    assert reviews.verdict_counts(["a", "b", "c", "d"]) == {"pass": 0, "fail": 2, "follow-up": 1}
    assert reviews.reviewed_ids(["a", "d", "c"]) == {"a", "c"}


@pytest.mark.shared_backends
def test_many_calls_are_read_a_chunk_at_a_time(reviewer, django_assert_num_queries):
    reviews.record_review(request_by(reviewer), call_id="call_00700", verdict="pass")
    call_ids = [f"call_{n:05d}" for n in range(1200)]
    with django_assert_num_queries(3):  # 500 + 500 + 200
        found = reviews.latest_reviews(call_ids)
    assert list(found) == ["call_00700"]


def test_chunks_drop_repeats_and_keep_order():
    assert list(in_chunks(["a", "b", "a", "c", "d"], size=2)) == [["a", "b"], ["c", "d"]]


def test_follow_ups_handed_to_someone_until_a_later_verdict(reviewer, teammate):
    reviews.record_review(
        request_by(reviewer), call_id="call_a", verdict="follow-up", assigned_to=teammate
    )
    reviews.record_review(
        request_by(reviewer), call_id="call_b", verdict="follow-up", assigned_to=teammate
    )
    reviews.record_review(request_by(teammate), call_id="call_b", verdict="pass")
    assert [review.call_id for review in reviews.handed_to(teammate)] == ["call_a"]
    assert reviews.handed_to(reviewer) == []


# --- outcome corrections ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("interested", "interested"),
        ("Callback requested", "callback-requested"),
        ("callback_requested", "callback-requested"),
        ("  Demo   booked ", "demo-booked"),
        ("Demo_Booked", "demo-booked"),
        ("Rückruf", "rückruf"),
        ("a" * 64, "a" * 64),
    ],
)
def test_labels_are_stored_in_one_shape(typed, stored):
    assert clean_label(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "Give an outcome"),
        ("   ", "Give an outcome"),
        ("a" * 65, "at most 64"),
        ("<b>booked</b>", "only letters"),
        ('booked" onmouseover="x', "only letters"),
        ("=HYPERLINK(1)", "only letters"),
        ("---", "only letters"),
        ("booked!", "only letters"),
    ],
)
def test_labels_with_markup_or_out_of_shape_are_refused(typed, reason):
    with pytest.raises(ValueError, match=reason):
        clean_label(typed)


@given(st.text(max_size=80))
def test_a_stored_label_is_plain_and_stays_as_it_is(text):
    try:
        stored = clean_label(text)
    except ValueError:
        return
    assert 1 <= len(stored) <= 64
    assert not set(stored) & set("<>&\"'=+@;:/\\")
    assert clean_label(stored) == stored


@given(st.text(alphabet=string.punctuation.replace("-", "").replace("_", ""), min_size=1))
def test_punctuation_is_never_a_label(text):
    with pytest.raises(ValueError):
        clean_label("ok" + text)


def test_a_correction_keeps_the_ais_label_and_is_audited(reviewer):
    correction = corrections.correct_outcome(
        request_by(reviewer),
        call_id="call_a",
        ai_outcome="interested",
        outcome="not-interested",
        reason="The contact said no twice.",
    )
    assert (correction.ai_outcome, correction.outcome) == ("interested", "not-interested")
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.CORRECT_OUTCOME
    assert event.detail == "interested -> not-interested"


def test_a_correction_needs_a_reason(reviewer):
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(ValueError):
            corrections.correct_outcome(
                request_by(reviewer),
                call_id="call_a",
                ai_outcome="interested",
                outcome="voicemail",
                reason=reason,
            )
    assert not OutcomeCorrection.objects.exists()


def test_a_failed_audit_row_stores_no_correction(reviewer, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("no")

    monkeypatch.setattr(AuditEvent.objects, "create", refuse)
    with pytest.raises(DatabaseError):
        corrections.correct_outcome(
            request_by(reviewer), call_id="c", ai_outcome="", outcome="booked", reason="r"
        )
    assert not OutcomeCorrection.objects.exists()


@pytest.mark.shared_backends
def test_effective_outcomes_for_many_calls_in_one_query(
    reviewer, teammate, django_assert_num_queries
):
    first = corrections.correct_outcome(
        request_by(reviewer), call_id="a", ai_outcome="interested", outcome="voicemail", reason="r"
    )
    later = corrections.correct_outcome(
        request_by(teammate), call_id="a", ai_outcome="interested", outcome="no-answer", reason="s"
    )
    assert later.at >= first.at
    with django_assert_num_queries(1):
        found = corrections.effective_outcomes({"a": "interested", "b": "booked", "c": None})
    assert found["a"].outcome == "no-answer" and found["a"].ai_outcome == "interested"
    assert found["a"].corrected_by == "tom" and found["a"].corrected
    assert found["a"].at == later.at and found["a"].reason == "s"
    assert found["b"] == corrections.EffectiveOutcome("booked", "booked")
    assert not found["c"].corrected and found["c"].outcome is None
    assert [row.outcome for row in corrections.correction_history("a")] == [
        "no-answer",
        "voicemail",
    ]


def test_suggested_outcomes_include_truedys_and_those_used(reviewer):
    corrections.correct_outcome(
        request_by(reviewer), call_id="a", ai_outcome="", outcome="demo-booked", reason="r"
    )
    offered = dict(corrections.suggested_outcomes())
    assert offered["demo-booked"] == "Demo booked"
    assert {"interested", "voicemail", "callback-requested"} <= set(offered)


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.shared_backends
def test_roles(django_user_model, reviewer, viewer):
    admin = person(django_user_model, "ada", "Admin")
    nobody = person(django_user_model, "nat", None)  # staff in no group: a Viewer
    root = django_user_model.objects.create_superuser("root", password="x" * 20)
    outsider = django_user_model.objects.create_user("olga", password="x" * 20)
    outsider.groups.add(role_group("Reviewer"))  # not staff: no dashboard at all
    gone = person(django_user_model, "gus", "Reviewer", is_active=False)
    assert [roles.can_review(user) for user in (reviewer, admin, root)] == [True] * 3
    assert [roles.can_review(user) for user in (viewer, nobody, outsider, gone, None)] == [
        False
    ] * 5
    assert [roles.role_name(user) for user in (reviewer, admin, root, viewer, nobody)] == [
        "Reviewer",
        "Admin",
        "Admin",
        "Viewer",
        "Viewer",
    ]
    assert [user.username for user in roles.reviewers()] == ["ada", "rita", "root"]


def test_a_permission_given_to_one_person_makes_them_a_reviewer(django_user_model):
    user = person(django_user_model, "pia", None)
    user.user_permissions.add(Permission.objects.get(codename="review_calls"))
    user = django_user_model.objects.get(pk=user.pk)  # permissions are cached per object
    assert roles.can_review(user)
    assert list(roles.reviewers()) == [user]


def test_review_times_are_the_servers(reviewer):
    review = reviews.record_review(request_by(reviewer), call_id="call_a", verdict="pass")
    assert review.at.utcoffset() == timedelta(0)
