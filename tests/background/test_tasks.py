"""The background tasks' bodies, run here as a worker would run them (tests/background/
test_workers.py runs real workers): recordings copied or counted with a reason, lost webhook
follow-ups sent again, the budgeted sync, the heartbeat, and what staff and /healthz see."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.storage import default_storage
from django.utils import timezone
from django_celery_results.models import TaskResult

from calls.archive import recordings
from calls.archive.freshness import archive_freshness
from calls.archive.store import store_call
from calls.background import failures, tasks
from calls.background.retrying import LONGEST_DELAY, MAX_RETRIES, retry_delay
from calls.background.status import worker_status
from calls.models import ArchivedCall, SyncCursor, WebhookEvent, WorkerHeartbeat
from calls.upstream import gateway, resilience
from tests.conftest import FROZEN_NOW, as_worker
from tests.views.test_recording import expired_recorded_call, recorded_call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def archived_without_copy(sim, skeleton):
    """The call as the archive holds it after a list row: no copy of the recording yet."""
    call = gateway.get_client().get_call(skeleton.id)
    store_call(call, source="sync", copy=False)
    return call


# --- backoff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("retries", range(12))
def test_the_backoff_doubles_with_jitter_and_is_capped(retries):
    ceiling = min(5 * 2**retries, LONGEST_DELAY)
    for _ in range(20):
        assert ceiling / 2 <= retry_delay(retries) <= ceiling


def test_a_retry_waits_at_least_what_truedy_asked():
    assert retry_delay(0, retry_after=90) == 90
    assert retry_delay(9, retry_after=1) >= LONGEST_DELAY / 2


# --- recordings -------------------------------------------------------------------------------


def test_a_recording_is_copied_by_its_task(frozen_simulator):
    call = archived_without_copy(frozen_simulator, recorded_call(frozen_simulator))
    as_worker(tasks.archive_recording, call.id)
    archived = ArchivedCall.objects.get(pk=call.id)
    assert archived.recording and default_storage.exists(archived.recording.name)
    assert archived.recording_error == ""


def test_a_failed_download_is_retried_while_the_link_lives(frozen_simulator):
    call = archived_without_copy(frozen_simulator, recorded_call(frozen_simulator))
    frozen_simulator.switches.refuse_recordings_next(3, status=503)  # the client tries 3 times
    with pytest.raises(Retry):
        as_worker(tasks.archive_recording, call.id)
    assert ArchivedCall.objects.get(pk=call.id).recording_error == ""
    as_worker(tasks.archive_recording, call.id, retries=1)
    assert ArchivedCall.objects.get(pk=call.id).recording


def test_after_its_last_retry_the_reason_is_kept_and_counted(frozen_simulator):
    call = archived_without_copy(frozen_simulator, recorded_call(frozen_simulator))
    frozen_simulator.switches.refuse_recordings_next(3, status=503)
    as_worker(tasks.archive_recording, call.id, retries=MAX_RETRIES)
    archived = ArchivedCall.objects.get(pk=call.id)
    assert not archived.recording
    assert archived.recording_error.startswith("download failed:")
    assert recordings.recordings_not_archived() == {archived.recording_error: 1}


def test_a_retry_that_would_come_after_the_link_dies_gives_up_now(frozen_simulator):
    # Its link dies in 5 minutes (its last 2 count as dead already); the 9th try waits longer.
    skeleton = recorded_call(frozen_simulator)
    call = archived_without_copy(frozen_simulator, skeleton)
    frozen_simulator.clock.set(call.ended_at + timedelta(hours=24) - timedelta(minutes=5))
    frozen_simulator.switches.refuse_recordings_next(3, status=503)  # the client tries 3 times
    as_worker(tasks.archive_recording, call.id, retries=8)  # a 320-640 s wait, capped at 600
    assert ArchivedCall.objects.get(pk=call.id).recording_error.startswith("download failed:")


def test_a_link_truedy_no_longer_gives_is_counted_as_expired(frozen_simulator):
    call = archived_without_copy(frozen_simulator, recorded_call(frozen_simulator))
    frozen_simulator.clock.set(call.ended_at + timedelta(hours=25))
    as_worker(tasks.archive_recording, call.id)
    assert ArchivedCall.objects.get(pk=call.id).recording_error == recordings.LINK_EXPIRED


def test_a_link_that_expired_before_the_archive_saw_the_call_is_counted(frozen_simulator):
    skeleton = expired_recorded_call(frozen_simulator)
    call = gateway.get_client().get_call(skeleton.id)
    store_call(call, source="sync", copy=False)
    tasks.copy_recording_soon(call)
    expected = recordings.EXPIRED_BEFORE_ARCHIVED
    assert ArchivedCall.objects.get(pk=call.id).recording_error == expected
    assert recordings.recordings_not_archived() == {expected: 1}


# --- webhook follow-ups whose message was lost ------------------------------------------------


def make_event(key, *, received_at, retry_at=None, processed=False):
    return WebhookEvent.objects.create(
        event_key=key,
        event="call.ended",
        call_id="call_x",
        received_at=received_at,
        raw_body='{"event": "call.ended", "data": {"call_id": "call_x"}}',
        retry_at=retry_at,
        processed_at=received_at if processed else None,
    )


def test_only_overdue_follow_ups_are_sent_again(monkeypatch):
    now = timezone.now()
    lost = make_event("lost", received_at=now - timedelta(minutes=5))
    make_event("just-arrived", received_at=now - timedelta(seconds=10))
    make_event("done", received_at=now - timedelta(minutes=5), processed=True)
    make_event(
        "waiting-its-retry",
        received_at=now - timedelta(minutes=5),
        retry_at=now + timedelta(minutes=2),
    )
    overdue_retry = make_event(
        "retry-lost", received_at=now - timedelta(hours=1), retry_at=now - timedelta(minutes=3)
    )
    sent = []
    monkeypatch.setattr(
        tasks.process_webhook_event,
        "apply_async",
        lambda args=None, kwargs=None, **options: sent.append(args[0]),
    )
    assert tasks.requeue_webhook_events() == 2
    assert sent == [overdue_retry.pk, lost.pk]  # oldest first


# --- the sync on a budget ---------------------------------------------------------------------


def api_requests(sim):
    return [r for r in sim.requests if r.path.startswith("/api/public/v1/")]


def test_each_sync_run_keeps_to_its_budget_and_the_next_carries_on(frozen_simulator, settings):
    settings.ARCHIVE_SYNC_REQUESTS_PER_RUN = 30
    runs = 0
    while not SyncCursor.objects.filter(synced_until__isnull=False).exists():
        frozen_simulator.reset_requests()
        tasks.sync_archive()
        assert len(api_requests(frozen_simulator)) <= 30
        runs += 1
        assert runs < 200, "the window never finished"
    assert runs > 1
    assert ArchivedCall.objects.count() == frozen_simulator_total(frozen_simulator)
    # At rest: one list request for what is new, and at most the budget for pending rows.
    frozen_simulator.reset_requests()
    tasks.sync_archive()
    lists = [r for r in api_requests(frozen_simulator) if r.path == "/api/public/v1/calls"]
    assert len(lists) == 1
    assert len(api_requests(frozen_simulator)) <= 30


def frozen_simulator_total(sim):
    return len(sim.data.select(sim.clock.now_us()))


def test_the_sync_yields_while_truedy_asks_us_to_wait(frozen_simulator, settings):
    resilience._cool_down(30)
    frozen_simulator.reset_requests()
    assert tasks.sync_archive().startswith("stopped: Truedy is rate-limiting")
    assert api_requests(frozen_simulator) == []
    assert SyncCursor.objects.get().running is False, "the lock is released"


def test_a_sync_run_while_another_holds_the_lock_does_nothing(frozen_simulator):
    from calls.archive.sync import acquire_lock

    assert acquire_lock()
    frozen_simulator.reset_requests()
    assert tasks.sync_archive() == "another run holds the lock"
    assert api_requests(frozen_simulator) == []


# --- heartbeat, freshness and what staff see --------------------------------------------------


def test_the_heartbeat_makes_the_workers_ok_and_its_age_makes_them_stale(settings):
    assert worker_status(timezone.now()).state == "never"
    tasks.heartbeat()
    beat = WorkerHeartbeat.objects.get().beat_at
    assert worker_status(beat + timedelta(seconds=10)).state == "ok"
    late = beat + timedelta(seconds=settings.WORKER_STALE_AFTER + 1)
    assert worker_status(late).state == "stale"


def test_freshness_is_current_only_within_its_bound(settings):
    settings.ARCHIVE_FRESHNESS_BOUND = 60
    assert archive_freshness(FROZEN_NOW).current is False  # never synced
    SyncCursor.objects.create(name="calls", synced_until=FROZEN_NOW - timedelta(seconds=20))
    assert archive_freshness(FROZEN_NOW).lag_seconds == 20
    assert archive_freshness(FROZEN_NOW).current is True
    assert archive_freshness(FROZEN_NOW + timedelta(seconds=41)).current is False


def test_healthz_reports_workers_and_the_archive_without_failing_the_balancer(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["background"]["status"] == "never"
    assert body["archive"]["current"] is False
    tasks.heartbeat()
    body = client.get("/healthz").json()
    assert body["background"]["status"] == "ok"
    assert set(body["archive"]) >= {"lag_seconds", "last_sync_at", "last_webhook_at"}


def failed_task(monkeypatch):
    """A real failure, stored by Celery's result backend as a worker's would be."""

    def broken(call_id):
        raise RuntimeError("storage is full")

    monkeypatch.setattr(tasks, "get_archived", broken)
    tasks.archive_recording.delay("call_abc")
    monkeypatch.undo()
    return TaskResult.objects.get()


def test_a_failed_task_is_kept_with_its_error_and_arguments(monkeypatch):
    stored = failed_task(monkeypatch)
    (shown,), count = failures.failed_tasks()
    assert count == 1
    assert (shown.task_id, shown.name) == (stored.task_id, "archive_recording")
    assert shown.arguments == "'call_abc'"
    assert shown.error == "RuntimeError: storage is full"


def test_staff_see_failed_tasks_and_run_one_again(staff_client, monkeypatch):
    stored = failed_task(monkeypatch)
    page = staff_client.get("/background/").content.decode()
    assert "archive_recording" in page and "RuntimeError: storage is full" in page
    assert "No worker has ever run a heartbeat" in page
    sent = []
    monkeypatch.setattr(
        failures.current_app, "send_task", lambda name, args, kwargs: sent.append((name, args))
    )
    response = staff_client.post(f"/background/failed/{stored.task_id}/retry", follow=True)
    assert sent == [("calls.background.tasks.archive_recording", ("call_abc",))]
    assert "The task was sent again." in response.content.decode()
    assert not TaskResult.objects.exists()
    again = staff_client.post(f"/background/failed/{stored.task_id}/retry", follow=True)
    assert "no longer there" in again.content.decode()
    assert len(sent) == 1


def test_the_background_page_says_how_current_the_archive_is(staff_client):
    SyncCursor.objects.create(
        name="calls", synced_until=gateway.now() - timedelta(hours=2), finished_at=timezone.now()
    )
    page = staff_client.get("/background/").content.decode()
    assert "Behind:" in page
    assert "7,200 s ago" in page or "7,199 s ago" in page or "7,201 s ago" in page
