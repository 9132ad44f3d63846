"""Settled calls (calls.truedy.lifecycle.is_settled, calls.archive.settled): the rule itself, and
a settled archived call served with no Truedy request, page, downloads and recording alike."""

import dataclasses
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from calls.archive.settled import archived_follows_truedy, archived_is_settled, settled_archived
from calls.models import ArchivedCall, WebhookEvent
from calls.simulator import Simulator
from calls.truedy.lifecycle import is_settled
from calls.truedy.records import Call, Turn
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW, upstream_paths

WINDOW = timedelta(minutes=10)
GRACE = timedelta(minutes=2)
ENDED = FROZEN_NOW - timedelta(hours=1)


def a_call(**changes) -> Call:
    call = Call(
        id="call_settled",
        agent_id="agent_1",
        status="ended",
        direction="outbound",
        created_at=ENDED - timedelta(minutes=5),
        started_at=ENDED - timedelta(minutes=4),
        ended_at=ENDED,
        updated_at=ENDED,
        duration_seconds=240,
        cost_cents=12,
        to_number="+15550100",
        from_number="+15550199",
        recording_url=None,
        outcome="interested",
        summary="Wants a demo.",
        transcript=(Turn("agent", "Hello", 0.0),),
    )
    return dataclasses.replace(call, **changes)


def settled(call: Call, *, now=FROZEN_NOW, seen_at=None) -> bool:
    return is_settled(call, now, seen_at=seen_at, processing_window=WINDOW, grace=GRACE)


def test_an_ended_analysed_transcribed_call_is_settled_after_the_grace_period():
    assert settled(a_call())
    assert not settled(a_call(), now=ENDED + GRACE - timedelta(seconds=1))
    assert settled(a_call(), now=ENDED + GRACE)


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress", "mystery"])
def test_a_call_that_may_still_move_is_not_settled(status):
    assert not settled(a_call(status=status))


def test_a_missing_transcript_is_settled_only_once_truedy_said_so_after_the_window():
    call = a_call(transcript=None)
    assert not settled(call)  # a list row, or a read before the window passed
    assert not settled(call, seen_at=ENDED + WINDOW - timedelta(seconds=1))
    assert settled(call, seen_at=ENDED + WINDOW)


def test_an_unanalysed_call_waits_for_the_analysis_window():
    call = a_call(outcome=None, summary=None)
    assert not settled(call)
    assert settled(call, seen_at=ENDED + WINDOW)


def test_a_call_nobody_spoke_on_is_settled_without_transcript_or_analysis():
    unanswered = a_call(
        status="failed", started_at=None, transcript=None, outcome=None, summary=None
    )
    assert settled(unanswered)
    assert settled(a_call(status="cancelled", started_at=None, transcript=None, summary=None))


# --- served from the archive -----------------------------------------------------------------


@pytest.fixture
def frozen_simulator(monkeypatch):
    sim = Simulator(seed=42, call_count=300, now=FROZEN_NOW)
    monkeypatch.setattr(gateway, "_simulator", sim)
    monkeypatch.setattr(gateway, "_client", None)
    yield sim
    if gateway._client is not None:
        gateway._client.close()


