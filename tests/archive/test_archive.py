"""The call archive: storing without regressing, recordings copied to storage, reading it back."""

import threading
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from calls.archive import recordings, retention, store
from calls.models import ArchivedCall
from calls.truedy.records import parse_call
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW
from tests.payloads import OMIT, call_payload, turn


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def call(**overrides):
    return parse_call(call_payload(**overrides))


def stored(**overrides):
    return store.store_call(call(recording_url=None, **overrides), source="test")


# --- store_call never regresses --------------------------------------------------------------

T1, T2 = "2026-11-23T10:01:00Z", "2026-11-23T10:05:00Z"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second", "kept_status"),
    [
        (("in-progress", T1), ("ended", T2), "ended"),  # progress is stored
        (("ended", T2), ("in-progress", T1), "ended"),  # a late webhook does not regress
        (("ended", T1), ("in-progress", T2), "ended"),  # not even with a newer timestamp
        (("ringing", T2), ("in-progress", T1), "ringing"),  # an older update loses
        (("queued", T1), ("mystery-status", T2), "mystery-status"),  # unknown ranks as queued
        (("in-progress", T1), ("mystery-status", T2), "in-progress"),
        (("failed", T1), ("ended", T2), "ended"),  # both terminal: the newer one wins
        (("ended", T2), ("failed", T1), "ended"),
    ],
)
def test_store_call_keeps_the_newest_state(first, second, kept_status):
    stored(status=first[0], updated_at=first[1])
    stored(status=second[0], updated_at=second[1])

    assert ArchivedCall.objects.get(pk="call_0001").status == kept_status
    assert ArchivedCall.objects.count() == 1


@pytest.mark.django_db
def test_a_list_row_never_wipes_a_stored_transcript_or_summary():
    stored(updated_at=T1)
    stored(updated_at=T2, transcript=OMIT, summary=None, outcome="voicemail")

    row = ArchivedCall.objects.get(pk="call_0001")
    assert row.outcome == "voicemail"  # the newer row's own fields are taken
    assert [t["text"] for t in row.transcript] == [
        "Hi, this is Ava from Acme.",
        "Oh, hi. What's this about?",
    ]
    assert row.summary == "The contact asked for a follow-up next week."


@pytest.mark.django_db
def test_an_older_description_still_fills_in_a_missing_transcript():
    stored(updated_at=T2, transcript=OMIT)
    stored(updated_at=T1)

    assert len(ArchivedCall.objects.get(pk="call_0001").transcript) == 2


@pytest.mark.django_db
def test_storing_the_same_call_again_changes_nothing():
    first = stored()
    again = stored()

    assert again.refreshed_at == first.refreshed_at
    assert again.source == "test"


@pytest.mark.django_db
def test_search_text_holds_the_transcript_lines_and_summary_lower_cased():
    row = stored(
        transcript=[turn("agent", "Hello ÉMILE", 0.1), turn("contact", "Refund please", 2.0)],
        summary="Wants a REFUND.",
    )

    assert row.search_text == "agent: hello émile\ncontact: refund please\n\nwants a refund."


@pytest.mark.django_db
def test_to_record_gives_back_the_call_without_its_link():
    original = call()
    store.store_call(original, source="test", copy=False)

    record = store.to_record(store.get_archived("call_0001"))

    assert record.recording_url is None
    assert record.transcript == original.transcript
    assert dict(record.metadata) == dict(original.metadata)
    assert (record.status, record.created_at, record.cost_cents, record.to_number) == (
        original.status,
        original.created_at,
        original.cost_cents,
        original.to_number,
    )
    assert store.get_archived("call_nope") is None


@pytest.mark.shared_backends
@pytest.mark.django_db(transaction=True)
def test_concurrent_stores_of_one_call_keep_one_row_and_the_final_state():
    versions = [
        call(
            status="queued", updated_at="2026-11-23T10:00:00Z", transcript=None, recording_url=None
        ),
        call(
            status="ringing", updated_at="2026-11-23T10:00:02Z", transcript=None, recording_url=None
        ),
        call(
            status="in-progress",
            updated_at="2026-11-23T10:00:05Z",
            transcript=None,
            recording_url=None,
        ),
        call(status="ended", updated_at=T2, recording_url=None),
    ] * 3
    barrier = threading.Barrier(len(versions))
    errors = []

    def store_version(version):
        try:
            barrier.wait()
            store.store_call(version, source="test")
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=store_version, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    row = ArchivedCall.objects.get(pk="call_0001")
    assert (row.status, ArchivedCall.objects.count()) == ("ended", 1)
    assert len(row.transcript) == 2


