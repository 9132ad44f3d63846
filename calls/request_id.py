"""One id per request, on the response and on every log line written while serving it.

The id comes from the load balancer's ``X-Request-ID`` when it is sane (so one id follows the
request through every hop), else a fresh one. A contextvar carries it to ``RequestIdFilter``, so
log calls need not pass it; ``JsonFormatter`` writes one JSON object per line for log shippers.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from calls.log_filters import redact

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# Anything else (too long, spaces, quotes, newlines) could forge or break a log line: replaced.
VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NO_REQUEST = "-"  # the request_id of a record written outside any request (startup, commands)

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def accepted_or_new(inbound: str | None) -> str:
    """The inbound id if it is safe to echo and log, else a new random one."""
    if inbound and VALID_ID.fullmatch(inbound):
        return inbound
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain: every later middleware, view and log line sees the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted_or_new(request.headers.get(HEADER))
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[HEADER] = request_id
        return response


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
