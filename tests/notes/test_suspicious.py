"""Suspicious labels: the pure rule at its boundaries, and the archive's selection of them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.archive.suspicious import (
    DECISIVE_OUTCOMES,
    contact_words,
    outcome_key,
    stored_contact_words,
    suspicious_archived_calls,
    word_count,
)
from calls.models import ArchivedCall
from calls.services.suspicious import reasons_for, suspicion_reasons
from calls.truedy.records import Turn
from tests.notes.calls_for_tests import archive, make_call

WORDS, SECONDS = 5, 15
words = st.integers(min_value=0, max_value=40)
seconds = st.integers(min_value=0, max_value=600)


def said(count: int) -> str:
    return " ".join(["word"] * count)


def reasons(call, *, min_words=WORDS, min_seconds=SECONDS):
    return suspicion_reasons(call, min_contact_words=min_words, min_seconds=min_seconds)


# --- the rule ----------------------------------------------------------------------------------


def test_a_hello_labelled_as_interested_is_flagged_with_both_reasons():
    call = make_call(contact="Hello.", duration_seconds=8)
    assert reasons(call) == (
        "AI said Interested, but the contact said 1 word.",
        "AI said Interested, but the call lasted 8 s.",
    )


def test_a_call_nobody_answered_in_says_nothing():
    call = make_call(transcript=(), outcome="booked")
    assert reasons(call) == ("AI said Booked, but the contact said nothing.",)


def test_a_talkative_long_call_is_not_flagged():
    assert reasons(make_call(contact="Sure, go ahead, that sounds interesting to me.")) == ()


def test_an_unknown_transcript_says_nothing_about_words():
    assert reasons(make_call(transcript=None, duration_seconds=60)) == ()


@pytest.mark.parametrize("outcome", ["not-interested", "voicemail", "no-answer", "resolved", None])
def test_outcomes_that_claim_nothing_are_never_flagged(outcome):
    assert reasons(make_call(contact="", duration_seconds=1, outcome=outcome)) == ()


@pytest.mark.parametrize(
    ("outcome", "key"),
    [
        ("Demo_Booked", "demo-booked"),
        ("callback_requested", "callback-requested"),
        (" Callback requested ", "callback-requested"),
        ("INTERESTED", "interested"),
        ("not-interested", "not-interested"),
        (None, ""),
    ],
)
def test_outcomes_are_compared_without_case_hyphens_or_underscores(outcome, key):
    assert outcome_key(outcome) == key


def test_the_decisive_outcomes_include_the_simulators_and_the_documented_ones():
    assert {"interested", "callback-requested", "booked", "escalated", "demo-booked"} <= (
        DECISIVE_OUTCOMES
    )


@pytest.mark.parametrize(
    ("text", "count"),
    [("Hello.", 1), ("Yeah, who's this?", 3), ("…", 0), ("  ", 0), ("مرحبا، أود تأكيد", 3)],
)
def test_words_are_counted_as_a_listener_would(text, count):
    assert word_count(text) == count


def test_only_the_contacts_words_count():
    turns = (Turn("agent", said(50), 0.0), Turn("contact", "Yes.", 2.0), Turn("contact", "No", 3))
    assert contact_words(turns) == 2


@given(count=words, minimum=st.integers(min_value=1, max_value=30))
def test_the_word_rule_flags_exactly_the_calls_below_the_minimum(count, minimum):
    call = make_call(contact=said(count), duration_seconds=600)
    flagged = reasons(call, min_words=minimum) != ()
    assert flagged == (count < minimum)


@given(length=seconds, minimum=st.integers(min_value=1, max_value=120))
def test_the_duration_rule_flags_exactly_the_calls_below_the_minimum(length, minimum):
    call = make_call(contact=said(40), duration_seconds=length)
    flagged = reasons(call, min_seconds=minimum) != ()
    assert flagged == (length < minimum)


@given(count=words, length=seconds, outcome=st.sampled_from(sorted(DECISIVE_OUTCOMES)))
def test_each_reason_names_the_outcome_and_the_evidence(count, length, outcome):
    call = make_call(contact=said(count), duration_seconds=length, outcome=outcome)
    found = reasons(call)
    assert len(found) == (count < WORDS) + (length < SECONDS)
    for reason in found:
        assert reason.startswith("AI said ") and reason.endswith(".")
    if count < WORDS:
        assert any("the contact said" in reason for reason in found)
    if length < SECONDS:
        assert any(f"lasted {length} s" in reason for reason in found)


def test_the_thresholds_are_settings(settings):
    settings.SUSPICIOUS_MIN_CONTACT_WORDS = 2
    settings.SUSPICIOUS_MIN_SECONDS = 5
    assert reasons_for(make_call(contact="Hello there", duration_seconds=6)) == ()
    assert len(reasons_for(make_call(contact="Hello", duration_seconds=4))) == 2


# --- the archive -------------------------------------------------------------------------------


@pytest.fixture
def archived():
    """Calls of every kind in the archive, keyed by what makes them (not) suspicious."""
    calls = {
        "hello": make_call(1, contact="Hello.", duration_seconds=40),
        "short": make_call(2, contact=said(30), duration_seconds=9),
        "fine": make_call(3, contact=said(30), duration_seconds=120),
        "quiet-no": make_call(4, contact="No.", outcome="not-interested", duration_seconds=8),
        "no-transcript": make_call(5, transcript=None, duration_seconds=90),
        "shouted": make_call(6, contact="Ok", outcome="Demo_Booked", duration_seconds=30),
        "silent": make_call(7, transcript=(), outcome="callback-requested", duration_seconds=50),
        "untimed": make_call(8, contact=said(9), duration_seconds=None),
    }
    for call in calls.values():
        archive(call)
    return {name: call.id for name, call in calls.items()}


@pytest.mark.django_db
@pytest.mark.shared_backends
def test_the_archive_selects_what_the_rule_flags(archived):
    found = suspicious_archived_calls(
        ArchivedCall.objects.all(), min_contact_words=5, min_seconds=15
    )
    expected = {archived[name] for name in ("hello", "short", "shouted", "silent")}
    assert set(found.values_list("id", flat=True)) == expected
    # The same answer as the pure rule over every archived call.
    from calls.archive.store import to_record

    flagged = {row.id for row in ArchivedCall.objects.all() if reasons(to_record(row))}
    assert flagged == expected


@pytest.mark.django_db
@pytest.mark.shared_backends
def test_the_archive_keeps_the_order_and_filters_it_is_given(archived):
    newest_first = ArchivedCall.objects.exclude(id=archived["hello"]).order_by("-created_at")
    found = list(suspicious_archived_calls(newest_first).values_list("id", flat=True))
    assert found == [archived["short"], archived["shouted"], archived["silent"]]


@pytest.mark.django_db
def test_the_database_answers_the_whole_rule_in_one_query(archived, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(suspicious_archived_calls(ArchivedCall.objects.all()))


@pytest.mark.django_db
def test_a_stored_transcript_that_is_not_a_list_of_turns_is_not_flagged(archived):
    ArchivedCall.objects.filter(id=archived["fine"]).update(transcript={"oops": 1})
    found = suspicious_archived_calls(ArchivedCall.objects.all())
    assert archived["fine"] not in set(found.values_list("id", flat=True))
    assert stored_contact_words([{"speaker": "contact", "text": 7}, "x"]) == 0
    assert stored_contact_words({"oops": 1}) is None


@pytest.mark.django_db
def test_the_simulator_has_mislabelled_calls_to_flag(frozen_simulator):
    """`make run` shows some: short calls or a word or two from the contact, labelled decisively."""
    from calls.upstream import reads

    mislabelled = [c.id for c in frozen_simulator.data.calls if c.kind == "mislabelled"]
    assert len(mislabelled) >= 5
    for call_id in mislabelled:
        assert reasons_for(reads.get_call(call_id)), call_id
