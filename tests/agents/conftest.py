"""Hand-made archived calls of two agents, with review work, for exact figures.

Agent A: a1 (ended, 60 s, 10 ¢, booked, longest silence 1 s; reviewed pass then fail; scored
80 then 90 by a reviewer; automatic 50 and 100 on two scorecards), a2 (ended, 120 s, 20 ¢,
not-interested corrected to booked, silence 5 s: dead air; pass; reviewer 60), a3 (failed,
never answered), a4 (ended, 30 s, 5 ¢, booked, no transcript) and old (ended, before the range).
Agent B: b1 (ended, 100 s, 50 ¢, voicemail, silence exactly 3 s: dead air; follow-up;
automatic 40, and 10 on a scorecard's older version, which does not count) at 02:00 UTC on the
21st (the 20th in New York), b2 (failed after it was answered, 10 s, 1 ¢).
"""

from datetime import UTC, datetime

import pytest

from calls.models import (
    ArchivedCall,
    AutomaticScore,
    OutcomeCorrection,
    Review,
    Scorecard,
    ScorecardScore,
    ScorecardVersion,
)
from tests.reviews.conftest import person

RANGE = {"created_after": "2026-11-20", "created_before": "2026-11-23", "tz": "UTC"}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def archived(call_id: str, agent: str, status: str, created: datetime, **fields) -> ArchivedCall:
    return ArchivedCall.objects.create(
        id=call_id, agent_id=agent, status=status, created_at=created, **fields
    )


@pytest.fixture
def two_agents(django_user_model):
    rita = person(django_user_model, "rita", "Reviewer")
    archived(
        "a1",
        "agent_a",
        "ended",
        at(20, 10),
        started_at=at(20, 10),
        duration_seconds=60,
        cost_cents=10,
        outcome="booked",
        longest_silence=1.0,
    )
    archived(
        "a2",
        "agent_a",
        "ended",
        at(20, 11),
        started_at=at(20, 11),
        duration_seconds=120,
        cost_cents=20,
        outcome="not-interested",
        longest_silence=5.0,
    )
    archived("a3", "agent_a", "failed", at(21), cost_cents=0)
    archived(
        "a4",
        "agent_a",
        "ended",
        at(22),
        started_at=at(22),
        duration_seconds=30,
        cost_cents=5,
        outcome="booked",
    )
    archived(
        "old",
        "agent_a",
        "ended",
        at(10),
        started_at=at(10),
        duration_seconds=999,
        cost_cents=999,
        outcome="booked",
        longest_silence=9.0,
    )
    archived(
        "b1",
        "agent_b",
        "ended",
        at(21, 2),
        started_at=at(21, 2),
        duration_seconds=100,
        cost_cents=50,
        outcome="voicemail",
        longest_silence=3.0,
    )
    archived(
        "b2", "agent_b", "failed", at(22), started_at=at(22), duration_seconds=10, cost_cents=1
    )
    Review.objects.create(call_id="a1", verdict="pass", reviewer=rita, at=at(23, 1))
    Review.objects.create(call_id="a1", verdict="fail", reviewer=rita, at=at(23, 2))
    Review.objects.create(call_id="a2", verdict="pass", reviewer=rita, at=at(23, 1))
    Review.objects.create(call_id="b1", verdict="follow-up", reviewer=rita, at=at(23, 1))
    Review.objects.create(call_id="old", verdict="pass", reviewer=rita, at=at(23, 1))
    OutcomeCorrection.objects.create(
        call_id="a2",
        ai_outcome="not-interested",
        outcome="booked",
        reason="said yes",
        corrected_by=rita,
        at=at(23, 3),
    )
    first, second = Scorecard.objects.create(), Scorecard.objects.create()
    old_version = ScorecardVersion.objects.create(scorecard=first, number=1, name="Q")
    quality = ScorecardVersion.objects.create(scorecard=first, number=2, name="Q")
    manners = ScorecardVersion.objects.create(scorecard=second, number=1, name="M")
    ScorecardScore.objects.create(
        call_id="a1", version=quality, score=80, reviewer=rita, at=at(23, 1)
    )
    ScorecardScore.objects.create(
        call_id="a1", version=quality, score=90, reviewer=rita, at=at(23, 2)
    )
    ScorecardScore.objects.create(
        call_id="a2", version=quality, score=60, reviewer=rita, at=at(23, 1)
    )
    AutomaticScore.objects.create(call_id="a1", version=quality, score=50)
    AutomaticScore.objects.create(call_id="a1", version=manners, score=100)
    AutomaticScore.objects.create(call_id="b1", version=quality, score=40)
    AutomaticScore.objects.create(call_id="b1", version=old_version, score=10)
    return rita
