"""Log lines: secrets kept out of them and of error reports, and each one tagged with its request.

The API key and signed recording links never reach a log line or an error report.

httpx logs every request's full URL at INFO (``HTTP Request: GET https://…?signature=…``); a
signed recording link is a bearer credential for 24 hours, and the API key must never be written
anywhere. ``RedactSecretsFilter`` sits on the console handler, so every record that reaches it,
whatever its logger and level, is scrubbed first. ``SecretScrubbingReporterFilter`` does the same
for Django's error reports (the technical 500 page and the ``mail_admins`` email), whose frame
variables would otherwise show a ``Call`` with its signed ``recording_url``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.defaultfilters import pprint
from django.views.debug import SafeExceptionReporterFilter

REDACTED = "[redacted]"
# A key shorter than this is no real key; replacing it everywhere would garble every message.
_MIN_KEY_LENGTH = 8

# Redaction runs on every log line, including ones an anonymous request shapes (an 8 KB Host
# header, a 4 KB unknown path): it must cost time linear in a bounded length. The text is cut
# to this length first, and scanned by one token pattern that cannot backtrack (a run of one
# character class); each token is then judged with plain string operations.
MAX_REDACTED_LENGTH = 16 * 1024
_TOKEN_RE = re.compile(r"""[^\s"'<>`]+""")
_BEARER_RE = re.compile(r"\b(Bearer\s+)[^\s\"',;]+", re.I)
# A signed parameter, in a URL or outside one (a bare path and query, a raw query string).
_SIGNED_PARAMETERS = (
    "signature=",
    "x-amz-signature=",
    "x-amz-credential=",
    "x-amz-security-token=",
)
_QUERY_START_RE = re.compile(r"[?#]")


def _redact_token(match: re.Match[str]) -> str:
    """An absolute URL loses its query and fragment (scheme, host and path are kept); a token
    with a signed parameter loses its query, or is dropped whole when it is nothing but one."""
    token = match.group()
    scheme_end = token.find("://")
    if scheme_end > 0:
        query = _QUERY_START_RE.search(token, scheme_end + 3)
        if query:
            token = token[: query.start()]
    lowered = token.lower()
    if any(parameter in lowered for parameter in _SIGNED_PARAMETERS):
        head, question_mark, _ = token.partition("?")
        return head if question_mark and head else REDACTED
    return token


def _api_key() -> str:
    try:
        key = settings.TRUEDY_API_KEY
    except (ImproperlyConfigured, AttributeError):  # logging outside a configured Django
        return ""
    return key if isinstance(key, str) and len(key) >= _MIN_KEY_LENGTH else ""


def redact(text: str) -> str:
    """``text`` without the configured API key, bearer tokens, or URL query strings, cut to
    MAX_REDACTED_LENGTH characters (the key is replaced before the cut, so no half of it
    survives)."""
    key = _api_key()
    if key:
        text = text.replace(key, REDACTED)
    if len(text) > MAX_REDACTED_LENGTH:
        cut = len(text) - MAX_REDACTED_LENGTH
        text = f"{text[:MAX_REDACTED_LENGTH]}… [{cut} characters cut]"
    text = _TOKEN_RE.sub(_redact_token, text)
    return _BEARER_RE.sub(rf"\1{REDACTED}", text)


def _redact_arg(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value  # %d and %f must still get a number
    # httpx.URL and anything else whose text may hold a URL: scrubbed text only if it changes.
    try:
        text = str(value)
    except Exception:  # a broken __str__ is logging's problem, not ours
        return value
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactSecretsFilter(logging.Filter):
    """Scrub a record's message, arguments, traceback and stack in place; never drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Arguments first, keeping their types where they hold nothing secret (%d needs an int).
        if isinstance(record.args, Mapping):
            record.args = {name: _redact_arg(value) for name, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(value) for value in record.args)
        # Then the message as it will be written: it catches a secret in the format string, or in
        # an argument's repr (%r) that its str did not show.
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it, with msg and args
            if isinstance(record.msg, str):
                record.msg = redact(record.msg)
        else:
            if redact(message) != message:
                record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set, so the traceback is rendered once, scrubbed.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _Shown:
    """A scrubbed frame variable: shown in the report exactly as its (scrubbed) text."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


class SecretScrubbingReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: no value in a report may show the API key or a signed link.

    It applies with DEBUG on as well: neither is ever needed to debug a page.
    """

    def _scrubbed(self, value: Any) -> Any:
        text = pprint(value)  # exactly what the report would show
        cleaned = redact(text)
        return value if cleaned == text else _Shown(cleaned)

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        # str(): a lazy setting (django-axes has some) passes isinstance(…, str) but is no str.
        return redact(str(cleansed)) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self._scrubbed(value)) for name, value in variables]


# --- request ids on log lines -------------------------------------------------------------------
# One id per request, on the response and on every log line written while serving it. The id
# comes from the load balancer's ``X-Request-ID`` when it is sane (so one id follows the request
# through every hop), else a fresh one. A contextvar carries it to ``RequestIdFilter``, so log
# calls need not pass it; ``JsonFormatter`` writes one JSON object per line for log shippers.

HEADER = "X-Request-ID"
# Anything else (too long, spaces, quotes, newlines) could forge or break a log line: replaced.
VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NO_REQUEST = "-"  # the request_id of a record written outside any request (startup, commands)

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    """Every log line written inside the block carries ``request_id``."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def accepted_or_new(inbound: str | None) -> str:
    """The inbound id if it is safe to echo and log, else a new random one."""
    if inbound and VALID_ID.fullmatch(inbound):
        return inbound
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside a request); never drops one.

    ``django.request`` writes its line for a 4xx or 5xx once the middleware has returned (the
    context variable is reset by then), but hands over the request: its id is read from there.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)
            record.request_id = (
                current_request_id() or getattr(request, "request_id", None) or NO_REQUEST
            )
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, then extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or NO_REQUEST,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = _field(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


def _field(value: Any) -> Any:
    """An ``extra=`` value as JSON: numbers and flags as they are, anything else as scrubbed
    text (RedactSecretsFilter cleans the message and arguments, not extras; Django's own
    ``extra={"request": ...}`` would otherwise write the request's repr unscrubbed)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value if isinstance(value, str) else str(value))
