"""Each archived call's longest silence (``ArchivedCall.longest_silence``), stored as the
archive writes the call and as the automatic check measures it; the migration's backfill."""

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps

from calls.archive.store import store_call, stored_longest_silence
from calls.models import ArchivedCall
from calls.services.automatic_checks import CallFacts, longest_silence
from calls.truedy.records import Call, Turn

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

TURNS = (
    Turn("agent", "Hello, this is Ava.", 0.5),  # 19 characters: about 1.3 s
    Turn("contact", "Hi.", 2.0),
    Turn("agent", "Let me check that for you.", 9.0),  # 6.4 s of quiet before it
    Turn("contact", "Thanks.", 16.0),
)


def call(transcript, duration=20) -> Call:
    moment = datetime(2026, 11, 20, 10, tzinfo=UTC)
    return Call(
        id="call_silence_1",
        agent_id="agent_a",
        status="ended",
        direction="outbound",
        created_at=moment,
        started_at=moment,
        ended_at=moment,
        updated_at=moment,
        to_number=None,
        from_number=None,
        duration_seconds=duration,
        cost_cents=1,
        outcome="booked",
        summary=None,
        transcript=transcript,
        recording_url=None,
    )


def test_the_archive_stores_the_longest_silence_the_check_measures():
    row = store_call(call(TURNS), source="sync")
    measured, turn = longest_silence(CallFacts.of(TURNS, 20.0).timing)
    assert turn == 3
    assert row.longest_silence == round(measured, 2)
    assert ArchivedCall.objects.get(pk=row.pk).longest_silence == pytest.approx(6.4, abs=0.01)


def test_no_transcript_has_no_silence_to_measure():
    assert store_call(call(None), source="sync").longest_silence is None
    assert stored_longest_silence(None, 10) is None
    assert stored_longest_silence("not turns", 10) is None
    assert stored_longest_silence([], 10) is None


def test_turns_that_are_not_turns_are_skipped():
    stored = [{"speaker": "agent", "text": "Hi", "timestamp": 4}, {"speaker": "x"}, "junk"]
    assert stored_longest_silence(stored, 10) == 4.0


def test_the_migration_fills_calls_archived_before_the_column():
    row = store_call(call(TURNS), source="sync")
    ArchivedCall.objects.filter(pk=row.pk).update(longest_silence=None)
    migration = importlib.import_module("calls.migrations.0013_agent_figures")
    migration.measure_silences(django_apps, None)
    assert ArchivedCall.objects.get(pk=row.pk).longest_silence == pytest.approx(6.4, abs=0.01)
