"""Automatic checks: yes/no questions a transcript answers by itself, with the evidence.

Pure functions over one call's facts (its turns, their timing, its duration, and how Truedy says
it ended); no outside service, no database. Each check answers "yes", "no" or, when the call
does not hold what it needs (no transcript yet, no duration, no end reason), ``None``: unknown.
An unknown answer is left out of the automatic score, as "not applicable" is.

The checks, as a question's ``check`` stores them (``validate_check`` says what is wrong with
one):

- ``{"kind": "phrase", "speaker": "agent"|"contact"|"anyone", "phrases": "a|b", "said": true}``:
  the speaker said one of the phrases (``said: false``: never said any). Matching is per turn,
  case-insensitive, on whole words (``"bill"`` does not match "billing"), any run of spaces
  between a phrase's words; ``|`` separates alternatives.
- ``{"kind": "longest_silence", "max_seconds": 5}``: no silence between turns longer than that.
- ``{"kind": "talk_share", "min_percent": 30, "max_percent": 70}``: the agent's share of the talk
  time (as the call page estimates it) within the range; either bound may be left out.
- ``{"kind": "duration", "min_seconds": 20, "max_seconds": 600}``: the call's duration within it.
- ``{"kind": "ended_by", "party": "agent"|"contact"}``: Truedy says that party hung up.

Truedy's Call object has no field saying who ended a call; its webhooks carry the voice engine's
``endReason`` (``../shared/truedy-api.md``, "Webhooks": ``hangup`` when the contact hung up,
``agent_hangup`` when the agent did). Any other reason, or none, is unknown.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from calls.services.transcripts import TranscriptTiming, time_transcript
from calls.truedy.records import SPEAKER_LABELS, Turn

Answer = Literal["yes", "no"]

KINDS = {
    "phrase": "A phrase said (or never said)",
    "longest_silence": "Longest silence at most N s",
    "talk_share": "Agent talk share within a range",
    "duration": "Duration within a range",
    "ended_by": "Who ended the call",
}
SPEAKERS = ("agent", "contact", "anyone")
PARTIES = ("agent", "contact")
MAX_PHRASES_CHARS = 500
MAX_ALTERNATIVES = 20
QUOTE_CHARS = 120  # of a matched turn, quoted as evidence
LONGEST_CALL_SECONDS = 24 * 3600

# The voice engine's end reasons (Ultravox `endReason`) and a few spellings other engines use,
# by the party that ended the call.
END_REASONS = {
    "hangup": "contact",
    "user_hangup": "contact",
    "contact_hangup": "contact",
    "customer_hangup": "contact",
    "caller_hangup": "contact",
    "customer-ended-call": "contact",
    "agent_hangup": "agent",
    "assistant_hangup": "agent",
    "agent-ended-call": "agent",
    "assistant-ended-call": "agent",
}


class BadCheck(ValueError):
    """A check definition that cannot be run; the message says what is wrong, in a sentence."""


@dataclasses.dataclass(frozen=True, slots=True)
class CallFacts:
    """What the checks read of one call. ``turns`` None: no transcript (yet). ``answered``
    False: the call never connected (nobody to judge: every check but ``ended_by`` is unknown)."""

    turns: tuple[Turn, ...] | None
    duration_seconds: float | None
    end_reason: str | None = None
    timing: TranscriptTiming | None = None
    answered: bool = True

    @classmethod
    def of(
        cls,
        turns: Sequence[Turn] | None,
        duration_seconds: float | None,
        end_reason: str | None = None,
        *,
        dead_air_seconds: float = 3.0,
        answered: bool = True,
    ) -> CallFacts:
        timed = None
        if turns:
            timed = time_transcript(turns, duration_seconds, threshold=dead_air_seconds)
        return cls(
            turns=None if turns is None else tuple(turns),
            duration_seconds=duration_seconds,
            end_reason=end_reason,
            timing=timed,
            answered=answered,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's answer (None: unknown) and the evidence in words; ``seconds`` and ``turn``
    point at the moment it rests on (a ``?t=`` link), when there is one."""

    answer: Answer | None
    evidence: str
    seconds: float | None = None
    turn: int | None = None

    @property
    def shown(self) -> str:
        return self.answer or "unknown"


# --- phrases -----------------------------------------------------------------------------------


def alternatives(phrases: str) -> tuple[str, ...]:
    """The phrases ``a|b|c`` holds, each with its spaces tidied; empty ones dropped."""
    found = (" ".join(part.split()) for part in phrases.split("|"))
    return tuple(dict.fromkeys(part for part in found if part))


