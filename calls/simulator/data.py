"""The seeded data set: agents and compact call skeletons, indexed newest first.

Only what filtering, sorting and the call's timeline need is built eagerly (a few ints and
shared strings per call), so 100,000 calls take a second or two. Everything else (numbers,
summary, metadata, transcript) comes later from a per-call RNG: see `conversations`.
"""

import random
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Generic, TypeVar

from .agents import LOWER_ALNUM, Agent, build_agents, random_id
from .isotime import DAY_US, US
from .manifest import Recording

T = TypeVar("T")
STATUSES = ("queued", "ringing", "in-progress", "ended", "failed", "cancelled")
DIRECTIONS = ("outbound", "inbound", "webrtc")
RETENTION_US = 365 * DAY_US
HISTORY_DAYS = 395  # 13 months: about 1 call in 13 is already past retention
HOUR_US = 3600 * US
RECORDED_SHARE = 0.40  # of ended calls, when every role has recordings
NEWEST_GENERIC_US = 20 * 60 * US  # generic calls are all settled by the anchor

# Final status by direction, as cumulative weights over ("ended", "failed", "cancelled").
FINAL_STATUS = {
    "outbound": (0.86, 0.94, 1.0),
    "inbound": (0.95, 0.98, 1.0),
    "webrtc": (0.93, 0.98, 1.0),
}
FINALS = ("ended", "failed", "cancelled")

# Outcomes of ended, unrecorded calls by agent role.
OUTCOMES: dict[str, tuple[tuple[str | None, float], ...]] = {
    "sales": (
        ("interested", 0.14),
        ("not-interested", 0.24),
        ("voicemail", 0.22),
        ("no-answer", 0.20),
        ("callback-requested", 0.14),
        (None, 0.06),
    ),
    "reminders": (
        ("confirmed", 0.30),
        ("voicemail", 0.20),
        ("no-answer", 0.18),
        ("callback-requested", 0.17),
        ("not-interested", 0.08),
        (None, 0.07),
    ),
    "support": (
        ("resolved", 0.55),
        ("escalated", 0.15),
        ("callback-requested", 0.14),
        (None, 0.16),
    ),
    "booking": (
        ("booked", 0.45),
        ("rescheduled", 0.15),
        ("resolved", 0.10),
        ("callback-requested", 0.10),
        (None, 0.20),
    ),
}

# Seconds from answer to hang-up, by (template kind, outcome); fallback per kind under None.
DURATIONS: dict[tuple[str, str | None], tuple[int, int]] = {
    ("sales", "interested"): (150, 420),
    ("sales", "not-interested"): (20, 75),
    ("sales", "callback-requested"): (35, 110),
    ("sales", None): (30, 240),
    ("reminders", "confirmed"): (45, 150),
    ("reminders", None): (20, 120),
    ("support", "resolved"): (120, 780),
    ("support", "escalated"): (180, 900),
    ("support", None): (40, 400),
    ("booking", "booked"): (90, 300),
    ("booking", None): (40, 200),
    ("voicemail", None): (15, 40),
}


class CallSkeleton:
    """What is known about a call up front. Times are epoch microseconds."""

    __slots__ = (
        "agent_id",
        "created",
        "digits",
        "direction",
        "ended",
        "final",
        "id",
        "kind",
        "null_when_empty",
        "outcome",
        "recording",
        "ringing",
        "seq",
        "settled",
        "started",
        "transcribed",
        "turns",
    )

    def __init__(
        self,
        *,
        seq: int,
        id: str,
        agent_id: str,
        direction: str,
        final: str,
        outcome: str | None,
        created: int,
        ringing: int | None,
        started: int | None,
        ended: int | None,
        settled: int,
        digits: int,
        kind: str,
        recording: Recording | None = None,
        transcribed: bool = True,
        turns: int = 0,
        null_when_empty: bool = False,
    ) -> None:
        self.seq = seq  # generation order: keys the per-call RNG
        self.id = id
        self.agent_id = agent_id
        self.direction = direction
        self.final = final
        self.outcome = outcome
        self.created = created
        self.ringing = ringing
        self.started = started  # answered; None if never
        self.ended = ended  # None if cancelled
        self.settled = settled  # from then on the status is `final`
        self.digits = digits  # fractional digits of its timestamps in the primary variant
        self.kind = kind  # which conversation it holds: see conversations.py
        self.recording = recording
        self.transcribed = transcribed
        self.turns = turns  # for `long` calls
        self.null_when_empty = null_when_empty  # no-answer: transcript/duration null, not []/0

    def status_at(self, now: int) -> str:
        if now >= self.settled:
            return self.final
        if self.ringing is None or now < self.ringing:
            return "queued"
        if self.started is None or now < self.started:
            return "ringing"
        return "in-progress"

    @property
    def duration_seconds(self) -> int | None:
        """Answer to hang-up, once ended."""
        if self.started is not None and self.ended is not None:
            return (self.ended - self.started) // US
        return None if self.null_when_empty else 0


