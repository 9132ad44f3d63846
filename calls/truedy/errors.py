"""The exceptions the Truedy client raises.

Every failure of the upstream (transport, HTTP status, unexpected JSON) becomes one of these, so
callers catch ``TruedyError`` subclasses and never httpx, ``KeyError`` or ``ValueError``.
Pure Python: no Django, no httpx.

Hierarchy::

    TruedyError
    ├── Unauthorized            401: key missing or invalid
    │   └── Forbidden           403: key not allowed (e.g. IP allow-list)
    ├── PaymentRequired         402: billing / credits
    ├── NotFound                404
    │   ├── InvalidCallId       our pre-flight rejection of an unsafe id (no request made)
    │   └── InvalidCampaignId   the same for a batch call's id
    ├── ValidationFailed        400 / 422
    ├── RateLimited             429
    ├── UpstreamUnavailable     5xx, connection failures, unexpected statuses
    │   └── UpstreamTimeout
    ├── MalformedResponse       not JSON, or not the documented shape
    └── RecordingUnavailable    signed recording link expired, forbidden or gone
"""

from __future__ import annotations


class TruedyError(Exception):
    """Base class. ``request_id`` is Truedy's ``meta.request_id``: what Truedy support asks for.

    ``retry_after`` (seconds) is set when the upstream said how long to wait (429, or a 5xx with
    ``Retry-After``); ``code`` is Truedy's ``error.code`` when the error envelope had one.
    """

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.status_code = status_code
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request_id={self.request_id})"
        return self.message


class Unauthorized(TruedyError):
    """401: the API key is missing or invalid."""


class Forbidden(Unauthorized):
    """403: the key is valid but not allowed (IP allow-list...): still an operator problem."""


class PaymentRequired(TruedyError):
    """402: the Truedy account is out of credits or billing failed."""


class NotFound(TruedyError):
    """404: no such call (or agent, or batch call)."""


class InvalidCallId(NotFound):
    """A call id that fails ``is_valid_call_id``; raised before any request is made."""


class InvalidCampaignId(NotFound):
    """A batch call id of the wrong shape (``is_valid_call_id``); no request is made."""


class ValidationFailed(TruedyError):
    """400/422: Truedy rejected a parameter. ``field``/``reason`` come from ``error.details``."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            request_id=request_id,
            status_code=status_code,
            code=code,
            retry_after=retry_after,
        )
        self.field = field
        self.reason = reason


class RateLimited(TruedyError):
    """429: too many requests. ``retry_after`` is in seconds when known."""


class UpstreamUnavailable(TruedyError):
    """Truedy could not be reached, answered 5xx, or answered a status we do not expect."""


class UpstreamTimeout(UpstreamUnavailable):
    """Truedy did not connect or answer within the configured timeouts."""


class MalformedResponse(TruedyError):
    """Truedy answered something that is not JSON or not the documented shape."""


class RecordingUnavailable(TruedyError):
    """The signed recording link is expired/forbidden (403), gone (404/410) or not acceptable."""
