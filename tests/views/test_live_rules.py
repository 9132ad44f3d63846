"""The rules behind the live updates (calls/services/live.py) as plain functions: a view's filters
judged on a call as Truedy judges them, a call's progress, and a row's data- attributes."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from calls.services import live
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW

NOW = FROZEN_NOW


def a_call(**fields) -> Call:
    base = Call(
        id="call_live0001",
        agent_id="agent_1",
        status="ended",
        direction="outbound",
        created_at=NOW - timedelta(minutes=5),
        started_at=NOW - timedelta(minutes=4),
        ended_at=NOW - timedelta(minutes=3),
        updated_at=NOW - timedelta(minutes=3),
        to_number="+17025550151",
        from_number="+17025550100",
        duration_seconds=60,
        cost_cents=12,
        outcome="interested",
        summary="Booked a demo.",
        transcript=None,
        recording_url=None,
    )
    return dataclasses.replace(base, **fields)


@pytest.mark.parametrize(
    "filters",
    [
        CallFilters(),
        CallFilters(status="in-progress"),
        CallFilters(status="ended", direction="inbound"),
        CallFilters(direction="webrtc"),
        CallFilters(created_after=NOW - timedelta(hours=2)),
        CallFilters(created_before=NOW - timedelta(hours=1), status="failed"),
        CallFilters(
            created_after=NOW - timedelta(hours=6), created_before=NOW - timedelta(hours=3)
        ),
    ],
)
def test_a_view_selects_the_calls_truedy_would_list_for_it(frozen_simulator, filters):
    client = gateway.get_client()
    newest = client.list_calls(limit=100).calls
    agent = newest[0].agent_id
    for chosen in (filters, dataclasses.replace(filters, agent_id=agent)):
        listed = {
            call.id
            for page in range(3)
            for call in client.list_calls(**chosen.api_params(), limit=100, offset=100 * page).calls
        }
        judged = {call.id for call in newest if live.selects(chosen, call)}
        assert judged == {call.id for call in newest if call.id in listed}


def test_a_view_that_searches_cannot_be_judged_on_a_row():
    assert live.selects(CallFilters(q="router"), a_call()) is None
    assert live.selects(CallFilters(review="unreviewed"), a_call()) is None
    assert live.selects(CallFilters(campaign="cmp_spring"), a_call()) is None


def test_progress_orders_what_a_page_can_show_of_a_call():
    queued = a_call(
        status="queued", started_at=None, ended_at=None, updated_at=NOW - timedelta(minutes=5)
    )
    ringing = dataclasses.replace(queued, status="ringing", updated_at=NOW - timedelta(minutes=4))
    talking = dataclasses.replace(
        ringing, status="in-progress", started_at=NOW - timedelta(minutes=4)
    )
    ended = a_call(summary=None)
    analysed = a_call()
    steps = [live.progress(call, NOW) for call in (queued, ringing, talking, ended, analysed)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert [step[2] for step in steps] == [live.LIVE] * 3 + [live.PROCESSING, live.SETTLED]
    # A call whose transcript never comes is settled once the processing window has passed.
    later = NOW + timedelta(hours=1)
    assert live.follow_state(ended, later) == live.SETTLED
    assert live.progress(ended, later) > live.progress(ended, NOW)


def test_a_failed_call_nobody_answered_is_settled_at_once():
    failed = a_call(status="failed", started_at=None, summary=None, duration_seconds=None)
    assert live.follow_state(failed, NOW) == live.SETTLED


def test_a_rows_data_attributes(settings):
    talking = a_call(status="in-progress", ended_at=None, summary=None, id='call_"odd"<id>')
    data = live.row_data(talking, NOW)
    assert 'data-call-id="call_&quot;odd&quot;&lt;id&gt;"' in data
    assert " data-watch" in data
    started = int((NOW - timedelta(minutes=4)).timestamp() * 1000)
    assert f'data-live-since="{started}"' in data
    assert 'data-created="2026-11-24T11:55:00+00:00"' in data
    settled = live.row_data(a_call(), NOW)
    assert "data-watch" not in settled and "data-live-since" not in settled
    queued = a_call(status="queued", started_at=None, ended_at=None, summary=None)
    assert f'data-live-since="{int(queued.created_at.timestamp() * 1000)}"' in live.row_data(
        queued, NOW
    )
    assert live.live_since(a_call(created_at=datetime(2026, 1, 1, tzinfo=UTC))) is None
