"""/agents/ and /agents/export.csv through HTTP: filters, links to exactly those calls, bad
input refused beside its field, the CSV."""

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.agents.conftest import RANGE

pytestmark = pytest.mark.django_db


def links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_the_page_compares_agents_with_their_figures(staff_client, frozen_simulator, two_agents):
    response = staff_client.get("/agents/", RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Agents compared from 2026-11-20 to 2026-11-23" in html
    assert 'aria-current="page">Agents</a>' in html
    # The archive's reach is said, and the figures are there.
    assert "The archive holds 7 calls created 2026-11-10 to 2026-11-22" in html
    assert "75 %" in html and "50 %" in html
    assert re.search(r"<svg class=\"chart agent-trend\"[^>]*aria-labelledby=\"trend-1\"", html)
    assert response.context["table"].total.calls == 6


def test_each_figure_links_to_exactly_those_calls(staff_client, frozen_simulator, two_agents):
    response = staff_client.get("/agents/", RANGE)
    row = response.context["rows"][0]
    assert row["figures"].agent_id == "agent_a"
    calls = query_of(row["links"]["calls"])
    assert calls["agent_id"] == ["agent_a"]
    assert calls["created_after"] == ["2026-11-20"] and calls["created_before"] == ["2026-11-23"]
    assert query_of(row["links"]["connected"])["status"] == ["ended"]
    assert query_of(row["links"]["verdict_pass"])["review"] == ["pass"]
    assert query_of(row["links"]["auto_score"])["auto_score"] == ["from-0"]
    assert query_of(row["links"]["cost"])["sort"] == ["-cost"]
    outcome_link = dict((o, link) for o, _, link in row["outcomes"])["booked"]
    assert query_of(outcome_link)["outcome"] == ["booked"]
    html = response.content.decode()
    assert row["links"]["connected"] in links(html)


@pytest.mark.shared_backends
def test_the_figures_no_other_filter_selects_link_to_only_those_calls(
    staff_client, frozen_simulator, two_agents
):
    """``only=``: read from the archive (like the review filters), so the list behind each of
    these figures holds exactly the calls counted."""
    row = staff_client.get("/agents/", RANGE).context["rows"][0]
    figures = row["figures"]
    expected = {
        "reviewed": (figures.reviewed, {"a1", "a2"}),
        "corrected": (figures.corrected, {"a2"}),
        "scored": (figures.review_scored, {"a1", "a2"}),
        "dead_air": (figures.dead_air, {"a2"}),
    }
    for name, (count, ids) in expected.items():
        listed = staff_client.get(row["links"][name])
        assert listed.status_code == 200, name
        assert listed.context["total"] == count == len(ids), name
        assert {call.id for call in listed.context["calls"]} == ids, name
    said = staff_client.get(row["links"]["dead_air"]).content.decode()
    assert "connected, with dead air (a silence of 3 s or more)" in said


def test_a_bad_only_is_refused_by_the_list(staff_client, frozen_simulator):
    response = staff_client.get("/calls/", {"only": "everything"})
    assert response.status_code == 400
    assert "use only=reviewed, corrected, scored or dead-air" in response.content.decode()


def test_filters_narrow_the_figures(staff_client, frozen_simulator, two_agents):
    response = staff_client.get("/agents/", RANGE | {"status": "ended"})
    assert response.status_code == 200
    assert [row["figures"].calls for row in response.context["rows"]] == [3, 1]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"created_after": "2026-13-40"}, "f-after-error", "is not a date or time"),
        ({"status": "<b>nope</b>"}, "a-status-error", "is not a call status"),
        ({"tz": "Mars/Olympus"}, "a-tz-error", "Unknown time zone"),
        ({"auto_score": "90-10"}, "a-auto-score-error", "is not a score range"),
    ],
)
def test_bad_input_is_refused_beside_its_field(staff_client, frozen_simulator, query, field, words):
    response = staff_client.get("/agents/", query)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="{field}"' in html and words in html
    assert "<b>nope</b>" not in html  # escaped, never markup
    assert "Traceback" not in html


def test_a_reversed_range_is_refused(staff_client, frozen_simulator):
    response = staff_client.get(
        "/agents/", {"created_after": "2026-11-23", "created_before": "2026-11-20"}
    )
    assert response.status_code == 400
    assert "“From” must be earlier than “To”." in response.content.decode()


