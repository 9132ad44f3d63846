"""CSV export of every matching call, the paging under it, and the transcript as JSON."""

import csv
import io
import json
import logging
import random
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.archive.store import store_call
from calls.labels import dollars
from calls.lib.personal_data import mask_turns
from calls.models import AuditEvent
from calls.services import export
from calls.services.export import transcript_document
from calls.truedy.client import deadline, time_left
from calls.truedy.errors import RateLimited, UpstreamUnavailable
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, CallPage, Turn
from calls.upstream import cache as upstream_cache
from calls.upstream import gateway, paging, reads
from tests.conftest import FROZEN_NOW, upstream_paths
from tests.views.test_call_detail import an_ended_call_with_turns

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def make_call(number: int, **overrides) -> Call:
    """Call number ``number``: a higher number is older (the list is newest first)."""
    values = {
        "id": f"call_{number:07d}",
        "agent_id": "agt_1",
        "status": "ended",
        "direction": "outbound",
        "created_at": T0 - timedelta(minutes=number),
        "started_at": T0 - timedelta(minutes=number) + timedelta(seconds=3),
        "ended_at": T0 - timedelta(minutes=number) + timedelta(seconds=63),
        "updated_at": None,
        "to_number": "+4930123456",
        "from_number": "+4930999999",
        "duration_seconds": 60,
        "cost_cents": 1234,
        "outcome": "interested",
        "summary": "Booked a demo.",
        "transcript": None,
        "recording_url": None,
    }
    return Call(**(values | overrides))


class FakeListing:
    """``reads.list_calls`` over a list of calls, newest first, counting what it is asked.

    ``honour_before=False`` plays an upstream that ignores ``created_before``; ``arrive`` adds
    new calls at the top after the first request (calls arriving mid-export).
    """

    def __init__(
        self,
        calls: list[Call],
        *,
        honour_before: bool = True,
        arrive: list[Call] | None = None,
        jitter: float = 0.0,
        fail_at: int | None = None,
    ) -> None:
        self.calls = list(calls)
        self.honour_before = honour_before
        self.arrive = list(arrive or [])
        self.jitter = jitter
        self.fail_at = fail_at
        self.offsets: list[int] = []
        self.befores: list[datetime | None] = []
        self.budgets: list[float | None] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, *, created_before=None, limit, offset, **filters) -> CallPage:
        with self._lock:
            self.offsets.append(offset)
            self.befores.append(created_before)
            self.budgets.append(time_left())
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.jitter:
                time.sleep(random.uniform(0, self.jitter))
            if offset == self.fail_at:
                raise UpstreamUnavailable("Truedy answered 503", request_id="req_boom")
            with self._lock:
                visible = [
                    call
                    for call in self.calls
                    if not self.honour_before
                    or created_before is None
                    or call.created_at < created_before
                ]
                if self.arrive and len(self.offsets) == 1:
                    self.calls[:0] = self.arrive  # after the first page was read
                    self.arrive = []
            return CallPage(tuple(visible[offset : offset + limit]), len(visible), limit, offset)
        finally:
            with self._lock:
                self.in_flight -= 1


def calls_(count: int, start: int = 0) -> list[Call]:
    return [make_call(number) for number in range(start, start + count)]


# --- paging ------------------------------------------------------------------------------------


def test_every_call_in_order_although_pages_finish_out_of_order():
    listing = FakeListing(calls_(1050), jitter=0.01)
    got = list(
        paging.iter_matching_calls(
            CallFilters(), prefetch=3, fetch_page=listing, as_of=T0, page_size=100
        )
    )
    assert [call.id for call in got] == [call.id for call in listing.calls]
    assert sorted(listing.offsets) == list(range(0, 1100, 100))


def test_at_most_prefetch_pages_in_flight():
    listing = FakeListing(calls_(2000), jitter=0.005)
    list(paging.iter_matching_calls(CallFilters(), prefetch=2, fetch_page=listing, as_of=T0))
    assert listing.peak_in_flight <= 2
    assert len(listing.offsets) == 20


