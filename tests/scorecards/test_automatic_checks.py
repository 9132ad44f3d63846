"""The automatic checks as pure functions: phrases (whole words, any case, alternatives), the
longest silence, the agent's talk share, the duration and who ended the call, each "unknown"
when the call does not hold what it needs (calls/services/automatic_checks.py)."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from calls.services.automatic_checks import (
    BadCheck,
    CallFacts,
    alternatives,
    describe,
    ended_by,
    find_phrase,
    phrase_pattern,
    run_check,
    validate_check,
)
from calls.truedy.records import Turn

A, C = "agent", "contact"


def facts(*turns, duration=None, end_reason=None) -> CallFacts:
    return CallFacts.of(
        [Turn(speaker, text, float(at)) for speaker, text, at in turns],
        duration,
        end_reason,
        dead_air_seconds=3.0,
    )


CALL = facts(
    (A, "Hi, this is Maya, an AI assistant calling from Brightline Solar.", 0.8),
    (C, "Sorry, you're breaking up. Who is this?", 6.0),
    (A, "Brightline Solar. I'm calling about your billing.", 8.0),
    (C, "I can't hear you...", 20.0),
    duration=30,
)


def phrase(phrases, speaker="agent", said=True):
    return {"kind": "phrase", "speaker": speaker, "phrases": phrases, "said": said}


# --- phrases -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrases", "text", "found"),
    [
        ("bill", "Your bill is ready", True),
        ("bill", "About your billing", False),  # whole words only
        ("bill", "Bill, are you there?", True),
        ("AI assistant", "an ai   ASSISTANT calling", True),  # any case, any run of spaces
        ("AI assistant", "an AI-assistant", False),
        ("can't hear", "I can't hear you", True),
        ("$5.00", "It costs $5.00 a month", True),  # the phrase is text, not a pattern
        ("a.b", "axb", False),
        ("goodbye|have a great day", "Thanks, have a great day!", True),
        ("goodbye| |", "Goodbye.", True),  # empty alternatives are dropped
    ],
)
def test_a_phrase_matches_whole_words_in_any_case(phrases, text, found):
    assert (phrase_pattern(phrases).search(text) is not None) is found


def test_a_phrase_without_words_is_refused_with_a_sentence():
    with pytest.raises(BadCheck, match="at least one phrase"):
        phrase_pattern(" | |")


WORD = st.text(alphabet=st.characters(categories=["Ll", "Lu"]), min_size=1, max_size=12)


@given(word=WORD, before=st.lists(WORD, max_size=4), after=st.lists(WORD, max_size=4))
def test_a_word_is_found_in_any_case_among_other_words(word, before, after):
    text = " ".join([*before, word.swapcase(), *after])
    # Letters whose other case is one letter that maps back (re folds case letter by letter:
    # "İ" becomes two characters in lower case, which no regex engine matches as one).
    assume(len(word.swapcase()) == len(word) and word.swapcase().lower() == word.lower())
    assert phrase_pattern(word).search(text) is not None


@given(word=WORD, glued=st.text(alphabet="abcxyz019_", min_size=1, max_size=4))
def test_a_word_inside_a_longer_word_is_not_found(word, glued):
    pattern = phrase_pattern(word)
    assert pattern.search(f"- {word}{glued} -") is None
    assert pattern.search(f"- {glued}{word} -") is None


@given(parts=st.lists(st.text(min_size=1, max_size=15), min_size=1, max_size=5))
def test_every_alternative_is_found_as_written(parts):
    phrases = "|".join(parts)
    wanted = alternatives(phrases)
    if not wanted:
        with pytest.raises(BadCheck):
            phrase_pattern(phrases)
        return
    pattern = phrase_pattern(phrases)
    for part in wanted:
        assert pattern.search(f" {part} ") is not None, part


@given(text=st.text(max_size=80), phrases=st.text(max_size=40))
def test_matching_any_text_never_fails(text, phrases):
    try:
        pattern = phrase_pattern(phrases)
    except BadCheck:
        return
    assert isinstance(pattern, re.Pattern)
    pattern.search(text)


def test_a_phrase_is_found_only_in_the_chosen_speakers_turns():
    pattern = phrase_pattern("breaking up")
    assert find_phrase(CALL.turns, pattern, speaker="agent") is None
    hit = find_phrase(CALL.turns, pattern, speaker="contact")
    assert (hit.turn, hit.seconds, hit.matched) == (2, 6.0, "breaking up")
    assert find_phrase(CALL.turns, pattern).turn == 2  # anyone


def test_a_phrase_said_is_answered_with_the_turn_it_matched():
    result = run_check(phrase("AI assistant|automated assistant"), CALL)
    assert result.answer == "yes"
    assert (result.turn, result.seconds) == (1, 0.8)
    assert result.evidence.startswith("Said: Agent at 0:00: “Hi, this is Maya, an AI assistant")


def test_a_phrase_never_to_be_said_that_was_said_answers_no_with_its_turn():
    result = run_check(phrase("can't hear|cannot hear", speaker="contact", said=False), CALL)
    assert (result.answer, result.turn, result.seconds) == ("no", 4, 20.0)


def test_a_phrase_not_found_says_where_it_looked():
    said = run_check(phrase("goodbye"), CALL)
    never = run_check(phrase("goodbye", said=False), CALL)
    assert (said.answer, never.answer) == ("no", "yes")
    assert said.evidence == "Not said by the agent in 4 turns."
    assert said.seconds is None


def test_without_a_transcript_a_phrase_is_unknown_but_an_empty_one_is_searched():
    unknown = run_check(phrase("goodbye"), CallFacts.of(None, 30))
    assert unknown.answer is None and unknown.shown == "unknown"
    assert run_check(phrase("goodbye", said=False), facts()).answer == "yes"


# --- timing ---------------------------------------------------------------------------------------


def test_the_longest_silence_is_measured_between_turns():
    # Turn 1 lasts ~4.3 s (64 characters at 15 a second): 0.8 + 4.3 = 5.1, then quiet to 6.0.
    # Turn 3 ends at ~11.3 s; turn 4 starts at 20: 8.7 s of silence.
    result = run_check({"kind": "longest_silence", "max_seconds": 5}, CALL)
    assert result.answer == "no"
    assert result.turn == 4
    assert result.evidence.startswith("Longest silence 8.7 s, before turn 4 at 0:20")
    assert result.seconds == pytest.approx(11.3, abs=0.1)  # where the silence starts
    assert run_check({"kind": "longest_silence", "max_seconds": 9}, CALL).answer == "yes"


def test_talk_share_is_the_agents_share_of_the_estimated_talk_time():
    result = run_check({"kind": "talk_share", "min_percent": 30, "max_percent": 70}, CALL)
    assert result.answer == "yes"
    assert result.evidence == "Agent ≈ 69.8 % of the talk time (wanted 30 to 70 %)."
    low = run_check({"kind": "talk_share", "min_percent": 80}, CALL)
    assert low.answer == "no" and "wanted at least 80 %" in low.evidence


def test_duration_within_a_range_and_unknown_without_one():
    assert run_check({"kind": "duration", "min_seconds": 20, "max_seconds": 60}, CALL).answer == (
        "yes"
    )
    short = run_check({"kind": "duration", "min_seconds": 45}, CALL)
    assert short.answer == "no" and short.evidence == "Lasted 0:30 (30 s; wanted at least 45 s)."
    assert run_check({"kind": "duration", "max_seconds": 60}, facts()).answer is None


def test_timing_checks_are_unknown_without_turns():
    for check in (
        {"kind": "longest_silence", "max_seconds": 5},
        {"kind": "talk_share", "min_percent": 10},
    ):
        assert run_check(check, CallFacts.of(None, 30)).answer is None
        assert run_check(check, facts(duration=30)).answer is None  # nobody spoke


# --- who ended the call --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "who"),
    [
        ("hangup", "contact"),
        ("agent_hangup", "agent"),
        ("AGENT_HANGUP", "agent"),
        ("customer-ended-call", "contact"),
        ("timeout", None),
        ("interested", None),
        ("", None),
        (None, None),
    ],
)
def test_who_ended_the_call_is_read_from_the_end_reason(reason, who):
    assert ended_by(reason) == who


def test_ended_by_answers_only_where_truedy_says():
    agent_hung_up = facts(duration=30, end_reason="agent_hangup")
    assert run_check({"kind": "ended_by", "party": "agent"}, agent_hung_up).answer == "yes"
    assert run_check({"kind": "ended_by", "party": "contact"}, agent_hung_up).answer == "no"
    unknown = run_check({"kind": "ended_by", "party": "contact"}, facts(end_reason="timeout"))
    assert unknown.answer is None
    assert unknown.evidence == "Truedy does not say who ended this call (end reason “timeout”)."
    assert run_check({"kind": "ended_by", "party": "contact"}, facts()).evidence == (
        "Truedy does not say who ended this call."
    )


# --- definitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"kind": "nope"}, "There is no automatic check “nope”."),
        (phrase("x", speaker="robot"), "Say who must say the phrase"),
        (phrase(" | "), "Give at least one phrase"),
        (phrase("|".join(str(n) for n in range(21))), "at most 20 alternatives"),
        ({"kind": "longest_silence"}, "Give the longest silence allowed"),
        ({"kind": "longest_silence", "max_seconds": -1}, "from 0 to 86400"),
        ({"kind": "talk_share"}, "Give a minimum, a maximum or both."),
        ({"kind": "talk_share", "min_percent": 101}, "from 0 to 100"),
        ({"kind": "talk_share", "min_percent": 70, "max_percent": 30}, "must not be above"),
        ({"kind": "duration", "min_seconds": "ten"}, "must be a number"),
        ({"kind": "ended_by", "party": "anyone"}, "the agent or the contact"),
    ],
)
def test_a_bad_check_says_what_is_wrong(check, message):
    with pytest.raises(BadCheck, match=re.escape(message)):
        validate_check(check)


def test_a_check_in_words():
    assert describe(phrase("AI assistant|bot")) == "The agent says “AI assistant” or “bot”"
    assert describe(phrase("can't hear", speaker="contact", said=False)) == (
        "The contact never says “can't hear”"
    )
    assert describe({"kind": "talk_share", "min_percent": 30, "max_percent": 70}) == (
        "Agent talk share 30 to 70 %"
    )
    assert describe({"kind": "duration", "max_seconds": 600}) == "Duration at most 600 s"
    assert describe({"kind": "ended_by", "party": "contact"}) == "The contact ends the call"
    assert describe({"kind": "gone"}) == "An automatic check that can no longer be read"


def test_a_call_never_answered_has_nothing_to_check():
    unanswered = CallFacts.of([], 0, None, answered=False)
    for check in (
        phrase("goodbye"),
        phrase("goodbye", said=False),
        {"kind": "longest_silence", "max_seconds": 5},
        {"kind": "duration", "min_seconds": 20},
    ):
        result = run_check(check, unanswered)
        assert result.answer is None
        assert result.evidence == "The call was never answered: nothing to check."
    hung_up = CallFacts.of([], 0, "hangup", answered=False)
    assert run_check({"kind": "ended_by", "party": "contact"}, hung_up).answer == "yes"
