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
    gave_a_link = call(recording_link_expired=True)
    assert lifecycle.recording_state(gave_a_link, ENDED + timedelta(days=2)).value == "expired"
    assert lifecycle.recording_state(call(), ENDED + timedelta(days=2)).value == "none"
    assert lifecycle.recording_state(call(), ENDED).value == "none"
    for state in lifecycle.RecordingState:
        if state is not lifecycle.RecordingState.AVAILABLE:
            assert lifecycle.RECORDING_MESSAGES[state]


def test_expired_is_said_only_of_a_recording_that_existed():
    later = ENDED + timedelta(days=2)
    # Truedy gave a link (now dropped as dead), or the archive says there was one.
    assert lifecycle.recording_state(call(recording_link_expired=True), later).value == "expired"
    assert lifecycle.recording_state(call(), later, had_recording=True).value == "expired"
    # The archive knows there never was one: not recorded, whatever the agent says now.
    assert lifecycle.recording_state(call(), later, had_recording=False).value == "none"
    assert lifecycle.recording_state(call(), later, recording_enabled=True).value == "none"


def test_a_call_of_an_agent_with_recording_off_says_so():
    for moment in (ENDED, ENDED + timedelta(days=2)):
        state = lifecycle.recording_state(call(), moment, recording_enabled=False)
        assert state is lifecycle.RecordingState.OFF
    # Unknown (a deleted agent, Truedy silent about the setting) is not "off".
    assert lifecycle.recording_state(call(), ENDED, recording_enabled=None).value == "none"
    # A link, even a dead one, wins: the agent's setting may have changed since.
    dead = call(recording_link_expired=True)
    later = ENDED + timedelta(days=2)
    assert lifecycle.recording_state(dead, later, recording_enabled=False).value == "expired"
    live = call(status="in-progress", ended_at=None)
    assert lifecycle.recording_state(live, ENDED, recording_enabled=False).value == "not-yet"


def test_dropping_a_dead_link_keeps_that_there_was_one():
    linked = call(recording_url="https://x/a.mp3")
    dropped = lifecycle.without_expired_link(linked, ENDED + timedelta(days=2))
    assert dropped.recording_url is None and dropped.recording_link_expired
    kept = lifecycle.without_expired_link(linked, ENDED + timedelta(hours=1))
    assert kept is linked and not kept.recording_link_expired