def test_pages_are_read_only_a_little_ahead_of_the_reader():
    listing = FakeListing(calls_(2000))
    calls = paging.iter_matching_calls(CallFilters(), prefetch=2, fetch_page=listing, as_of=T0)
    next(calls)
    time.sleep(0.1)  # give the prefetch every chance to run ahead
    assert sorted(listing.offsets) == [0, 100, 200]  # the page being read + 2
    for _ in range(100):
        next(calls)  # now into the second page
    time.sleep(0.1)
    assert sorted(listing.offsets) == [0, 100, 200, 300]
    calls.close()


def test_created_before_is_pinned_to_the_start_of_the_read():
    listing = FakeListing(calls_(250))
    list(paging.iter_matching_calls(CallFilters(), fetch_page=listing, as_of=T0))
    assert set(listing.befores) == {T0 + timedelta(microseconds=1)}


def test_an_earlier_created_before_is_kept_and_a_later_one_pinned():
    earlier = T0 - timedelta(days=1)
    listing = FakeListing(calls_(10))
    list(
        paging.iter_matching_calls(
            CallFilters(created_before=earlier), fetch_page=listing, as_of=T0
        )
    )
    assert listing.befores == [earlier]
    listing = FakeListing(calls_(10))
    later = T0 + timedelta(days=1)
    list(
        paging.iter_matching_calls(CallFilters(created_before=later), fetch_page=listing, as_of=T0)
    )
    assert listing.befores == [T0 + timedelta(microseconds=1)]


def test_without_as_of_the_pin_is_truedys_now(frozen_simulator):
    listing = FakeListing(calls_(10))
    list(paging.iter_matching_calls(CallFilters(), fetch_page=listing))
    assert listing.befores == [FROZEN_NOW + timedelta(microseconds=1)]


def test_calls_arriving_midway_are_left_out_by_the_pin():
    old = calls_(250)
    listing = FakeListing(old, arrive=[make_call(-n) for n in range(1, 6)])
    got = [
        c.id
        for c in paging.iter_matching_calls(CallFilters(), fetch_page=listing, prefetch=1, as_of=T0)
    ]
    assert got == [call.id for call in old]


def test_a_shifted_page_is_deduplicated_when_upstream_ignores_the_pin():
    old = calls_(250)
    listing = FakeListing(old, honour_before=False, arrive=[make_call(-n) for n in range(1, 4)])
    got = [
        c.id
        for c in paging.iter_matching_calls(CallFilters(), fetch_page=listing, prefetch=1, as_of=T0)
    ]
    # Page 2 starts with the last 3 calls of page 1 again; they come out once.
    assert len(got) == len(set(got))
    assert set(got) >= {call.id for call in old}


def test_reading_stops_at_the_total():
    listing = FakeListing(calls_(250))
    got = list(paging.iter_matching_calls(CallFilters(), fetch_page=listing, as_of=T0))
    assert len(got) == 250
    assert sorted(listing.offsets) == [0, 100, 200]


def test_reading_stops_at_an_empty_page():
    class Shrinking(FakeListing):
        def __call__(self, **kwargs):
            page = super().__call__(**kwargs)
            # Claims more calls than it has: the first empty page ends the read.
            return CallPage(page.calls, 1000, page.limit, page.offset)

    listing = Shrinking(calls_(150))
    got = list(paging.iter_matching_calls(CallFilters(), fetch_page=listing, prefetch=1, as_of=T0))
    assert len(got) == 150
    assert sorted(listing.offsets) == [0, 100, 200]


def test_no_matching_calls_is_one_request():
    listing = FakeListing([])
    assert list(paging.iter_matching_calls(CallFilters(), fetch_page=listing, as_of=T0)) == []
    assert listing.offsets == [0]


def test_a_failure_halfway_comes_after_every_call_before_it():
    listing = FakeListing(calls_(500), fail_at=200)
    got = []
    with pytest.raises(UpstreamUnavailable):
        for call in paging.iter_matching_calls(CallFilters(), fetch_page=listing, as_of=T0):
            got.append(call.id)
    assert got == [call.id for call in listing.calls[:200]]


def test_a_failing_first_page_raises_before_any_call():
    listing = FakeListing(calls_(500), fail_at=0)
    with pytest.raises(UpstreamUnavailable):
        next(paging.iter_matching_calls(CallFilters(), fetch_page=listing, as_of=T0))
    assert listing.offsets == [0]