def phrase_pattern(phrases: str) -> re.Pattern[str]:
    """One case-insensitive pattern for every alternative, each on whole words: no letter,
    digit or underscore right before or after it; any run of spaces between its words."""
    parts = alternatives(phrases)
    if not parts:
        raise BadCheck("Give at least one phrase to look for (alternatives separated by |).")
    bodies = (r"\s+".join(re.escape(word) for word in part.split(" ")) for part in parts)
    return re.compile(r"(?<!\w)(?:" + "|".join(bodies) + r")(?!\w)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True)
class PhraseHit:
    turn: int  # 1-based
    seconds: float
    speaker: str
    text: str
    matched: str


def find_phrase(
    turns: Sequence[Turn], pattern: re.Pattern[str], *, speaker: str = "anyone"
) -> PhraseHit | None:
    """The first turn by ``speaker`` ("anyone": either) in which ``pattern`` matches."""
    for number, turn in enumerate(turns, start=1):
        if speaker != "anyone" and turn.speaker != speaker:
            continue
        match = pattern.search(turn.text)
        if match is not None:
            return PhraseHit(number, float(turn.timestamp), turn.speaker, turn.text, match[0])
    return None


def _quote(hit: PhraseHit) -> str:
    text = " ".join(hit.text.split())
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1] + "…"
    who = SPEAKER_LABELS.get(hit.speaker, hit.speaker)
    return f"{who} at {clock(hit.seconds)}: “{text}”"


def _who(speaker: str) -> str:
    return "anyone" if speaker == "anyone" else f"the {SPEAKER_LABELS[speaker].lower()}"


def check_phrase(facts: CallFacts, *, speaker: str, phrases: str, said: bool) -> CheckResult:
    pattern = phrase_pattern(phrases)
    if facts.turns is None:
        return CheckResult(None, "No transcript: nothing to look in.")
    hit = find_phrase(facts.turns, pattern, speaker=speaker)
    if hit is None:
        answer: Answer = "no" if said else "yes"
        return CheckResult(answer, f"Not said by {_who(speaker)} in {len(facts.turns)} turns.")
    return CheckResult(
        "yes" if said else "no", f"Said: {_quote(hit)}", seconds=hit.seconds, turn=hit.turn
    )


# --- timing ------------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """``83.4`` → ``1:23`` (``1:02:03`` past an hour), as the transcript shows times."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def longest_silence(timing: TranscriptTiming) -> tuple[float, int] | None:
    """The longest silence before any turn (the first turn's wait included), in seconds, and
    that turn's number; None without turns."""
    if not timing.turns:
        return None
    longest = max(timing.turns, key=lambda timed: (timed.silence_before, -timed.number))
    return longest.silence_before, longest.number


def check_longest_silence(facts: CallFacts, *, max_seconds: float) -> CheckResult:
    if facts.timing is None:
        return CheckResult(None, "No transcript turns: no silences to measure.")
    found = longest_silence(facts.timing)
    assert found is not None  # a timing has turns
    seconds, number = found
    start = facts.timing.turns[number - 1].start
    answer: Answer = "yes" if seconds <= max_seconds else "no"
    return CheckResult(
        answer,
        f"Longest silence {seconds:.1f} s, before turn {number} at {clock(start)} "
        f"(at most {_number(max_seconds)} s allowed).",
        seconds=max(0.0, start - seconds),
        turn=number,
    )


def agent_share(timing: TranscriptTiming) -> float | None:
    """The agent's share of all talk time, in percent (None when nobody talked)."""
    total = sum(timing.talk_seconds.values())
    if total <= 0:
        return None
    return 100.0 * timing.talk_seconds.get("agent", 0.0) / total


