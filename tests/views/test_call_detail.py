"""The call page at /calls/<id>/: header, place in the list, transcript states, downloads,
404s and caching, through Django's test client against the frozen embedded simulator."""

import pytest
from django.core.cache import cache

from calls.upstream import gateway, reads
from tests.conftest import upstream_paths

pytestmark = pytest.mark.django_db

# Calls of the frozen simulator (seed 42, clock at 2026-11-24 12:00 UTC).
ENDED_5S_AGO = "944528c0-0ef8-42d6-b7fd-564637bb3eec"  # transcript still processing
LIVE = "fc3d3348-008d-4127-a104-61e32a25a888"  # in progress, ends in 5 minutes
NOT_TRANSCRIBED = "ee0caeb5-ecfe-4b99-a790-cebdbfddc3d9"  # transcription was off
PARTIAL = {"HTTP_HX_REQUEST": "true"}


def an_ended_call_with_turns(sim) -> str:
    for skeleton in sim.data.calls:
        if skeleton.kind == "support" and skeleton.status_at(sim.clock.now_us()) == "ended":
            call = gateway.get_client().get_call(skeleton.id)
            if call.transcript:
                sim.reset_requests()
                return call.id
    raise AssertionError("no ended support call with a transcript")


def a_call_with_status(sim, status: str) -> str:
    now = sim.clock.now_us()
    return next(c.id for c in sim.data.calls if c.status_at(now) == status)


