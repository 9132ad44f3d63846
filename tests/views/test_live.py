"""Live calls: the list's rows and the call page follow their calls through /calls/live/
(calls/views/live.py, calls/services/live.py), through Django's test client against the frozen
simulator. The simulator's clock and the wall clock move together: a change happens in the
simulator, and the shared snapshot (Truedy's first page, read at most every 5 s for everyone)
shows it once its 5 s have passed."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from calls.archive.store import store_call
from calls.models import ArchivedCall, SyncCursor
from calls.services import live
from calls.truedy.filters import CallFilters
from calls.upstream import gateway, resilience
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.django_db

# Calls of the frozen simulator (seed 42, clock at 2026-11-24 12:00 UTC).
QUEUED = "b7e99aca-a970-45e1-8e46-d534c88a618e"  # dialled 60 s from now, ends at +110 s
RINGING = "6c4a37ea-4906-47f2-b47b-6dbac8fe3ccd"  # answered about 20 s from now
ENDS_IN_30S = "778eedb3-693d-4fbc-ac6f-a6115ab33edf"  # in progress, ends at +30 s
ENDED_5S_AGO = "944528c0-0ef8-42d6-b7fd-564637bb3eec"  # its transcript is being processed
FINISHED = "c07a30f2-edd4-453b-90f0-fd0a750cab75"  # ended two minutes ago, transcribed
ROW = re.compile(r'<tr data-call-id="([^"]+)" data-progress="([^"]+)"([^>]*)>')


@pytest.fixture
def clock(frozen_simulator):
    """Moves the simulator's clock and the process's wall clock together (the cache's
    lifetimes are on the wall clock)."""
    traveller = time_machine.travel(timezone.now(), tick=True)
    shifter = traveller.start()

    def move(seconds: float) -> None:
        frozen_simulator.clock.advance(seconds)
        shifter.shift(timedelta(seconds=seconds))

    yield move
    traveller.stop()


def snapshot_reads(sim) -> int:
    """Reads of Truedy's first page for the live snapshot (the list's own pages ask for 25)."""
    return sum(
        1
        for request in sim.requests
        if request.path.endswith("/calls") and request.query.get("limit") == "100"
    )


def poll(client, **params):
    return client.get("/calls/live/", params)


def list_rows(client, query: str = "") -> dict[str, tuple[str, str]]:
    html = client.get(f"/calls/?tz=UTC{query}").content.decode()
    return {call_id: (progress, rest) for call_id, progress, rest in ROW.findall(html)}


# --- the list's rows ------------------------------------------------------------------------------


def test_list_rows_say_what_the_live_updates_follow(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?tz=UTC").content.decode()
    rows = {call_id: rest for call_id, _, rest in ROW.findall(html)}
    assert "data-watch" in rows[QUEUED] and "data-live-since" in rows[QUEUED]
    assert "data-watch" in rows[ENDED_5S_AGO], "followed until its transcript is in"
    assert "data-live-since" not in rows[ENDED_5S_AGO]
    assert "data-watch" not in rows[FINISHED]
    assert 'data-created="2026-11-24T11:59:57+00:00"' in rows[QUEUED]
    strip = html[html.index("data-live-list") :].split("</div>")[0]
    assert 'data-live-url="/calls/live/?tz=UTC"' in strip and "data-first-page" in strip
    assert 'aria-live="polite"' in strip


def test_a_watched_row_changes_once_the_simulator_moves_on(staff_client, frozen_simulator, clock):
    answer = poll(staff_client, watch=f"{RINGING},{ENDS_IN_30S}", rows="1", tz="UTC")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, no-store"
    before = answer.json()["rows"]
    assert ">Ringing<" in before[RINGING]["html"] and ">In progress<" in before[ENDS_IN_30S]["html"]
    assert before[RINGING]["watch"] and before[RINGING]["live_since"]

    clock(40)  # answered, and the other one ended
    after = poll(staff_client, watch=f"{RINGING},{ENDS_IN_30S}", rows="1", tz="UTC").json()["rows"]
    assert ">In progress<" in after[RINGING]["html"]
    ended = after[ENDS_IN_30S]
    assert ">Ended<" in ended["html"] and ended["live_since"] is None
    assert live_newer(ended["progress"], before[ENDS_IN_30S]["progress"])
    assert ended["html"].startswith(f'<tr data-call-id="{ENDS_IN_30S}"'), "the list's own row"
    # Its duration and outcome came with it.
    call = gateway.get_client().get_call(ENDS_IN_30S)
    assert call.outcome and call.outcome.replace("-", " ").capitalize() in ended["html"]


def live_newer(a: str, b: str) -> bool:
    return tuple(map(int, a.split("."))) > tuple(map(int, b.split(".")))


def test_the_snapshot_is_not_read_again_within_its_interval(staff_client, frozen_simulator, clock):
    poll(staff_client, watch=ENDS_IN_30S)
    clock(40)
    stale = poll(staff_client, watch=ENDS_IN_30S).json()["rows"][ENDS_IN_30S]["progress"]
    clock(1)
    assert poll(staff_client, watch=ENDS_IN_30S).json()["rows"][ENDS_IN_30S]["progress"] == stale
    clock(live.TRUEDY_SNAPSHOT_SECONDS)
    fresh = poll(staff_client, watch=ENDS_IN_30S).json()["rows"][ENDS_IN_30S]["progress"]
    assert live_newer(fresh, stale)


def test_a_new_call_appears_for_the_first_page_of_views_it_matches(
    staff_client, frozen_simulator, clock
):
    top_row = next(iter(list_rows(staff_client).values()))
    top = re.search(r'data-created="([^"]+)"', top_row[1]).group(1)
    assert poll(staff_client, top=top, tz="UTC").json()["new"] == 0
    agent = next(a.id for a in frozen_simulator.data.agents if a.spec.persona == "Jordan")
    placed = frozen_simulator.place_call(agent_id=agent)
    clock(live.TRUEDY_SNAPSHOT_SECONDS + 1)

    first_page = poll(staff_client, top=top, tz="UTC").json()
    assert (first_page["new"], first_page["new_ids"]) == (1, [placed])
    assert first_page["poll"] == live.IDLE_POLL_SECONDS
    mine = poll(staff_client, top=top, agent_id=agent).json()
    assert mine["new_ids"] == [placed] and mine["live_now"] >= 1
    others = next(a.id for a in frozen_simulator.data.agents if a.id != agent)
    assert poll(staff_client, top=top, agent_id=others).json()["new"] == 0
    assert poll(staff_client, top=top, status="ended").json()["new"] == 0
    assert poll(staff_client, top=top, page=2).json()["new"] == 0, "only on the first page"
    # The list shows it at the top when asked again (its cached pages were marked changed).
    assert next(iter(list_rows(staff_client))) == placed


def test_live_now_counts_the_views_live_calls(staff_client, frozen_simulator):
    assert poll(staff_client).json()["live_now"] == 5
    assert poll(staff_client, status="ringing").json()["live_now"] == 1
    assert poll(staff_client, direction="webrtc").json()["live_now"] == 1
    day_before = "created_after=2026-11-22&created_before=2026-11-22&tz=UTC"
    assert staff_client.get(f"/calls/live/?{day_before}").json()["live_now"] == 0
    # A search only the archive can answer cannot count Truedy's live calls.
    searched = poll(staff_client, q="router").json()
    assert searched["live_now"] is None and searched["new"] == 0


def test_upstream_reads_do_not_grow_with_the_number_of_viewers(
    frozen_simulator, django_user_model, clock
):
    viewers = []
    for number in range(20):
        user = django_user_model.objects.create_user(f"viewer{number}", is_staff=True)
        client = Client()
        client.force_login(user)
        viewers.append(client)
    frozen_simulator.reset_requests()
    for client in viewers:  # 20 polls within one interval
        assert poll(client, watch=ENDS_IN_30S).status_code == 200
    assert snapshot_reads(frozen_simulator) == 1
    clock(live.TRUEDY_SNAPSHOT_SECONDS + 0.5)
    for client in viewers:
        poll(client, watch=ENDS_IN_30S)
    assert snapshot_reads(frozen_simulator) == 2, "one read per interval, whoever watches"
    # Nothing else went upstream: no call, no agents, no list page of a poll's own.
    assert len(frozen_simulator.requests) == 2


def test_concurrent_viewers_on_a_cold_cache_share_one_read(frozen_simulator):
    frozen_simulator.switches.latency_seconds = 0.2  # they all arrive while it is on its way
    answers: list[live.LiveAnswer] = []
    threads = [
        threading.Thread(target=lambda: answers.append(live.answer(filters=CallFilters())))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert snapshot_reads(frozen_simulator) == 1
    assert [answer.live_now for answer in answers] == [5] * 20


def test_an_unchanged_answer_is_not_modified(staff_client, frozen_simulator, clock):
    first = poll(staff_client, watch=QUEUED, rows="1")
    etag = first["ETag"]
    again = staff_client.get(f"/calls/live/?watch={QUEUED}&rows=1", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "private, no-store"
    weakened = f"W/{etag}"  # as gzip hands it back
    same = staff_client.get(f"/calls/live/?watch={QUEUED}&rows=1", HTTP_IF_NONE_MATCH=weakened)
    assert same.status_code == 304
    clock(62)  # dialled: ringing now
    changed = staff_client.get(f"/calls/live/?watch={QUEUED}&rows=1", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and ">Ringing<" in changed.json()["rows"][QUEUED]["html"]


def test_a_row_is_sent_only_when_it_is_further_on_than_the_page_shows_it(
    staff_client, frozen_simulator, clock
):
    shown = list_rows(staff_client)[RINGING][0]
    same = poll(staff_client, watch=f"{RINGING}:{shown}", rows="1").json()["rows"][RINGING]
    assert same["progress"] == shown and "html" not in same
    clock(25)  # answered
    moved = poll(staff_client, watch=f"{RINGING}:{shown}", rows="1").json()["rows"][RINGING]
    assert live_newer(moved["progress"], shown) and ">In progress<" in moved["html"]


def test_a_settled_call_is_no_longer_watched(staff_client, frozen_simulator, clock):
    clock(60)  # its transcript is in
    found = poll(staff_client, watch=ENDED_5S_AGO).json()["rows"][ENDED_5S_AGO]
    assert found["watch"] is False and found["progress"].endswith(".2")


def test_nothing_to_follow_beyond_the_first_page_stops_the_polling(staff_client, frozen_simulator):
    assert poll(staff_client, page=2).json()["poll"] == 0
    assert poll(staff_client, page=2, watch=QUEUED).json()["poll"] == live.POLL_SECONDS


# --- bad input, access --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("watch=not%20an%20id", "is not a call id"),
        ("watch=" + ",".join(f"call_{n:05d}" for n in range(101)), "at most 100 calls"),
        (f"watch={QUEUED}:3.x.1", "not a call's progress"),
        ("top=yesterday", "top: not a date and time"),
        ("top=2026-11-24T12:00:00", "offset"),
        ("status=bogus", "Status:"),
        ("page=abc", ""),
    ],
)
def test_bad_input_is_refused_with_a_reason(staff_client, frozen_simulator, query, reason):
    response = staff_client.get(f"/calls/live/?{query}")
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert response["Cache-Control"] == "private, no-store"
    assert len(frozen_simulator.requests) == 0, "nothing bad is asked of Truedy"


def test_signed_in_staff_only(client, django_user_model, frozen_simulator):
    response = client.get("/calls/live/")
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(django_user_model.objects.create_user("not-staff"))
    assert client.get("/calls/live/").status_code == 403
    assert snapshot_reads(frozen_simulator) == 0


# --- when Truedy or the archive fails -------------------------------------------------------------


def test_updates_pause_with_a_notice_while_truedy_fails_and_resume(
    staff_client, frozen_simulator, clock, settings
):
    frozen_simulator.switches.fail_next(100, 503)
    down = poll(staff_client, watch=QUEUED, rows="1").json()
    assert down["paused"] == "Truedy is unreachable: live updates are paused"
    assert down["poll"] == live.PAUSED_POLL_SECONDS and down["rows"] == {}
    frozen_simulator.switches.reset()
    clock(settings.TRUEDY_BREAKER_RESET + 1)  # the circuit breaker lets a probe through
    back = poll(staff_client, watch=QUEUED, rows="1").json()
    assert back["paused"] is None and QUEUED in back["rows"]


def test_a_snapshot_kept_from_before_a_failure_is_not_passed_off_as_live(
    staff_client, frozen_simulator, clock
):
    assert poll(staff_client, watch=QUEUED).json()["paused"] is None
    clock(live.TRUEDY_SNAPSHOT_SECONDS + 1)
    frozen_simulator.switches.fail_next(100, 500)
    stale = poll(staff_client, watch=QUEUED).json()
    assert stale["paused"] == "Truedy is unreachable: live updates are paused"
    assert stale["rows"] == {} and stale["live_now"] is None


# --- from the archive, when webhooks keep it current ----------------------------------------------


@pytest.fixture
def archive_current(settings, frozen_simulator):
    settings.TRUEDY_WEBHOOK_SECRET = "whsec_live_test"
    SyncCursor.objects.create(name="calls", synced_until=FROZEN_NOW)
    for call_id in (QUEUED, RINGING, ENDS_IN_30S, ENDED_5S_AGO, FINISHED):
        store_call(gateway.get_client().get_call(call_id), source="sync", copy=False)
    frozen_simulator.reset_requests()


def test_with_webhooks_the_archive_answers_without_asking_truedy(
    staff_client, frozen_simulator, archive_current, clock
):
    answer = poll(staff_client, watch=f"{RINGING},{ENDS_IN_30S}", rows="1").json()
    assert answer["source"] == "archive" and answer["live_now"] == 3
    assert ">Ringing<" in answer["rows"][RINGING]["html"]
    # A webhook's follow-up stores the call as it now is: the next snapshot shows it.
    clock(40)
    store_call(gateway.get_client().get_call(ENDS_IN_30S), source="webhook", copy=False)
    frozen_simulator.reset_requests()
    clock(live.ARCHIVE_SNAPSHOT_SECONDS + 0.5)
    after = poll(staff_client, watch=f"{RINGING},{ENDS_IN_30S}", rows="1").json()
    assert ">Ended<" in after["rows"][ENDS_IN_30S]["html"]
    assert after["live_now"] == 2
    assert frozen_simulator.requests == [], "no Truedy request for live updates"


def test_an_archive_that_is_not_current_hands_over_to_truedy(
    staff_client, frozen_simulator, archive_current, clock
):
    SyncCursor.objects.filter(name="calls").update(synced_until=FROZEN_NOW - timedelta(hours=1))
    resilience.safe_delete(live.ARCHIVE_CURRENT_KEY)
    answer = poll(staff_client, watch=QUEUED).json()
    assert answer["source"] == "truedy" and answer["live_now"] == 5
    assert ArchivedCall.objects.count() == 5


def test_an_archive_that_cannot_be_read_pauses_or_hands_over(
    staff_client, frozen_simulator, archive_current, monkeypatch
):
    def unreadable(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(live, "to_record", unreadable)
    rows = poll(staff_client, watch=RINGING).json()
    assert rows["paused"] == "The archive cannot be read: live updates are paused"
    assert rows["poll"] == live.PAUSED_POLL_SECONDS
    monkeypatch.setattr(live, "_read_archive", unreadable)
    resilience.safe_delete(live.SNAPSHOT_KEY["archive"])
    assert poll(staff_client, watch=RINGING).json()["source"] == "truedy"


# --- the call page follows its call the same way --------------------------------------------------


def test_a_live_call_page_follows_the_live_updates(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{ENDS_IN_30S}/").content.decode()
    article = html[html.index('<article id="call"') :].split(">")[0]
    assert 'hx-trigger="live-changed"' in article and f'data-live-call="{ENDS_IN_30S}"' in article
    assert 'data-live-url="/calls/live/"' in article
    progress = re.search(r'data-live-progress="([^"]+)"', article).group(1)
    found = poll(staff_client, watch=ENDS_IN_30S).json()["rows"][ENDS_IN_30S]
    assert found["progress"] == progress, "the page and the snapshot agree while nothing moves"
    assert "js/live-call" in html and "every 5s" not in html


def test_a_processing_transcript_follows_the_live_updates(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{ENDED_5S_AGO}/").content.decode()
    section = html[html.index('<section id="transcript"') :].split(">")[0]
    assert 'hx-trigger="live-changed"' in section and f'data-live-call="{ENDED_5S_AGO}"' in section
    assert "data-live-call" not in html[html.index('<article id="call"') :].split(">")[0]