def within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _range_words(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{_number(low)} to {_number(high)}{unit}"
    if low is not None:
        return f"at least {_number(low)}{unit}"
    return f"at most {_number(high or 0)}{unit}"


def _number(value: float) -> str:
    return f"{value:g}"


def check_talk_share(
    facts: CallFacts, *, min_percent: float | None, max_percent: float | None
) -> CheckResult:
    share = agent_share(facts.timing) if facts.timing is not None else None
    if share is None:
        return CheckResult(None, "No talk time to share out: no transcript turns.")
    answer: Answer = "yes" if within(share, min_percent, max_percent) else "no"
    wanted = _range_words(min_percent, max_percent, " %")
    return CheckResult(answer, f"Agent ≈ {share:.1f} % of the talk time (wanted {wanted}).")


def check_duration(
    facts: CallFacts, *, min_seconds: float | None, max_seconds: float | None
) -> CheckResult:
    if facts.duration_seconds is None:
        return CheckResult(None, "Truedy gives no duration for this call.")
    seconds = float(facts.duration_seconds)
    answer: Answer = "yes" if within(seconds, min_seconds, max_seconds) else "no"
    wanted = _range_words(min_seconds, max_seconds, " s")
    return CheckResult(answer, f"Lasted {clock(seconds)} ({seconds:g} s; wanted {wanted}).")


# --- who ended the call -------------------------------------------------------------------------


def ended_by(end_reason: str | None) -> str | None:
    """ "agent" or "contact" when the end reason says who hung up, else None."""
    if not end_reason:
        return None
    return END_REASONS.get(end_reason.strip().lower())


def check_ended_by(facts: CallFacts, *, party: str) -> CheckResult:
    who = ended_by(facts.end_reason)
    if who is None:
        reason = f" (end reason “{facts.end_reason[:40]}”)" if facts.end_reason else ""
        return CheckResult(None, f"Truedy does not say who ended this call{reason}.")
    answer: Answer = "yes" if who == party else "no"
    return CheckResult(answer, f"Truedy says the {who} ended the call ({facts.end_reason}).")


# --- definitions ---------------------------------------------------------------------------------


def _bound(spec: Mapping[str, Any], name: str, *, top: float) -> float | None:
    value = spec.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadCheck(f"“{name}” must be a number.")
    if not math.isfinite(value) or not 0 <= value <= top:
        raise BadCheck(f"“{name}” must be from 0 to {top:g}.")
    return float(value)


def _range(spec: Mapping[str, Any], low: str, high: str, *, top: float) -> tuple[float | None, ...]:
    at_least, at_most = _bound(spec, low, top=top), _bound(spec, high, top=top)
    if at_least is None and at_most is None:
        raise BadCheck("Give a minimum, a maximum or both.")
    if at_least is not None and at_most is not None and at_least > at_most:
        raise BadCheck("The minimum must not be above the maximum.")
    return at_least, at_most


def validate_check(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The check ``spec`` describes, in its canonical form; ``BadCheck`` says what is wrong."""
    kind = spec.get("kind")
    if kind == "phrase":
        speaker = spec.get("speaker")
        if speaker not in SPEAKERS:
            raise BadCheck("Say who must say the phrase: the agent, the contact or anyone.")
        phrases = spec.get("phrases")
        if not isinstance(phrases, str) or len(phrases) > MAX_PHRASES_CHARS:
            raise BadCheck(f"Phrases are text of at most {MAX_PHRASES_CHARS} characters.")
        parts = alternatives(phrases)
        if not parts:
            raise BadCheck("Give at least one phrase to look for (alternatives separated by |).")
        if len(parts) > MAX_ALTERNATIVES:
            raise BadCheck(f"Give at most {MAX_ALTERNATIVES} alternatives.")
        return {
            "kind": kind,
            "speaker": speaker,
            "phrases": "|".join(parts),
            "said": bool(spec.get("said", True)),
        }
    if kind == "longest_silence":
        most = _bound(spec, "max_seconds", top=LONGEST_CALL_SECONDS)
        if most is None:
            raise BadCheck("Give the longest silence allowed, in seconds.")
        return {"kind": kind, "max_seconds": most}
    if kind == "talk_share":
        low, high = _range(spec, "min_percent", "max_percent", top=100)
        return {"kind": kind, "min_percent": low, "max_percent": high}
    if kind == "duration":
        low, high = _range(spec, "min_seconds", "max_seconds", top=LONGEST_CALL_SECONDS)
        return {"kind": kind, "min_seconds": low, "max_seconds": high}
    if kind == "ended_by":
        if spec.get("party") not in PARTIES:
            raise BadCheck("Say who should end the call: the agent or the contact.")
        return {"kind": kind, "party": spec["party"]}
    raise BadCheck(f"There is no automatic check “{str(kind)[:40]}”.")


def run_check(spec: Mapping[str, Any], facts: CallFacts) -> CheckResult:
    """Answer one check (a stored definition, validated again) about one call."""
    check = validate_check(spec)
    kind = check["kind"]
    if not facts.answered and kind != "ended_by":
        return CheckResult(None, "The call was never answered: nothing to check.")
    if kind == "phrase":
        return check_phrase(
            facts, speaker=check["speaker"], phrases=check["phrases"], said=check["said"]
        )
    if kind == "longest_silence":
        return check_longest_silence(facts, max_seconds=check["max_seconds"])
    if kind == "talk_share":
        return check_talk_share(
            facts, min_percent=check["min_percent"], max_percent=check["max_percent"]
        )
    if kind == "duration":
        return check_duration(
            facts, min_seconds=check["min_seconds"], max_seconds=check["max_seconds"]
        )
    return check_ended_by(facts, party=check["party"])


def describe(spec: Mapping[str, Any]) -> str:
    """A check in words, for the scorecard's pages: "The agent says “AI assistant”"."""
    try:
        check = validate_check(spec)
    except BadCheck:
        return "An automatic check that can no longer be read"
    kind = check["kind"]
    if kind == "phrase":
        phrases = " or ".join(f"“{part}”" for part in alternatives(check["phrases"]))
        who = _who(check["speaker"]).capitalize()
        return f"{who} {'says' if check['said'] else 'never says'} {phrases}"
    if kind == "longest_silence":
        return f"No silence longer than {_number(check['max_seconds'])} s"
    if kind == "talk_share":
        wanted = _range_words(check["min_percent"], check["max_percent"], " %")
        return f"Agent talk share {wanted}"
    if kind == "duration":
        return f"Duration {_range_words(check['min_seconds'], check['max_seconds'], ' s')}"
    return f"The {check['party']} ends the call"
