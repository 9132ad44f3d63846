"""The API key and signed recording links never leave the server: not in pages, headers,
logs or error reports.

Real-key mode against the simulator over HTTP with a sentinel key: every page, fragment, download
and error page is swept, its body and headers, and so is every log record written meanwhile, with
httpx and httpcore turned up to DEBUG (the console handler's filter must hold even then). Then
an exception raised inside the client is rendered as Django's error report, DEBUG on and off.
(tests/test_access.py sweeps the bodies for agents' system prompts too.)
"""

import io
import logging
import sys

import httpx
import pytest
from django.core.signals import got_request_exception
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from calls.logs import RedactSecretsFilter
from calls.simulator import Simulator, serve
from calls.truedy.client import TruedyClient
from calls.upstream import gateway
from tests.test_access import SAMPLE_CALL, SENTINEL_KEY
from tests.views.test_call_detail import (
    ENDED_5S_AGO,
    LIVE,
    a_call_with_status,
    an_ended_call_with_turns,
)
from tests.views.test_recording import expired_recorded_call, recorded_call

pytestmark = pytest.mark.django_db

# What a signed recording link is made of: none of it may reach a browser.
SIGNED_LINK_PARTS = ("signature=", "expires=", "/recordings/")
# In logs the link's path may appear (the client logs host + path of a failed download, which
# names no secret); its query, the bearer part, may not: no Signature=, X-Amz- or API key.
LOG_SECRET_PARTS = (SENTINEL_KEY, "signature=", "expires=", "x-amz-")


@pytest.fixture
def remote(settings, frozen_simulator):
    """The dashboard in real-key mode, talking HTTP to a simulator that wants the sentinel key."""
    simulator = Simulator(
        seed=42, call_count=2000, now=frozen_simulator.clock.now(), api_key=SENTINEL_KEY
    )
    server = serve(simulator, host="127.0.0.1", port=0)
    settings.TRUEDY_API_KEY = SENTINEL_KEY
    settings.TRUEDY_API_BASE_URL = server.base_url
    gateway.reset()
    try:
        yield simulator
    finally:
        gateway.reset()
        server.shutdown()


def console_handler() -> logging.Handler:
    return next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
    )


