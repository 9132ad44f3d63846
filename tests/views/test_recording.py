"""The recording proxy at /calls/<id>/recording and the inline player on the call page."""

import dataclasses
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from calls.upstream import cache as upstream_cache
from calls.upstream import reads

pytestmark = pytest.mark.django_db

HOUR = 3600


def recorded_call(sim, *, ended_within_hours: float = 24):
    """A call of the frozen simulator with a recording whose link is still valid."""
    now = sim.clock.now_us()
    for call in sim.data.calls:
        if (
            call.recording
            and call.ended
            and 0 < now - call.ended < ended_within_hours * HOUR * 10**6
            and call.status_at(now) == "ended"
        ):
            return call
    raise AssertionError("no recorded call in the window")


def expired_recorded_call(sim):
    now = sim.clock.now_us()
    return next(
        c for c in sim.data.calls if c.recording and c.ended and now - c.ended > 48 * HOUR * 10**6
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_recording_streams_through(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    audio = call.recording.path.read_bytes()
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 200
    assert response.streaming, "the MP3 is streamed, never held whole in memory"
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(audio)
    assert response["Cache-Control"] == "private, no-store"
    assert body(response) == audio


def test_a_range_request_is_passed_through_for_seeking(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    audio = call.recording.path.read_bytes()
    response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE="bytes=1000-1999")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{len(audio)}"
    assert response["Content-Length"] == "1000"
    assert body(response) == audio[1000:2000]
    sent = frozen_simulator.requests[-1]
    assert sent.headers["range"] == "bytes=1000-1999"
    assert "authorization" not in sent.headers, "the API key never goes to the audio host"


def test_an_open_ended_range_seeks_to_the_end(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    audio = call.recording.path.read_bytes()
    response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE="bytes=-500")
    assert response.status_code == 206
    assert body(response) == audio[-500:]


def test_an_unsatisfiable_range_is_a_416(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    size = call.recording.path.stat().st_size
    response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE=f"bytes={size + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_the_call_page_plays_our_url_not_truedys(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    html = staff_client.get(f"/calls/{call.id}/").content.decode()
    assert f'preload="metadata" src="/calls/{call.id}/recording"' in html
    assert "signature=" not in html
    assert "/recordings/" not in html


def test_an_expired_recording_shows_a_note_and_answers_410(staff_client, frozen_simulator):
    call = expired_recorded_call(frozen_simulator)
    html = staff_client.get(f"/calls/{call.id}/").content.decode()
    assert "<audio" not in html
    assert "Truedy keeps recordings for 24 hours" in html
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert all("/recordings/" not in r.path for r in frozen_simulator.requests)


def test_a_recording_that_expires_while_cached_answers_410(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    assert staff_client.get(f"/calls/{call.id}/recording").status_code == 200
    frozen_simulator.clock.advance(25 * HOUR)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 410
    assert "expired" in response.content.decode().lower()


def test_a_call_without_a_recording_answers_404_with_a_message(staff_client, frozen_simulator):
    now = frozen_simulator.clock.now_us()
    call = next(
        c
        for c in frozen_simulator.data.calls
        if c.recording is None and c.status_at(now) == "ended" and now - c.ended < HOUR * 10**6
    )
    html = staff_client.get(f"/calls/{call.id}/").content.decode()
    assert "This call was not recorded" in html
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 404
    assert "not recorded" in response.content.decode()


def test_an_unknown_call_has_no_recording(staff_client, frozen_simulator):
    response = staff_client.get("/calls/call_doesnotexist000000000000/recording")
    assert response.status_code == 404


def test_a_link_refused_by_storage_is_fetched_again(staff_client, frozen_simulator):
    """The cached call holds a link Truedy has since replaced: one fresh fetch, then play."""
    call = recorded_call(frozen_simulator)
    fresh = reads.get_call(call.id)
    stale = dataclasses.replace(fresh, recording_url=fresh.recording_url.replace("sig", "gis"))
    entry = upstream_cache.Entry(stale, timezone.now(), time.time() + 60)
    cache.set(upstream_cache.cache_key("call", {"id": call.id}), entry, 60)
    frozen_simulator.reset_requests()
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 200
    assert body(response) == call.recording.path.read_bytes()
    paths = [r.path for r in frozen_simulator.requests]
    assert paths == [
        f"/recordings/{call.id}.mp3",  # the cached (tampered) link: refused
        f"/api/public/v1/calls/{call.id}",  # a fresh call
        f"/recordings/{call.id}.mp3",  # its link plays
    ]


def test_the_recording_link_is_never_cached_past_its_expiry(frozen_simulator):
    call = recorded_call(frozen_simulator, ended_within_hours=24)
    # Stand five minutes before the link dies: the call may be cached for three at most.
    ended = reads.get_call(call.id).ended_at
    frozen_simulator.clock.set(ended + timedelta(hours=23, minutes=55))
    cache.clear()
    fetched = reads.get_call(call.id)
    assert fetched.recording_url
    ttl = reads.call_ttl(fetched, frozen_simulator.clock.now())
    assert ttl == 180
    assert frozen_simulator.clock.now() + timedelta(seconds=ttl) < ended + timedelta(hours=24)


def test_an_upstream_failure_answers_502(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    frozen_simulator.switches.fail_next(10, status=500)
    response = staff_client.get(f"/calls/{call.id}/recording")
    frozen_simulator.switches.reset()
    assert response.status_code == 502
