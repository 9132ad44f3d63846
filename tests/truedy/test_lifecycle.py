"""Call-lifecycle rules, once: who spoke, live statuses, link expiry, transcript and recording
states."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from calls.truedy import lifecycle
from calls.truedy.records import Call

ENDED = datetime(2026, 3, 1, 12, tzinfo=UTC)
WINDOW = timedelta(minutes=10)


def call(**changes):
    base = Call(
        id="call_1",
        agent_id="agt_1",
        status="ended",
        direction="outbound",
        created_at=ENDED - timedelta(minutes=5),
        started_at=ENDED - timedelta(minutes=4),
        ended_at=ENDED,
        updated_at=ENDED,
        to_number=None,
        from_number=None,
        duration_seconds=240,
        cost_cents=12,
        outcome=None,
        summary=None,
        transcript=None,
        recording_url=None,
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("status", "answered", "spoke"),
    [
        ("ended", True, True),
        ("failed", True, True),  # dropped after it was answered
        ("failed", False, False),  # never answered
        ("cancelled", False, False),
        ("in-progress", False, False),
    ],
)
def test_somebody_spoke_on_an_ended_or_answered_then_failed_call(status, answered, spoke):
    started = ENDED - timedelta(minutes=1) if answered else None
    assert lifecycle.talked(call(status=status, started_at=started)) is spoke


def test_the_recording_link_dies_a_day_after_the_end_less_the_margin():
    ended = call(recording_url="https://storage.truedy.ai/a.mp3")
    expiry = ENDED + timedelta(hours=24)
    assert lifecycle.recording_expiry(ended) == expiry
    margin = lifecycle.RECORDING_EXPIRY_MARGIN
    assert not lifecycle.link_expired(ended, expiry - margin - timedelta(seconds=1))
    assert lifecycle.link_expired(ended, expiry - margin)
    assert lifecycle.without_expired_link(ended, expiry).recording_url is None
    assert lifecycle.without_expired_link(ended, ENDED).recording_url == ended.recording_url
    assert lifecycle.recording_expiry(call(status="in-progress", ended_at=None)) is None


def test_transcript_states():
    now = ENDED + timedelta(minutes=1)
    assert lifecycle.transcript_state(call(transcript=()), now, processing_window=WINDOW).value == (
        "ready"
    )
    live = call(status="ringing", ended_at=None)
    assert lifecycle.transcript_state(live, now, processing_window=WINDOW).value == "live"
    assert lifecycle.transcript_state(call(), now, processing_window=WINDOW).value == "processing"
    later = ENDED + WINDOW
    assert lifecycle.transcript_state(call(), later, processing_window=WINDOW).value == "none"


def test_recording_states():
    assert lifecycle.recording_state(call(recording_url="https://x/a.mp3"), ENDED).value == (
        "available"
    )
    assert lifecycle.recording_state(call(status="queued", ended_at=None), ENDED).value == "not-yet"
    assert lifecycle.recording_state(call(), ENDED + timedelta(days=2)).value == "expired"
    assert lifecycle.recording_state(call(), ENDED).value == "none"
    for state in lifecycle.RecordingState:
        if state is not lifecycle.RecordingState.AVAILABLE:
            assert lifecycle.RECORDING_MESSAGES[state]