def test_each_page_has_a_budget_of_its_own(settings):
    settings.TRUEDY_PAGE_DEADLINE = 10
    listing = FakeListing(calls_(300))
    calls = paging.iter_matching_calls(CallFilters(), fetch_page=listing, prefetch=1, as_of=T0)
    with deadline(2):  # the request's: what is left of it bounds the first page only
        next(calls)
    rest = list(calls)  # read later, as a streamed response is, outside the request's deadline
    assert len(rest) == 299
    first, *later = listing.budgets
    assert 0 < first <= 2
    assert later and all(9 < budget <= 10 for budget in later)


def test_a_short_rate_limit_is_waited_out():
    pauses = []
    calls = calls_(150)
    listing = FakeListing(calls)
    refused = []

    def fetch(**kwargs):
        if kwargs["offset"] == 100 and not refused:
            refused.append(1)
            raise RateLimited("slow down", retry_after=2.0)
        return listing(**kwargs)

    got = list(
        paging.iter_matching_calls(CallFilters(), fetch_page=fetch, sleep=pauses.append, as_of=T0)
    )
    assert len(got) == 150 and pauses == [2.0]


def test_a_long_rate_limit_ends_the_read():
    def fetch(**kwargs):
        raise RateLimited("slow down", retry_after=600.0)

    with pytest.raises(RateLimited):
        list(
            paging.iter_matching_calls(CallFilters(), fetch_page=fetch, sleep=pytest.fail, as_of=T0)
        )


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        list(paging.iter_matching_calls(CallFilters(), page_size=101, fetch_page=FakeListing([])))
    with pytest.raises(ValueError):
        list(paging.iter_matching_calls(CallFilters(), prefetch=0, fetch_page=FakeListing([])))


# --- CSV rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+4930123456", "'+4930123456"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\0x", "'\0x"),
        ("\rx", "'\rx"),
        ("Hello =1", "Hello =1"),
        ("", ""),
        (None, ""),
        ("'quoted", "'quoted"),
    ],
)
def test_formula_like_text_is_made_text(text, cell):
    assert export.safe_cell(text) == cell


@given(st.text())
def test_any_text_round_trips_through_the_csv_apart_from_the_added_quote(text):
    cell = export.safe_cell(text)
    out = io.StringIO()
    csv.writer(out).writerow([cell, "end"])
    (row,) = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row == [cell, "end"]
    assert row[0] == ("'" + text if text.startswith(export.FORMULA_STARTS) else text)


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix(export.BOM), newline="")))


