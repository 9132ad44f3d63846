"""Totals below the list (calls/services/totals.py, the call_totals view, the SVG charts).

Expectations are computed here, independently: from Truedy's own JSON read page by page through
a plain httpx client on the simulator, or from archive rows the test writes itself.
"""

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.core.cache import cache

from calls.archive import coverage
from calls.models import ArchivedCall, OutcomeCorrection, Review, SyncCursor
from calls.services import totals
from calls.simulator import DEFAULT_API_KEY
from calls.templatetags.charts import calls_per_day, outcome_bars
from calls.truedy.filters import CallFilters
from calls.upstream import cache as upstream_cache
from calls.upstream import gateway, reads
from tests.conftest import FROZEN_NOW, upstream_paths

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "totals"}
UTC_ZONE = ZoneInfo("UTC")
EMPTY_FILTERS = dict.fromkeys(
    ("agent_id", "status", "direction", "created_after", "created_before")
)
BERLIN = ZoneInfo("Europe/Berlin")


def api_calls(sim, **params: str) -> list[dict]:
    """Every call Truedy lists for ``params``, as its raw JSON, read without our client."""
    found: list[dict] = []
    with httpx.Client(
        transport=sim.transport(),
        base_url=gateway.SIMULATOR_BASE_URL,
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    ) as http:
        while True:
            body = http.get("/calls", params={**params, "limit": 100, "offset": len(found)}).json()
            found.extend(body["data"])
            if not body["data"] or len(found) >= body["meta"]["total"]:
                return found


def expected_totals(calls: list[dict], zone: ZoneInfo) -> dict:
    durations = [c["duration_seconds"] for c in calls if c["duration_seconds"] is not None]
    days = Counter(datetime.fromisoformat(c["created_at"]).astimezone(zone).date() for c in calls)
    return {
        "count": len(calls),
        "total_duration": sum(durations),
        "timed": len(durations),
        "cost": sum(c["cost_cents"] or 0 for c in calls),
        "outcomes": Counter(c["outcome"] or "" for c in calls),
        "days": days,
    }


# --- from Truedy -----------------------------------------------------------------------------


def test_totals_from_truedy_equal_the_apis_numbers(staff_client, frozen_simulator):
    query = (
        "status=ended&direction=inbound&created_after=2026-11-01&created_before=2026-11-24&tz=UTC"
    )
    response = staff_client.get(f"/calls/totals/?{query}", **HTMX)
    assert response.status_code == 200
    result = response.context_data["totals"]
    want = expected_totals(
        api_calls(
            frozen_simulator,
            status="ended",
            direction="inbound",
            created_after="2026-10-31T23:59:59.999999Z",
            created_before="2026-11-25T00:00:00Z",
        ),
        UTC_ZONE,
    )
    assert want["count"] > 20, "the filter should select a real set"
    assert result.source == totals.TRUEDY and not result.capped
    assert result.count == result.counted == want["count"]
    assert result.total_duration == want["total_duration"]
    assert result.timed == want["timed"]
    assert result.total_cost_cents == want["cost"]
    assert dict(result.outcomes) == dict(want["outcomes"])
    per_day = dict(result.per_day)
    assert {day: n for day, n in per_day.items() if n} == dict(want["days"])
    # Every day of the range is there, days without calls as zeros, up to today.
    assert min(per_day) == date(2026, 11, 1) and max(per_day) == date(2026, 11, 24)
    html = response.content.decode()
    assert "From Truedy" in html
    assert f"<dd>{want['count']:,}</dd>" in html
    assert "<html" not in html  # the fragment only


def test_totals_are_counted_in_the_viewers_zone(frozen_simulator):
    filters = CallFilters(created_after=datetime(2026, 11, 20, tzinfo=UTC), created_before=None)
    result = totals.for_filters(filters, zone=BERLIN)
    want = expected_totals(
        api_calls(frozen_simulator, created_after="2026-11-20T00:00:00Z"), BERLIN
    )
    assert {day: n for day, n in result.per_day if n} == dict(want["days"])