@dataclass(frozen=True, slots=True)
class Special:
    """A hand-placed call: live, just ended, recorded recently, hostile or very long."""

    persona: str
    direction: str
    final: str
    outcome: str | None
    kind: str
    end_offset_s: float  # ended (or settled) this long after the anchor; negative = before
    duration_s: int = 0
    recording_kind: str | None = None  # use a recording of this kind when there is one
    turns: int = 0
    transcribed: bool = True
    ring_s: int = 8  # outbound: ringing before the answer
    queue_s: int = 1  # outbound: queued before dialling
    connected: bool = False  # a failed call that was answered, then dropped


_DROPPED: dict[str, Any] = {"recording_kind": "support", "connected": True}

SPECIALS: tuple[Special, ...] = (
    # Live at the anchor: end 30 s, 90 s and 5 min later.
    Special("Ava", "outbound", "ended", "interested", "sales", 30, 150, recording_kind="sales"),
    Special("Jordan", "inbound", "ended", "resolved", "support", 90, 240, "support"),
    Special("Riley", "webrtc", "ended", "booked", "booking", 300, 420, "booking"),
    # Ringing at the anchor (answered 20 s later), and queued (dialled a minute later).
    Special("Leo", "outbound", "ended", "confirmed", "reminders", 115, 95, ring_s=26),
    Special("Ava", "outbound", "ended", "not-interested", "sales", 110, 45, queue_s=60),
    Special("Jordan", "inbound", "ended", "resolved", "support", -5, 200),  # transcript pending
    Special("Jordan", "inbound", "ended", "resolved", "hostile", -47 * 60, 260),
    Special("Ava", "outbound", "ended", "interested", "sales", -2 * 60, 180, "sales"),
    Special("Ava", "outbound", "ended", "voicemail", "voicemail", -25 * 60, 30, "voicemail"),
    Special("Jordan", "inbound", "ended", "resolved", "support", -70 * 60, 300, "support"),
    Special("Riley", "webrtc", "ended", "booked", "booking", -3 * 3600, 150, "booking"),
    Special("Ava", "outbound", "ended", "not-interested", "sales", -6 * 3600, 40, "sales"),
    Special("Ava", "outbound", "ended", "callback-requested", "sales", -11 * 3600, 60, "sales"),
    Special("Leo", "outbound", "ended", "confirmed", "reminders", -50 * 60, 80, transcribed=False),
    Special("Ava", "outbound", "failed", None, "failed", -8 * 60),
    Special("Leo", "outbound", "cancelled", None, "cancelled", -15 * 60),
    Special("Jordan", "inbound", "ended", "escalated", "long", -12 * 86400, 10_400, turns=2000),
    Special("Zoë", "inbound", "ended", "resolved", "long", -64 * 86400, 5_600, turns=1100),
    Special("Zoë", "webrtc", "ended", None, "hostile", -3 * 86400, 220),
    Special("Ava", "outbound", "ended", "callback-requested", "hostile", -20 * 86400, 190),
    Special("Riley", "inbound", "ended", "booked", "hostile", -90 * 86400, 170),
    Special("Theo", "outbound", "ended", "interested", "hostile", -200 * 86400, 240),
    # Inbound calls of one agent that dropped mid-call, spread over the last day while their
    # recordings are still live: "yesterday's failed inbound calls" exist in every time zone
    # until 23:00 local time, for the supervisor's review.
    Special("Jordan", "inbound", "failed", None, "failed", -5 * 3600, **_DROPPED),
    Special("Jordan", "inbound", "failed", None, "failed", -10 * 3600, **_DROPPED),
    Special("Jordan", "inbound", "failed", None, "failed", -15 * 3600, **_DROPPED),
    Special("Jordan", "inbound", "failed", None, "failed", -20 * 3600, **_DROPPED),
    Special("Jordan", "inbound", "failed", None, "failed", -23 * 3600, **_DROPPED),
    # Decisive outcomes the call cannot support, as users report Truedy's AI giving them (an
    # 8-second "Hello." labelled a booked demo): for the suspicious-label flags and for
    # reviewers to correct. Short calls, or a contact who says a word or two.
    Special("Ava", "outbound", "ended", "interested", "mislabelled", -4 * 3600, 8),
    Special("Riley", "inbound", "ended", "booked", "mislabelled", -9 * 3600, 12),
    Special("Ava", "outbound", "ended", "callback-requested", "mislabelled", -30 * 3600, 26),
    Special("Jordan", "inbound", "ended", "escalated", "mislabelled", -3 * 86400, 6),
    Special("Ava", "outbound", "ended", "interested", "mislabelled", -6 * 86400, 41),
    Special("Leo", "outbound", "ended", "confirmed", "mislabelled", -15 * 86400, 10),
)
# Specials before this index draw from the data set's random stream; later ones from their own,
# so adding one does not reshuffle every generated call.
FIRST_SEPARATE_STREAM_SPECIAL = 22


