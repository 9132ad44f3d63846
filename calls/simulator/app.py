"""The simulator: one request handler behind an httpx transport and a WSGI app."""

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from .api import Api, not_found
from .audio import AudioFiles, http_date
from .campaigns import Campaigns
from .clock import Clock
from .control import CALLS_PATH, CONTROL_PREFIX, MAX_BODY_BYTES, PlacementError, placed, placement
from .data import CallSkeleton, DataSet
from .isotime import US, format_us, to_datetime
from .manifest import DEFAULT_RECORDINGS_DIR, load_manifest
from .messages import (
    JSON_TYPE,
    ByteChunks,
    RecordedRequest,
    SimRequest,
    SimResponse,
    dump_json,
    error_response,
    json_response,
    new_request_id,
)
from .render import Renderer, View
from .signing import RECORDINGS_PATH, LinkSigner, secret_for_seed
from .switches import Fault, Switches

API_PREFIX = "/api/public/v1"
DEFAULT_API_KEY = "truedy_simulatorsimulatorsimulator00000"
DEFAULT_RATE_LIMIT = 100  # what the real API documents, reported in injected 429s
# The embedded simulator lives as long as the dashboard process: keep only the newest requests.
REQUEST_LOG_LIMIT = 10_000

FAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "validation_error",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


class SimulatorTransport(httpx.BaseTransport):
    """Hands requests straight to the simulator: no sockets, no threads."""

    def __init__(self, simulator: "Simulator") -> None:
        self._simulator = simulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._simulator.handle(request)