def test_totals_are_cached_so_truedy_is_paged_once(staff_client, frozen_simulator):
    url = "/calls/totals/?status=failed&tz=UTC"
    first = staff_client.get(url, **HTMX)
    asked = upstream_paths(frozen_simulator)
    assert asked and all(path.endswith("/calls") for path in asked)
    frozen_simulator.reset_requests()
    again = staff_client.get(url, **HTMX)
    assert upstream_paths(frozen_simulator) == []
    assert again.context_data["totals"] == first.context_data["totals"]


def test_people_opening_the_same_cold_totals_at_once_page_truedy_once(simulator):
    """One computation per key at a time, so no stampede: the others wait for its answer. On a
    running clock, as in production: each reader's pages are pinned to its own instant, so only
    the totals' own key can bring them together."""
    import threading

    filters = CallFilters(status="failed", created_after=None, created_before=None)
    totals.for_filters(filters, zone=BERLIN)
    alone = len(upstream_paths(simulator))
    cache.clear()
    simulator.reset_requests()
    simulator.switches.latency_seconds = 0.1
    barrier = threading.Barrier(5)
    results = []

    def read():
        barrier.wait()
        results.append(totals.for_filters(filters, zone=BERLIN))

    workers = [threading.Thread(target=read) for _ in range(5)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        simulator.switches.latency_seconds = 0.0
    assert len(results) == 5 and len(set(results)) == 1
    # One computation's pages (one more if a new call just crossed a page boundary).
    assert len(upstream_paths(simulator)) <= alone + 1


def test_totals_leave_no_list_pages_in_the_cache(frozen_simulator):
    """Their pinned pages are never asked for again: only the totals themselves are kept."""
    totals.for_filters(CallFilters(status="failed"), zone=BERLIN)
    kept = [key for key in cache._cache if f"{upstream_cache.CACHE_PREFIX}:calls:" in key]
    assert kept == []


def test_a_set_larger_than_the_cap_keeps_its_exact_count_and_says_so(
    staff_client, frozen_simulator, monkeypatch
):
    monkeypatch.setattr(totals, "MAX_TRUEDY_CALLS", 150)
    response = staff_client.get("/calls/totals/?status=ended&tz=UTC", **HTMX)
    result = response.context_data["totals"]
    asked = upstream_paths(frozen_simulator)
    everything = api_calls(frozen_simulator, status="ended")
    assert len(everything) > 150
    assert result.count == len(everything)
    assert result.counted == 150 and result.capped
    newest = expected_totals(everything[:150], UTC_ZONE)
    assert result.total_duration == newest["total_duration"]
    html = response.content.decode()
    assert "at least" in html
    assert f"for the newest {150:,}" in html
    # 150 calls in pages of 100: two pages, not the whole set.
    assert len(asked) <= 4


def test_truedy_failing_shows_a_friendly_message_in_the_fragment_and_the_list_still_shows(
    staff_client, frozen_simulator
):
    assert staff_client.get("/calls/?status=failed").status_code == 200  # the list, cached
    frozen_simulator.switches.fail_next(50, status=500)
    fragment = staff_client.get("/calls/totals/?status=failed", **HTMX)
    assert fragment.status_code == 502
    html = fragment.content.decode()
    assert "Totals are not available: Truedy is unreachable" in html
    assert 'id="totals"' in html and "Try again" in html
    assert staff_client.get("/calls/?status=failed").status_code == 200


def test_stale_totals_stand_in_with_a_notice_when_truedy_fails(staff_client, frozen_simulator):
    url = "/calls/totals/?status=cancelled"
    fresh = staff_client.get(url, **HTMX).context_data["totals"]
    key = upstream_cache.totals_key({**EMPTY_FILTERS, "status": "cancelled"}, "UTC")
    entry = cache.get(key)
    cache.clear()  # nothing else cached: Truedy must be asked
    cache.set(key, dataclasses.replace(entry, fresh_until=0.0))  # no longer fresh
    frozen_simulator.switches.fail_next(50, status=500)
    response = staff_client.get(url, **HTMX)
    assert response.status_code == 200
    assert response.context_data["totals"] == fresh
    assert "Truedy is unreachable — showing data from" in response.content.decode()


def test_a_rate_limit_retries_the_fragment_by_itself(staff_client, frozen_simulator):
    frozen_simulator.switches.rate_limit_next(20, retry_after=120)
    response = staff_client.get("/calls/totals/?direction=webrtc", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "rate-limiting" in html
    assert 'hx-trigger="load delay:' in html


def test_invalid_filters_are_a_400_with_the_reason_and_ask_truedy_nothing(
    staff_client, frozen_simulator
):
    response = staff_client.get("/calls/totals/?status=bogus", **HTMX)
    assert response.status_code == 400
    assert "is not a call status" in response.content.decode()
    assert upstream_paths(frozen_simulator) == []


def test_without_javascript_the_totals_are_a_page_of_their_own(staff_client, frozen_simulator):
    response = staff_client.get("/calls/totals/?status=failed&tz=UTC")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "Back to calls" in html
    assert 'href="/calls/?status=failed&amp;tz=UTC"' in html


def test_the_list_loads_its_totals_lazily(staff_client, frozen_simulator):
    response = staff_client.get("/calls/?status=failed&tz=UTC&page=2")
    html = response.content.decode()
    assert 'hx-get="/calls/totals/?status=failed&amp;tz=UTC"' in html
    assert 'hx-trigger="load"' in html
    # Rendering the list asked only for its own page (and the agents), nothing for totals.
    assert len(upstream_paths(frozen_simulator)) == 2


# --- from the archive ------------------------------------------------------------------------


def archived(call_id: str, created_at: datetime, **fields) -> ArchivedCall:
    values = {"status": "ended", "direction": "outbound", "agent_id": "agt_a"} | fields
    return ArchivedCall.objects.create(id=call_id, created_at=created_at, **values)


@pytest.fixture
def old_archive(frozen_simulator):
    """Five archived calls from March 2026, a sync window that covers that month, and one call
    just outside the filtered range."""
    day = datetime(2026, 3, 10, tzinfo=UTC)
    archived("call_a1", day + timedelta(hours=9), duration_seconds=60, cost_cents=12,
             outcome="interested")  # fmt: skip
    archived("call_a2", day + timedelta(hours=10), duration_seconds=120, cost_cents=30,
             outcome="interested")  # fmt: skip
    # 23:30 UTC is already 00:30 the next day in Berlin.
    archived("call_a3", day + timedelta(hours=23, minutes=30), duration_seconds=None,
             cost_cents=None, outcome="")  # fmt: skip
    archived("call_a4", day + timedelta(days=2), duration_seconds=30, cost_cents=5,
             outcome="<script>alert(1)</script>")  # fmt: skip
    archived("call_a5", day + timedelta(days=2, hours=1), status="failed", duration_seconds=0,
             cost_cents=0, outcome="no-answer")  # fmt: skip
    archived("call_out", datetime(2026, 4, 2, tzinfo=UTC), duration_seconds=999, cost_cents=999)
    SyncCursor.objects.create(
        name="calls", synced_from=datetime(2026, 1, 1, tzinfo=UTC), synced_until=FROZEN_NOW
    )


def test_totals_come_from_the_archive_when_it_covers_the_range(staff_client, old_archive):
    query = "created_after=2026-03-01&created_before=2026-03-31&tz=Europe/Berlin"
    response = staff_client.get(f"/calls/totals/?{query}", **HTMX)
    result = response.context_data["totals"]
    assert result.source == totals.ARCHIVE
    assert (result.count, result.timed, result.total_duration) == (5, 4, 210)
    assert result.average_duration == 52.5
    assert result.total_cost_cents == 47
    assert dict(result.outcomes) == {
        "interested": 2,
        "": 1,
        "<script>alert(1)</script>": 1,
        "no-answer": 1,
    }
    assert result.outcomes[0] == ("interested", 2)
    days = dict(result.per_day)
    assert days[date(2026, 3, 10)] == 2 and days[date(2026, 3, 11)] == 1  # Berlin days
    assert days[date(2026, 3, 12)] == 2 and days[date(2026, 3, 20)] == 0
    assert min(days) == date(2026, 3, 1) and max(days) == date(2026, 3, 31)
    html = response.content.decode()
    assert "From the archive" in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_a_range_the_archive_does_not_cover_is_asked_of_truedy(staff_client, old_archive):
    # Before the sync window's start: the archive may be missing calls there.
    response = staff_client.get("/calls/totals/?created_after=2025-12-01&created_before=2026-03-31")
    assert response.context_data["totals"].source == totals.TRUEDY


@pytest.mark.parametrize(
    ("after", "before", "covered"),
    [
        (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), True),
        (datetime(2026, 2, 1, tzinfo=UTC), FROZEN_NOW, True),
        (datetime(2026, 2, 1, tzinfo=UTC), FROZEN_NOW + timedelta(seconds=1), False),
        (datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), FROZEN_NOW, True),
        (datetime(2025, 12, 31, 23, 59, 59, 999998, tzinfo=UTC), FROZEN_NOW, False),
        (None, datetime(2026, 3, 1, tzinfo=UTC), False),
        (datetime(2026, 2, 1, tzinfo=UTC), None, False),
    ],
)
def test_archive_coverage_is_the_sync_window(old_archive, after, before, covered):
    filters = CallFilters(created_after=after, created_before=before)
    assert coverage.archive_covers(filters, FROZEN_NOW) is covered


