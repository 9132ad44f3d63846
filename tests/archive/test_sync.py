"""``manage.py sync_calls`` against the frozen simulator: complete, idempotent, resumable."""

import dataclasses
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.utils import timezone

from calls.archive import store
from calls.archive import sync as sync_engine
from calls.models import ArchivedCall, SyncCursor
from calls.simulator import Simulator
from calls.truedy.client import TruedyClient
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW

LIST_PATH = "/api/public/v1/calls"


@pytest.fixture
def frozen_simulator(monkeypatch):
    """As conftest's, with 300 calls instead of 2,000: a full sync then takes a second or two,
    and the data still has live calls and recordings whose links work."""
    sim = Simulator(seed=42, call_count=300, now=FROZEN_NOW)
    monkeypatch.setattr(gateway, "_simulator", sim)
    monkeypatch.setattr(gateway, "_client", None)
    yield sim
    if gateway._client is not None:
        gateway._client.close()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def sync(*args):
    out, err = StringIO(), StringIO()
    call_command("sync_calls", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def list_requests(sim):
    return [r for r in sim.requests if r.path == LIST_PATH]


def truedy_total(created_after=None):
    return (
        gateway.get_client()
        .list_calls(created_after=created_after, created_before=FROZEN_NOW, limit=1)
        .total
    )


@pytest.mark.django_db
def test_a_full_run_archives_every_call_truedy_lists(frozen_simulator, media):
    out, _ = sync()

    total = truedy_total()
    assert ArchivedCall.objects.count() == total
    cursor = SyncCursor.objects.get(pk="calls")
    assert (cursor.synced_from, cursor.synced_until) == (None, FROZEN_NOW)
    assert (cursor.running, cursor.window_before, cursor.next_offset) == (False, None, 0)
    assert f"Calls {total:,}/{total:,} (100%)" in out
    # List rows carry no transcript: every call somebody talked on had its details fetched.
    fetched = {
        r.path.rsplit("/", 1)[1]
        for r in frozen_simulator.requests
        if r.path.startswith(LIST_PATH + "/")
    }
    talked = ArchivedCall.objects.filter(
        Q(status="ended") | Q(status="failed", started_at__isnull=False)
    )
    assert set(talked.values_list("id", flat=True)) <= fetched
    assert ArchivedCall.objects.filter(transcript__isnull=False).count() > total // 2


@pytest.mark.django_db
def test_a_second_run_stores_nothing_new(frozen_simulator, media):
    sync()
    before = dict(ArchivedCall.objects.values_list("id", "refreshed_at"))

    out, _ = sync()

    assert "Done: 0 calls stored or updated" in out
    assert dict(ArchivedCall.objects.values_list("id", "refreshed_at")) == before
    cursor = SyncCursor.objects.get(pk="calls")
    assert cursor.synced_until == FROZEN_NOW and cursor.synced_from is None


@pytest.mark.django_db
def test_a_later_run_lists_only_the_new_window_and_picks_up_new_calls(frozen_simulator, media):
    sync("--page-size", "100")
    frozen_simulator.clock.advance(3600)
    frozen_simulator.reset_requests()

    sync("--page-size", "100")

    window = list_requests(frozen_simulator)
    assert window[0].query["created_after"] == "2026-11-24T11:55:00Z"  # 5 minutes of overlap
    assert window[0].query["created_before"] == "2026-11-24T13:00:00Z"
    new_total = (
        gateway.get_client()
        .list_calls(created_before=FROZEN_NOW + timedelta(hours=1), limit=1)
        .total
    )
    assert ArchivedCall.objects.count() == new_total
    assert SyncCursor.objects.get(pk="calls").synced_until == FROZEN_NOW + timedelta(hours=1)


@pytest.mark.django_db
def test_sync_resumption_after_a_crash(frozen_simulator, media, monkeypatch):
    """A run dies after its third page; the next one starts at page four, with no duplicates
    and no gaps, asking Truedy for fewer pages than a restart would."""
    real_list_calls = TruedyClient.list_calls
    pages_served = []

    def crashing_list_calls(self, **params):
        if len(pages_served) == 3:
            raise RuntimeError("the machine went down")
        pages_served.append(params["offset"])
        return real_list_calls(self, **params)

    monkeypatch.setattr(TruedyClient, "list_calls", crashing_list_calls)
    with pytest.raises(RuntimeError):
        sync("--page-size", "25")
    cursor = SyncCursor.objects.get(pk="calls")
    assert (cursor.next_offset, cursor.window_before) == (75, FROZEN_NOW)
    assert ArchivedCall.objects.count() == 75
    monkeypatch.setattr(TruedyClient, "list_calls", real_list_calls)
    total = truedy_total()
    frozen_simulator.reset_requests()

    out, _ = sync("--page-size", "25")

    resumed = list_requests(frozen_simulator)
    assert "Resuming the run started at 2026-11-24 12:00:00 UTC after 75 calls." in out
    assert resumed[0].query["offset"] == "75"
    assert len(resumed) == -(-(total - 75) // 25)  # a restart would need -(-total // 25)
    assert len(resumed) < -(-total // 25)
    assert ArchivedCall.objects.count() == total  # no gaps (ids are unique: no duplicates)
    assert SyncCursor.objects.get(pk="calls").synced_until == FROZEN_NOW


@pytest.mark.django_db
def test_an_upstream_failure_exits_non_zero_with_one_line_and_keeps_the_progress(
    frozen_simulator, media, monkeypatch
):
    real_list_calls = TruedyClient.list_calls
    calls_made = []

    def list_then_fail(self, **params):
        calls_made.append(params)
        if len(calls_made) == 2:
            frozen_simulator.switches.fail_next(10, status=503)
        return real_list_calls(self, **params)

    monkeypatch.setattr(TruedyClient, "list_calls", list_then_fail)
    monkeypatch.setattr(TruedyClient, "_sleep", lambda self, seconds: None, raising=False)

    with pytest.raises(CommandError) as failure:
        sync("--page-size", "50")

    assert failure.value.returncode == 1
    message = str(failure.value)
    assert message.startswith("Truedy is unreachable (Truedy answered HTTP 503")
    assert "Progress is saved" in message and "\n" not in message
    cursor = SyncCursor.objects.get(pk="calls")
    assert (cursor.next_offset, cursor.running) == (50, False)


@pytest.mark.django_db
def test_a_run_in_progress_blocks_another_until_its_lock_goes_stale(frozen_simulator, media):
    SyncCursor.objects.create(name="calls", running=True, updated_at=timezone.now())
    frozen_simulator.reset_requests()

    _, err = sync()

    assert "Another sync_calls run is in progress; nothing done." in err
    assert frozen_simulator.requests == [] and ArchivedCall.objects.count() == 0

    SyncCursor.objects.filter(pk="calls").update(
        updated_at=timezone.now() - sync_engine.STALE_LOCK - timedelta(seconds=1)
    )
    sync()
    assert ArchivedCall.objects.count() == truedy_total()


@pytest.mark.django_db
def test_since_limits_the_window(frozen_simulator, media):
    sync("--since", "2d")

    after = FROZEN_NOW - timedelta(days=2)
    assert ArchivedCall.objects.count() == truedy_total(created_after=after)
    assert SyncCursor.objects.get(pk="calls").synced_from == after


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "neither a number of days"),
        (("--since", "2026-02-30"), "neither a number of days"),
        (("--since", "2030-01-01"), "in the future"),
        (("--page-size", "101"), "--page-size must be 1-100"),
    ],
)
@pytest.mark.django_db
def test_bad_arguments_exit_2_with_the_reason(frozen_simulator, args, message):
    with pytest.raises(CommandError, match=message) as failure:
        sync(*args)
    assert failure.value.returncode == 2


