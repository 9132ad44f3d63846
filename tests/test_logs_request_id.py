"""Every request has an id: taken from a sane X-Request-ID or made up, echoed on the response,
on every log line written while serving it, and on the error pages."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from calls.logs import (
    NO_REQUEST,
    JsonFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
    accepted_or_new,
    current_request_id,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "inbound", ["abc-123", "a.b_c-D", "x" * 64, "0af7651916cd43dd8448eb211c80319c"]
)
def test_a_sane_inbound_id_is_kept(inbound):
    assert accepted_or_new(inbound) == inbound


@pytest.mark.parametrize(
    "inbound",
    [None, "", "x" * 65, "has space", 'quo"te', "new\nline", "semi;colon", "ünïcode", "a/b"],
)
def test_anything_else_gets_a_fresh_id(inbound):
    made = accepted_or_new(inbound)
    assert made != inbound
    assert len(made) == 32 and made.isalnum()


def test_the_id_is_echoed_and_a_bad_one_replaced(client):
    kept = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a")
    assert kept["X-Request-ID"] == "lb-7f3a"
    replaced = client.get("/accounts/login/", HTTP_X_REQUEST_ID="evil\r\nSet-Cookie: x=1")
    assert replaced["X-Request-ID"] != "lb-7f3a" and len(replaced["X-Request-ID"]) == 32
    fresh = [client.get("/accounts/login/")["X-Request-ID"] for _ in range(2)]
    assert fresh[0] != fresh[1], "each request its own id"


def test_redirects_and_static_files_carry_it_too(client):
    assert client.get("/calls/", HTTP_X_REQUEST_ID="r1")["X-Request-ID"] == "r1"  # to sign in
    assert client.get("/static/css/app.css", HTTP_X_REQUEST_ID="r2")["X-Request-ID"] == "r2"


def test_log_lines_written_during_a_request_carry_its_id(staff_client, frozen_simulator, caplog):
    frozen_simulator.switches.fail_next(10, status=500)
    with caplog.at_level(logging.WARNING):
        response = staff_client.get("/calls/?status=failed", HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code == 502
    records = [r for r in caplog.records if r.name.startswith("calls.")]
    assert records, "the failure was logged"
    # caplog's handler has no filters of its own: run the one the settings put on every handler.
    for record in records:
        RequestIdFilter().filter(record)
        assert record.request_id == "trace-42"
    assert current_request_id() is None, "the id does not outlive its request"


def test_djangos_own_line_for_an_error_response_carries_the_id(
    staff_client, frozen_simulator, caplog
):
    """django.request writes after the middleware has returned: the id comes from the request."""
    frozen_simulator.switches.fail_next(10, status=500)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        staff_client.get("/calls/?status=failed", HTTP_X_REQUEST_ID="trace-43")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records, "Django logged the 502"
    for record in records:
        RequestIdFilter().filter(record)
        assert record.request_id == "trace-43"


def test_the_error_page_quotes_the_dashboards_request_id(staff_client, frozen_simulator):
    frozen_simulator.switches.fail_next(10, status=500)
    response = staff_client.get("/calls/?status=failed", HTTP_X_REQUEST_ID="trace-43")
    assert response.status_code == 502
    assert "trace-43" in response.content.decode()


def _record(message: str, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord("calls.test", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_outside_a_request_the_id_is_a_dash():
    record = _record("starting")
    RequestIdFilter().filter(record)
    assert record.request_id == NO_REQUEST


def test_json_lines_have_the_fields_and_the_extras():
    record = _record("Truedy failed %d times", 5, request_id="r-9", status_code=502, path="/x")
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "calls.test"
    assert entry["message"] == "Truedy failed 5 times"
    assert entry["request_id"] == "r-9"
    assert entry["status_code"] == 502 and entry["path"] == "/x"
    assert entry["ts"].endswith("+00:00")


def test_json_lines_include_the_traceback_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exc"]


@override_settings(TRUEDY_API_KEY="truedy_SENTINELkeyMUSTneverLEAK0123456789")
def test_json_lines_never_show_a_secret_even_in_extras():
    """RedactSecretsFilter cleans message and arguments; the formatter cleans extras."""
    record = _record(
        "GET %s",
        "https://storage.example/rec.mp3?signature=abc",
        upstream="https://storage.example/rec.mp3?signature=abc",
        key_holder=type(
            "K", (), {"__str__": lambda self: "truedy_SENTINELkeyMUSTneverLEAK0123456789"}
        )(),
    )
    RedactSecretsFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "signature=" not in line
    assert "SENTINEL" not in line


def test_every_handler_keeps_the_secret_filter_and_adds_the_id(settings):
    for handler in settings.LOGGING["handlers"].values():
        assert "redact_secrets" in handler["filters"]
        assert "request_id" in handler["filters"]


def test_production_logs_json_lines_with_the_request_id():
    """DEBUG off: a log line is one JSON object (LOG_FORMAT=text turns it back)."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('calls.probe').warning('hello %s', 'world', extra={'n': 1})"
    )
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "Zq9!" * 10,
        "DJANGO_SETTINGS_MODULE": "truedy_dashboard.settings",
    }
    env.pop("LOG_FORMAT", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello world"
    assert entry["request_id"] == NO_REQUEST and entry["n"] == 1
    text = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "LOG_FORMAT": "text"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text.stderr.strip().endswith("WARNING calls.probe [-] hello world")