def test_call_page_shows_the_header_and_the_transcript(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    response = staff_client.get(f"/calls/{call_id}/?tz=UTC")
    html = response.content.decode()
    call = response.context["call"]
    assert response.status_code == 200
    assert reads.agent_names()[call.agent_id] in html
    assert call.contact_number in html
    assert call.created_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert call.ended_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert 'class="badge status-ended"' in html
    assert call.summary.replace("'", "&#x27;") in html
    first, last = call.transcript[0], call.transcript[-1]
    assert '<li class="turn turn-agent" id="turn-1" data-start=' in html
    assert '<span class="who">Contact</span>' in html
    minutes, seconds = divmod(int(last.timestamp), 60)
    assert f'play from here">{minutes}:{seconds:02d}</a>' in html
    assert html.index(first.text.replace("'", "&#x27;")) < html.index(
        last.text.replace("'", "&#x27;")
    )
    assert response["Cache-Control"] == "private, no-store"
    assert "HX-Request" in response["Vary"]


def test_metadata_is_listed(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    response = staff_client.get(f"/calls/{call_id}/")
    call = response.context["call"]
    assert call.metadata
    key = next(iter(call.metadata))
    assert f"<dt>{key}</dt>" in response.content.decode()


def test_back_link_keeps_the_filters_it_came_from(staff_client, frozen_simulator):
    listing = staff_client.get("/calls/?status=ended&per_page=10&page=2&tz=UTC")
    call_id = listing.context["calls"][3].id
    html = staff_client.get(f"/calls/{call_id}/?status=ended&per_page=10&page=2&tz=UTC")
    assert 'href="/calls/?status=ended&amp;tz=UTC&amp;per_page=10&amp;page=2"' in (
        html.content.decode()
    )


def test_previous_and_next_follow_the_filtered_list(staff_client, frozen_simulator):
    listing = staff_client.get("/calls/?status=ended&per_page=10&page=2&tz=UTC")
    ids = [call.id for call in listing.context["calls"]]
    response = staff_client.get(f"/calls/{ids[4]}/?status=ended&per_page=10&page=2&tz=UTC")
    neighbours = response.context["neighbours"]
    assert neighbours["position"] == 15
    assert neighbours["previous"][0] == ids[3]
    assert neighbours["next"][0] == ids[5]
    html = response.content.decode()
    assert f'href="/calls/{ids[5]}/?status=ended&amp;tz=UTC&amp;per_page=10&amp;page=2"' in html


def test_next_from_the_last_row_of_a_page_goes_to_the_next_page(staff_client, frozen_simulator):
    page2 = staff_client.get("/calls/?per_page=10&page=2").context["calls"]
    page3 = staff_client.get("/calls/?per_page=10&page=3").context["calls"]
    response = staff_client.get(f"/calls/{page2[-1].id}/?per_page=10&page=2")
    neighbours = response.context["neighbours"]
    assert neighbours["next"][0] == page3[0].id
    assert "page=3" in neighbours["next"][1]
    response = staff_client.get(f"/calls/{page3[0].id}/?per_page=10&page=3")
    previous = response.context["neighbours"]["previous"]
    assert previous[0] == page2[-1].id
    assert "page=2" in previous[1]


def test_the_first_call_has_no_previous(staff_client, frozen_simulator):
    first = staff_client.get("/calls/?status=failed").context["calls"][0]
    response = staff_client.get(f"/calls/{first.id}/?status=failed")
    assert response.context["neighbours"]["previous"] is None
    assert 'aria-disabled="true">‹ Previous call' in response.content.decode()


def test_opened_without_a_list_there_is_just_a_back_link(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    response = staff_client.get(f"/calls/{call_id}/?status=failed")  # not in that list
    assert response.status_code == 200
    assert response.context["neighbours"] is None
    assert 'href="/calls/?status=failed' in response.content.decode()


def test_processing_transcript_is_polled_until_it_arrives(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{ENDED_5S_AGO}/")
    html = response.content.decode()
    assert "Transcript is being processed" in html
    assert 'hx-trigger="live-changed"' in html  # the live updates say when (test_live.py)

    poll = staff_client.get(f"/calls/{ENDED_5S_AGO}/", HTTP_HX_TARGET="transcript", **PARTIAL)
    fragment = poll.content.decode()
    assert fragment.lstrip().startswith('<section id="transcript"')
    assert "<audio" not in fragment, "polling must not replace the playing audio element"
    assert "Transcript is being processed" in fragment

    frozen_simulator.clock.advance(20)  # Truedy has finished transcribing
    cache.clear()  # the pending call's short TTL has passed
    ready = staff_client.get(f"/calls/{ENDED_5S_AGO}/", HTTP_HX_TARGET="transcript", **PARTIAL)
    fragment = ready.content.decode()
    assert '<ol class="turns" id="transcript-turns">' in fragment
    assert "hx-trigger" not in fragment, "polling stops once the transcript is there"


def test_a_live_call_polls_the_whole_call(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{LIVE}/").content.decode()
    assert "The call is in progress" in html
    assert '<article id="call" class="call" hx-get="/calls/' in html
    assert "The call is in progress; its recording appears when it ends" in html
    poll = staff_client.get(f"/calls/{LIVE}/", HTTP_HX_TARGET="call", **PARTIAL)
    assert poll.content.decode().lstrip().startswith('<article id="call"')


def test_a_call_without_transcription_says_so_and_does_not_poll(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{NOT_TRANSCRIBED}/").content.decode()
    assert "This call has no transcript" in html
    assert "hx-trigger" not in html


def test_a_failed_call_never_had_a_transcript(staff_client, frozen_simulator):
    call_id = a_call_with_status(frozen_simulator, "failed")
    html = staff_client.get(f"/calls/{call_id}/").content.decode()
    assert "This call has no transcript: it failed before anyone spoke." in html
    assert "hx-trigger" not in html


def test_processing_gives_up_after_the_window(staff_client, frozen_simulator, settings):
    settings.TRANSCRIPT_PROCESSING_WINDOW = 1  # the call ended 5 s ago: past a 1 s window
    html = staff_client.get(f"/calls/{ENDED_5S_AGO}/").content.decode()
    assert "Transcript is being processed" not in html
    assert "This call has no transcript" in html
    assert "hx-trigger" not in html


def test_transcript_downloads_as_plain_text(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    response = staff_client.get(f"/calls/{call_id}/transcript.txt")
    text = response.content.decode()
    call = gateway.get_client().get_call(call_id)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="call-{call_id}-transcript.txt"'
    )
    assert response["Cache-Control"] == "private, no-store"
    lines = text.splitlines()
    assert len(lines) == len(call.transcript)
    assert lines[0] == f"Agent: {call.transcript[0].text}"


def test_the_page_offers_download_and_copy(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    html = staff_client.get(f"/calls/{call_id}/").content.decode()
    assert f'href="/calls/{call_id}/transcript.txt" download' in html
    assert f'data-copy-url="/calls/{call_id}/transcript.txt"' in html


def test_no_transcript_download_while_processing(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{ENDED_5S_AGO}/transcript.txt")
    assert response.status_code == 404
    assert "no transcript" in response.content.decode()


def test_hostile_transcript_text_is_escaped(staff_client, frozen_simulator):
    hostile = [c.id for c in frozen_simulator.data.calls if c.kind == "hostile"]
    for call_id in hostile:
        html = staff_client.get(f"/calls/{call_id}/").content.decode()
        for raw in ("<script>alert", "<img src=x onerror", "<b>", '<div hx-get="/'):
            assert raw not in html, f"{raw!r} reached the page unescaped"


def test_an_unknown_call_is_a_friendly_404(staff_client, frozen_simulator):
    response = staff_client.get("/calls/call_doesnotexist000000000000/?status=failed")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Call not found" in html
    assert 'href="/calls/?status=failed' in html
    assert upstream_paths(frozen_simulator) == [
        "/api/public/v1/calls/call_doesnotexist000000000000"
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/calls/a.b/",
        "/calls/%2E%2E/",
        "/calls/a%20b/",
        "/calls/a%3Fx=1/",
        "/calls/a%23b/",
        "/calls/" + "x" * 65 + "/",
        "/calls/%C3%A9/",
        "/calls/a.b/recording",
        "/calls/a.b/transcript.txt",
    ],
)
def test_a_malformed_id_is_a_404_without_any_upstream_request(staff_client, frozen_simulator, path):
    response = staff_client.get(path)
    assert response.status_code == 404
    assert frozen_simulator.requests == []


def test_repeating_a_call_page_makes_no_upstream_request(staff_client, frozen_simulator):
    staff_client.get("/calls/?status=ended&tz=UTC")
    call_id = staff_client.get("/calls/?status=ended&tz=UTC").context["calls"][2].id
    frozen_simulator.reset_requests()
    staff_client.get(f"/calls/{call_id}/?status=ended&tz=UTC")
    assert upstream_paths(frozen_simulator) == [f"/api/public/v1/calls/{call_id}"]
    frozen_simulator.reset_requests()
    staff_client.get(f"/calls/{call_id}/?status=ended&tz=UTC")
    assert frozen_simulator.requests == []


def test_an_upstream_failure_on_the_call_page_is_friendly(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    frozen_simulator.switches.fail_next(10, status=500)
    response = staff_client.get(f"/calls/{call_id}/")
    frozen_simulator.switches.reset()
    assert response.status_code == 502
    assert "Truedy could not be reached" in response.content.decode()


def test_a_call_opened_without_a_list_looks_up_no_list(staff_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    response = staff_client.get(f"/calls/{call_id}/")
    assert response.context["neighbours"] is None
    assert 'href="/calls/">← Back to calls' in response.content.decode()
    assert "/api/public/v1/calls" not in upstream_paths(frozen_simulator)


# --- review aids: links to a moment, dead air, talk time ------------------------------------

SUPPORT_RECORDED = "341ef40b-57c7-40aa-b7b5-6ea735ebd32d"  # support_inbound audio, 8.6 s dead air


def test_a_link_to_a_moment_cues_the_player_and_marks_the_turn(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{SUPPORT_RECORDED}/?t=0:31")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["moment"] == 31.0
    assert f'src="/calls/{SUPPORT_RECORDED}/recording#t=31.00" data-start="31.00"' in html
    # 0:31 is in the silence after turn 5 ("Let me check that for you"), so turn 5 is current.
    assert response.context["moment_turn"] == 5
    assert html.count('aria-current="true"') == 1
    assert '<li class="turn turn-agent" id="turn-5"' in html.split('aria-current="true"')[0]


def test_a_moment_past_the_end_cues_the_end(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{SUPPORT_RECORDED}/?t=5m")
    call = response.context["call"]
    assert response.status_code == 200
    assert response.context["moment"] == call.duration_seconds
    assert response.context["moment_turn"] == len(call.transcript)


def test_an_unreadable_moment_is_a_400_that_still_shows_the_call(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{SUPPORT_RECORDED}/?t=%3Cb%3Esoon")
    html = response.content.decode()
    assert response.status_code == 400
    assert "This link's moment could not be read" in html
    assert "“&lt;b&gt;soon” is not a time" in html
    assert 'id="transcript-turns"' in html
    assert 'aria-current="true"' not in html
    assert "#t=" not in html


def test_timestamps_link_to_their_moment_and_keep_the_list(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{SUPPORT_RECORDED}/?status=ended&tz=UTC").content.decode()
    assert '<a class="at" href="?status=ended&amp;tz=UTC&amp;t=0.00"' in html
    alone = staff_client.get(f"/calls/{SUPPORT_RECORDED}/").content.decode()
    assert 'href="?t=0.00" aria-label="Agent at 0:00: play from here">0:00</a>' in alone


def test_dead_air_and_talk_time_are_shown(staff_client, frozen_simulator):
    response = staff_client.get(f"/calls/{SUPPORT_RECORDED}/")
    html = response.content.decode()
    timing = response.context["timing"]
    gap = timing.longest_silence
    assert gap.number == 6 and round(gap.silence_before) == 9
    assert html.count('<li class="silence"') == 1
    assert "<span>9 s silence</span></li>" in html
    assert html.index("9 s silence") < html.index('id="turn-6"')
    assert f"9 s before 0:{int(gap.start):02d}</a>" in html
    agent, contact = timing.talk_share()
    # An estimate, and shown as one.
    assert f"Agent ≈ {int(agent[1]) // 60}:{int(agent[1]) % 60:02d} (≈{agent[2]}%)" in html
    assert f"Contact ≈ {int(contact[1]) // 60}:{int(contact[1]) % 60:02d} (≈{contact[2]}%)" in html
    assert "Estimated from the words, at 15 characters a second" in html


def test_dead_air_threshold_is_a_setting(staff_client, frozen_simulator, settings):
    settings.DEAD_AIR_SECONDS = 20
    html = staff_client.get(f"/calls/{SUPPORT_RECORDED}/").content.decode()
    assert '<li class="silence"' not in html
    assert "None of 20 s or more" in html


def test_player_tools_wait_for_javascript(staff_client, frozen_simulator):
    html = staff_client.get(f"/calls/{SUPPORT_RECORDED}/").content.decode()
    assert '<div class="player-tools" data-player-tools hidden>' in html
    assert "data-search-box hidden>" in html
    for rate in ("0.75", "1", "1.25", "1.5", "2"):
        assert f'<option value="{rate}"' in html