class Simulator:
    """A fake Truedy Calls API over a seeded, deterministic data set."""

    def __init__(
        self,
        seed: int = 42,
        call_count: int = 2000,
        now: datetime | None = None,
        api_key: str = DEFAULT_API_KEY,
        recordings_dir: Path | None = None,
        transcript_delay_seconds: float = 15.0,
    ) -> None:
        self.seed = seed
        self.api_key = api_key
        self.transcript_delay_seconds = transcript_delay_seconds
        self.recordings_dir = Path(recordings_dir or DEFAULT_RECORDINGS_DIR)
        self.clock = Clock(now)
        self.switches = Switches()
        self.data = DataSet(
            seed=seed,
            call_count=call_count,
            anchor_us=self.clock.anchor_us,
            recordings=load_manifest(self.recordings_dir),
        )
        self._signer = LinkSigner(secret_for_seed(seed))
        self.campaigns = Campaigns(self.data)
        self._renderer = Renderer(
            self.data, self._signer, transcript_delay_seconds, campaigns=self.campaigns
        )
        self._api = Api(self.data, self._renderer, self.campaigns)
        self._audio = AudioFiles()
        self._requests: deque[RecordedRequest] = deque(maxlen=REQUEST_LOG_LIMIT)
        self._requests_lock = threading.Lock()
        self._call_listeners: list[Callable[[CallSkeleton], None]] = []
        self._call_listeners_lock = threading.Lock()

    @property
    def anchor(self) -> datetime:
        """The clock's reading at construction: the data set is laid out back from here."""
        return to_datetime(self.clock.anchor_us)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._requests_lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def transport(self) -> httpx.BaseTransport:
        return SimulatorTransport(self)

    # ------------------------------------------------------------------ new calls

    def place_call(
        self,
        *,
        talk_seconds: float = 20,
        ring_seconds: float = 3,
        agent_id: str | None = None,
        final: str = "ended",
    ) -> str:
        """Create a call now, on the simulator's clock, and return its id.

        Queued at once, ringing about a second later, answered after `ring_seconds`, ended
        after `talk_seconds`; its transcript follows `transcript_delay_seconds` later. With
        `final` "failed" or "cancelled" it is never answered and settles after `ring_seconds`.
        `agent_id` defaults to an active agent drawn by weight. Raises ValueError on a bad
        argument (an unknown agent, a negative or more than a day's duration).
        """
        call = self.data.place(
            created=self.clock.now_us(),
            talk_seconds=talk_seconds,
            ring_seconds=ring_seconds,
            agent_id=agent_id,
            final=final,
        )
        with self._call_listeners_lock:
            listeners = list(self._call_listeners)
        for listener in listeners:
            listener(call)
        return call.id

    def add_call_listener(self, listener: Callable[[CallSkeleton], None]) -> None:
        """Have `listener` called with each call placed from now on (in the placing thread)."""
        with self._call_listeners_lock:
            self._call_listeners.append(listener)

    def remove_call_listener(self, listener: Callable[[CallSkeleton], None]) -> None:
        with self._call_listeners_lock:
            if listener in self._call_listeners:
                self._call_listeners.remove(listener)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()

        def timeout() -> None:
            raise httpx.ReadTimeout("Simulated read timeout (timeout_next).", request=request)

        response = self._respond(_from_httpx(request), on_timeout=timeout)
        if isinstance(response.body, bytes):
            return httpx.Response(
                response.status, headers=response.headers, content=response.body, request=request
            )
        return httpx.Response(
            response.status, headers=response.headers, stream=response.body, request=request
        )

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        def timeout() -> None:
            time.sleep(self.switches.timeout_sleep_seconds)

        response = self._respond(_from_environ(environ), on_timeout=timeout)
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", response.headers)
        if isinstance(response.body, ByteChunks):
            return response.body
        return [response.body]

    # ------------------------------------------------------------------ dispatch

    def _respond(self, request: SimRequest, on_timeout: Callable[[], None]) -> SimResponse:
        response = self._dispatch(request, on_timeout)
        # Like any HTTP server, on its own clock: clients read Truedy's time from it.
        response.headers.append(("Date", http_date(self.clock.now_us() // US)))
        return response

    def _dispatch(self, request: SimRequest, on_timeout: Callable[[], None]) -> SimResponse:
        if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
            # Not Truedy's API: no log entry, latency or injected fault, only the key.
            return self._control(request, new_request_id())
        with self._requests_lock:
            self._requests.append(
                RecordedRequest(request.method, request.path, request.query, request.headers)
            )
        latency = self.switches.latency_seconds
        if latency > 0:
            time.sleep(latency)
        request_id = new_request_id()
        if request.path.startswith(RECORDINGS_PATH):
            return self._recording(request, request_id)
        if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
            return self._api_request(request, request_id, on_timeout)
        return not_found(request_id)

    def _api_request(
        self, request: SimRequest, request_id: str, on_timeout: Callable[[], None]
    ) -> SimResponse:
        fault = self.switches.take_fault()
        if fault is not None and fault.kind == "timeout":
            on_timeout()  # raises in-process; over HTTP it sleeps, then answers as usual
        if fault is not None and fault.kind == "fail":
            if fault.status == 429:
                return self._rate_limited(fault, request_id)
            code = FAULT_CODES.get(fault.status, "error")
            return error_response(fault.status, code, "Injected failure.", request_id)
        if not self._authorized(request):
            return _unauthorized(request_id)
        if fault is not None and fault.kind == "rate_limit":
            return self._rate_limited(fault, request_id)
        now = self.clock.now_us()
        window = self.switches.count_request(self._bearer(request), now // US)
        if window is not None and not window.allowed:
            return self._rate_limited(
                Fault("rate_limit", retry_after=max(window.reset_at - now // US, 1)),
                request_id,
                limit=window.limit,
            )
        if request.method != "GET":
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; the API is read-only.",
                request_id,
                headers=[("Allow", "GET")],
            )
        view = View(now=now, variant=self.switches.variant, origin=request.origin)
        response = self._api.route(request.path[len(API_PREFIX) :], request.query, view, request_id)
        if window is not None:
            response.headers += [
                ("X-RateLimit-Limit", str(window.limit)),
                ("X-RateLimit-Remaining", str(window.remaining)),
                ("X-RateLimit-Reset", str(window.reset_at)),
            ]
        if fault is not None and fault.kind == "malformed":
            return _malformed(fault.malformed, response, request_id)
        return response

    def _control(self, request: SimRequest, request_id: str) -> SimResponse:
        if request.path != CALLS_PATH:
            return not_found(request_id)
        if not self._authorized(request):
            return _unauthorized(request_id)
        if request.method != "POST":
            return error_response(
                405, "method_not_allowed", "Use POST.", request_id, headers=[("Allow", "POST")]
            )
        try:
            options = placement(request.body)
            agent_id = options.get("agent_id")
            if agent_id is not None and agent_id not in self.data.agents_by_id:
                raise PlacementError("agent_id", "no such agent")
        except PlacementError as error:
            if error.field is None:
                return error_response(400, "bad_request", error.reason, request_id)
            return error_response(
                422,
                "validation_error",
                f"Invalid field `{error.field}`: {error.reason}.",
                request_id,
                {"field": error.field, "reason": error.reason},
            )
        call_id = self.place_call(**options)
        return json_response(201, placed(self.data.by_id[call_id]), request_id)

    def _bearer(self, request: SimRequest) -> str:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _authorized(self, request: SimRequest) -> bool:
        token = self._bearer(request)
        return bool(token) and hmac.compare_digest(token.encode(), self.api_key.encode())

    def _rate_limited(self, fault: Fault, request_id: str, limit: int | None = None) -> SimResponse:
        wait = fault.retry_after if fault.retry_after is not None else 30
        reset_at = format_us(self.clock.now_us() + wait * US, 0)
        headers = []
        if fault.retry_after is not None and not fault.reset_at_only:
            headers.append(("Retry-After", str(fault.retry_after)))
        return error_response(
            429,
            "rate_limit_exceeded",
            "Too many requests; slow down.",
            request_id,
            {
                "limit": limit or self.switches.rate_limit_per_minute or DEFAULT_RATE_LIMIT,
                "reset_at": reset_at,
            },
            headers,
        )

    def _recording(self, request: SimRequest, request_id: str) -> SimResponse:
        if request.method not in ("GET", "HEAD"):
            return error_response(
                405, "method_not_allowed", "Use GET.", request_id, headers=[("Allow", "GET, HEAD")]
            )
        name = request.path[len(RECORDINGS_PATH) :]
        call_id = name.removesuffix(".mp3")
        now = self.clock.now_us()
        call = self.data.by_id.get(call_id) if name.endswith(".mp3") else None
        if (
            call is None
            or call.recording is None
            or not self.data.visible(call, now)
            or now < call.settled  # still live: nothing to play yet
            or not call.recording.path.is_file()
        ):
            return not_found(request_id, "No such recording.")
        expires = self._signer.verify(
            call_id, request.query.get("expires", ""), request.query.get("signature", "")
        )
        if expires is None:
            return error_response(403, "forbidden", "Invalid recording signature.", request_id)
        refusal = self.switches.take_storage_refusal()
        if now > expires * US or refusal == 403:
            return error_response(
                403, "link_expired", "This recording link has expired.", request_id
            )
        if refusal is not None:
            code = FAULT_CODES.get(refusal, "error")
            return error_response(refusal, code, "Injected storage failure.", request_id)
        assert call.ended is not None
        response = self._audio.response(
            call.recording.path,
            request_id=request_id,
            last_modified=http_date(call.ended // US),
            range_header=request.headers.get("range"),
            if_range=request.headers.get("if-range"),
            head=request.method == "HEAD",
        )
        drip = self.switches.recording_drip
        if drip is not None and isinstance(response.body, ByteChunks):
            response.body = ByteChunks(_dripping(response.body, *drip), close=response.body.close)
        return response


def _unauthorized(request_id: str) -> SimResponse:
    return error_response(
        401,
        "unauthorized",
        "Missing or invalid API key.",
        request_id,
        headers=[("WWW-Authenticate", 'Bearer realm="truedy"')],
    )


def _dripping(body: Iterable[bytes], chunk_bytes: int, every_seconds: float) -> Iterable[bytes]:
    for block in body:
        for start in range(0, len(block), chunk_bytes):
            yield block[start : start + chunk_bytes]
            time.sleep(every_seconds)


def _malformed(kind: str, response: SimResponse, request_id: str) -> SimResponse:
    if kind == "html":
        body, content_type = HTML_ERROR_PAGE, "text/html; charset=utf-8"
    elif kind == "wrong_shape":
        body = dump_json({"data": "unexpected", "meta": {"request_id": request_id}})
        content_type = JSON_TYPE
    else:
        whole = response.body if isinstance(response.body, bytes) else b"{}"
        body, content_type = whole[: max(len(whole) // 2, 1)], JSON_TYPE
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("X-Request-Id", request_id),
    ]
    return SimResponse(200, headers, body)


def _first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, value in pairs:
        query.setdefault(key, value)
    return query


def _from_httpx(request: httpx.Request) -> SimRequest:
    url = request.url
    query = _first_values(parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True))
    return SimRequest(
        method=request.method.upper(),
        path=url.path,
        query=query,
        headers={k.lower(): v for k, v in request.headers.items()},
        origin=f"{url.scheme}://{url.netloc.decode('ascii')}",
        body=request.content[:MAX_BODY_BYTES],
    )


def _from_environ(environ: dict[str, Any]) -> SimRequest:
    def text(key: str) -> str:
        # WSGI hands over raw bytes decoded as latin-1 (PEP 3333): recover the UTF-8.
        raw: str = environ.get(key, "")
        return raw.encode("latin-1").decode("utf-8", "replace")

    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        port = environ.get("SERVER_PORT", "80")
        default = "443" if scheme == "https" else "80"
        host = environ.get("SERVER_NAME", "localhost") + ("" if port == default else f":{port}")
    query = _first_values(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    return SimRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=text("PATH_INFO") or "/",
        query=query,
        headers=headers,
        origin=f"{scheme}://{host}{text('SCRIPT_NAME')}",
        body=_body(environ),
    )


def _body(environ: dict[str, Any]) -> bytes:
    """The request body, up to MAX_BODY_BYTES; empty when there is none."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    if length <= 0 or "wsgi.input" not in environ:
        return b""
    body: bytes = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES))
    return body