# --- recordings copied into storage ----------------------------------------------------------


def recent_recorded_call(sim):
    """A call that ended within the last 24 h with a recording, as the API lists it."""
    page = gateway.get_client().list_calls(
        status="ended", created_after=FROZEN_NOW - timedelta(hours=20), limit=100
    )
    for listed in page.calls:
        if listed.recording_url:
            return listed
    raise AssertionError("the simulator has no recent recorded call")


def simulator_mp3(sim, call_id):
    return sim.data.by_id[call_id].recording.path.read_bytes()


@pytest.mark.django_db
def test_an_ended_call_gets_its_recording_copied_byte_for_byte(frozen_simulator, media):
    listed = recent_recorded_call(frozen_simulator)

    row = store.store_call(listed, source="test")

    assert row.recording.name == f"recordings/{listed.created_at:%Y/%m}/{listed.id}.mp3"
    with default_storage.open(row.recording.name) as handle:
        assert handle.read() == simulator_mp3(frozen_simulator, listed.id)
    assert row.recording_bytes == len(simulator_mp3(frozen_simulator, listed.id))
    assert row.has_recording is True


@pytest.mark.django_db
def test_a_failed_copy_is_left_for_the_next_attempt_and_a_done_one_not_repeated(
    frozen_simulator, media
):
    listed = recent_recorded_call(frozen_simulator)
    frozen_simulator.switches.refuse_recordings_next(1, status=503)

    row = store.store_call(listed, source="test")
    assert not row.recording
    assert not default_storage.exists(recordings.recording_name(listed))

    row = store.store_call(listed, source="test")
    assert row.recording
    frozen_simulator.reset_requests()
    store.store_call(listed, source="test")
    assert frozen_simulator.requests == []  # already copied: storage is not asked again


@pytest.mark.django_db
def test_an_expired_link_is_not_even_tried(frozen_simulator, media):
    listed = recent_recorded_call(frozen_simulator)
    frozen_simulator.clock.advance(25 * 3600)
    frozen_simulator.reset_requests()

    row = store.store_call(listed, source="test")

    assert not row.recording and frozen_simulator.requests == []


# --- playback of the archived copy ----------------------------------------------------------


@pytest.fixture
def archived_after_expiry(frozen_simulator, media):
    """A call whose recording was archived, with the clock moved past Truedy's 24 h link."""
    listed = recent_recorded_call(frozen_simulator)
    store.store_call(listed, source="sync")
    frozen_simulator.clock.advance(25 * 3600)
    return listed.id, simulator_mp3(frozen_simulator, listed.id)


@pytest.mark.django_db
def test_playback_of_an_archived_recording_after_the_upstream_link_expired(
    staff_client, archived_after_expiry
):
    call_id, mp3 = archived_after_expiry

    whole = staff_client.get(f"/calls/{call_id}/recording")
    part = staff_client.get(f"/calls/{call_id}/recording", HTTP_RANGE="bytes=100-199")
    tail = staff_client.get(f"/calls/{call_id}/recording", HTTP_RANGE="bytes=-50")

    assert whole.status_code == 200
    assert b"".join(whole.streaming_content) == mp3
    assert whole["Content-Length"] == str(len(mp3))
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "audio/mpeg"
    assert whole["Cache-Control"] == "private, no-store"
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(mp3)}"
    assert b"".join(part.streaming_content) == mp3[100:200]
    assert (tail.status_code, b"".join(tail.streaming_content)) == (206, mp3[-50:])


@pytest.mark.django_db
def test_archived_playback_answers_416_and_honours_if_range(staff_client, archived_after_expiry):
    call_id, mp3 = archived_after_expiry
    url = f"/calls/{call_id}/recording"

    past_end = staff_client.get(url, HTTP_RANGE=f"bytes={len(mp3)}-")
    etag = staff_client.get(url, HTTP_RANGE="bytes=0-9")["ETag"]
    same = staff_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    other = staff_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"something-else"')

    assert (past_end.status_code, past_end["Content-Range"]) == (416, f"bytes */{len(mp3)}")
    assert same.status_code == 206
    assert other.status_code == 200
    assert b"".join(other.streaming_content) == mp3