def _hour_weights(after_hours: bool) -> tuple[float, ...]:
    """Acceptance probability per hour of the week (Monday 00:00 first), US Eastern time."""
    weights = []
    for day in range(7):
        weekend = day >= 5
        for hour in range(24):
            if after_hours:
                if weekend:
                    w = 0.8 if hour >= 10 else 0.2
                else:
                    w = 1.0 if hour >= 18 else 0.5 if hour <= 1 else 0.1 if hour <= 6 else 0.05
            elif weekend:
                w = 0.25 if 10 <= hour <= 16 else 0.02
            elif 9 <= hour <= 17:
                w = 1.0
            elif hour in (8, 18, 19):
                w = 0.45
            elif hour in (7, 20):
                w = 0.15
            else:
                w = 0.02
            weights.append(w)
    return tuple(weights)


HOUR_WEIGHTS = {"business": _hour_weights(False), "after_hours": _hour_weights(True)}
EASTERN_OFFSET_HOURS = -5


def _sample_time(rng: random.Random, low: int, high: int, weights: Sequence[float]) -> int:
    span = high - low
    rand = rng.random
    while True:
        t = high - int(rand() * span)
        local_hours = t // HOUR_US + EASTERN_OFFSET_HOURS
        # The epoch fell on a Thursday: day 0 is weekday 3 with Monday as 0.
        hour_of_week = ((local_hours // 24 + 3) % 7) * 24 + local_hours % 24
        if rand() < weights[hour_of_week]:
            return t


def _uuid(rng: random.Random) -> str:
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _call_id(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return random_id(rng, "call_", 24, LOWER_ALNUM)
    return _uuid(rng)


class _Picker(Generic[T]):
    """Weighted choice with one random() and a bisect: fast enough for 100k draws."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        total = sum(weight for _, weight in pairs)
        self.values = [value for value, _ in pairs]
        self.cums = list(accumulate(weight / total for _, weight in pairs))

    def __call__(self, rng: random.Random) -> T:
        return self.values[min(bisect_right(self.cums, rng.random()), len(self.values) - 1)]


class DataSet:
    def __init__(
        self, *, seed: int, call_count: int, anchor_us: int, recordings: Sequence[Recording]
    ) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.anchor_us = anchor_us
        self.agents = build_agents(rng, anchor_us)
        self.agents_by_id = {agent.id: agent for agent in self.agents}
        self.recordings = tuple(recordings)
        calls = self._specials(rng, min(call_count, len(SPECIALS)))
        calls += self._generic(rng, call_count - len(calls), first_seq=len(calls))
        calls.sort(key=lambda c: (-c.created, c.id))
        # The sorted calls and their negated creation times (for bisect) are replaced together,
        # never edited in place: a reader of the HTTP server's threads takes one pair and keeps a
        # consistent view while `place` inserts a call.
        self._index: tuple[list[CallSkeleton], list[int]] = (calls, [-c.created for c in calls])
        self.by_id = {c.id: c for c in calls}
        self._place_lock = threading.Lock()
        self._next_seq = len(calls)  # placed calls key their per-call RNG after the generated ones
        self._placed = 0

    @property
    def calls(self) -> list[CallSkeleton]:
        """Every call, newest first (ties by id); a snapshot: do not modify it."""
        return self._index[0]

    # ------------------------------------------------------------------ queries

    def visible(self, call: CallSkeleton, now: int) -> bool:
        return now - RETENTION_US <= call.created <= now

    def select(
        self,
        now: int,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        direction: str | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
    ) -> list[CallSkeleton]:
        """Matching visible calls, newest first (ties by id)."""
        calls, neg = self._index
        start = bisect_left(neg, -now)  # created <= now
        end = bisect_right(neg, -(now - RETENTION_US))  # created >= now - 12 months
        if created_before is not None:
            start = max(start, bisect_right(neg, -created_before))  # created < before
        if created_after is not None:
            end = min(end, bisect_left(neg, -created_after))  # created > after
        window = calls[start:end]
        if agent_id is not None:
            window = [c for c in window if c.agent_id == agent_id]
        if direction is not None:
            window = [c for c in window if c.direction == direction]
        if status is not None:
            window = [
                c for c in window if (c.final if now >= c.settled else c.status_at(now)) == status
            ]
        return window

    # ------------------------------------------------------------------ placing

    def place(
        self,
        *,
        created: int,
        talk_seconds: float,
        ring_seconds: float,
        agent_id: str | None = None,
        final: str = "ended",
    ) -> CallSkeleton:
        """A new call created at `created`: queued, ringing a second later, answered after
        `ring_seconds`, ended after `talk_seconds` (a failed call stops ringing and fails after
        `ring_seconds`, a cancelled one is cancelled then).

        Its details come from an RNG keyed by the seed and a counter, so the n-th call placed on
        a data set is the same every run; only its times follow the clock. Safe beside readers
        in other threads: the call goes into new lists that replace the old ones.
        """
        if final not in FINALS:
            raise ValueError(f"final must be one of {', '.join(FINALS)}")
        if not (0 <= talk_seconds <= DAY_US / US and 0 <= ring_seconds <= DAY_US / US):
            raise ValueError("talk_seconds and ring_seconds must be between 0 and one day")
        if agent_id is not None and agent_id not in self.agents_by_id:
            raise ValueError(f"no agent {agent_id!r}")
        with self._place_lock:
            rng = random.Random(f"{self.seed}-placed-{self._placed}")
            call = self._placed_call(
                rng, created, talk_seconds, ring_seconds, agent_id=agent_id, final=final
            )
            self._insert(call)
            self._placed += 1
            self._next_seq += 1
        return call

    def _placed_call(
        self,
        rng: random.Random,
        created: int,
        talk_seconds: float,
        ring_seconds: float,
        *,
        agent_id: str | None,
        final: str,
    ) -> CallSkeleton:
        if agent_id is None:
            # Agents that take calls today: not paused, deleted or still in draft.
            active = [
                a
                for a in self._calling_agents()
                if a.spec.status == "active" and a.spec.listed and a.spec.newest_days == 0
            ]
            agent = _Picker([(a, a.spec.weight) for a in active])(rng)
        else:
            agent = self.agents_by_id[agent_id]
        digits = 0 if rng.random() < 0.5 else 3
        unit = US if digits == 0 else 1000
        created -= created % unit
        direction = _Picker(agent.spec.directions)(rng)
        talk = _truncated(talk_seconds, unit)
        outcome: str | None = None
        recording: Recording | None = None
        kind = final
        if final == "ended":
            # A recording only when one fits in the call: its transcript and audio stay inside.
            fitting = [r for r in self._recordings_for(agent) if r.whole_seconds * US <= talk]
            if fitting and rng.random() < self._record_probability():
                recording = fitting[int(rng.random() * len(fitting))]
                direction, outcome, kind = recording.direction, recording.outcome, "recording"
            else:
                # The call is answered, so never "no-answer".
                answered = [(o, w) for o, w in OUTCOMES[agent.spec.role] if o != "no-answer"]
                outcome = _Picker(answered)(rng)
                kind = "voicemail" if outcome == "voicemail" else agent.spec.role
        call_id = _call_id(rng)
        while call_id in self.by_id:
            call_id = _call_id(rng)
        ringing = created + US
        rang = ringing + _truncated(ring_seconds, unit)
        started: int | None = None
        ended: int | None = None
        if final == "ended":
            started, ended = rang, rang + talk
        elif final == "failed":
            ended = rang
        return CallSkeleton(
            seq=self._next_seq,
            id=call_id,
            agent_id=agent.id,
            direction=direction,
            final=final,
            outcome=outcome,
            created=created,
            ringing=ringing,
            started=started,
            ended=ended,
            settled=ended if ended is not None else rang,
            digits=digits,
            kind=kind,
            recording=recording,
        )

    def _insert(self, call: CallSkeleton) -> None:
        calls, neg = self._index
        key = -call.created
        at = bisect_left(neg, key)
        while at < len(calls) and neg[at] == key and calls[at].id < call.id:
            at += 1
        # By id first: a reader that finds the call in the list can then open it.
        self.by_id = {**self.by_id, call.id: call}
        self._index = ([*calls[:at], call, *calls[at:]], [*neg[:at], key, *neg[at:]])

    # ------------------------------------------------------------------ generation

    def _calling_agents(self) -> list[Agent]:
        """Agents that generated calls are spread over, by weight."""
        return [a for a in self.agents if a.spec.weight > 0]

    def _record_probability(self) -> float:
        """The chance an ended call of an agent with recordings has one, so that about
        RECORDED_SHARE of all ended calls do."""
        agents = self._calling_agents()
        eligible = sum(a.spec.weight for a in agents if self._recordings_for(a))
        total_weight = sum(a.spec.weight for a in agents)
        return min(0.95, RECORDED_SHARE * total_weight / eligible) if eligible else 0.0

    def _agent(self, persona: str) -> Agent:
        return next(a for a in self.agents if a.spec.persona == persona)

    def _recordings_for(self, agent: Agent) -> list[Recording]:
        if not agent.spec.speaks_recordings:
            return []
        directions = {d for d, _ in agent.spec.directions}
        return [
            r
            for r in self.recordings
            if r.agent_role == agent.spec.role and r.direction in directions
        ]

    def _specials(self, rng: random.Random, count: int) -> list[CallSkeleton]:
        calls = []
        used: dict[str, int] = {}
        for seq, special in enumerate(SPECIALS[:count]):
            agent = self._agent(special.persona)
            draw = rng
            if seq >= FIRST_SEPARATE_STREAM_SPECIAL:
                draw = random.Random(f"{self.seed}-special-{seq}")
            digits = 0 if draw.random() < 0.5 else 3
            unit = US if digits == 0 else 1000
            call_id = _call_id(draw)
            settle = self.anchor_us + round(special.end_offset_s * US)
            settle -= settle % unit
            recording = self._pick_special_recording(special, agent, used)
            direction, outcome, kind = special.direction, special.outcome, special.kind
            duration = special.duration_s
            if recording is not None:
                direction, outcome, kind = recording.direction, recording.outcome, "recording"
                duration = recording.whole_seconds
                if special.final != "ended":
                    outcome = None  # Truedy labels the outcome of ended calls only
            ringing: int | None
            started: int | None
            ended: int | None = settle
            if special.final == "ended" or special.connected:
                outbound = direction == "outbound"
                started = settle - duration * US
                ringing = started - (special.ring_s * US if outbound else 0)
                created = ringing - (special.queue_s * US if outbound else 0)
            elif special.final == "failed":
                started, ringing = None, settle - 12 * US
                created = ringing - US
            else:
                started, ringing, ended = None, None, None
                created = settle - 40 * US
            calls.append(
                CallSkeleton(
                    seq=seq,
                    id=call_id,
                    agent_id=agent.id,
                    direction=direction,
                    final=special.final,
                    outcome=outcome,
                    created=created,
                    ringing=ringing,
                    started=started,
                    ended=ended,
                    settled=settle,
                    digits=digits,
                    kind=kind,
                    recording=recording,
                    transcribed=special.transcribed,
                    turns=special.turns,
                )
            )
        return calls

    def _pick_special_recording(
        self, special: Special, agent: Agent, used: dict[str, int]
    ) -> Recording | None:
        if special.recording_kind is None:
            return None
        options = [r for r in self._recordings_for(agent) if r.kind == special.recording_kind]
        if special.end_offset_s > 0:
            # A live call must still be talking at the anchor.
            options = [r for r in options if r.whole_seconds > special.end_offset_s + 5]
        if not options:
            return None
        # Rotate through the recordings of a kind so the recent ones differ.
        turn = used.get(special.recording_kind, 0)
        used[special.recording_kind] = turn + 1
        return options[turn % len(options)]

    def _generic(self, rng: random.Random, count: int, first_seq: int) -> list[CallSkeleton]:
        if count <= 0:
            return []
        agents = self._calling_agents()
        pick_agent = _Picker([(a, a.spec.weight) for a in agents])
        pick_direction = {a.id: _Picker(a.spec.directions) for a in agents}
        pick_outcome = {role: _Picker(pairs) for role, pairs in OUTCOMES.items()}
        recorded = {a.id: self._recordings_for(a) for a in agents}
        record_p = self._record_probability()
        windows = {
            a.id: (
                self.anchor_us - round(a.spec.oldest_days * DAY_US),
                min(
                    self.anchor_us - round(a.spec.newest_days * DAY_US),
                    self.anchor_us - NEWEST_GENERIC_US,
                ),
            )
            for a in agents
        }
        rand = rng.random
        calls = []
        for seq in range(first_seq, first_seq + count):
            agent = pick_agent(rng)
            spec = agent.spec
            low, high = windows[agent.id]
            t = _sample_time(rng, low, high, HOUR_WEIGHTS[spec.hours])
            digits = 0 if rand() < 0.5 else 3
            unit = US if digits == 0 else 1000
            created = t - t % unit
            direction = pick_direction[agent.id](rng)
            cums = FINAL_STATUS[direction]
            r = rand()
            final = FINALS[0] if r < cums[0] else FINALS[1] if r < cums[1] else FINALS[2]
            outcome: str | None = None
            recording: Recording | None = None
            transcribed = True
            null_when_empty = False
            duration = 0
            if final == "ended":
                options = recorded[agent.id]
                if options and rand() < record_p:
                    recording = options[int(rand() * len(options))]
                    direction, outcome = recording.direction, recording.outcome
                    kind = "recording"
                    duration = recording.whole_seconds
                else:
                    outcome = pick_outcome[spec.role](rng)
                    kind = outcome if outcome in ("voicemail", "no-answer") else spec.role
                    low_s, high_s = DURATIONS.get((kind, outcome)) or DURATIONS.get(
                        (kind, None), (30, 180)
                    )
                    duration = low_s + int(rand() * (high_s - low_s))
                    transcribed = rand() >= 0.07 or kind == "no-answer"
                    null_when_empty = rand() < 0.5
            else:
                kind = final
            ringing, started, ended, settled = _timeline(
                rand, unit, created, direction, final, kind, duration
            )
            calls.append(
                CallSkeleton(
                    seq=seq,
                    id=_call_id(rng),
                    agent_id=agent.id,
                    direction=direction,
                    final=final,
                    outcome=outcome,
                    created=created,
                    ringing=ringing,
                    started=started,
                    ended=ended,
                    settled=settled,
                    digits=digits,
                    kind=kind,
                    recording=recording,
                    transcribed=transcribed,
                    null_when_empty=null_when_empty,
                )
            )
        return calls


def _truncated(seconds: float, unit: int) -> int:
    """`seconds` in microseconds, cut to a whole `unit`."""
    us = round(seconds * US)
    return us - us % unit


def _timeline(
    rand: Callable[[], float],
    unit: int,
    created: int,
    direction: str,
    final: str,
    kind: str,
    duration: int,
) -> tuple[int | None, int | None, int | None, int]:
    """(ringing, started, ended, settled) of a finished call."""

    def seconds(low: float, high: float) -> int:
        us = int((low + rand() * (high - low)) * US)
        return max(us - us % unit, unit)

    outbound = direction == "outbound"
    if final == "cancelled":
        if outbound:
            return None, None, None, created + seconds(2, 120)
        return created, None, None, created + seconds(2, 15)
    ringing = created + seconds(0.3, 3) if outbound else created
    if final == "failed":
        ended = ringing + seconds(0.5, 20)
        return ringing, None, ended, ended
    if kind == "no-answer":
        ended = ringing + seconds(25, 45)
        return ringing, None, ended, ended
    started = ringing + (seconds(3, 22) if outbound else seconds(0.5, 5))
    ended = started + duration * US
    return ringing, started, ended, ended