@pytest.fixture
def every_log_record(caplog):
    """caplog at DEBUG for every logger, httpx and httpcore included, and the text the console
    handler actually writes. Yields that text's buffer."""
    for name in (None, "httpx", "httpcore", "calls", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    console = console_handler()
    # The console handler scrubs records in place; caplog's handler must see them after it.
    handlers = logging.getLogger().handlers
    assert handlers.index(console) < handlers.index(caplog.handler)
    written = io.StringIO()
    previous = console.setStream(written)
    try:
        yield written
    finally:
        console.setStream(previous)


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def assert_no_secret_in_logs(caplog, written: io.StringIO) -> None:
    assert caplog.records, "nothing was logged: the capture is not working"
    texts = [written.getvalue(), caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        for part in LOG_SECRET_PARTS:
            assert part.lower() not in text.lower(), f"{part!r} was logged: {text[:2000]}"


def test_no_page_fragment_download_header_or_log_line_carries_a_secret(
    staff_client, remote, caplog, every_log_record
):
    ended = an_ended_call_with_turns(remote)
    recorded = recorded_call(remote).id
    expired = expired_recorded_call(remote).id
    hx = {"HTTP_HX_REQUEST": "true"}
    visits = [
        ("/calls/", {}, 200),
        ("/calls/?status=bogus&created_after=2026-02-30", {}, 400),
        ("/calls/?page=999", {}, 404),
        ("/calls/?status=ended", {**hx, "HTTP_HX_TARGET": "results"}, 200),
        ("/calls/?status=bogus", {**hx, "HTTP_HX_TARGET": "results"}, 400),
        (f"/calls/{ended}/", {}, 200),
        (f"/calls/{ended}/?status=ended&page=1", {}, 200),
        (f"/calls/{ended}/transcript.txt", {}, 200),
        (f"/calls/{recorded}/", {}, 200),
        (f"/calls/{recorded}/recording", {}, 200),
        (f"/calls/{recorded}/recording", {"HTTP_RANGE": "bytes=100-"}, 206),
        (f"/calls/{expired}/recording", {}, 410),
        (f"/calls/{LIVE}/", {**hx, "HTTP_HX_TARGET": "call"}, 200),
        (f"/calls/{ENDED_5S_AGO}/", {**hx, "HTTP_HX_TARGET": "transcript"}, 200),
        (f"/calls/{SAMPLE_CALL}/", {}, 404),
        (f"/calls/{SAMPLE_CALL}/", {**hx, "HTTP_HX_TARGET": "call"}, 404),
        (f"/calls/{SAMPLE_CALL}/recording", {}, 404),
        (f"/calls/{SAMPLE_CALL}/transcript.txt", {}, 404),
        ("/calls/a.b/", {}, 404),
    ]
    responses = []
    for url, headers, expected in visits:
        response = staff_client.get(url, **headers)
        responses.append((url, response, body_of(response)))  # streams read while the server is up
        assert response.status_code == expected, url

    # Storage refuses a fresh link: the recording is gone (the client logs the failed download).
    remote.switches.refuse_recordings_next(1, status=403)
    response = staff_client.get(f"/calls/{recorded}/recording", HTTP_RANGE="bytes=0-")
    responses.append(("refused recording", response, body_of(response)))
    assert response.status_code == 410
    # Truedy fails: the list, a fragment, a call and a download each say so (nothing cached).
    failed, cancelled = (
        a_call_with_status(remote, "failed"),
        a_call_with_status(remote, "cancelled"),
    )
    for url, headers in [
        ("/calls/?status=cancelled", {}),
        ("/calls/?status=failed", {**hx, "HTTP_HX_TARGET": "results"}),
        (f"/calls/{failed}/", {}),
        (f"/calls/{cancelled}/transcript.txt", {}),
    ]:
        remote.switches.fail_next(3, status=500)
        response = staff_client.get(url, **headers)
        responses.append((url, response, body_of(response)))
        assert response.status_code in (502, 503), url
    remote.switches.reset()

    assert remote.requests, "the dashboard did not use the configured API"
    for url, response, body in responses:
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        for part in (SENTINEL_KEY, *SIGNED_LINK_PARTS):
            assert part not in body, f"{part!r} in the body of {url}"
            assert part not in headers, f"{part!r} in the headers of {url}"
    assert any(r.name == "httpx" for r in caplog.records), "httpx did not log at DEBUG"
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert_no_secret_in_logs(caplog, every_log_record)


# --- error reports ---------------------------------------------------------------------------


class StorageExploded(RuntimeError):
    """Not an httpx error: the client lets it through, so the page is a 500."""


@pytest.fixture
def exploding_storage(settings, monkeypatch):
    """Real-key mode whose API answers normally (the simulator, in-process, wanting the sentinel
    key) and whose recording storage raises inside the client, mid-``open_recording``."""
    simulator = Simulator(seed=42, call_count=2000, api_key=SENTINEL_KEY)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/recordings/"):
            raise StorageExploded("storage exploded")
        return simulator.handle(request)

    settings.TRUEDY_API_KEY = SENTINEL_KEY
    client = TruedyClient(
        base_url="https://api.truedy.test/api/public/v1",
        api_key=SENTINEL_KEY,
        transport=httpx.MockTransport(handler),
        max_attempts=1,
    )
    monkeypatch.setattr(gateway, "_client", client)
    yield simulator
    client.close()


def test_an_error_report_shows_neither_the_key_nor_a_signed_link(
    staff_client, exploding_storage, settings, caplog, every_log_record
):
    caught = []

    def keep(sender, request, **kwargs):
        caught.append((request, *sys.exc_info()))

    got_request_exception.connect(keep)
    try:
        call_id = recorded_call(exploding_storage).id
        with pytest.raises(StorageExploded):
            staff_client.get(f"/calls/{call_id}/recording")
    finally:
        got_request_exception.disconnect(keep)
    [(request, exc_type, exc_value, tb)] = caught

    # The frames really do hold a signed link: Django's own filter would show it.
    settings.DEBUG = True
    request.exception_reporter_filter = SafeExceptionReporterFilter()
    unscrubbed = ExceptionReporter(request, exc_type, exc_value, tb).get_traceback_html()
    assert "signature=" in unscrubbed, "nothing to scrub here: the test proves nothing"
    del request.exception_reporter_filter

    reports = {}
    for debug in (False, True):
        settings.DEBUG = debug
        reporter = ExceptionReporter(request, exc_type, exc_value, tb)
        mail = ExceptionReporter(request, exc_type, exc_value, tb, is_email=True)
        reports[f"text, DEBUG={debug}"] = reporter.get_traceback_text()
        reports[f"html, DEBUG={debug}"] = reporter.get_traceback_html()
        reports[f"mail_admins html, DEBUG={debug}"] = mail.get_traceback_html()
    for name, report in reports.items():
        assert "storage exploded" in report and "open_recording" in report, name
        for part in (SENTINEL_KEY, "signature=", "expires="):
            assert part not in report, f"{part!r} in the {name} report"
    # The frames are still there to debug with: the link's host and path survive.
    assert "https://api.truedy.test/recordings/" in reports["html, DEBUG=False"]
    assert_no_secret_in_logs(caplog, every_log_record)