@pytest.mark.django_db
def test_recordings_still_linked_are_copied_during_the_sync(frozen_simulator, media):
    sync()

    copied = ArchivedCall.objects.exclude(recording="")
    assert copied.exists()
    cutoff = FROZEN_NOW - timedelta(hours=24)
    assert not copied.filter(ended_at__lt=cutoff).exists()  # dead links are not tried
    sample = copied.first()
    with default_storage.open(sample.recording.name) as handle:
        mp3 = frozen_simulator.data.by_id[sample.id].recording.path.read_bytes()
        assert handle.read() == mp3
    # Every recorded call whose link still worked has its copy.
    missing = ArchivedCall.objects.filter(
        has_recording=True, recording="", ended_at__gt=cutoff + timedelta(minutes=2)
    )
    assert list(missing.values_list("id", flat=True)) == []


@pytest.mark.django_db
def test_calls_pending_at_the_last_run_are_brought_up_to_date_outside_the_window(
    frozen_simulator, media
):
    """Rows the last run saw live, without their transcript, or without a recording copy, are
    fetched again although the new window (from 11:55) no longer lists them."""
    client = gateway.get_client()
    recent = client.list_calls(
        status="ended", created_before=FROZEN_NOW - timedelta(minutes=30), limit=100
    ).calls
    recorded = next(c for c in recent if c.recording_url)
    was_live = next(c for c in recent if c.id != recorded.id)
    for listed, status in ((recorded, "ended"), (was_live, "in-progress")):
        store.store_call(
            dataclasses.replace(
                listed,
                status=status,
                updated_at=listed.created_at,
                transcript=None,
                summary=None,
            ),
            source="test",
            copy=False,  # as if storage had failed last time
        )
    SyncCursor.objects.create(name="calls", synced_until=FROZEN_NOW)

    sync()

    for listed in (recorded, was_live):
        row = ArchivedCall.objects.get(pk=listed.id)
        upstream = client.get_call(listed.id)
        assert (row.status, row.updated_at) == (upstream.status, upstream.updated_at)
        assert row.transcript is not None and upstream.transcript is not None
    assert ArchivedCall.objects.get(pk=recorded.id).recording


@pytest.mark.django_db
def test_a_run_purges_calls_past_retention_and_narrows_the_covered_window(
    frozen_simulator, media, settings
):
    settings.ARCHIVE_RETENTION_DAYS = 200
    out, _ = sync()

    cutoff = FROZEN_NOW - timedelta(days=200)
    assert not ArchivedCall.objects.filter(created_at__lt=cutoff).exists()
    assert ArchivedCall.objects.count() == truedy_total(created_after=cutoff)
    assert SyncCursor.objects.get(pk="calls").synced_from == cutoff
    assert "expired calls deleted" in out


def test_since_parsing():
    now = FROZEN_NOW
    assert sync_engine.parse_since("7d", now) == now - timedelta(days=7)
    assert sync_engine.parse_since("2026-11-01", now).isoformat() == "2026-11-01T00:00:00+00:00"
    assert sync_engine.parse_since("2026-11-01T09:30:00+01:00", now).hour == 8


@pytest.mark.django_db
def test_the_sync_keeps_the_dashboards_shared_cool_down(frozen_simulator, media):
    """The sync spends the same Truedy budget as the users: while the dashboard is cooling
    down after a long Retry-After it asks Truedy nothing, and says so (exit 1)."""
    from calls.upstream import resilience

    resilience.safe_set(resilience.COOLDOWN_KEY, time.time() + 600, 600)
    frozen_simulator.reset_requests()
    with pytest.raises(CommandError) as failure:
        sync()
    assert failure.value.returncode == 1
    assert "rate" in str(failure.value).lower()
    assert list_requests(frozen_simulator) == []
