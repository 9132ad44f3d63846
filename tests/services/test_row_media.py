"""What a list row says about a call's recording and transcript (calls/services/row_media.py):
Truedy's list row for the recording, the archive for what the row cannot tell, "unknown" for
what nobody knows."""

from datetime import UTC, datetime, timedelta

import pytest

from calls.models import ArchivedCall
from calls.services.row_media import Media, RowMedia, media_of_rows
from calls.truedy.records import Call, Turn

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TURNS = (Turn("agent", "Hello", 0.5), Turn("contact", "Hi", 2.0))


def a_call(
    call_id: str = "call_1", *, ended_ago: timedelta = timedelta(hours=1), **changes
) -> Call:
    """An ended outbound call, answered, as Truedy's list shows it (no transcript)."""
    ended = NOW - ended_ago
    values = {
        "id": call_id,
        "agent_id": "agt_1",
        "status": "ended",
        "direction": "outbound",
        "created_at": ended - timedelta(minutes=2),
        "started_at": ended - timedelta(minutes=1),
        "ended_at": ended,
        "updated_at": ended,
        "to_number": "+15555550100",
        "from_number": "+15555550199",
        "duration_seconds": 60,
        "cost_cents": 12,
        "outcome": "interested",
        "summary": None,
        "transcript": None,
        "recording_url": f"https://api.truedy.ai/recordings/{call_id}.mp3?sig=x",
    }
    return Call(**(values | changes))


def archive(call: Call, **fields) -> ArchivedCall:
    values = {
        "status": call.status,
        "created_at": call.created_at,
        "started_at": call.started_at,
        "ended_at": call.ended_at,
    }
    return ArchivedCall.objects.create(id=call.id, **(values | fields))


def media(call: Call, *, from_archive: bool = False) -> RowMedia:
    return media_of_rows([call], from_archive=from_archive, now=NOW)[call.id]


# --- from Truedy's list row ---------------------------------------------------------------------


def test_a_working_link_is_a_recording_and_the_transcript_is_unknown_without_the_archive():
    assert media(a_call()) == RowMedia(Media.YES, Media.UNKNOWN)


def test_a_null_link_on_an_ended_call_means_not_recorded():
    assert media(a_call(recording_url=None)).recording is Media.NO


def test_an_expired_link_is_expired_unless_the_archive_kept_a_copy():
    old = a_call(ended_ago=timedelta(days=2))
    assert media(old).recording is Media.EXPIRED
    archive(old, has_recording=True, recording="recordings/2026/11/call_1.mp3")  # (no file needed)
    assert media(old).recording is Media.ARCHIVED


def test_a_live_call_has_neither_yet():
    live = a_call(status="in-progress", ended_at=None, recording_url=None, duration_seconds=None)
    assert media(live) == RowMedia(Media.LATER, Media.LATER)


def test_a_call_nobody_answered_has_neither():
    unanswered = a_call(status="failed", started_at=None, recording_url=None)
    assert media(unanswered) == RowMedia(Media.NO, Media.NO)
    assert media(a_call(status="cancelled", started_at=None)).transcript is Media.NO


# --- what the archive knows ---------------------------------------------------------------------


def test_the_archive_says_whether_truedy_had_a_transcript():
    with_turns, without = a_call("call_with"), a_call("call_without")
    archive(with_turns, transcript=[{"speaker": "agent", "text": "Hello", "timestamp": 0.5}])
    archive(without, transcript=None)
    found = media_of_rows([with_turns, without], from_archive=False, now=NOW)
    assert found["call_with"].transcript is Media.YES
    assert found["call_without"].transcript is Media.NO, "fetched, and Truedy had none"


def test_an_empty_transcript_is_none_to_read():
    call = a_call()
    archive(call, transcript=[])
    assert media(call).transcript is Media.NO


def test_a_call_ended_moments_ago_is_still_being_transcribed():
    call = a_call(ended_ago=timedelta(seconds=30))
    archive(call, transcript=None)
    assert media(call).transcript is Media.LATER


def test_rows_read_from_the_archive_carry_their_transcript_and_no_link():
    call = a_call(transcript=TURNS, recording_url=None)
    archive(call, has_recording=None)
    assert media(call, from_archive=True) == RowMedia(Media.UNKNOWN, Media.YES)
    ArchivedCall.objects.filter(pk=call.id).update(has_recording=False)
    assert media(call, from_archive=True).recording is Media.NO
    ArchivedCall.objects.filter(pk=call.id).update(has_recording=True)
    assert media(call, from_archive=True).recording is Media.YES, "Truedy's link still works"


def test_one_query_for_a_page(django_assert_num_queries):
    calls = [a_call(f"call_{n}") for n in range(50)]
    with django_assert_num_queries(1):
        assert len(media_of_rows(calls, from_archive=False, now=NOW)) == 50
    with django_assert_num_queries(0):
        assert media_of_rows([], from_archive=False, now=NOW) == {}