def test_header_names_the_zone_and_times_are_in_it():
    summer = make_call(0, created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    winter = make_call(1, created_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    text = "".join(
        export.csv_lines(
            [summer, winter],
            zone=BERLIN,
            agent_names={"agt_1": "Jordan"},
            link=export.call_link("https://dash.example/calls/"),
        )
    )
    assert text.startswith(export.BOM)
    header, first, second = _parse(text)
    assert header[:4] == [
        "Call ID",
        "Created (Europe/Berlin)",
        "Started (Europe/Berlin)",
        "Ended (Europe/Berlin)",
    ]
    row = dict(zip(header, first, strict=True))
    assert row["Created (Europe/Berlin)"] == "2026-07-01 14:00:00"  # CEST, +2
    assert (
        dict(zip(header, second, strict=True))["Created (Europe/Berlin)"] == "2026-01-01 13:00:00"
    )
    assert row["Agent ID"] == "agt_1" and row["Agent"] == "Jordan"
    assert row["Cost (USD)"] == "12.34" and row["Cost (cents)"] == "1234"
    assert row["Duration (s)"] == "60"
    assert row["From"] == "'+4930999999"  # E.164 starts with "+": text, not a formula
    assert row["Link"] == "https://dash.example/calls/call_0000000/"


@pytest.mark.parametrize(
    ("cents", "usd"), [(1234, "12.34"), (5, "0.05"), (100, "1.00"), (-150, "-1.50"), (None, "")]
)
def test_cost_in_dollars_is_exact(cents, usd):
    assert dollars(cents, plain=True) == usd


def test_missing_values_are_empty_cells():
    call = make_call(
        0,
        agent_id=None,
        started_at=None,
        ended_at=None,
        direction=None,
        to_number=None,
        from_number=None,
        duration_seconds=None,
        cost_cents=None,
        outcome=None,
        summary=None,
    )
    row = dict(
        zip(
            export.header(BERLIN),
            export.call_row(call, zone=BERLIN, agent_names={}, link="x"),
            strict=True,
        )
    )
    filled = {name for name, value in row.items() if value}
    assert filled == {"Call ID", f"Created ({BERLIN.key})", "Status", "Link"}


def test_a_failure_midway_ends_with_a_marked_row_and_a_log_line(caplog):
    def calls() -> Iterator[Call]:
        yield make_call(0)
        yield make_call(1)
        raise UpstreamUnavailable("Truedy answered 503", request_id="req_boom")

    with caplog.at_level(logging.ERROR, logger="calls.export"):
        rows = _parse(
            "".join(export.csv_lines(calls(), zone=BERLIN, agent_names={}, link=lambda c: ""))
        )
    assert len(rows) == 4
    assert rows[-1][0].startswith("EXPORT INCOMPLETE: Truedy failed after 2 rows")
    assert "req_boom" in rows[-1][0]
    assert "CSV export stopped after 2 rows" in caplog.text


def test_chunks_hold_every_line_and_stay_small():
    lines = [f"{number},{'x' * 50}\r\n" for number in range(5000)]
    chunks = list(export.chunked(lines, size=4096))
    assert b"".join(chunks) == "".join(lines).encode()
    assert max(len(chunk) for chunk in chunks) < 4096 + 100
    assert len(chunks) > 50


# --- memory ------------------------------------------------------------------------------------


def synthetic_pages(total: int):
    """A fake upstream of ``total`` calls, made page by page on request and never kept."""

    def fetch(*, limit, offset, **filters) -> CallPage:
        numbers = range(offset, min(offset + limit, total))
        return CallPage(tuple(make_call(n) for n in numbers), total, limit, offset)

    return fetch


def _export_peak(rows: int) -> tuple[int, int]:
    """(bytes written, tracemalloc peak) of a whole export of ``rows`` synthetic calls."""
    calls = paging.iter_matching_calls(CallFilters(), fetch_page=synthetic_pages(rows), as_of=T0)
    lines = export.csv_lines(
        calls, zone=BERLIN, agent_names={"agt_1": "Jordan"}, link=export.call_link("http://x/")
    )
    tracemalloc.start()
    try:
        written = sum(len(chunk) for chunk in export.chunked(lines))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return written, peak


@pytest.mark.slow
def test_a_100k_row_export_streams_in_flat_memory():
    small_bytes, small_peak = _export_peak(10_000)
    big_bytes, big_peak = _export_peak(100_000)
    assert big_bytes > 9 * small_bytes  # it really wrote ten times as much...
    assert big_peak < 1.5 * small_peak  # ...in no more memory
    assert big_peak < 3 * 1024 * 1024  # while 100k rows would take ~25 MB


# --- the CSV view, against the simulator -------------------------------------------------------


def _download(response) -> list[list[str]]:
    assert response.status_code == 200
    return _parse(b"".join(response.streaming_content).decode())


@pytest.mark.django_db
def test_export_holds_every_matching_call(staff_client, frozen_simulator):
    total = reads.list_calls(status="failed", limit=1).total
    assert total > 100  # more than one upstream page
    header, *rows = _download(staff_client.get("/calls/export.csv?status=failed&page=2"))
    assert len(rows) == total
    assert len({row[0] for row in rows}) == total
    assert {row[header.index("Status")] for row in rows} == {"failed"}
    created = [row[1] for row in rows]
    assert created == sorted(created, reverse=True)  # newest first


@pytest.mark.django_db
def test_export_pages_are_not_cached(staff_client, frozen_simulator):
    """A pinned read never asks for its pages again: storing them would only push everyone
    else's list pages out of the cache."""
    from django.core.cache import cache

    def list_keys():
        return [key for key in cache._cache if f"{upstream_cache.CACHE_PREFIX}:calls:" in key]

    before = list_keys()
    _, *rows = _download(staff_client.get("/calls/export.csv?status=failed"))
    assert len(rows) > 100
    assert list_keys() == before


@pytest.mark.django_db
def test_unfiltered_export_matches_the_list(staff_client, frozen_simulator):
    total = reads.list_calls(limit=1).total
    _, *rows = _download(staff_client.get("/calls/export.csv"))
    assert len(rows) == total


@pytest.mark.django_db
def test_export_is_in_the_viewers_zone(staff_client, frozen_simulator):
    page = reads.list_calls(direction="inbound", limit=1)
    newest = page.calls[0]
    header, first, *_ = _download(
        staff_client.get("/calls/export.csv?direction=inbound&tz=America/New_York")
    )
    assert header[1] == "Created (America/New_York)"
    assert first[0] == newest.id
    expected = newest.created_at.astimezone(ZoneInfo("America/New_York"))
    assert first[1] == expected.strftime("%Y-%m-%d %H:%M:%S")
    assert first[-1] == f"http://testserver/calls/{newest.id}/"


@pytest.mark.django_db
def test_export_headers_and_audit_row(staff_client, frozen_simulator, staff_user):
    response = staff_client.get(
        "/calls/export.csv?status=failed&direction=inbound&created_after=2026-11-01&tz=UTC"
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == (
        'attachment; filename="calls-failed-inbound-from-2026-11-01-2026-11-24.csv"'
    )
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="export_csv")
    assert event.user == staff_user and event.status == 200
    assert event.detail == "status=failed&direction=inbound&created_after=2026-11-01&tz=UTC"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["status=bogus", "page=abc", "created_after=2026-02-30", "tz=Mars/Olympus"]
)
def test_bad_filters_are_a_400_and_nothing_upstream(staff_client, frozen_simulator, query):
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/export.csv?{query}")
    assert response.status_code == 400
    assert "These filters cannot be used" in response.content.decode()
    assert upstream_paths(frozen_simulator) == []
    assert not AuditEvent.objects.filter(action="export_csv").exists()


@pytest.mark.django_db
def test_upstream_down_before_the_first_row_is_the_friendly_page(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, 500)
    response = staff_client.get("/calls/export.csv?status=ended")
    assert response.status_code == 502
    assert "Try again" in response.content.decode()


@pytest.mark.django_db
def test_upstream_down_midway_ends_the_file_with_a_marked_row(
    staff_client, frozen_simulator, monkeypatch
):
    real = reads.read_list_page_once

    def failing(**kwargs):
        if kwargs["offset"] >= 100:
            raise UpstreamUnavailable("Truedy answered 503", request_id="req_mid")
        return real(**kwargs)

    monkeypatch.setattr(reads, "read_list_page_once", failing)
    _, *rows = _download(staff_client.get("/calls/export.csv"))
    assert len(rows) == 101
    assert rows[-1][0].startswith("EXPORT INCOMPLETE") and "req_mid" in rows[-1][0]


@pytest.mark.django_db
def test_search_exports_from_the_archive(staff_client, frozen_simulator):
    client = gateway.get_client()
    stored = [client.get_call(call.id) for call in client.list_calls(status="ended", limit=5).calls]
    for call in stored:
        store_call(call, source="test", copy=False)
    word = stored[0].summary.split()[0]
    frozen_simulator.reset_requests()
    _, *rows = _download(staff_client.get(f"/calls/export.csv?q={word}"))
    expected = {call.id for call in stored if word.lower() in (call.summary or "").lower()}
    assert {row[0] for row in rows} >= {stored[0].id}
    assert {row[0] for row in rows} <= {call.id for call in stored}
    assert {row[0] for row in rows} >= expected
    assert "calls?" not in " ".join(upstream_paths(frozen_simulator))  # the list never asked


def test_export_url_comes_before_the_call_pattern():
    from django.urls import resolve

    assert resolve("/calls/export.csv").url_name == "calls_export_csv"


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/calls/export.csv")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_list_links_to_its_export(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?status=failed&per_page=50").content.decode()
    assert 'href="/calls/export.csv?status=failed&amp;tz=UTC&amp;per_page=50"' in html
    fragment = staff_client.get(
        "/calls/?direction=inbound", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    ).content.decode()
    assert 'href="/calls/export.csv?direction=inbound&amp;tz=UTC"' in fragment


