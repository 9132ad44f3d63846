"""Dead air and talk time from turn start times."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.services.transcripts import CHARS_PER_SECOND, time_transcript
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
