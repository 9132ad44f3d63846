"""The call page reshaped for review, as the server renders it: the player bar and the details
beside the transcript, words to find (?find=), "jump to time" without JavaScript, details that
come with a transcript's arrival, dead-air markers, talk time as an estimate, live calls."""

import re

import pytest
from django.core.cache import cache

from calls.services.transcripts import MOST_MARKED_SILENCES

pytestmark = pytest.mark.django_db

SUPPORT_RECORDED = "341ef40b-57c7-40aa-b7b5-6ea735ebd32d"  # support_inbound audio, 8.6 s dead air
SLOW_SUPPORT = "8b6a4c97-78f4-423b-921a-537574cd4a41"  # 19 turns, 15 gaps of 9–20 s
ENDED_5S_AGO = "944528c0-0ef8-42d6-b7fd-564637bb3eec"  # transcript still processing
LONG_CALL = "444d610b-3f87-4362-8f8d-446abc2cbb0d"  # 2,000 turns over 2:53:20
QUEUED = "b7e99aca-a970-45e1-8e46-d534c88a618e"  # placed 3 s before the frozen now
RINGING = "6c4a37ea-4906-47f2-b47b-6dbac8fe3ccd"  # placed 7 s before
IN_PROGRESS = "fc3d3348-008d-4127-a104-61e32a25a888"  # answered 2:00 before
TRANSCRIPT_POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "transcript"}


def test_the_player_bar_and_details_come_first_in_a_side_column_with_room_for_a_verdict(
    staff_client, frozen_simulator
):
    html = staff_client.get(f"/calls/{SUPPORT_RECORDED}/").content.decode()
    order = [
        html.index('<div class="call-side">'),
        html.index("data-review-bar"),
        html.index("<audio"),
        html.index('id="transcript-q"'),
        html.index('<form class="jump"'),
        html.index('<div class="verdict-slot" id="verdict" data-verdict-slot>'),
        html.index('id="review-panel"'),
        html.index('<section class="call-details"'),
        html.index('<section id="transcript"'),
    ]
    assert order == sorted(order)
    for once in ('id="call-summary"', 'id="call-timing"', 'id="review-tools"', "hx-swap-oob"):
        assert html.count(once) == (0 if once == "hx-swap-oob" else 1), once


