"""calls.logs: log records and error reports lose URL query strings and the API key."""

import io
import logging
import sys
import time

import httpx
import pytest

from calls.logs import (
    MAX_REDACTED_LENGTH,
    REDACTED,
    RedactSecretsFilter,
    SecretScrubbingReporterFilter,
    redact,
)

KEY = "truedy_SENTINELkeyMUSTneverLEAK0123456789"
SIGNED = "https://storage.example.com/recordings/call_1.mp3?expires=1790000000&signature=ab12cd"


@pytest.fixture(autouse=True)
def _key(settings):
    settings.TRUEDY_API_KEY = KEY


def record(msg, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args or None, exc_info)


def filtered(msg, *args, exc_info=None) -> logging.LogRecord:
    rec = record(msg, *args, exc_info=exc_info)
    assert RedactSecretsFilter().filter(rec) is True  # scrubbed, never dropped
    return rec


def test_httpx_request_line_keeps_the_url_without_its_query():
    rec = filtered(
        'HTTP Request: %s %s "%s %d %s"', "GET", httpx.URL(SIGNED), "HTTP/1.1", 200, "OK"
    )
    assert rec.getMessage() == (
        'HTTP Request: GET https://storage.example.com/recordings/call_1.mp3 "HTTP/1.1 200 OK"'
    )


def test_numbers_stay_numbers_for_their_placeholders():
    rec = filtered("%s answered %d after %.1f s", "https://api.example.com/v1/calls?x=1", 503, 1.5)
    assert rec.args == ("https://api.example.com/v1/calls", 503, 1.5)
    assert rec.getMessage() == "https://api.example.com/v1/calls answered 503 after 1.5 s"


def test_the_api_key_is_redacted_in_the_message_and_in_arguments():
    assert filtered(f"key is {KEY}").getMessage() == f"key is {REDACTED}"
    assert filtered("headers: %s", {"Authorization": f"Bearer {KEY}"}).getMessage() == (
        f"headers: {{'Authorization': 'Bearer {REDACTED}'}}"
    )


def test_any_bearer_token_is_redacted():
    assert filtered("Authorization: Bearer abc.def-ghi").getMessage() == (
        f"Authorization: Bearer {REDACTED}"
    )


def test_a_secret_only_in_an_arguments_repr_is_caught():
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

        def __repr__(self) -> str:
            return f"Opaque({SIGNED!r})"

    rec = filtered("value=%r", Opaque())
    assert "signature" not in rec.getMessage()
    assert rec.getMessage() == "value=Opaque('https://storage.example.com/recordings/call_1.mp3')"


def test_mapping_arguments_are_scrubbed():
    rec = filtered("%(url)s %(status)d", {"url": SIGNED, "status": 200})
    assert rec.getMessage() == "https://storage.example.com/recordings/call_1.mp3 200"


def test_a_signature_outside_an_absolute_url_is_dropped():
    assert redact("GET /recordings/a.mp3?expires=1&signature=abc done") == (
        "GET /recordings/a.mp3 done"
    )
    assert redact("query expires=1&signature=abc") == f"query {REDACTED}"
    assert redact("X-Amz-Signature=abc") == REDACTED


def test_text_without_secrets_is_left_alone():
    text = 'GET /calls/?status=failed&page=2 "HTTP/1.1 200 OK" 0.25 s'
    assert redact(text) == text
    rec = filtered("plain %s", "words")
    assert rec.msg == "plain %s" and rec.args == ("words",)


def test_tracebacks_are_scrubbed():
    try:
        raise RuntimeError(f"failed on {SIGNED} with {KEY}")
    except RuntimeError:
        rec = filtered("boom", exc_info=sys.exc_info())
    assert "RuntimeError: failed on https://storage.example.com/recordings/call_1.mp3 with" in (
        rec.exc_text
    )
    assert "signature" not in rec.exc_text and KEY not in rec.exc_text
    formatted = logging.Formatter().format(rec)
    assert "signature" not in formatted and KEY not in formatted


def test_a_bad_format_string_still_reaches_the_handler_scrubbed():
    rec = filtered(f"{SIGNED} %d", "not a number")
    assert "signature" not in str(rec.msg)


def test_without_a_key_nothing_is_replaced_but_queries(settings):
    settings.TRUEDY_API_KEY = ""
    assert redact("no key here") == "no key here"


