"""The Truedy Calls API client: the only code that talks HTTP to Truedy.

One pooled ``httpx.Client`` with explicit timeouts and limits, bounded retries with full jitter
for idempotent GETs, ``Retry-After`` honoured but never slept on for long (a request thread
serves stale data instead), call ids checked before they reach a URL (an unchecked id could
change the path or host), the API key sent only to the API host. Every failure becomes a
``calls.truedy.errors.TruedyError``. Pure Python + httpx: no Django, so the upstream gateway
builds it from settings. The API contract:
https://docs.truedy.ai/guides/call-management.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import time
import urllib.parse
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx

from calls.lib.server_timing import timed
from calls.truedy.errors import (
    Forbidden,
    InvalidCallId,
    InvalidCampaignId,
    MalformedResponse,
    NotFound,
    PaymentRequired,
    RateLimited,
    RecordingUnavailable,
    TruedyError,
    Unauthorized,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationFailed,
)
from calls.truedy.media_guard import PublicAddressTransport, StorageHosts, playable_type
from calls.truedy.records import (
    CALL_ID_PATTERN,
    CAMPAIGN_STATUSES,
    DIRECTIONS,
    STATUSES,
    Agent,
    Call,
    CallPage,
    Campaign,
    CampaignPage,
    ContactPage,
    parse_agent_page,
    parse_call,
    parse_call_page,
    parse_campaign,
    parse_campaign_page,
    parse_contact_page,
    parse_timestamp,
)

if TYPE_CHECKING:
    from httpx._client import UseClientDefault  # the type of httpx.USE_CLIENT_DEFAULT

logger = logging.getLogger("calls.client")

T = TypeVar("T")


# Writes are tiny GETs; the pool timeout turns pool exhaustion into a fast error (back-pressure)
# instead of an unbounded queue.
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0

PAGE_LIMIT_MAX = 100  # the documented maximum `limit`
BATCH_PAGE_LIMIT = 50  # the batch-call endpoints' documented default `limit`
MAX_AGENT_PAGES = 100  # 10,000 agents: a guard against an upstream that never stops paging

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The request either never left (connect) or a GET may safely be repeated (read).
RETRY_TRANSPORT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)
# For recordings only connection failures are retried: a stream may already be half-consumed.
RECORDING_RETRY_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)

RECORDING_OK_STATUSES = frozenset({200, 206, 416})
# RecordingUnavailable codes of our own (Truedy's answers carry theirs): the link is not one
# the dashboard fetches, or what it answered is not audio.
LINK_REFUSED = "link_refused"
NOT_AUDIO = "not_audio"
RECORDING_GONE_STATUSES = frozenset({403, 404, 410})
# The only upstream headers a browser-facing audio response may need to play and seek; never
# hop-by-hop headers or Set-Cookie.
RECORDING_HEADERS = (
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "etag",
    "last-modified",
)

# A wait Truedy asks for (Retry-After, or a 429's reset_at) is honoured within these bounds. A
# rate limit whose reset has already passed by Truedy's clock still means "not this instant",
# and one hours away (a daily quota, or a clock gone wrong) is looked at again after a while
# rather than leaving every page waiting for hours.
RATE_LIMIT_WAIT_MIN = 1.0
WAIT_MAX = 300.0
# Truedy's clock is read from its answers (meta.ts, else the Date header). A reading further
# than this from ours is a broken header, not a clock: it is ignored.
MAX_CLOCK_SKEW = 24 * 3600.0
SKEW_WORTH_LOGGING = 60.0

# The largest API answer read. A three-hour call's transcript is well under 1 MB as JSON; list
# pages (no transcripts) far less.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024

_MAX_MESSAGE = 200  # upstream error messages are truncated for logs and exceptions
_MAX_ERROR_BODY = 16 * 1024  # read at most this much of a streamed error body


# The moment (time.monotonic) by which the current page must be done with Truedy, retries
# included, so it ends well before the worker timeout.
_deadline: ContextVar[float | None] = ContextVar("truedy_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request, retry and wait inside this block fits into ``seconds`` altogether."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline, or None when there is none."""
    moment = _deadline.get()
    return None if moment is None else moment - time.monotonic()