def test_coverage_from_the_start_needs_a_sync_from_the_start(old_archive, settings):
    settings.ARCHIVE_RETENTION_DAYS = 0  # the archive keeps everything
    SyncCursor.objects.update(synced_from=None)
    filters = CallFilters(created_after=None, created_before=datetime(2026, 3, 1, tzinfo=UTC))
    assert coverage.archive_covers(filters, FROZEN_NOW)


def test_a_search_counts_only_the_calls_it_finds(staff_client, old_archive):
    said = "agent: the router blinks red"
    ArchivedCall.objects.filter(pk="call_a2").update(search_text=said, masked_search_text=said)
    response = staff_client.get("/calls/totals/?q=Router+RED", **HTMX)
    result = response.context_data["totals"]
    assert result.source == totals.ARCHIVE
    assert (result.count, result.total_duration, result.total_cost_cents) == (1, 120, 30)


# --- pieces ----------------------------------------------------------------------------------


def test_the_sparkline_has_every_day_and_stops_at_today():
    counts = {date(2026, 11, 20): 3, date(2026, 11, 22): 1}
    filters = CallFilters(
        created_after=datetime(2026, 11, 18, 23, tzinfo=UTC) - timedelta(microseconds=1),
        created_before=datetime(2026, 12, 31, tzinfo=UTC),
    )
    series = totals.day_series(counts, filters, zone=BERLIN, today=date(2026, 11, 24))
    assert series[0] == (date(2026, 11, 19), 0)  # 23:00 UTC is the 19th in Berlin
    assert series[-1] == (date(2026, 11, 24), 0)
    assert dict(series)[date(2026, 11, 20)] == 3
    assert len(series) == 6


