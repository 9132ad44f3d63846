"""Server-Timing: cache, upstream and render time per request, so anyone can see where a page's
time went in the browser's network panel."""

import re
import time

import pytest

from calls.lib.server_timing import Timings, timed
from calls.middleware import ServerTimingMiddleware
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

ENTRY = re.compile(r'(?P<name>\w+);dur=(?P<dur>[\d.]+)(?:;desc="(?P<desc>[^"]*)")?')


def parse(header: str) -> dict[str, tuple[float, str | None]]:
    entries = {}
    for part in header.split(", "):
        match = ENTRY.fullmatch(part)
        assert match, f"not a Server-Timing entry: {part!r}"
        entries[match["name"]] = (float(match["dur"]), match["desc"])
    return entries


def test_the_header_lists_what_happened_in_milliseconds():
    timings = Timings()
    timings.add("cache", 0.0002)
    timings.add("cache", 0.0002)
    timings.add("upstream", 0.0512)
    assert timings.header(0.06) == (
        'cache;dur=0.4;desc="2 ops", upstream;dur=51.2;desc="1 request", total;dur=60.0'
    )


def test_outside_a_request_timed_only_runs_the_block():
    ran = []
    with timed("cache"):
        ran.append(1)
    assert ran == [1]


def test_a_cold_list_page_spends_time_upstream_and_a_warm_one_does_not(
    staff_client, frozen_simulator
):
    frozen_simulator.switches.latency_seconds = 0.03
    cold = parse(staff_client.get("/calls/?status=ended")["Server-Timing"])
    assert cold["upstream"][0] >= 30 * 2, "the agent list and the page, 30 ms each"
    assert cold["upstream"][1] == "2 requests"
    assert cold["cache"][0] > 0 and cold["render"][0] > 0
    assert cold["total"][0] >= cold["upstream"][0] + cold["render"][0]

    warm = parse(staff_client.get("/calls/?status=ended")["Server-Timing"])
    assert "upstream" not in warm, "served from the cache"
    assert warm["cache"][1].endswith("ops") and warm["render"][0] > 0
    assert warm["total"][0] < cold["total"][0]


def test_a_fragment_and_an_error_page_are_timed_too(staff_client, frozen_simulator):
    fragment = staff_client.get("/calls/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert "render" in parse(fragment["Server-Timing"])
    frozen_simulator.switches.fail_next(10, status=500)
    failed = staff_client.get("/calls/?status=failed")
    assert failed.status_code == 502
    assert {"upstream", "render", "total"} <= set(parse(failed["Server-Timing"]))


def test_a_streamed_recording_says_what_was_known_before_its_first_byte(
    staff_client, frozen_simulator
):
    call = recorded_call(frozen_simulator)
    response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    entries = parse(response["Server-Timing"])
    assert entries["upstream"][1] == "2 requests", "the call (for its link), then the audio"
    assert "render" not in entries
    b"".join(response.streaming_content)


def test_anonymous_redirects_have_a_total(client):
    assert set(parse(client.get("/calls/")["Server-Timing"])) == {"total"}


def test_render_covers_only_rendering(rf, monkeypatch):
    """The middleware's render time starts when Django is about to render."""
    from django.http import HttpResponse
    from django.template.response import SimpleTemplateResponse

    class SlowTemplateResponse(SimpleTemplateResponse):
        @property
        def rendered_content(self) -> str:
            time.sleep(0.02)
            return "slow"

    def view(request):
        time.sleep(0.01)  # view time is not render time
        return SlowTemplateResponse("unused.html")

    middleware = ServerTimingMiddleware(lambda request: HttpResponse())

    def handler(request):
        response = view(request)
        response = middleware.process_template_response(request, response)
        return response.render()

    middleware.get_response = handler
    entries = parse(middleware(rf.get("/"))["Server-Timing"])
    assert 20 <= entries["render"][0] < 30
    assert entries["total"][0] >= 30