# --- transcript .json --------------------------------------------------------------------------


@pytest.mark.django_db
def test_transcript_json(staff_client, frozen_simulator, staff_user):
    call_id = an_ended_call_with_turns(frozen_simulator)
    call = reads.get_call(call_id)
    response = staff_client.get(f"/calls/{call_id}/transcript.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == (
        f'attachment; filename="call-{call_id}-transcript.json"'
    )
    document = json.loads(response.content)
    assert document["call_id"] == call_id
    assert document["agent_id"] == call.agent_id
    assert document["agent_name"] == reads.agent_names()[call.agent_id]
    assert document["created_at"].endswith("Z")
    assert document["duration_seconds"] == call.duration_seconds
    # A staff user in no group is a Viewer: personal data in the turns comes masked.
    shown = mask_turns([t.text for t in call.transcript])
    assert document["turns"] == [
        {"speaker": t.speaker, "text": text, "timestamp": t.timestamp}
        for t, text in zip(call.transcript, shown, strict=True)
    ]
    event = AuditEvent.objects.get(action="download_transcript")
    assert (event.call_id, event.detail, event.user) == (call_id, "json", staff_user)


@pytest.mark.django_db  # the document carries the call's notes too
def test_transcript_document_keeps_hostile_text_as_data():
    call = make_call(0, transcript=(Turn("contact", '<script>alert("x")</script> 🙂 مرحبا', 1.5),))
    document = transcript_document(call, {})
    assert document["turns"][0]["text"] == '<script>alert("x")</script> 🙂 مرحبا'
    assert document["agent_name"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("call_id", ["..", "a%2Fb", "x" * 65, "call$1"])
def test_transcript_json_bad_ids_are_404_with_nothing_upstream(
    staff_client, frozen_simulator, call_id
):
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/{call_id}/transcript.json")
    assert response.status_code == 404
    assert upstream_paths(frozen_simulator) == []


@pytest.mark.django_db
def test_transcript_json_unknown_call_is_404(staff_client, frozen_simulator):
    response = staff_client.get("/calls/call_doesnotexist000000000000/transcript.json")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="download_transcript").exists()