def test_charts_are_accessible_svg_and_escape_what_truedy_sends():
    bars = str(outcome_bars((("<b>x</b>", 3), ("", 1)), 4))
    assert bars.startswith("<svg") and 'role="img"' in bars
    assert "<title" in bars and "&lt;b&gt;x&lt;/b&gt; 3 (75%)" in bars
    assert "No outcome 1 (25%)" in bars
    assert "<b>" not in bars and "style=" not in bars
    line = str(calls_per_day(((date(2026, 11, 23), 2), (date(2026, 11, 24), 5))))
    assert 'role="img"' in line and "<polyline" in line and "style=" not in line
    assert "Calls per day, 2026-11-23 to 2026-11-24: 7 in all, busiest 2026-11-24 with 5" in line
    assert str(calls_per_day(())) == "" and str(outcome_bars((), 0)) == ""


# --- review work: effective outcomes, coverage and verdicts (never cached) ------------------------


def _reviewer():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("rita", password="x" * 20, is_staff=True)


def test_truedy_totals_count_corrected_outcomes_and_review_coverage(frozen_simulator):
    filters = CallFilters(status="ended", direction="inbound")
    before = totals.for_filters(filters, zone=BERLIN)
    assert before.ai_outcomes == before.outcomes
    assert (before.reviewed, before.corrected, before.coverage_percent) == (0, 0, 0)
    assert before.call_outcomes == (), "the per-call list stays in the cache"
    calls = reads.list_calls(status="ended", direction="inbound", limit=4).calls
    person = _reviewer()
    for call in calls[:2]:
        OutcomeCorrection.objects.create(
            call_id=call.id, ai_outcome=call.outcome or "", outcome="demo-booked", reason="r",
            corrected_by=person,
        )  # fmt: skip
    for call, verdict in zip(calls, ("pass", "fail", "fail", "follow-up"), strict=True):
        Review.objects.create(call_id=call.id, verdict=verdict, reviewer=person)
    Review.objects.create(call_id=calls[0].id, verdict="fail", reviewer=person)  # the latest
    frozen_simulator.reset_requests()
    after = totals.for_filters(filters, zone=BERLIN)
    assert upstream_paths(frozen_simulator) == [], "Truedy's part came from the cache"
    assert dict(after.outcomes)["demo-booked"] == 2
    assert sum(n for _, n in after.outcomes) == after.counted
    assert after.ai_outcomes == before.ai_outcomes
    assert (after.reviewed, after.corrected) == (4, 2)
    assert dict(after.verdicts) == {"pass": 0, "fail": 3, "follow-up": 1}
    assert after.coverage_percent == 4 * 100 // after.counted