@pytest.fixture
def synced(frozen_simulator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("sync_calls", stdout=StringIO(), stderr=StringIO())
    frozen_simulator.reset_requests()
    return frozen_simulator


def settled_with_copy() -> ArchivedCall:
    rows = ArchivedCall.objects.filter(status="ended").exclude(recording="")
    row = next((r for r in rows if r.transcript and archived_is_settled(r, FROZEN_NOW)), None)
    assert row is not None, "the synced archive has no settled call with a recording copy"
    return row


@pytest.mark.django_db
def test_a_settled_call_page_and_downloads_ask_truedy_nothing(staff_client, synced):
    row = settled_with_copy()

    page = staff_client.get(f"/calls/{row.id}/")
    text = staff_client.get(f"/calls/{row.id}/transcript.txt")
    document = staff_client.get(f"/calls/{row.id}/transcript.json")
    audio = staff_client.get(f"/calls/{row.id}/recording", HTTP_RANGE="bytes=0-99")

    assert page.status_code == 200 and 'data-source="archive"' in page.content.decode()
    assert text.status_code == 200 and row.transcript[0]["text"] in text.content.decode()
    assert document.status_code == 200
    assert audio.status_code == 206 and len(b"".join(audio.streaming_content)) == 100
    assert upstream_paths(synced) == []


@pytest.mark.django_db
def test_a_call_that_is_not_settled_is_asked_of_truedy(staff_client, synced):
    live = ArchivedCall.objects.filter(status__in=["in-progress", "ringing", "queued"]).first()
    assert live is not None and settled_archived(live.id, FROZEN_NOW) is None

    assert staff_client.get(f"/calls/{live.id}/").status_code == 200

    assert f"/api/public/v1/calls/{live.id}" in upstream_paths(synced)


@pytest.mark.django_db
def test_a_row_a_webhook_stored_without_a_detail_read_is_not_settled(synced):
    row = ArchivedCall.objects.filter(status="ended", transcript__isnull=True).first()
    if row is None:
        pytest.skip("every ended call of the data set has a transcript")
    ArchivedCall.objects.filter(pk=row.id).update(checked_at=None)
    row.refresh_from_db()
    assert not archived_is_settled(row, FROZEN_NOW)


# --- unsettled calls, read from the archive while webhooks keep it current --------------------


@pytest.fixture
def followed(synced, settings):
    """The synced archive (current: its sync covers Truedy up to now) with webhooks configured:
    the archive follows Truedy's changes."""
    settings.TRUEDY_WEBHOOK_SECRET = "whsec_settled_test"
    return synced


def a_live_row() -> ArchivedCall:
    row = ArchivedCall.objects.filter(status__in=["in-progress", "ringing", "queued"]).first()
    assert row is not None and settled_archived(row.id, FROZEN_NOW) is None
    return row


@pytest.mark.django_db
def test_a_live_call_page_comes_from_the_archive_while_webhooks_keep_it_current(
    staff_client, followed
):
    row = a_live_row()

    page = staff_client.get(f"/calls/{row.id}/")

    assert page.status_code == 200
    assert "which Truedy's webhooks keep current" in page.content.decode()
    assert 'class="notice stale"' not in page.content.decode()
    assert f"/api/public/v1/calls/{row.id}" not in upstream_paths(followed)


@pytest.mark.django_db
def test_a_call_with_a_webhook_waiting_for_its_follow_up_is_asked_of_truedy(
    staff_client, followed, settings
):
    row = a_live_row()
    waited = timezone.now() - timedelta(seconds=settings.CACHE_TTL_CALL_PENDING + 1)
    WebhookEvent.objects.create(
        event_key="evt-1", event="call.ended", call_id=row.id, raw_body="{}", received_at=waited
    )

    assert staff_client.get(f"/calls/{row.id}/").status_code == 200

    assert f"/api/public/v1/calls/{row.id}" in upstream_paths(followed)


@pytest.mark.django_db
def test_a_webhook_that_arrived_just_now_is_no_staler_than_the_cache_would_serve(followed):
    row = a_live_row()
    WebhookEvent.objects.create(
        event_key="evt-1", event="call.ended", call_id=row.id, raw_body="{}"
    )

    assert archived_follows_truedy(row, FROZEN_NOW)


@pytest.mark.django_db
def test_a_call_the_archive_has_not_heard_of_within_its_bound_is_asked_of_truedy(
    staff_client, followed, settings
):
    row = a_live_row()
    long_ago = timezone.now() - timedelta(seconds=settings.ARCHIVE_FRESHNESS_BOUND + 1)
    ArchivedCall.objects.filter(pk=row.id).update(checked_at=long_ago, refreshed_at=long_ago)

    assert staff_client.get(f"/calls/{row.id}/").status_code == 200

    assert f"/api/public/v1/calls/{row.id}" in upstream_paths(followed)


@pytest.mark.django_db
def test_an_ended_call_whose_recording_is_not_copied_yet_is_asked_of_truedy(staff_client, followed):
    row = a_live_row()
    just_ended = FROZEN_NOW - timedelta(seconds=30)  # within the grace: not settled
    ArchivedCall.objects.filter(pk=row.id).update(
        status="ended",
        started_at=just_ended - timedelta(minutes=1),
        ended_at=just_ended,
        has_recording=True,
        recording="",
    )
    row.refresh_from_db()
    assert not archived_follows_truedy(row, FROZEN_NOW)  # only Truedy's link plays it

    assert staff_client.get(f"/calls/{row.id}/").status_code == 200

    assert f"/api/public/v1/calls/{row.id}" in upstream_paths(followed)


@pytest.mark.django_db
def test_without_webhooks_an_unsettled_call_is_asked_of_truedy(staff_client, synced, settings):
    settings.TRUEDY_WEBHOOK_SECRET = ""
    row = a_live_row()

    assert staff_client.get(f"/calls/{row.id}/").status_code == 200

    assert f"/api/public/v1/calls/{row.id}" in upstream_paths(synced)


@pytest.mark.django_db
def test_an_archived_recording_copy_streams_without_asking_truedy_even_if_not_settled(
    staff_client, synced
):
    row = settled_with_copy()
    # Not settled any more (ended within the grace), but the copy is the same audio.
    ArchivedCall.objects.filter(pk=row.id).update(ended_at=FROZEN_NOW - timedelta(seconds=10))
    assert settled_archived(row.id, FROZEN_NOW) is None

    audio = staff_client.get(f"/calls/{row.id}/recording", HTTP_RANGE="bytes=0-99")

    assert audio.status_code == 206 and len(b"".join(audio.streaming_content)) == 100
    assert upstream_paths(synced) == []