@pytest.mark.django_db
def test_transcript_json_without_a_transcript_is_404(staff_client, frozen_simulator):
    from tests.views.test_call_detail import NOT_TRANSCRIBED

    response = staff_client.get(f"/calls/{NOT_TRANSCRIBED}/transcript.json")
    assert response.status_code == 404
    assert "no transcript" in response.content.decode()


@pytest.mark.django_db
def test_transcript_json_when_truedy_is_down_is_502(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, 500)
    response = staff_client.get("/calls/call_doesnotexist000000000000/transcript.json")
    assert response.status_code == 502


@pytest.mark.django_db
def test_call_page_links_the_json_beside_the_text(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    html = staff_client.get(f"/calls/{call_id}/").content.decode()
    assert f'href="/calls/{call_id}/transcript.txt"' in html
    assert f'href="/calls/{call_id}/transcript.json"' in html


@pytest.mark.django_db
def test_a_range_the_archive_covers_is_exported_from_it(staff_client, frozen_simulator):
    """As the totals do: once a sync has covered a closed range, the export reads the archive and
    spends none of Truedy's rate limit on it."""
    from calls.models import ArchivedCall, SyncCursor

    day = datetime(2026, 3, 10, tzinfo=UTC)
    for n in range(3):
        ArchivedCall.objects.create(
            id=f"call_old{n}", created_at=day + timedelta(hours=n), status="ended", agent_id="a"
        )
    ArchivedCall.objects.create(id="call_later", created_at=datetime(2026, 4, 2, tzinfo=UTC))
    SyncCursor.objects.create(
        name="calls", synced_from=datetime(2026, 1, 1, tzinfo=UTC), synced_until=FROZEN_NOW
    )
    frozen_simulator.reset_requests()
    query = "created_after=2026-03-01&created_before=2026-03-31&tz=UTC"
    _, *rows = _download(staff_client.get(f"/calls/export.csv?{query}"))
    assert [row[0] for row in rows] == ["call_old2", "call_old1", "call_old0"]
    assert not any(path.startswith("/calls") for path in upstream_paths(frozen_simulator))


# --- review columns --------------------------------------------------------------------------


def test_the_review_columns_follow_the_outcome():
    header = export.header(BERLIN)
    at = header.index("Cost (cents)")
    assert header[at + 1 : at + 7] == [
        "AI outcome",
        "Outcome",
        "Outcome corrected by",
        "Verdict",
        "Reviewer",
        "Reviewed (Europe/Berlin)",
    ]


def test_review_columns_show_the_effective_outcome_and_the_verdict():
    from calls.services.corrections import EffectiveOutcome
    from calls.services.reviews import ReviewFacts

    call = make_call(0, outcome="interested")
    review = export.ReviewColumns(
        EffectiveOutcome("interested", "=not-interested", "rita", T0),
        ReviewFacts("fail", "@tom", datetime(2026, 7, 1, 10, 0, tzinfo=UTC), None),
    )
    row = dict(
        zip(
            export.header(BERLIN),
            export.call_row(call, zone=BERLIN, agent_names={}, link="x", review=review),
            strict=True,
        )
    )
    assert row["AI outcome"] == "interested"
    assert row["Outcome"] == "'=not-interested"  # a formula-like label stays text
    assert row["Outcome corrected by"] == "rita"
    assert (row["Verdict"], row["Reviewer"]) == ("fail", "'@tom")
    assert row["Reviewed (Europe/Berlin)"] == "2026-07-01 12:00:00"


def test_without_review_work_the_outcome_is_the_ais():
    row = dict(
        zip(
            export.header(BERLIN),
            export.call_row(make_call(0), zone=BERLIN, agent_names={}, link="x"),
            strict=True,
        )
    )
    assert row["AI outcome"] == row["Outcome"] == "interested"
    assert row["Verdict"] == row["Reviewer"] == row["Outcome corrected by"] == ""


def test_review_work_is_looked_up_a_batch_at_a_time_and_kept_on_a_failure():
    asked: list[int] = []

    def lookup(batch):
        asked.append(len(batch))
        return {call.id: export.ReviewColumns() for call in batch}

    def calls() -> Iterator[Call]:
        yield from calls_(250)
        raise UpstreamUnavailable("Truedy answered 503", request_id="req_x")

    rows = _parse(
        "".join(
            export.csv_lines(
                calls(), zone=BERLIN, agent_names={}, link=lambda c: "", review_work=lookup
            )
        )
    )
    assert asked == [100, 100, 50]
    assert len(rows) == 1 + 250 + 1
    assert rows[-1][0].startswith("EXPORT INCOMPLETE: Truedy failed after 250 rows")


@pytest.mark.django_db
def test_the_export_has_each_calls_review_and_corrected_outcome(staff_client, frozen_simulator):
    from calls.models import OutcomeCorrection, Review

    calls = reads.list_calls(status="ended", direction="inbound", limit=3).calls
    person = staff_client.get("/calls/").wsgi_request.user
    OutcomeCorrection.objects.create(
        call_id=calls[0].id,
        ai_outcome=calls[0].outcome or "",
        outcome="demo-booked",
        reason="r",
        corrected_by=person,
    )
    Review.objects.create(call_id=calls[1].id, verdict="follow-up", reviewer=person)
    header, *rows = _download(
        staff_client.get("/calls/export.csv?status=ended&direction=inbound&tz=UTC")
    )
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    first, second, third = (by_id[call.id] for call in calls)
    assert (first["AI outcome"], first["Outcome"]) == (calls[0].outcome, "demo-booked")
    assert first["Outcome corrected by"] == "ops" and first["Verdict"] == ""
    assert (second["Verdict"], second["Reviewer"]) == ("follow-up", "ops")
    assert second["Reviewed (UTC)"].startswith("20")
    assert third["Outcome"] == third["AI outcome"] == (calls[2].outcome or "")
