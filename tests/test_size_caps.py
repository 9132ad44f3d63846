"""No size caps on Truedy's data was a finding: answers are read up to a limit, long text is
cut before it is cached, and very long transcripts are shown a page of turns at a time."""

import re

import httpx
import pytest

from calls.services.transcript_pages import TRANSCRIPT_PAGE_TURNS
from calls.truedy.client import MAX_RESPONSE_BYTES
from calls.truedy.errors import MalformedResponse
from calls.truedy.records import MAX_SUMMARY_CHARS, MAX_TURN_CHARS, parse_call
from calls.upstream import reads
from tests.payloads import call_envelope, call_payload, turn
from tests.truedy.test_client import Upstream, make_client

# --- the client reads at most MAX_RESPONSE_BYTES --------------------------------------------


def test_an_answer_declared_too_large_is_refused_unread_and_not_retried():
    huge = httpx.Response(
        200, headers={"Content-Length": str(MAX_RESPONSE_BYTES + 1)}, content=b"{}"
    )
    upstream = Upstream(huge)
    client, sleeps = make_client(upstream)
    with pytest.raises(MalformedResponse, match="larger than"):
        client.get_call("call_0001")
    assert upstream.calls == 1 and sleeps == []


def test_an_answer_that_grows_past_the_limit_while_read_is_refused():
    def chunks():
        yield b'{"data": {"summary": "'
        for _ in range(MAX_RESPONSE_BYTES // 65536 + 2):
            yield b"x" * 65536

    upstream = Upstream(httpx.Response(200, content=chunks()))  # no Content-Length: streamed
    client, _ = make_client(upstream)
    with pytest.raises(MalformedResponse, match="larger than"):
        client.get_call("call_0001")


def test_a_large_but_allowed_answer_is_read_whole():
    long_call = call_payload(transcript=[turn(text="y" * 900, timestamp=n) for n in range(3000)])
    client, _ = make_client(Upstream(httpx.Response(200, json=call_envelope(long_call))))
    assert len(client.get_call("call_0001").transcript) == 3000


# --- long text is cut before anything keeps it ----------------------------------------------


def test_a_huge_summary_and_turn_are_cut_saying_so():
    call = parse_call(
        call_payload(summary="s" * (MAX_SUMMARY_CHARS + 500), transcript=[turn(text="t" * 50_000)])
    )
    assert call.summary.startswith("s" * MAX_SUMMARY_CHARS)
    assert call.summary.endswith("[cut: 500 more characters]")
    assert len(call.transcript[0].text) < MAX_TURN_CHARS + 40
    assert call.transcript[0].text.endswith("[cut: 40,000 more characters]")


# --- very long transcripts come a page of turns at a time -----------------------------------

TURNS = 2 * TRANSCRIPT_PAGE_TURNS + 500


@pytest.fixture
def very_long_call(monkeypatch, frozen_simulator):
    call = parse_call(
        call_payload(
            id="call_long",
            duration_seconds=TURNS * 2,
            transcript=[
                turn("agent" if n % 2 else "contact", f"turn number {n + 1}", n * 2.0)
                for n in range(TURNS)
            ],
        )
    )
    monkeypatch.setattr(reads, "get_call", lambda call_id, **kwargs: call)
    return call


pytestmark = pytest.mark.django_db


def shown_turns(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="turn[^"]*" id="turn-(\d+)"', html)]


def test_the_first_page_shows_the_first_turns_and_says_how_many(staff_client, very_long_call):
    html = staff_client.get("/calls/call_long/").content.decode()
    shown = shown_turns(html)
    assert shown == list(range(1, TRANSCRIPT_PAGE_TURNS + 1))
    assert f"Turns 1–{TRANSCRIPT_PAGE_TURNS:,} of {TURNS:,}" in html
    assert 'href="?turns=2" rel="next"' in html
    assert len(html) < 1_500_000


def test_a_later_page_and_a_page_past_the_end(staff_client, very_long_call):
    html = staff_client.get("/calls/call_long/?turns=3").content.decode()
    assert shown_turns(html) == list(range(2 * TRANSCRIPT_PAGE_TURNS + 1, TURNS + 1))
    assert 'href="?turns=2" rel="prev"' in html and 'rel="next"' not in html
    assert shown_turns(staff_client.get("/calls/call_long/?turns=99").content.decode())[0] == (
        2 * TRANSCRIPT_PAGE_TURNS + 1
    )


def test_a_moment_link_opens_the_page_of_its_turn(staff_client, very_long_call):
    moment = (TRANSCRIPT_PAGE_TURNS + 9) * 2.0  # turn 2,010 starts then
    html = staff_client.get(f"/calls/call_long/?t={moment:.0f}").content.decode()
    assert shown_turns(html)[0] == TRANSCRIPT_PAGE_TURNS + 1
    assert f'id="turn-{TRANSCRIPT_PAGE_TURNS + 10}" data-start="{moment:.2f}" aria-current' in html


@pytest.mark.parametrize("wanted", ["abc", "0", "-1", "1.5", "²"])
def test_an_unreadable_page_number_is_a_400_that_still_shows_the_call(
    staff_client, very_long_call, wanted
):
    response = staff_client.get(f"/calls/call_long/?turns={wanted}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "must be a page number" in html
    assert shown_turns(html)[0] == 1
