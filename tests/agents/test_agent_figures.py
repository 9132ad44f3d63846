"""The agents page's figures (calls.services.agent_figures), exact, from hand-made calls."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from calls.forms import CallFilterForm
from calls.services.agent_figures import agent_figures, csv_rows
from tests.agents.conftest import RANGE, at
from tests.conftest import FROZEN_NOW

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]
UTC_ZONE = ZoneInfo("UTC")


def figures_for(query: dict[str, str], zone: ZoneInfo = UTC_ZONE):
    form = CallFilterForm(query, default_zone=zone)
    assert form.is_valid(), form.errors
    return agent_figures(
        form.list_filters(), zone=form.zone, today=FROZEN_NOW.date(), now=FROZEN_NOW
    )


def by_agent(table):
    return {figures.agent_id: figures for figures in table.agents}


def test_each_agent_s_figures_over_the_range(two_agents):
    table = figures_for(RANGE)
    agents = by_agent(table)
    assert [figures.agent_id for figures in table.agents] == ["agent_a", "agent_b"]
    a = agents["agent_a"]
    assert (a.calls, a.connected, a.connect_rate) == (4, 3, 75.0)
    assert (a.timed, a.total_duration, a.average_duration, a.cost_cents) == (3, 210, 70.0, 35)
    assert (a.silence_known, a.dead_air, a.dead_air_rate) == (2, 1, 50.0)
    assert (a.reviewed, a.reviewed_share, a.pass_rate) == (2, 50.0, 50.0)
    assert a.verdicts == (("pass", 1), ("fail", 1), ("follow-up", 0))
    assert (a.corrected, a.corrected_share) == (1, 25.0)
    # Effective outcomes: a2's correction counts, not the AI's label.
    assert a.outcomes == (("booked", 3), ("", 1))
    # a1's latest reviewer score (90, not 80) and a2's 60.
    assert (a.review_scored, a.review_score) == (2, 75.0)
    # a1's two current automatic scores averaged (50 and 100).
    assert (a.auto_scored, a.auto_score) == (1, 75.0)
    b = agents["agent_b"]
    # b2 failed after it was answered: talk, but not a connected call.
    assert (b.calls, b.connected, b.connect_rate) == (2, 1, 50.0)
    assert (b.timed, b.total_duration, b.cost_cents) == (2, 110, 51)
    # b1's longest silence is exactly DEAD_AIR_SECONDS: dead air, as on the call page.
    assert (b.silence_known, b.dead_air, b.dead_air_rate) == (1, 1, 100.0)
    assert (b.reviewed, b.pass_rate, b.corrected) == (1, 0.0, 0)
    # Only the current version's automatic score counts (40, not the older version's 10).
    assert (b.auto_scored, b.auto_score) == (1, 40.0)
    assert b.outcomes == (("", 1), ("voicemail", 1))


def test_the_total_row_adds_up_every_agent(two_agents):
    total = figures_for(RANGE).total
    assert total.agent_id is None
    assert (total.calls, total.connected, total.total_duration, total.cost_cents) == (6, 4, 320, 86)
    assert (total.dead_air, total.silence_known, total.reviewed, total.corrected) == (2, 3, 3, 1)
    assert total.outcomes == (("booked", 3), ("", 2), ("voicemail", 1))
    assert total.auto_score == pytest.approx((75 + 40) / 2)


def test_calls_per_day_cover_every_day_of_the_range(two_agents):
    agents = by_agent(figures_for(RANGE))
    assert agents["agent_a"].per_day == (
        (date(2026, 11, 20), 2),
        (date(2026, 11, 21), 1),
        (date(2026, 11, 22), 1),
        (date(2026, 11, 23), 0),
    )


def test_days_are_the_viewer_s(two_agents):
    query = RANGE | {"tz": "America/New_York", "created_after": "2026-11-19"}
    agents = by_agent(figures_for(query, ZoneInfo("America/New_York")))
    # b1 at 02:00 UTC on the 21st is the evening of the 20th in New York.
    assert dict(agents["agent_b"].per_day)[date(2026, 11, 20)] == 1
    assert dict(agents["agent_b"].per_day)[date(2026, 11, 21)] == 0


def test_the_list_filters_apply(two_agents):
    agents = by_agent(figures_for(RANGE | {"status": "ended"}))
    assert agents["agent_a"].calls == 3
    assert agents["agent_a"].connect_rate == 100.0
    assert by_agent(figures_for(RANGE | {"review": "pass"}))["agent_a"].calls == 1
    assert set(by_agent(figures_for(RANGE | {"agent_id": "agent_b"}))) == {"agent_b"}


def test_without_a_range_the_whole_archive_counts(two_agents):
    assert by_agent(figures_for({"tz": "UTC"}))["agent_a"].calls == 5


def test_an_archive_without_review_work_has_no_review_figures(django_user_model):
    from tests.agents.conftest import archived

    archived("c1", "agent_c", "ended", at(20), duration_seconds=5, outcome="booked")
    c = figures_for(RANGE).agents[0]
    assert (c.reviewed, c.pass_rate, c.review_score, c.auto_score) == (0, None, None, None)
    assert c.dead_air_rate is None  # no transcript: nothing to judge


def test_csv_rows_say_the_same_figures(two_agents):
    rows = csv_rows(figures_for(RANGE), agent_names={"agent_a": "Ava"})
    header, a, _, total = rows
    row = dict(zip(header, a, strict=True))
    assert row["Agent"] == "Ava" and row["Agent ID"] == "agent_a"
    assert row["Calls"] == "4" and row["Connect rate (%)"] == "75.0"
    assert row["Dead air rate (%)"] == "50.0" and row["Cost (cents)"] == "35"
    assert row["Outcomes (effective)"] == "booked: 3; (none): 1"
    assert dict(zip(header, total, strict=True))["Agent"] == "All agents"