@pytest.mark.django_db
def test_the_call_page_plays_the_archived_copy_once_truedy_link_expired(
    staff_client, archived_after_expiry
):
    call_id, _ = archived_after_expiry

    page = staff_client.get(f"/calls/{call_id}/")

    assert page.status_code == 200
    assert page.context["recording_state"] == "archived"
    assert f'src="/calls/{call_id}/recording"' in page.content.decode()
    assert "Played from the dashboard's archive" in page.content.decode()


@pytest.mark.django_db
def test_without_an_archived_copy_an_expired_recording_is_still_410(frozen_simulator, staff_client):
    listed = recent_recorded_call(frozen_simulator)
    frozen_simulator.clock.advance(25 * 3600)

    assert staff_client.get(f"/calls/{listed.id}/recording").status_code == 410


# --- the call page when Truedy no longer has the call ----------------------------------------


@pytest.mark.django_db
def test_a_call_truedy_404s_is_shown_from_the_archive_saying_so(frozen_simulator, staff_client):
    stored(id="call_from_last_year", created_at="2025-06-01T09:00:00Z")
    # Truedy gave it a recording once (so "expired" is true of it), never copied.
    ArchivedCall.objects.filter(pk="call_from_last_year").update(has_recording=True)

    page = staff_client.get("/calls/call_from_last_year/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "From the dashboard's archive (Truedy no longer has this call; archived" in body
    assert "Oh, hi. What&#x27;s this about?" in body  # the archived transcript
    assert page.context["recording_state"] == "expired"  # no copy was made
    assert staff_client.get("/calls/call_nobody_has/").status_code == 404


@pytest.mark.django_db
def test_when_truedy_is_unreachable_the_archive_copy_beats_an_error_page(
    frozen_simulator, staff_client
):
    listed = recent_recorded_call(frozen_simulator)
    store.store_call(listed, source="sync", copy=False)
    frozen_simulator.switches.fail_next(20, status=503)

    page = staff_client.get(f"/calls/{listed.id}/")

    assert page.status_code == 200
    assert "Truedy is unreachable — showing the dashboard's archive copy" in page.content.decode()


@pytest.mark.django_db
def test_an_archived_recording_streams_when_truedy_is_unreachable(
    frozen_simulator, staff_client, media
):
    stored(id="call_offline")
    row = ArchivedCall.objects.get(pk="call_offline")
    row.recording = default_storage.save(
        "recordings/2026/11/call_offline.mp3", ContentFile(b"ID3" * 100)
    )
    row.recording_bytes = 300
    row.save()
    frozen_simulator.switches.fail_next(20, status=503)

    response = staff_client.get("/calls/call_offline/recording", HTTP_RANGE="bytes=0-2")

    assert (response.status_code, b"".join(response.streaming_content)) == (206, b"ID3")


# --- retention -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_deletes_calls_older_than_the_retention_and_their_files(settings, media):
    settings.ARCHIVE_RETENTION_DAYS = 30
    stored(id="call_old", created_at="2026-09-01T00:00:00Z")
    stored(id="call_new", created_at="2026-11-20T00:00:00Z")
    old = ArchivedCall.objects.get(pk="call_old")
    old.recording = default_storage.save("recordings/2026/09/call_old.mp3", ContentFile(b"x"))
    old.save()

    deleted = retention.purge_expired(FROZEN_NOW)

    assert deleted == 1
    assert list(ArchivedCall.objects.values_list("id", flat=True)) == ["call_new"]
    assert not default_storage.exists("recordings/2026/09/call_old.mp3")


@pytest.mark.django_db
def test_retention_zero_keeps_everything(settings):
    settings.ARCHIVE_RETENTION_DAYS = 0
    stored(id="call_ancient", created_at="2019-01-01T00:00:00Z")

    assert retention.purge_expired(FROZEN_NOW) == 0
    assert ArchivedCall.objects.filter(pk="call_ancient").exists()


@pytest.mark.django_db
def test_a_call_truedy_404s_downloads_from_the_archive(frozen_simulator, staff_client):
    stored(id="call_from_last_year", created_at="2025-06-01T09:00:00Z")

    text = staff_client.get("/calls/call_from_last_year/transcript.txt")
    document = staff_client.get("/calls/call_from_last_year/transcript.json")

    assert (
        text.status_code == 200 and "Contact: Oh, hi. What's this about?" in text.content.decode()
    )
    assert document.status_code == 200 and document.json()["call_id"] == "call_from_last_year"
    assert staff_client.get("/calls/call_nobody_has/transcript.txt").status_code == 404
    assert staff_client.get("/calls/call_nobody_has/transcript.json").status_code == 404
