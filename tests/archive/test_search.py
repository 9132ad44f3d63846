"""Searching the archive with the list's `q` (calls/archive/search.py, the list reading from
the archive).

The archive is filled the way the product fills it (``store.store_call`` with calls read from
the simulator), so the search sees the same ``search_text`` it will see in production.
"""

import re
from datetime import UTC, datetime

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.archive import store
from calls.archive.search import (
    lists_from_archive,
    matching_archived_calls,
    matching_line,
    search_words,
)
from calls.forms import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, CallFilterForm
from calls.lib.timezones import zone_or_none
from calls.models import ArchivedCall
from calls.truedy.filters import CallFilters
from calls.truedy.records import CALL_ID_PATTERN
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW, upstream_paths

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(1)> "quoted" & <div hx-get="/x">'


@pytest.fixture
def archived_support_calls(frozen_simulator) -> list[ArchivedCall]:
    """Ten ended support calls with transcripts, archived as the sync would store them."""
    client = gateway.get_client()
    stored = []
    now = frozen_simulator.clock.now_us()
    for skeleton in frozen_simulator.data.calls:
        if skeleton.kind == "support" and skeleton.status_at(now) == "ended":
            call = client.get_call(skeleton.id)
            if call.transcript:
                stored.append(store.store_call(call, source="sync"))
        if len(stored) == 10:
            break
    frozen_simulator.reset_requests()
    return stored


