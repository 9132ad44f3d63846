"""Download recordings (ZIP) at /calls/recordings.zip: the MP3s of a list's calls and a manifest,
streamed as the ZIP is built (calls/services/recording_bundle.py)."""

import csv
import io
import time
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import resolve

from calls.archive.store import store_call
from calls.models import AuditEvent
from calls.services import recording_bundle, recording_streams
from calls.simulator.isotime import US
from calls.truedy.client import RecordingStream
from calls.truedy.errors import UpstreamUnavailable
from calls.truedy.filters import CallFilters
from calls.upstream import gateway, reads
from tests.conftest import upstream_paths
from tests.notes.roles import make_reviewer

pytestmark = pytest.mark.django_db

HOUR = 3600 * US
# Yesterday and today (the frozen simulator stands at 2026-11-24 12:00 UTC): calls with live
# links, calls never recorded and calls still live, 28 in all.
RECENT = "created_after=2026-11-23&tz=UTC"
FILE, SOURCE, WHY = -3, -2, -1  # the manifest's own columns, after the export's


def download(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest(archive: zipfile.ZipFile) -> tuple[list[str], list[list[str]]]:
    text = archive.read("manifest.csv").decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, like the CSV export, for Excel"
    header, *rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    return header, rows


def exported(client, query: str = RECENT) -> tuple[list[str], list[list[str]]]:
    """The CSV export of the same view: its header and rows."""
    text = b"".join(client.get(f"/calls/export.csv?{query}").streaming_content).decode()
    header, *rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    return header, rows


def recent_calls(sim, client):
    """The simulator's calls the RECENT view lists, newest first."""
    return [sim.data.by_id[row[0]] for row in exported(client)[1]]


def recorded(sim, calls):
    """Those whose recording Truedy's link still serves (24 h after the end, less a margin)."""
    now = sim.clock.now_us()
    alive = 24 * HOUR - 3 * 60 * US
    return [c for c in calls if c.recording and c.ended and c.settled <= now < c.ended + alive]


# --- what is in it --------------------------------------------------------------------------------


def test_the_zip_holds_each_recording_as_the_recording_view_serves_it(
    staff_client, frozen_simulator
):
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    assert response.streaming, "the ZIP is streamed as it is built"
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    disposition = 'attachment; filename="recordings-2026-11-23-to-2026-11-24.zip"'
    assert response["Content-Disposition"] == disposition
    archive = download(response)
    assert archive.testzip() is None, "every file's CRC checks"
    _, rows = manifest(archive)
    calls = recent_calls(frozen_simulator, staff_client)
    assert [row[0] for row in rows] == [c.id for c in calls], "the export's calls, in its order"
    with_audio = [row for row in rows if row[FILE]]
    assert {row[0] for row in with_audio} == {c.id for c in recorded(frozen_simulator, calls)}
    assert len(with_audio) >= 5
    assert sorted(archive.namelist()) == sorted(
        [row[FILE] for row in with_audio] + ["manifest.csv"]
    )
    for row in with_audio:
        served = b"".join(staff_client.get(f"/calls/{row[0]}/recording").streaming_content)
        assert archive.read(row[FILE]) == served
        assert row[FILE].endswith(f"_{row[0]}.mp3") and row[SOURCE] == "Truedy" and not row[WHY]
        info = archive.getinfo(row[FILE])
        assert info.compress_type == zipfile.ZIP_STORED, "MP3s are stored, not deflated"
    assert archive.getinfo("manifest.csv").compress_type == zipfile.ZIP_DEFLATED


def test_the_manifest_has_the_exports_columns_then_file_source_and_reason(
    staff_client, frozen_simulator
):
    header, rows = manifest(download(staff_client.get(f"/calls/recordings.zip?{RECENT}")))
    export_header, export_rows = exported(staff_client)
    assert header == [*export_header, "File in ZIP", "Recording from", "Why no recording"]
    assert [row[:-3] for row in rows] == export_rows, "the export's own rows, column for column"
    now = frozen_simulator.clock.now_us()
    by_id = frozen_simulator.data.by_id
    reasons = {row[0]: row[WHY] for row in rows if not row[FILE]}
    live = [i for i in reasons if by_id[i].settled > now]
    never = [i for i in reasons if by_id[i].recording is None and by_id[i].settled <= now]
    assert live and never
    for call_id in live:
        assert reasons[call_id] == "The call has not ended yet, so there is no recording."
    for call_id in never:  # "not recorded", whenever it ended: a call never recorded never expires
        assert reasons[call_id].startswith("This call was not recorded"), reasons[call_id]
    off = "This call was not recorded: recording was off for its agent."
    assert off in reasons.values(), "as the call page says it (lifecycle.recording_state)"


def test_an_expired_recording_comes_from_the_archive_or_says_why_not(
    staff_client, frozen_simulator
):
    kept, lost = recorded(frozen_simulator, recent_calls(frozen_simulator, staff_client))[:2]
    store_call(gateway.get_client().get_call(kept.id), source="test")  # copies the recording
    frozen_simulator.clock.advance(30 * 3600)  # both links are dead now
    frozen_simulator.reset_requests()
    archive = download(
        staff_client.get(f"/calls/recordings.zip?{RECENT}&created_before=2026-11-24")
    )
    rows = {row[0]: row for row in manifest(archive)[1]}
    assert archive.read(rows[kept.id][FILE]) == kept.recording.path.read_bytes()
    assert rows[kept.id][SOURCE] == "archive"
    assert not rows[lost.id][FILE]
    assert rows[lost.id][WHY] == (
        "Truedy keeps recordings for 24 hours after a call ends; this one has expired, "
        "and the archive holds no copy."
    )
    fetched = [p for p in upstream_paths(frozen_simulator) if "/recordings/" in p]
    assert not fetched, "a dead link is not tried"


# --- failures ------------------------------------------------------------------------------------


def test_storage_failing_for_one_recording_is_a_reason_and_the_zip_completes(
    staff_client, frozen_simulator
):
    frozen_simulator.switches.refuse_recordings_next(1, status=500)
    archive = download(staff_client.get(f"/calls/recordings.zip?{RECENT}"))
    rows = manifest(archive)[1]
    first = next(row for row in rows if row[WHY].startswith("Truedy is unreachable"))
    assert first[WHY] == "Truedy is unreachable, and the archive holds no copy."
    assert not first[FILE] and not first[SOURCE]
    assert sum(1 for row in rows if row[FILE]) >= 4, "the recordings after it are all there"
    assert archive.testzip() is None


def _cut_after(monkeypatch, nbytes: int = 1000) -> None:
    """The next recording read from Truedy's storage stops after ``nbytes``, as a dropped
    connection does."""
    real = RecordingStream.iter_bytes
    armed = [True]

    def iter_bytes(self, chunk_size=None):
        chunks = real(self, chunk_size)
        if not armed[0]:
            yield from chunks
            return
        armed[0] = False
        yield next(chunks)[:nbytes]
        chunks.close()
        raise UpstreamUnavailable("recording link stopped answering")

    monkeypatch.setattr(RecordingStream, "iter_bytes", iter_bytes)


def test_a_recording_cut_off_midway_is_kept_incomplete_and_says_so(
    staff_client, frozen_simulator, monkeypatch
):
    _cut_after(monkeypatch, 1000)
    archive = download(staff_client.get(f"/calls/recordings.zip?{RECENT}"))
    rows = [row for row in manifest(archive)[1] if row[FILE]]
    cut, *whole = rows
    assert cut[WHY] == (
        "Cut short after 1,000 bytes (Truedy is unreachable): the file in the ZIP is incomplete."
    )
    audio = frozen_simulator.data.by_id[cut[0]].recording.path.read_bytes()
    assert archive.read(cut[FILE]) == audio[:1000]
    assert all(not row[WHY] for row in whole), "the ZIP carries on with the next recording"
    assert archive.testzip() is None


def test_a_recording_cut_off_midway_carries_on_from_the_archive(
    staff_client, frozen_simulator, monkeypatch
):
    calls = recorded(frozen_simulator, recent_calls(frozen_simulator, staff_client))
    store_call(gateway.get_client().get_call(calls[0].id), source="test")
    _cut_after(monkeypatch, 1000)
    archive = download(staff_client.get(f"/calls/recordings.zip?{RECENT}"))
    row = next(row for row in manifest(archive)[1] if row[0] == calls[0].id)
    assert row[SOURCE] == "Truedy, then the archive" and not row[WHY]
    assert archive.read(row[FILE]) == calls[0].recording.path.read_bytes()


def test_truedy_failing_while_listing_ends_the_zip_with_a_marked_manifest(
    staff_client, frozen_simulator, monkeypatch
):
    real = reads.read_list_page_once

    def failing(**kwargs):
        if kwargs["offset"] >= 100:
            raise UpstreamUnavailable("Truedy answered 503", request_id="req_mid")
        return real(**kwargs)

    monkeypatch.setattr(reads, "read_list_page_once", failing)
    archive = download(staff_client.get("/calls/recordings.zip?created_after=2026-10-01&tz=UTC"))
    rows = manifest(archive)[1]
    assert len(rows) == 101
    assert rows[-1][0].startswith("EXPORT INCOMPLETE") and "req_mid" in rows[-1][0]


def test_truedy_down_before_anything_streams_is_the_friendly_page(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, 500)
    response = staff_client.get("/calls/recordings.zip?status=ended")
    assert response.status_code == 502
    assert "Try again" in response.content.decode()
    assert not AuditEvent.objects.filter(action="download_recordings").exists()


@pytest.mark.parametrize("query", ["status=bogus", "created_after=2026-02-30", "page=abc"])
def test_bad_filters_are_the_lists_400_and_nothing_upstream(staff_client, frozen_simulator, query):
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/recordings.zip?{query}")
    assert response.status_code == 400
    assert not upstream_paths(frozen_simulator)


# --- the cap, roles, slots, audit ---------------------------------------------------------------


def test_beyond_the_cap_a_clear_page_and_nothing_streams(staff_client, frozen_simulator, settings):
    settings.RECORDINGS_ZIP_MAX_CALLS = 10
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    assert response.status_code == 400
    assert not response.streaming
    html = response.content.decode()
    assert "These filters match 28 calls; one ZIP holds the recordings of at most 10." in html
    assert "Narrow the filters" in html
    assert 'href="/calls/?created_after=2026-11-23&amp;tz=UTC"' in html, "back to the same view"
    assert not any("/recordings/" in path for path in upstream_paths(frozen_simulator))
    assert not AuditEvent.objects.filter(action="download_recordings").exists()


def test_the_cap_counts_calls_so_exactly_the_cap_downloads(
    staff_client, frozen_simulator, settings
):
    settings.RECORDINGS_ZIP_MAX_CALLS = 28
    assert len(manifest(download(staff_client.get(f"/calls/recordings.zip?{RECENT}")))[1]) == 28


def test_a_viewer_is_refused_when_the_setting_says_so(staff_client, frozen_simulator, settings):
    settings.VIEWERS_MAY_PLAY_RECORDINGS = False
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    assert response.status_code == 403
    assert "Ask an administrator for the Reviewer role" in response.content.decode()
    assert not upstream_paths(frozen_simulator)
    html = staff_client.get(f"/calls/?{RECENT}").content.decode()
    assert "Download recordings (ZIP)" not in html


def test_reviewers_may_download_whatever_the_setting(
    client, staff_user, frozen_simulator, settings
):
    settings.VIEWERS_MAY_PLAY_RECORDINGS = False
    client.force_login(make_reviewer(staff_user))
    assert client.get(f"/calls/recordings.zip?{RECENT}").status_code == 200
    assert "Download recordings (ZIP)" in client.get(f"/calls/?{RECENT}").content.decode()


def test_the_list_links_its_zip_beside_the_export(staff_client, frozen_simulator, settings):
    html = staff_client.get(f"/calls/?{RECENT}&per_page=50").content.decode()
    link = 'href="/calls/recordings.zip?created_after=2026-11-23&amp;tz=UTC&amp;per_page=50"'
    assert link in html and "Download recordings (ZIP)" in html
    assert "MP3s of these 28 calls, with a manifest" in html
    settings.RECORDINGS_ZIP_MAX_CALLS = 10
    html = staff_client.get(f"/calls/?{RECENT}").content.decode()
    assert "at most 10 calls in one ZIP: narrow the filters" in html


def test_the_download_is_audited_with_its_filters(staff_client, frozen_simulator, staff_user):
    download(staff_client.get(f"/calls/recordings.zip?{RECENT}&status=ended&per_page=50"))
    event = AuditEvent.objects.get(action="download_recordings")
    assert event.user == staff_user and event.status == 200
    assert event.detail == "status=ended&created_after=2026-11-23&tz=UTC"


def test_without_a_free_stream_slot_it_says_try_again(staff_client, frozen_simulator, settings):
    settings.RECORDING_STREAMS_PER_USER = 0
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


# --- streamed, never materialised ---------------------------------------------------------------


def test_the_zip_is_streamed_as_it_is_built_and_never_held_whole(staff_client, frozen_simulator):
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    assert response.streaming and not hasattr(response, "content")
    closers = [getattr(close, "__self__", None) for close in response._resource_closers]
    assert any(isinstance(c, recording_bundle.RecordingsZip) for c in closers), "built lazily"
    assert recording_streams.SLOTS.in_use() == 1, "the ZIP holds one recording stream slot"
    fetched = lambda: [p for p in upstream_paths(frozen_simulator) if "/recordings/" in p]  # noqa: E731
    assert not fetched(), "nothing is downloaded before the body is read"
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")
    ahead = 1 + recording_bundle.OPEN_AHEAD
    assert len(fetched()) <= ahead, "one recording streams, a few are opened ahead, no more"
    sizes = [len(first)] + [len(chunk) for chunk in chunks]
    assert max(sizes) <= 64 * 1024, "storage's chunks pass through, never a whole recording"
    assert len(fetched()) >= 5
    assert recording_streams.SLOTS.in_use() == 0


def test_a_client_leaving_midway_frees_the_slot_and_the_upstream_stream(
    staff_client, frozen_simulator, monkeypatch
):
    opened: list[RecordingStream] = []
    real = RecordingStream.__init__

    def tracked(self, *args, **kwargs):
        real(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(RecordingStream, "__init__", tracked)
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    next(iter(response.streaming_content))
    assert opened and not opened[0].closed
    response.close()
    assert recording_streams.SLOTS.in_use() == 0
    waited = 0.0
    while not all(stream.closed for stream in opened) and waited < 5:  # openers in flight
        time.sleep(0.05)
        waited += 0.05
    assert all(stream.closed for stream in opened), "the one streaming and those opened ahead"


def test_a_zip_that_never_starts_gives_its_slot_back(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/recordings.zip?{RECENT}")
    assert recording_streams.SLOTS.in_use() == 1
    response.close()
    assert recording_streams.SLOTS.in_use() == 0


def test_truedys_rate_budget_pages_of_100_and_no_call_requests(staff_client, frozen_simulator):
    frozen_simulator.reset_requests()
    download(staff_client.get("/calls/recordings.zip?created_after=2026-11-01&tz=UTC"))
    api = [p for p in upstream_paths(frozen_simulator) if "/recordings/" not in p]
    assert all(p.endswith(("/calls", "/agents")) for p in api), api
    listed = [r for r in frozen_simulator.requests if r.path.endswith("/calls")]
    assert {r.query.get("limit") for r in listed} <= {"25", "100"}
    assert len([r for r in listed if r.query.get("limit") == "100"]) <= 3


def test_a_search_reads_the_archive_and_asks_truedy_only_for_a_missing_copy(
    staff_client, frozen_simulator
):
    client = gateway.get_client()
    calls = recorded(frozen_simulator, recent_calls(frozen_simulator, staff_client))
    for skeleton in calls[:2]:
        store_call(client.get_call(skeleton.id), source="test", copy=skeleton is calls[0])
    word = "the"
    frozen_simulator.reset_requests()
    archive = download(staff_client.get(f"/calls/recordings.zip?q={word}&{RECENT}"))
    rows = {row[0]: row for row in manifest(archive)[1]}
    assert rows[calls[0].id][SOURCE] == "archive"
    assert rows[calls[1].id][SOURCE] == "Truedy"
    for skeleton in calls[:2]:
        assert archive.read(rows[skeleton.id][FILE]) == skeleton.recording.path.read_bytes()
    asked = [p for p in upstream_paths(frozen_simulator) if p.endswith(f"/calls/{calls[1].id}")]
    assert len(asked) == 1, "only the call whose recording the archive lacks"
    assert not any(p.endswith("/calls") for p in upstream_paths(frozen_simulator))


# --- small parts ----------------------------------------------------------------------------------


def test_the_url_comes_before_the_call_pattern():
    assert resolve("/calls/recordings.zip").url_name == "recordings_zip"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/calls/recordings.zip")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("after", "before", "name"),
    [
        ("2026-11-01", "2026-11-24", "recordings-2026-11-01-to-2026-11-23.zip"),
        ("2026-11-01", None, "recordings-2026-11-01-to-2026-11-24.zip"),
        (None, "2026-11-10", "recordings-until-2026-11-09.zip"),
        (None, None, "recordings-until-2026-11-24.zip"),
    ],
)
def test_the_file_is_named_by_its_days(frozen_simulator, after, before, name):
    """``created_before`` is exclusive, so the form's "To 2026-11-23" (the whole day) is an
    instant at the start of the 24th: the name says the 23rd."""
    zone = ZoneInfo("Europe/Berlin")

    def start_of(day):
        return datetime.fromisoformat(day).replace(tzinfo=zone) - timedelta(microseconds=1)

    filters = CallFilters(
        created_after=start_of(after) if after else None,
        created_before=start_of(before) + timedelta(microseconds=1) if before else None,
    )
    assert recording_bundle.zip_filename(filters, zone) == name


def test_a_to_date_names_the_last_day_it_covers(staff_client, frozen_simulator):
    response = staff_client.get(
        "/calls/recordings.zip?created_after=2026-11-20&created_before=2026-11-22&tz=Asia/Tokyo"
    )
    assert 'filename="recordings-2026-11-20-to-2026-11-22.zip"' in response["Content-Disposition"]
    response.close()
