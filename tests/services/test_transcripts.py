"""Dead air and talk time from turn start times."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.services.transcript_pages import TRANSCRIPT_PAGE_TURNS, page_of_turns
from calls.services.transcripts import (
    CHARS_PER_SECOND,
    MOST_MARKED_SILENCES,
    marked_silences,
    parse_offset,
    time_transcript,
)
from calls.simulator.manifest import DEFAULT_RECORDINGS_DIR, load_manifest
from calls.truedy.records import Turn


def turn(speaker: str, seconds: float, text: str = "x" * 30) -> Turn:
    return Turn(speaker=speaker, text=text, timestamp=seconds)  # 30 chars: 2 s of speech


def test_a_long_pause_before_a_turn_is_dead_air():
    timing = time_transcript(
        [turn("agent", 0), turn("contact", 2.5), turn("agent", 13)], 16, threshold=3
    )
    silences = [round(t.silence_before, 2) for t in timing.turns]
    assert silences == [0, 0.5, 8.5]
    assert [t.dead_air_before for t in timing.turns] == [False, False, True]
    assert timing.longest_silence is timing.turns[2]
    assert timing.dead_air_count == 1


def test_talk_time_per_speaker_never_runs_past_the_next_turn_or_the_call():
    timing = time_transcript(
        [turn("agent", 0), turn("contact", 1), turn("agent", 10, "y" * 300)], 12, threshold=3
    )
    # The agent is cut off by the contact at 1 s; the last turn by the end of the call at 12 s.
    assert timing.talk_seconds == {"agent": 1 + 2, "contact": 2}
    assert timing.talk_share() == [("agent", 3, 60), ("contact", 2, 40)]


def test_a_silence_just_under_the_threshold_is_not_dead_air():
    timing = time_transcript([turn("agent", 0), turn("contact", 4.99)], 8, threshold=3)
    assert timing.turns[1].silence_before == pytest.approx(2.99)
    assert timing.longest_silence is None
    assert timing.dead_air_count == 0


def test_silence_before_the_first_word_counts():
    timing = time_transcript([turn("contact", 5)], 8, threshold=3)
    assert timing.turns[0].dead_air_before


def test_no_duration_means_the_last_turn_lasts_as_long_as_its_words():
    timing = time_transcript([turn("agent", 0, "z" * 45)], None, threshold=3)
    assert timing.turns[0].end == 45 / CHARS_PER_SECOND


def test_the_support_recording_has_exactly_its_one_dead_air():
    """The recorded support call holds 8.6 s of silence while the agent looks something up."""
    recording = next(
        r for r in load_manifest(DEFAULT_RECORDINGS_DIR) if r.name == "support_inbound"
    )
    turns = [Turn(t["speaker"], t["text"], t["timestamp"]) for t in recording.turns]
    timing = time_transcript(turns, recording.duration_seconds, threshold=3)
    assert timing.dead_air_count == 1
    assert 8 <= timing.longest_silence.silence_before <= 9.5
    assert timing.longest_silence.turn.text.startswith("Thanks for waiting")


def test_the_other_recordings_have_no_dead_air():
    for recording in load_manifest(DEFAULT_RECORDINGS_DIR):
        if recording.name == "support_inbound":
            continue
        turns = [Turn(t["speaker"], t["text"], t["timestamp"]) for t in recording.turns]
        assert time_transcript(turns, recording.duration_seconds, threshold=3).dead_air_count == 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["agent", "contact"]),
            st.floats(0, 600, allow_nan=False),
            st.text(max_size=200),
        ),
        max_size=30,
    ),
    st.one_of(st.none(), st.integers(0, 700)),
)
def test_timings_are_consistent_for_any_transcript(raw, duration):
    raw.sort(key=lambda item: item[1])
    turns = [Turn(speaker, text, at) for speaker, at, text in raw]
    timing = time_transcript(turns, duration, threshold=3)
    assert len(timing.turns) == len(turns)
    for timed in timing.turns:
        assert timed.start <= timed.end
        assert timed.silence_before >= 0
    for this, following in zip(timing.turns, timing.turns[1:], strict=False):
        assert this.end <= following.start + 1e-9
    total = sum(timing.talk_seconds.values())
    assert total == pytest.approx(sum(t.end - t.start for t in timing.turns))
    if timing.talk_seconds and total:
        assert 99 <= sum(share for _, _, share in timing.talk_share()) <= 101


# --- which dead air the transcript marks ----------------------------------------------------------


def test_a_call_whose_every_gap_is_dead_air_gets_no_marker_per_turn():
    """A slow call (every gap 3 to 4 s) is dead air throughout: marking it all would stripe the
    transcript and point at nothing."""
    silences = [0, 3.2, 3.5, 3.1, 4.0, 3.3, 3.6, 3.0, 3.4]
    assert marked_silences(silences, threshold=3) == frozenset()


def test_a_silence_well_beyond_the_calls_usual_gap_is_marked():
    silences = [0, 3.2, 3.5, 3.1, 9.0, 3.3, 3.6]  # median gap 3.4: 9 s is over twice that
    assert marked_silences(silences, threshold=3) == {4}
    assert marked_silences([0, 0.5, 0.4, 0.0, 3.0, 0.6], threshold=3) == {4}


def test_twice_the_median_gap_is_the_line():
    assert marked_silences([0, 2, 2, 2, 4, 2], threshold=3) == {4}  # exactly twice
    assert marked_silences([0, 2, 2, 2, 3.99, 2], threshold=3) == frozenset()


def test_below_the_threshold_nothing_is_marked_however_quiet_the_rest():
    assert marked_silences([0, 0, 0, 0, 2.9, 0], threshold=3) == frozenset()


def test_with_too_few_gaps_for_a_median_the_threshold_alone_decides():
    assert marked_silences([0, 4, 4], threshold=3) == {1, 2}
    assert marked_silences([5], threshold=3) == {0}


def test_silence_before_the_first_word_is_marked_but_not_counted_as_a_usual_gap():
    assert marked_silences([12, 0.5, 0.4, 0.6], threshold=3) == {0}


def test_at_most_the_longest_few_are_marked_the_earlier_of_equals_first():
    silences = [0.0] * 20 + [5.0] * (MOST_MARKED_SILENCES + 5) + [7.0, 7.0]
    marked = marked_silences(silences, threshold=3)
    assert len(marked) == MOST_MARKED_SILENCES
    first_five = set(range(20, 20 + MOST_MARKED_SILENCES - 2))
    assert marked == first_five | {len(silences) - 2, len(silences) - 1}


def test_the_timing_marks_only_what_the_rule_picks_and_still_counts_all_dead_air():
    turns = [turn("agent" if i % 2 else "contact", 5.0 * i) for i in range(8)]  # 3 s gaps
    timing = time_transcript(turns, 40, threshold=3)
    assert timing.dead_air_count == 7
    assert not any(t.silence_marked for t in timing.turns)
    assert timing.longest_silence is not None  # the header still names the longest


@given(st.lists(st.floats(0, 120, allow_nan=False), max_size=60), st.floats(0.5, 20))
def test_marked_silences_are_dead_air_and_few(silences, threshold):
    marked = marked_silences(silences, threshold=threshold)
    assert len(marked) <= MOST_MARKED_SILENCES
    assert all(silences[index] >= threshold for index in marked)
    if marked:  # the longest dead air of all is among them
        assert max(silences[index] for index in marked) == max(silences)


def test_parse_offset_reads_ascii_digits_only():
    """player.js reads "jump to time" by the same rules, and JavaScript's \\d is ASCII."""
    with pytest.raises(ValueError):
        parse_offset("٣")
    with pytest.raises(ValueError):
        parse_offset("١:٢٣")


# --- pages of a very long transcript ---------------------------------------------------------


def test_a_page_of_turns_knows_where_its_moments_begin_and_the_next_pages_do():
    turns = time_transcript(
        [turn("agent", 2.0 * i, "x") for i in range(2 * TRANSCRIPT_PAGE_TURNS + 5)],
        None,
        threshold=3,
    ).turns
    first, _ = page_of_turns(turns, wanted=None, current=None)
    assert (first.starts_at, first.next_starts_at) == (None, 2.0 * TRANSCRIPT_PAGE_TURNS)
    second, _ = page_of_turns(turns, wanted="2", current=None)
    assert second.starts_at == 2.0 * TRANSCRIPT_PAGE_TURNS
    assert second.next_starts_at == 4.0 * TRANSCRIPT_PAGE_TURNS
    last, _ = page_of_turns(turns, wanted="3", current=None)
    assert last.next_starts_at is None