def test_the_console_handler_carries_the_filter():
    handlers = logging.getLogger().handlers
    console = [h for h in handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    assert console, "settings.LOGGING must put RedactSecretsFilter on the console handler"
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


def test_every_handler_the_settings_install_carries_the_filter():
    """No logger writes around it: Django's own defaults (its DEBUG console, runserver's access
    log, mail_admins) included."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    unfiltered = [
        (logger.name, handler)
        for logger in loggers
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")  # caplog and friends
        and not isinstance(handler, logging.NullHandler)  # writes nothing (Celery's loggers)
        and not any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
    ]
    assert unfiltered == []


def test_the_console_output_is_scrubbed_even_with_httpx_at_debug(caplog):
    console = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        caplog.set_level(logging.DEBUG, logger="httpx")
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s %d %s"', "GET", httpx.URL(SIGNED), "HTTP/1.1", 200, "OK"
        )
    finally:
        console.setStream(previous)
    written = stream.getvalue()
    assert "HTTP Request: GET https://storage.example.com/recordings/call_1.mp3" in written
    assert "signature" not in written and "expires" not in written


def test_error_report_filter_scrubs_settings_and_frame_variables(rf):
    reporter = SecretScrubbingReporterFilter()
    assert reporter.cleanse_setting("SOME_URL", SIGNED) == (
        "https://storage.example.com/recordings/call_1.mp3"
    )
    assert reporter.cleanse_setting("TRUEDY_API_KEY", KEY) == reporter.cleansed_substitute

    def frame_with_secrets():
        url = httpx.URL(SIGNED)  # noqa: F841 - read through the frame below
        header = f"Bearer {KEY}"  # noqa: F841
        harmless = 42  # noqa: F841
        return sys._getframe()

    variables = dict(reporter.get_traceback_frame_variables(rf.get("/"), frame_with_secrets()))
    assert repr(variables["url"]) == "URL('https://storage.example.com/recordings/call_1.mp3')"
    assert repr(variables["header"]) == f"'Bearer {REDACTED}'"
    assert variables["harmless"] == 42


def test_a_lazy_setting_in_an_error_report_is_shown_not_crashed_on(settings):
    """django-axes keeps some settings lazy: they pass isinstance(..., str) yet are no str, and
    the regex in redact() raised TypeError, turning Django's debug 500 page into a crash. With a
    key set, str.replace() had turned the value into a str first: it broke on the simulator."""
    from axes.conf import JSONSerializableLazyObject

    settings.TRUEDY_API_KEY = ""
    lazy = JSONSerializableLazyObject(lambda: "see https://x.test/r.mp3?signature=abc")
    shown = SecretScrubbingReporterFilter().cleanse_setting("AXES_SOMETHING", lazy)
    assert shown == "see https://x.test/r.mp3"


# Shapes that made the old patterns quadratic: a long run of URL-scheme characters never followed
# by "://", a long token never followed by a signed parameter, and the same broken up.
HOSTILE = {
    "letters": lambda n: "a" * n,
    "scheme characters": lambda n: "a+b.c-" * (n // 6),
    "url-ish": lambda n: "a://" * (n // 4),
    "queries": lambda n: "https://h/p?" * (n // 12),
    "signature-ish": lambda n: "signature" * (n // 9),
    "bearers": lambda n: "Bearer " * (n // 7),
    "a Host header": lambda n: "Invalid HTTP_HOST header: '" + "x" * n + "'.",
}


@pytest.mark.parametrize("size", [8 * 1024, 64 * 1024], ids=["8 KB", "64 KB"])
@pytest.mark.parametrize("shape", HOSTILE, ids=list(HOSTILE))
def test_redaction_takes_milliseconds_whatever_an_anonymous_request_sends(shape, size):
    """Django logs every 4xx with the request's Host or path: an anonymous 8 KB Host header
    cost 26 s of CPU with the old patterns. The bound here is 100 times what a linear scan
    takes on this machine (~0.5 ms), and a hundredth of what the quadratic one took."""
    text = HOSTILE[shape](size)
    started = time.perf_counter()
    cleaned = redact(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms for {len(text)} characters"
    assert len(cleaned) <= 2 * MAX_REDACTED_LENGTH  # "[redacted]" may be longer than a token


def test_a_long_text_is_cut_after_the_key_is_replaced():
    text = "x" * (MAX_REDACTED_LENGTH - 10) + KEY + " more"
    cleaned = redact(text)
    assert KEY[:10] not in cleaned and "characters cut]" in cleaned
    assert len(cleaned) <= MAX_REDACTED_LENGTH + 40


def test_an_8_kb_host_header_is_answered_at_once(client):
    started = time.perf_counter()
    response = client.get("/calls/", HTTP_HOST="h" * 8000)
    assert response.status_code == 400
    assert time.perf_counter() - started < 1.0