@pytest.mark.shared_backends
def test_archive_totals_count_corrected_outcomes_and_review_coverage(old_archive):
    person = _reviewer()
    OutcomeCorrection.objects.create(
        call_id="call_a1", ai_outcome="interested", outcome="voicemail", reason="r",
        corrected_by=person,
    )  # fmt: skip
    OutcomeCorrection.objects.create(
        call_id="call_a1", ai_outcome="interested", outcome="no-answer", reason="later",
        corrected_by=person,
    )  # fmt: skip
    OutcomeCorrection.objects.create(
        call_id="call_out", ai_outcome="", outcome="booked", reason="outside the range",
        corrected_by=person,
    )  # fmt: skip
    Review.objects.create(call_id="call_a2", verdict="pass", reviewer=person)
    Review.objects.create(call_id="call_a3", verdict="pass", reviewer=person)
    Review.objects.create(call_id="call_a3", verdict="follow-up", reviewer=person)
    filters = CallFilters(
        created_after=datetime(2026, 3, 1, tzinfo=UTC),
        created_before=datetime(2026, 4, 1, tzinfo=UTC),
    )
    result = totals.for_filters(filters, zone=UTC_ZONE)
    assert result.source == totals.ARCHIVE
    assert dict(result.outcomes) == {
        "no-answer": 2,
        "interested": 1,
        "": 1,
        "<script>alert(1)</script>": 1,
    }
    assert dict(result.ai_outcomes)["interested"] == 2
    assert (result.reviewed, result.corrected, result.coverage_percent) == (2, 1, 40)
    assert dict(result.verdicts) == {"pass": 1, "fail": 0, "follow-up": 1}


def test_totals_cached_before_review_work_still_read():
    from calls.upstream.redis_cache import MovedClassesSerializer
    from tests.upstream.test_redis_cache import OLD_TOTALS_ENTRY, old

    old_totals = MovedClassesSerializer().loads(old(OLD_TOTALS_ENTRY)).data
    assert (old_totals.reviewed, old_totals.verdicts, old_totals.call_outcomes) == (0, (), ())
    assert totals.with_review_work(old_totals).outcomes == old_totals.outcomes