def test_the_csv_has_the_same_figures(staff_client, frozen_simulator, two_agents):
    response = staff_client.get("/agents/export.csv", RANGE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="agents-')
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["Agent ID"] for row in rows] == ["agent_a", "agent_b", ""]
    assert rows[0]["Calls"] == "4" and rows[0]["Pass rate (%)"] == "50.0"
    assert rows[2]["Agent"] == "All agents" and rows[2]["Calls"] == "6"


def test_the_csv_of_bad_filters_is_the_page_s_400(staff_client, frozen_simulator):
    response = staff_client.get("/agents/export.csv", {"status": "nope"})
    assert response.status_code == 400
    assert "is not a call status" in response.content.decode()


def test_the_page_asks_truedy_nothing_for_its_figures(staff_client, frozen_simulator, two_agents):
    staff_client.get("/agents/", RANGE)  # agent names: asked once, then cached
    frozen_simulator.reset_requests()
    assert staff_client.get("/agents/", RANGE).status_code == 200
    assert frozen_simulator.requests == []


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/agents/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "sign" in response["Location"]


@pytest.fixture
def small_simulator(monkeypatch, settings, tmp_path):
    """300 calls of the frozen simulator, all synced into the archive (as tests/archive do)."""
    from io import StringIO

    from django.core.management import call_command

    from calls.simulator.app import Simulator
    from calls.upstream import gateway
    from tests.conftest import FROZEN_NOW

    settings.MEDIA_ROOT = tmp_path / "media"
    clock = time_machine.travel(FROZEN_NOW, tick=True)  # the wall clock where the simulator's is
    clock.start()
    sim = Simulator(seed=42, call_count=300, now=FROZEN_NOW)
    monkeypatch.setattr(gateway, "_simulator", sim)
    monkeypatch.setattr(gateway, "_client", None)
    call_command("sync_calls", stdout=StringIO(), stderr=StringIO())
    yield sim
    if gateway._client is not None:
        gateway._client.close()
    clock.stop()


def test_the_list_behind_a_figure_holds_exactly_its_calls(
    staff_client, small_simulator, django_user_model
):
    """The archive's figures against Truedy's own list at each link (the simulator's)."""
    from calls.models import ArchivedCall, Review
    from tests.conftest import FROZEN_NOW
    from tests.reviews.conftest import person

    query = {"created_after": "2026-10-25", "created_before": "2026-11-23", "tz": "UTC"}
    someone = person(django_user_model, "rev", "Reviewer")
    first = ArchivedCall.objects.filter(status="ended", created_at__lt=FROZEN_NOW.replace(day=22))
    first = first.order_by("-created_at").first()
    Review.objects.create(call_id=first.id, verdict="pass", reviewer=someone)
    response = staff_client.get("/agents/", query)
    assert response.status_code == 200
    rows = {row["figures"].agent_id: row for row in response.context["rows"]}
    checked = 0
    for row in rows.values():
        figures, found = row["figures"], row["links"]
        assert staff_client.get(found["calls"]).context["total"] == figures.calls
        assert staff_client.get(found["connected"]).context["total"] == figures.connected
        if figures.passed:
            assert staff_client.get(found["verdict_pass"]).context["total"] == figures.passed
            checked += 1
    assert checked == 1
    assert sum(row["figures"].calls for row in rows.values()) > 20


def test_the_list_shows_an_only_filter_as_a_chip_the_form_keeps(
    staff_client, frozen_simulator, two_agents
):
    """A list opened from a figure keeps it when another filter changes (the chip's hidden
    input goes with the form) and drops it by the chip's link."""
    row = staff_client.get("/agents/", RANGE).context["rows"][0]
    html = staff_client.get(row["links"]["reviewed"]).content.decode()
    assert '<input type="hidden" name="only" value="reviewed">' in html
    assert "Only calls with a verdict" in html
    remove = re.search(r'href="([^"]+)"[^>]*title="Show every call again, not only these"', html)
    assert remove and "only=" not in unescape(remove.group(1))
    assert "agent_id=agent_a" in unescape(remove.group(1))
