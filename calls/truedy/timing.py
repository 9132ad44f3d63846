"""When each transcript turn is spoken, where the line goes quiet, and who talks how long.

Truedy gives each turn's start only. A turn is taken to last as long as its words take to say
at ``CHARS_PER_SECOND`` (measured on the simulator's recorded calls: 16.5 characters a second
median; 15 keeps silences on the conservative side), never past the next turn's start nor the
end of the call. The rest is silence; a silence of ``threshold`` seconds or more is dead air,
and the transcript marks the dead air that stands out (``marked_silences``).

Pure rules on turns (no Django): the call page (calls.services.transcripts), the automatic
checks and the archive (each call's longest silence, stored when it is archived) share them.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from calls.truedy.records import Turn

CHARS_PER_SECOND = 15.0
SHORTEST_TURN_SECONDS = 0.6  # "Yes." still takes a moment to say
# Which dead air the transcript marks: see marked_silences.
NOTABLE_SILENCE_FACTOR = 2.0
FEWEST_GAPS_FOR_TYPICAL = 3
MOST_MARKED_SILENCES = 10


@dataclass(frozen=True, slots=True)
class TimedTurn:
    turn: Turn
    number: int  # 1-based, as shown
    start: float
    end: float  # estimated end of speech
    silence_before: float  # seconds of silence since the previous turn ended (or the call began)
    dead_air_before: bool  # that silence reached the threshold
    silence_marked: bool  # and stands out enough to be marked in the transcript


@dataclass(frozen=True, slots=True)
class TranscriptTiming:
    turns: tuple[TimedTurn, ...]
    talk_seconds: dict[str, float]  # speaker -> seconds, speakers in order of first turn
    longest_silence: TimedTurn | None  # the turn after the longest dead air, if there is any
    dead_air_count: int
    threshold: float
    chars_per_second: float = CHARS_PER_SECOND  # the estimate behind ``end`` and talk time

    def talk_share(self) -> list[tuple[str, float, int]]:
        """(speaker, seconds, whole percent of all talk) per speaker."""
        total = sum(self.talk_seconds.values())
        return [
            (speaker, seconds, round(100 * seconds / total) if total else 0)
            for speaker, seconds in self.talk_seconds.items()
        ]


def time_transcript(
    transcript: Sequence[Turn], duration_seconds: float | None, *, threshold: float
) -> TranscriptTiming:
    spans: list[tuple[float, float, float]] = []  # (start, end, silence before) per turn
    talk: dict[str, float] = {}
    previous_end = 0.0
    call_end = float(duration_seconds) if duration_seconds else None
    for index, turn in enumerate(transcript):
        start = max(0.0, float(turn.timestamp))
        next_start = (
            float(transcript[index + 1].timestamp) if index + 1 < len(transcript) else call_end
        )
        spoken = max(SHORTEST_TURN_SECONDS, len(turn.text) / CHARS_PER_SECOND)
        end = start + spoken
        if next_start is not None:
            end = max(start, min(end, next_start))
        spans.append((start, end, max(0.0, start - previous_end)))
        talk[turn.speaker] = talk.get(turn.speaker, 0.0) + (end - start)
        previous_end = max(previous_end, end)
    marked = marked_silences([silence for _, _, silence in spans], threshold=threshold)
    turns = tuple(
        TimedTurn(
            turn=turn,
            number=index + 1,
            start=start,
            end=end,
            silence_before=silence,
            dead_air_before=silence >= threshold,
            silence_marked=index in marked,
        )
        for index, (turn, (start, end, silence)) in enumerate(zip(transcript, spans, strict=True))
    )
    dead = [timed for timed in turns if timed.dead_air_before]
    return TranscriptTiming(
        turns=turns,
        talk_seconds=talk,
        longest_silence=max(dead, key=lambda timed: timed.silence_before) if dead else None,
        dead_air_count=len(dead),
        threshold=threshold,
    )


def marked_silences(silences: Sequence[float], *, threshold: float) -> frozenset[int]:
    """Which silences the transcript marks (indexes into ``silences``, the quiet before each turn).

    Dead air is any silence of ``threshold`` seconds or more, but a marker only helps where the
    line goes quieter than this call usually does: on a slow call where every gap is 3 s, a
    marker before every turn says nothing. So a silence is marked when it reaches the threshold
    *and* lasts at least ``NOTABLE_SILENCE_FACTOR`` times the call's median gap between turns
    (the silence before the first word does not count towards the median, and with fewer than
    ``FEWEST_GAPS_FOR_TYPICAL`` gaps there is no typical gap: the threshold alone decides). At
    most ``MOST_MARKED_SILENCES`` are marked, the longest (the earlier of equal ones).
    """
    gaps = silences[1:]
    typical = statistics.median(gaps) if len(gaps) >= FEWEST_GAPS_FOR_TYPICAL else 0.0
    notable = [
        index
        for index, silence in enumerate(silences)
        if silence >= threshold and silence >= NOTABLE_SILENCE_FACTOR * typical
    ]
    longest = sorted(notable, key=lambda index: (-silences[index], index))
    return frozenset(longest[:MOST_MARKED_SILENCES])


def longest_silence_seconds(
    transcript: Sequence[Turn] | None, duration_seconds: float | None
) -> float | None:
    """The longest silence before any turn (the first turn's wait included), in seconds, as
    the automatic check ``longest_silence`` measures it; None without turns."""
    if not transcript:
        return None
    timing = time_transcript(transcript, duration_seconds, threshold=0.0)
    return max(timed.silence_before for timed in timing.turns)