def a_phrase_from(row: ArchivedCall) -> str:
    """Three words from the middle of the call's longest turn, as a user would remember them."""
    turn = max(row.transcript, key=lambda t: len(t["text"]))
    words = turn["text"].split()
    return " ".join(words[len(words) // 2 : len(words) // 2 + 3])


def test_search_finds_a_phrase_from_a_transcript_and_shows_the_line(
    staff_client, archived_support_calls
):
    target = archived_support_calls[3]
    phrase = a_phrase_from(target)
    response = staff_client.get("/calls/", {"q": phrase.upper(), "tz": "UTC"})
    html = response.content.decode()
    assert response.status_code == 200
    ids = [call.id for call, _ in response.context_data["call_rows"]]
    assert target.id in ids
    for call_id in ids:  # every word is in every result
        text = ArchivedCall.objects.get(pk=call_id).search_text
        assert all(word in text for word in search_words(phrase))
    assert "searched in the dashboard's archive" in html
    assert '<tr class="match">' in html and "<mark>" in html
    assert f'href="/calls/{target.id}/?q=' in html  # rows still open the call page


def test_q_never_goes_upstream(staff_client, archived_support_calls, frozen_simulator):
    staff_client.get("/calls/?q=router&status=ended&per_page=10")
    staff_client.get("/calls/totals/?q=router", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="totals")
    assert frozen_simulator.requests, "the list asks Truedy for its agents' names"
    for request in frozen_simulator.requests:
        assert "q" not in request.query
        assert request.path.endswith("/agents")  # the list's names; no /calls at all


def test_the_other_filters_apply_to_the_archive_too(archived_support_calls):
    agent = archived_support_calls[0].agent_id
    created = archived_support_calls[0].created_at
    found = matching_archived_calls(
        CallFilters(agent_id=agent, status="ended", created_before=created, q=None)
    )
    assert all(row.agent_id == agent and row.created_at < created for row in found)
    assert list(found) == sorted(found, key=lambda row: row.created_at, reverse=True)
    expected = sum(
        1 for row in archived_support_calls if row.agent_id == agent and row.created_at < created
    )
    assert found.count() == expected


def test_unknown_filters_are_a_programming_error():
    with pytest.raises(TypeError):
        matching_archived_calls(CallFilters(limit=10))


def test_a_hostile_transcript_line_is_escaped_and_marked(staff_client, frozen_simulator):
    ArchivedCall.objects.create(
        id="call_hostile",
        status="ended",
        created_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
        transcript=[{"speaker": "contact", "text": HOSTILE + " alert", "timestamp": 1.0}],
        search_text=("contact: " + HOSTILE + " alert").lower(),
    )
    response = staff_client.get("/calls/?q=alert+script")
    html = response.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'hx-get="/x"' not in html
    assert "&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)" in html
    assert "&lt;div hx-get=&quot;/x&quot;&gt;" in html


def test_a_search_with_no_result_says_so(staff_client, archived_support_calls):
    response = staff_client.get("/calls/?q=zzyzx-not-said")
    assert response.status_code == 200
    assert "No calls match these filters" in response.content.decode()


def test_a_range_older_than_truedys_retention_lists_from_the_archive(
    staff_client, frozen_simulator
):
    ArchivedCall.objects.create(
        id="call_old", status="ended", created_at=datetime(2025, 6, 1, 12, tzinfo=UTC)
    )
    response = staff_client.get("/calls/?created_after=2025-05-01&created_before=2025-06-30")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/calls/call_old/" in html
    assert "Truedy keeps calls for 12 months" in html
    assert not [path for path in upstream_paths(frozen_simulator) if path.endswith("/calls")]


def test_lists_from_archive_only_for_a_search_or_a_range_truedy_no_longer_has():
    before = datetime(2025, 11, 24, 12, tzinfo=UTC)
    assert lists_from_archive(CallFilters(q="x"), FROZEN_NOW)
    assert lists_from_archive(CallFilters(created_before=before), FROZEN_NOW)
    assert not lists_from_archive(CallFilters(created_before=before.replace(day=25)), FROZEN_NOW)
    assert not lists_from_archive(CallFilters(q=None, created_before=None), FROZEN_NOW)


# --- the matching line -------------------------------------------------------------------------


def line_text(line) -> str:
    return "".join(text for text, _ in line.parts)


def test_the_line_is_the_turn_holding_every_word_shortened_around_the_match():
    row = ArchivedCall(
        id="call_x",
        transcript=[
            {"speaker": "agent", "text": "Your router is fine.", "timestamp": 0},
            {"speaker": "contact", "text": "word " * 80 + "the router blinks red " + "x " * 80},
        ],
        summary="The router was replaced. It blinks red no more.",
    )
    line = matching_line(row, "Router RED")
    assert line.source == "Contact"
    text = line_text(line)
    assert text.startswith("…") and text.endswith("…") and len(text) <= 170
    assert [part for part, hit in line.parts if hit] == ["router", "red"]


def test_the_summary_is_searched_when_no_turn_matches():
    row = ArchivedCall(id="call_y", transcript=None, summary="Asked for a refund. Got one.")
    line = matching_line(row, "refund")
    assert line.source == "Summary" and line_text(line) == "Asked for a refund."
    assert matching_line(row, None) is None and matching_line(row, "absent") is None


def test_a_malformed_stored_transcript_is_skipped_not_a_crash():
    row = ArchivedCall(id="call_z", transcript=[None, {"text": 3}, "x"], summary="")
    assert matching_line(row, "x") is None


# --- parsing `q` -------------------------------------------------------------------------------

FORM_ZONE = zone_or_none("UTC")


def search_form(value: str) -> CallFilterForm:
    data = QueryDict(mutable=True)
    data["q"] = value
    return CallFilterForm(data, default_zone=FORM_ZONE)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(max_size=MAX_SEARCH_LENGTH + 20))
def test_any_q_is_a_search_or_a_clear_error(value):
    form = search_form(value)
    if form.is_valid():
        term = form.search
        assert (term is None) == (value.strip() == "")
        if term is not None:
            assert term.text == term.text.strip() and len(term.text) <= MAX_SEARCH_LENGTH
            filters = form.list_filters()
            if term.kind == "words":
                words = search_words(filters.q)
                assert filters.q == term.text and filters.contact is None
                assert len(words) <= MAX_SEARCH_WORDS
                assert all(word and word == word.lower() and not any(c.isspace() for c in word)
                           for word in words)  # fmt: skip
            elif term.kind == "phone":
                assert re.fullmatch(r"\+[0-9]{2,15}", filters.contact) and filters.q is None
            else:  # a call id opens that call: it filters nothing
                assert CALL_ID_PATTERN.fullmatch(term.value)
                assert filters.q is None and filters.contact is None
        assert "q" not in form.api_params()
        assert ("q=" in form.query()) == (term is not None)
    else:
        message = " ".join(form.errors["q"])
        assert message and len(message) < 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a" * (MAX_SEARCH_LENGTH + 1), "at most 100 characters"),
        ("one two three four five six seven eight nine", "at most 8 words"),
        ("ab\x00cd", "Null characters"),
    ],
)
def test_bad_searches_are_refused_with_the_reason(staff_client, value, message, simulator):
    response = staff_client.get("/calls/", {"q": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert simulator.requests == []


def test_links_keep_the_search(staff_client, archived_support_calls):
    response = staff_client.get("/calls/?q=%20Router%20&tz=UTC", HTTP_HX_REQUEST="true",
                                HTTP_HX_TARGET="results")  # fmt: skip
    assert response["HX-Push-Url"] == "/calls/?q=Router&tz=UTC"