def is_valid_call_id(value: str) -> bool:
    """True if ``value`` is safe to put in an upstream URL path."""
    return isinstance(value, str) and CALL_ID_PATTERN.fullmatch(value) is not None


class TruedyClient:
    """A thread-safe client for the Truedy Calls API. Create one per process and reuse it."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 8.0,
        max_attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
        max_retry_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        max_connections: int = 20,
        max_recording_connections: int = 100,
        recording_hosts: Iterable[str] | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        user_agent: str = "truedy-dashboard/0.1",
        before_request: Callable[[str], None] | None = None,
    ) -> None:
        """``before_request(path)`` runs before every API request, retries included (not before
        recording links: those go to storage, outside the API's rate limit). It may wait, or
        raise a ``TruedyError`` to refuse the request: the caller's request budget lives there."""
        base = httpx.URL(base_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError("base_url must be an absolute http(s) URL")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not _is_header_safe(api_key) or " " in api_key:
            raise ValueError("api_key contains characters that cannot go in a header")
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._skew = 0.0  # seconds Truedy's clock is ahead of ours, as its last answer showed
        self._max_response_bytes = max_response_bytes
        self._before_request = before_request
        headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if api_key:  # no key at all: send nothing and let Truedy answer 401
            headers["Authorization"] = f"Bearer {api_key}"
        # httpx appends a trailing slash to base_url and relative paths are joined onto it, so
        # "calls" becomes "/api/public/v1/calls" with or without a slash in the setting.
        self._http = httpx.Client(
            base_url=base,
            transport=transport,
            headers=headers,
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
            ),
            limits=httpx.Limits(max_connections=max_connections),
            follow_redirects=False,
        )
        self._base_path = self._http.base_url.path
        # Where recording links may point (calls/truedy/media_guard.py): the setting, else Truedy's
        # own domain; the API's own origin always.
        self._storage_hosts = (
            StorageHosts(recording_hosts)
            if recording_hosts is not None
            else StorageHosts.default_for(base_url)
        )
        media_limits = httpx.Limits(max_connections=max_recording_connections)
        # Audio streams get their own pool with no API key in it: a room full of listeners can
        # hold connections for minutes and must not starve the API reads, and the key must
        # never reach a storage host. Storage hosts are dialled on public addresses only.
        self._media = httpx.Client(
            transport=transport
            if transport is not None
            else PublicAddressTransport(trusted=[base.host], limits=media_limits),
            headers={"User-Agent": user_agent},
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
            ),
            limits=media_limits,
            follow_redirects=False,
        )

    # --- context manager -----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()
        self._media.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def upstream_now(self) -> datetime:
        """Truedy's clock: ours plus the skew its latest answer showed (ours before any answer).

        Whether a signed link has expired or a transcript is still processing is judged on it,
        as Truedy judges them, so a dashboard clock minutes off hides no playable recording.
        """
        return datetime.fromtimestamp(self._clock() + self._skew, UTC)

    # --- API methods ---------------------------------------------------------------------------

    def list_calls(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        direction: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> CallPage:
        """``GET /calls`` (Call Management guide): one page, newest first."""
        _check_paging(limit, offset)
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if direction is not None and direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        params: dict[str, str] = {}
        if agent_id:  # None or "" (the form's "any agent") means no filter
            params["agent_id"] = agent_id
        if status is not None:
            params["status"] = status
        if direction is not None:
            params["direction"] = direction
        if created_after is not None:
            params["created_after"] = format_timestamp(created_after)
        if created_before is not None:
            params["created_before"] = format_timestamp(created_before)
        # Always sent: the guide's default limit is 20, the API reference's 50.
        params["limit"] = str(limit)
        params["offset"] = str(offset)
        return self._get(
            "calls", params, lambda body: parse_call_page(body, limit=limit, offset=offset)
        )

    def get_call(self, call_id: str) -> Call:
        """``GET /calls/{id}`` (Call Management guide): one call with transcript and recording."""
        if not is_valid_call_id(call_id):
            raise InvalidCallId("not a valid call id")  # never sent: it could change the URL
        path = "calls/" + urllib.parse.quote(call_id, safe="")
        return self._get(path, None, lambda body: _the_call_asked_for(body, call_id))

    def list_agents(self) -> tuple[Agent, ...]:
        """``GET /agents`` (API reference), every page: the choices of the agent filter."""
        agents: dict[str, Agent] = {}
        offset = 0
        for _ in range(MAX_AGENT_PAGES):
            params = {"limit": str(PAGE_LIMIT_MAX), "offset": str(offset)}
            page, total = self._get("agents", params, parse_agent_page)
            for agent in page:
                agents.setdefault(agent.id, agent)  # rows can shift between pages: dedupe
            offset += len(page)
            if not page or offset >= total:
                break
        else:
            logger.warning("Truedy agents: stopped after %d pages", MAX_AGENT_PAGES)
        return tuple(agents.values())

    # --- campaigns (batch calls) ----------------------------------------------------------------

    def list_campaigns(
        self, *, status: str | None = None, limit: int = BATCH_PAGE_LIMIT, offset: int = 0
    ) -> CampaignPage:
        """``GET /batch-calls``: one page of campaigns with their counters.

        Reference: https://docs.truedy.ai/api-reference/batch-calls/list-batch-calls
        """
        _check_paging(limit, offset)
        if status is not None and status not in CAMPAIGN_STATUSES:
            raise ValueError(f"status must be one of {CAMPAIGN_STATUSES}, got {status!r}")
        params = {"limit": str(limit), "offset": str(offset)}  # always sent, as for calls
        if status is not None:
            params["status"] = status
        return self._get(
            "batch-calls",
            params,
            lambda body: parse_campaign_page(body, limit=limit, offset=offset),
        )

    def get_campaign(self, campaign_id: str) -> Campaign:
        """``GET /batch-calls/{id}``: one campaign and its counters.

        Reference: https://docs.truedy.ai/api-reference/batch-calls/get-batch-call
        """
        path = _campaign_path(campaign_id)
        return self._get(path, None, lambda body: _the_campaign_asked_for(body, campaign_id))

    def list_campaign_contacts(
        self,
        campaign_id: str,
        *,
        status: str | None = None,
        limit: int = PAGE_LIMIT_MAX,
        offset: int = 0,
    ) -> ContactPage:
        """``GET /batch-calls/{id}/contacts``: one page of a campaign's contacts, each with its
        call's id once called. ``status`` is a contact's ``call_status``, passed as given.

        Reference: https://docs.truedy.ai/api-reference/batch-calls/list-batch-call-contacts
        """
        _check_paging(limit, offset)
        params = {"limit": str(limit), "offset": str(offset)}
        if status:
            if not _is_header_safe(status) or len(status) > 40:
                raise ValueError(f"not a contact status: {status[:40]!r}")
            params["status"] = status
        return self._get(
            _campaign_path(campaign_id) + "/contacts",
            params,
            lambda body: parse_contact_page(body, limit=limit, offset=offset),
        )

    def open_recording(
        self,
        recording_url: str,
        *,
        range_header: str | None = None,
        if_range: str | None = None,
    ) -> RecordingStream:
        """Open Truedy's signed recording link as a stream (Call object: ``recording_url``).

        The caller must close the result (``with`` or exhaust ``iter_bytes``). Only https URLs,
        or URLs on the API's own origin (the simulator), are fetched, and never with the key.
        """
        url = self._checked_recording_url(recording_url)
        # identity: iter_raw passes bytes through, so ranges and Content-Length stay exact.
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if range_header and _is_header_safe(range_header):
            headers["Range"] = range_header
        if if_range and _is_header_safe(if_range):
            headers["If-Range"] = if_range
        # The signature authorises the link: the media pool holds no API key.
        request = self._media.build_request("GET", url, headers=headers)
        where = f"{url.host}{url.path}"  # never the query string: it holds the signature

        for attempt in range(self._max_attempts):
            try:
                with timed("upstream"):  # until the headers: the body streams later
                    response = self._media.send(request, stream=True)
                break
            except RECORDING_RETRY_ERRORS as exc:
                error: TruedyError = _transport_error(exc)
                self._log_failure("GET", where, None, error, attempt, cause=_cause(exc, False))
                pause = self._backoff(attempt)
                if attempt + 1 >= self._max_attempts or not self._fits(pause):
                    raise error from exc
                self._sleep(pause)
            except httpx.TransportError as exc:
                error = _transport_error(exc)
                self._log_failure("GET", where, None, error, attempt, cause=_cause(exc, False))
                raise error from exc

        status = response.status_code
        if status == 416:
            return RecordingStream(response, content_type=None)
        if status in RECORDING_OK_STATUSES:
            declared = response.headers.get("content-type")
            kind = playable_type(declared)
            if kind is not None:
                return RecordingStream(response, content_type=kind)
            response.close()
            error = RecordingUnavailable(
                f"recording link answered {declared[:60]!r}, which is not audio",
                status_code=status,
                code=NOT_AUDIO,
            )
            self._log_failure("GET", where, status, error, 0)
            raise error
        try:
            request_id = _request_id(_json_or_none(_read_capped(response)), response)
        except httpx.HTTPError:
            request_id = None
        finally:
            response.close()
        message = f"recording link answered {status}"
        error_class: type[TruedyError]
        if status in RECORDING_GONE_STATUSES or 400 <= status < 500:
            error_class = RecordingUnavailable
        else:
            error_class = UpstreamUnavailable
        error = error_class(message, request_id=request_id, status_code=status)
        self._log_failure("GET", where, status, error, 0)
        raise error

    # --- internals -----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str] | None, parse: Callable[[Any], T]) -> T:
        response = self._send_with_retries(path, params)
        request_id = response.headers.get("x-request-id")
        try:
            body = response.json()
            request_id = _request_id(body, response)
            self._read_upstream_clock(body, response)
            return parse(body)
        except MalformedResponse as exc:
            error = MalformedResponse(
                exc.message, request_id=request_id, status_code=response.status_code
            )
            cause: Exception = exc
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            error = MalformedResponse(
                "Truedy answered something that is not JSON",
                request_id=request_id,
                status_code=response.status_code,
            )
            cause = exc
        self._log_failure("GET", self._base_path + path, response.status_code, error, 0)
        raise error from cause

    def _send_with_retries(self, path: str, params: Mapping[str, str] | None) -> httpx.Response:
        where = self._base_path + path
        for attempt in range(self._max_attempts):
            last = attempt + 1 >= self._max_attempts
            if self._before_request is not None:
                self._before_request(path)
            timeout = self._timeout_within_deadline()
            try:
                with timed("upstream"):
                    response = self._get_capped(path, params, timeout)
            except RETRY_TRANSPORT_ERRORS as exc:
                error: TruedyError = _transport_error(exc)
                self._log_failure("GET", where, None, error, attempt, cause=_cause(exc, True))
                pause = self._backoff(attempt)
                if last or not self._fits(pause):
                    raise error from exc
                self._sleep(pause)
                continue
            except httpx.TransportError as exc:  # pool timeout, write error...: not retried
                error = _transport_error(exc)
                self._log_failure("GET", where, None, error, attempt, cause=_cause(exc, True))
                raise error from exc
            except MalformedResponse as exc:  # too large: asking again gives the same
                self._log_failure("GET", where, exc.status_code, exc, attempt)
                raise

            if response.is_success:
                return response
            body = _json_or_none(response.content)
            error = _error_from_response(
                response, body, now=self._read_upstream_clock(body, response)
            )
            self._log_failure("GET", where, response.status_code, error, attempt)
            if response.status_code not in RETRY_STATUSES or last:
                raise error
            wait = error.retry_after
            if wait is not None and wait > self._max_retry_wait:
                raise error  # too long to hold a request thread: let the caller serve stale
            pause = wait if wait is not None else self._backoff(attempt)
            if not self._fits(pause):
                raise error  # the page's budget would run out while waiting
            self._sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _get_capped(
        self, path: str, params: Mapping[str, str] | None, timeout: Any
    ) -> httpx.Response:
        """GET, reading at most MAX_RESPONSE_BYTES of the (decoded) body: a 50 MB answer was
        once read, parsed and cached whole. Larger is a MalformedResponse, never retried."""
        request = self._http.build_request("GET", path, params=params, timeout=timeout)
        response = self._http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_response_bytes:
                raise self._too_large(response)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self._max_response_bytes:
                    raise self._too_large(response)
                chunks.append(chunk)
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    def _too_large(self, response: httpx.Response) -> MalformedResponse:
        return MalformedResponse(
            f"Truedy's answer is larger than {self._max_response_bytes:,} bytes",
            request_id=response.headers.get("x-request-id"),
            status_code=response.status_code,
        )

    def _timeout_within_deadline(self) -> httpx.Timeout | UseClientDefault:
        """The client's timeouts, cut down to what is left of the page's deadline."""
        left = time_left()
        if left is None:
            return httpx.USE_CLIENT_DEFAULT
        if left <= 0:
            raise UpstreamTimeout("the page ran out of time waiting for Truedy")
        configured = self._http.timeout
        return httpx.Timeout(
            connect=min(configured.connect or left, left),
            read=min(configured.read or left, left),
            write=min(configured.write or left, left),
            pool=min(configured.pool or left, left),
        )

    def _read_upstream_clock(self, body: Any, response: httpx.Response) -> float:
        """When Truedy answered, by its own clock (Unix seconds), remembered as the skew from
        ours; our clock plus the last skew seen when the answer does not say."""
        received = self._clock()
        answered = _answered_at(body, response)
        if answered is None:
            return received + self._skew
        skew = answered - received
        if abs(skew) > MAX_CLOCK_SKEW:
            logger.warning("Truedy's answer gives a time %.0f s from ours: ignored", skew)
            return received + self._skew
        if abs(skew) > SKEW_WORTH_LOGGING >= abs(self._skew):
            logger.warning("Truedy's clock is %+.0f s from ours; its times are judged on it", skew)
        self._skew = skew
        return answered

    @staticmethod
    def _fits(pause: float) -> bool:
        """A pause before the next attempt still leaves time for that attempt."""
        left = time_left()
        return left is None or pause < left - 0.05

    def _backoff(self, attempt: int) -> float:
        """Full jitter, so retrying clients spread out: uniform in
        [0, min(cap, base * 2**attempt)], attempt from 0."""
        return self._rng.uniform(0, min(self._backoff_cap, self._backoff_base * 2**attempt))

    def _checked_recording_url(self, recording_url: str) -> httpx.URL:
        """SSRF guard: https on a storage host, or exactly the API's own origin (the
        simulator); the addresses dialled are checked again at connect time."""
        try:
            url = httpx.URL(recording_url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise RecordingUnavailable(
                "recording URL is not a valid URL", code=LINK_REFUSED
            ) from exc
        if not url.is_absolute_url or not url.host or url.userinfo:
            raise RecordingUnavailable("recording URL is not an absolute URL", code=LINK_REFUSED)
        base = self._http.base_url
        if (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port):
            return url
        if self._storage_hosts.allows(url):
            return url
        raise RecordingUnavailable(
            "recording URL is not on a storage host the dashboard fetches from",
            code=LINK_REFUSED,
        )

    def _log_failure(
        self,
        method: str,
        where: str,
        status: int | None,
        error: TruedyError,
        attempt: int,
        *,
        cause: str = "",
    ) -> None:
        logger.warning(
            "Truedy %s %s failed: status=%s request_id=%s error=%s attempt=%d/%d: %s",
            method,
            where,
            status,
            error.request_id,
            type(error).__name__,
            attempt + 1,
            self._max_attempts,
            f"{error.message} ({cause})" if cause else error.message,
        )


class RecordingStream:
    """An open upstream audio response. Iterate ``iter_bytes`` once, or close it.

    ``content_type`` is the audio type it is served as (None for a 416, which has no body):
    never the storage host's header as it came.
    """

    def __init__(self, response: httpx.Response, *, content_type: str | None) -> None:
        self._response = response
        self.status_code: int = response.status_code
        self.headers: dict[str, str] = {
            name: response.headers[name] for name in RECORDING_HEADERS if name in response.headers
        }
        self.headers.pop("content-type", None)
        if content_type is not None:
            self.headers["content-type"] = content_type

    def iter_bytes(self, chunk_size: int | None = None) -> Generator[bytes, None, None]:
        """Raw bytes (no content decoding, so byte ranges stay exact), by default each piece as
        it arrives (a proxy that gathered 64 KiB first never noticed its client leave while
        storage dripped); closes when done."""
        try:
            yield from self._response.iter_raw(chunk_size)
        except httpx.TransportError as exc:
            raise _transport_error(exc) from exc
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()

    @property
    def closed(self) -> bool:
        return self._response.is_closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --- helpers ------------------------------------------------------------------------------------


def format_timestamp(value: datetime) -> str:
    """UTC ISO 8601 with ``Z``; microseconds only when non-zero. Naive datetimes are a bug."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_header_safe(value: str) -> bool:
    """Printable ASCII only: anything else would break or inject into a header."""
    return isinstance(value, str) and all(32 <= ord(char) < 127 for char in value)


def _the_call_asked_for(body: Any, call_id: str) -> Call:
    """The call in a ``GET /calls/{id}`` answer, which must be the one asked for: another
    call's answer would show (and archive) call B on call A's page."""
    call = parse_call(_data_of(body))
    if call.id != call_id:
        raise MalformedResponse("Truedy answered with another call than the one asked for")
    return call


def _campaign_path(campaign_id: str) -> str:
    if not is_valid_call_id(campaign_id):  # the same shape as call ids: never an unsafe path
        raise InvalidCampaignId("not a valid batch call id")
    return "batch-calls/" + urllib.parse.quote(campaign_id, safe="")


def _the_campaign_asked_for(body: Any, campaign_id: str) -> Campaign:
    campaign = parse_campaign(_data_of(body))
    if campaign.id != campaign_id:
        raise MalformedResponse("Truedy answered with another batch call than the one asked for")
    return campaign


def _check_paging(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_LIMIT_MAX:
        raise ValueError(f"limit must be an integer in 1..100, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")


def _data_of(body: Any) -> Any:
    if not isinstance(body, dict):
        raise MalformedResponse("response is not a JSON object")
    return body.get("data")


def _request_id(body: Any, response: httpx.Response) -> str | None:
    """Truedy's ``meta.request_id`` (both envelopes), else an ``X-Request-Id`` header."""
    if isinstance(body, dict):
        meta = body.get("meta")
        if isinstance(meta, dict):
            value = meta.get("request_id")
            if isinstance(value, str) and value:
                return value[:_MAX_MESSAGE]
    header: str | None = response.headers.get("x-request-id")
    return header


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _read_capped(response: httpx.Response) -> bytes:
    """At most ``_MAX_ERROR_BODY`` bytes of a streamed body (an error body from a storage host
    is not trusted to be small)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_ERROR_BODY:
            break
    return b"".join(chunks)[:_MAX_ERROR_BODY]


def _transport_error(exc: httpx.TransportError) -> UpstreamUnavailable:
    """Map an httpx transport failure. Its message is shown to people, so it names neither the
    exception nor anything it said (an address, a port's answer): those go to the log only."""
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.PoolTimeout):
        return UpstreamTimeout("Truedy did not answer in time")
    return UpstreamUnavailable("Truedy could not be reached")


def _cause(exc: httpx.TransportError, detail: bool) -> str:
    """What failed, for the log line: the exception, and with ``detail`` its text (never for
    recordings, whose links are secrets)."""
    kind = type(exc).__name__
    return f"{kind}: {str(exc)[:_MAX_MESSAGE]}" if detail else kind


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _parse_reset_at(value: Any, now: float) -> float | None:
    """A 429's ``details.reset_at`` (ISO 8601; a Unix time is tolerated) as seconds from now."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0.0, value - now) if math.isfinite(value) else None
    try:
        when = parse_timestamp(value) if isinstance(value, str) else None
    except MalformedResponse:
        return None
    return None if when is None else max(0.0, when.timestamp() - now)


def _answered_at(body: Any, response: httpx.Response) -> float | None:
    """The moment Truedy answered, by its clock: ``meta.ts`` (the API reference's envelope,
    to the microsecond), else the ``Date`` header every HTTP server sends (to the second)."""
    meta = body.get("meta") if isinstance(body, dict) else None
    stamp = meta.get("ts") if isinstance(meta, dict) else None
    if isinstance(stamp, str):
        try:
            when = parse_timestamp(stamp)
        except MalformedResponse:
            when = None
        if when is not None:
            return when.timestamp()
    header = response.headers.get("date")
    if not header:
        return None
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _bounded_wait(seconds: float, *, status: int) -> float:
    """A wait Truedy asked for, never longer than WAIT_MAX, and for a rate limit never shorter
    than RATE_LIMIT_WAIT_MIN."""
    floor = RATE_LIMIT_WAIT_MIN if status == 429 else 0.0
    return min(max(seconds, floor), WAIT_MAX)


def _error_from_response(response: httpx.Response, body: Any, *, now: float) -> TruedyError:
    """Map a non-2xx response and its error envelope (``body``, None if not JSON) to a
    ``TruedyError``; ``now`` is Truedy's clock at the answer, for its reset times."""
    status = response.status_code
    envelope = body.get("error") if isinstance(body, dict) else None
    envelope = envelope if isinstance(envelope, dict) else {}
    details = envelope.get("details")
    details = details if isinstance(details, dict) else {}

    code = envelope.get("code") if isinstance(envelope.get("code"), str) else None
    upstream_message = envelope.get("message")
    message = f"Truedy answered HTTP {status}"
    if code:
        message += f" {code}"
    if isinstance(upstream_message, str) and upstream_message:
        message += f": {upstream_message[:_MAX_MESSAGE]}"

    retry_after = _parse_retry_after(response.headers.get("retry-after"), now)
    if retry_after is None and status == 429:
        retry_after = _parse_reset_at(details.get("reset_at"), now)
    if retry_after is not None:
        retry_after = _bounded_wait(retry_after, status=status)

    common: dict[str, Any] = {
        "request_id": _request_id(body, response),
        "status_code": status,
        "code": code,
        "retry_after": retry_after,
    }
    if status in (400, 422):
        field = details.get("field")
        reason = details.get("reason")
        return ValidationFailed(
            message,
            field=field if isinstance(field, str) else None,
            reason=reason if isinstance(reason, str) else None,
            **common,
        )
    error_class: type[TruedyError] = {
        401: Unauthorized,
        402: PaymentRequired,
        403: Forbidden,
        404: NotFound,
        429: RateLimited,
    }.get(status, UpstreamUnavailable)
    return error_class(message, **common)