def test_find_fills_the_box_and_names_the_turn_its_current_match_starts_from(
    staff_client, frozen_simulator
):
    response = staff_client.get(
        f"/calls/{SUPPORT_RECORDED}/?q=router&tz=UTC&t=44.70&find=%20router%20%20light"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["find"] == "router light"
    assert 'value="router light" data-find-near="8"' in html
    # Back goes to the hits, without the words being found or the moment.
    assert 'href="/calls/?q=router&amp;tz=UTC">← Back to calls' in html
    # Links within the page keep both; so does "jump to time" without JavaScript.
    assert '<a class="at" href="?q=router&amp;tz=UTC&amp;find=router+light&amp;t=0.00"' in html
    jump = html[html.index('<form class="jump"') :]
    hidden = re.findall(
        r'<input type="hidden" name="(\w+)" value="([^"]*)">', jump[: jump.index("</form>")]
    )
    assert hidden == [("q", "router"), ("tz", "UTC"), ("find", "router light")]


def test_find_is_escaped(staff_client, frozen_simulator):
    html = staff_client.get(
        f"/calls/{SUPPORT_RECORDED}/", {"find": '"><script>alert(1)</script>'}
    ).content.decode()
    assert "<script>alert(1)" not in html
    # The quote opens a phrase (the search's syntax); the rest is kept, escaped.
    assert 'value="&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


@pytest.mark.parametrize("find", ["x" * 101, "router " * 20])
def test_over_long_words_to_find_are_ignored_without_an_error(staff_client, frozen_simulator, find):
    response = staff_client.get(f"/calls/{SUPPORT_RECORDED}/", {"find": find, "t": "44.7"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["find"] == ""
    assert "data-find-near" not in html and "find=" not in html
    assert 'class="notice error"' not in html
    assert response.context["moment_turn"] == 8  # the moment still counts


def test_jump_to_time_without_javascript_is_a_form_that_loads_the_moment(
    staff_client, frozen_simulator
):
    for typed in ("1:23:00", "83:00", "4980", "1h23m"):
        response = staff_client.get(f"/calls/{LONG_CALL}/", {"t": typed})
        assert response.status_code == 200
        assert response.context["moment"] == 4980
    turn = response.context["moment_turn"]
    assert f'id="turn-{turn}" data-start=' in response.content.decode()
    bad = staff_client.get(f"/calls/{LONG_CALL}/", {"t": "soon"})
    assert bad.status_code == 400
    assert "“soon” is not a time" in bad.content.decode()


def test_without_a_recording_or_transcript_there_is_nothing_to_find_or_jump_to(
    staff_client, frozen_simulator
):
    html = staff_client.get(f"/calls/{QUEUED}/").content.decode()
    assert 'id="review-tools"' in html  # its place, for the transcript to fill
    assert 'id="transcript-q"' not in html and '<form class="jump"' not in html


def test_the_transcript_arriving_brings_its_find_box_summary_and_timings_out_of_band(
    staff_client, frozen_simulator
):
    waiting = staff_client.get(f"/calls/{ENDED_5S_AGO}/", **TRANSCRIPT_POLL).content.decode()
    assert waiting.lstrip().startswith('<section id="transcript"')
    assert "hx-swap-oob" not in waiting  # nothing else changes meanwhile (a time being typed)

    frozen_simulator.clock.advance(20)  # Truedy has finished transcribing
    cache.clear()
    ready = staff_client.get(f"/calls/{ENDED_5S_AGO}/", **TRANSCRIPT_POLL)
    fragment = ready.content.decode()
    call = ready.context_data["call"]  # a partial: the response's own context
    assert fragment.lstrip().startswith('<section id="transcript"')
    assert "<audio" not in fragment and "hx-trigger" not in fragment
    for part in ("review-tools", "call-timing", "call-summary"):
        assert f'id="{part}" hx-swap-oob="true"' in fragment
    assert 'id="transcript-q"' in fragment
    assert "Talk time" in fragment and "Longest silence" in fragment
    assert call.summary.replace("'", "&#x27;") in fragment


def test_the_whole_call_polled_while_live_carries_no_out_of_band_parts(
    staff_client, frozen_simulator
):
    poll = staff_client.get(
        f"/calls/{IN_PROGRESS}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="call"
    ).content.decode()
    assert poll.lstrip().startswith('<article id="call"')
    assert "hx-swap-oob" not in poll


def test_dead_air_is_marked_only_where_it_stands_out(staff_client, frozen_simulator):
    slow = staff_client.get(f"/calls/{SLOW_SUPPORT}/")
    timing = slow.context["timing"]
    # Nearly every gap is dead air (the simulator's e-mail check adds quick turns).
    assert timing.dead_air_count >= 0.75 * len(timing.turns)
    assert slow.content.decode().count('<li class="silence"') == 0
    gap = timing.longest_silence
    assert f"{gap.silence_before:.0f} s before" in slow.content.decode()  # still summed up

    recorded = staff_client.get(f"/calls/{SUPPORT_RECORDED}/").content.decode()
    assert recorded.count('<li class="silence"') == 1


def test_a_long_call_marks_no_more_than_a_few_silences(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{LONG_CALL}/").content.decode()
    assert html.count('<li class="silence"') <= MOST_MARKED_SILENCES
    assert "2,000 turns" in html


def test_talk_time_reads_as_the_estimate_it_is(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{SUPPORT_RECORDED}/").content.decode()
    talk = re.search(r'<dd class="talk">(.*?)</dd>', html).group(1)
    share = r"≈ \d:\d\d \(≈\d+%\)"
    assert re.match(rf"<span>Agent {share}</span> · <span>Contact {share}</span>", talk), talk
    assert "Estimated from the words, at 15 characters a second" in talk


@pytest.mark.parametrize(
    ("call_id", "words", "elapsed"),
    [(QUEUED, "queued", 3), (RINGING, "ringing", 7), (IN_PROGRESS, "in progress", 120)],
)
def test_a_live_call_says_what_it_is_doing_and_how_long_for(
    staff_client, frozen_simulator, call_id, words, elapsed
):
    response = staff_client.get(f"/calls/{call_id}/")
    html = response.content.decode()
    assert response.context["elapsed"] == elapsed
    minutes, seconds = divmod(elapsed, 60)
    assert f'for <span role="timer" data-elapsed="{elapsed}">{minutes}:{seconds:02d}</span>' in html
    assert f"The call is {words}; its transcript appears when it ends." in html
    assert f"The call is {words}; its recording appears when it ends." in html
    if words != "in progress":
        assert "in progress" not in html


def test_an_ended_call_shows_no_elapsed_time(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{SUPPORT_RECORDED}/")
    assert response.context["elapsed"] is None
    assert "data-elapsed" not in response.content.decode()
