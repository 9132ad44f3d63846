"""calls.truedy.client: requests built, errors mapped, retries counted, ids and recordings guarded.

No network: every test talks to an ``httpx.MockTransport`` that records the requests it gets.
Sleeping is injected (a list records the waits) and the clock is frozen.
"""

from __future__ import annotations

import logging
import random
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.truedy import client as client_module
from calls.truedy.client import CALL_ID_PATTERN, RecordingStream, TruedyClient, is_valid_call_id
from calls.truedy.errors import (
    Forbidden,
    InvalidCallId,
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
from calls.truedy.records import Call, CallPage
from tests.payloads import (
    API_KEY,
    BASE_URL,
    agent_page_body,
    agent_payload,
    call_envelope,
    call_page_body,
    call_payload,
    error_body,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
REC_URL = "https://storage.truedy.test/rec/call_0001.mp3?sig=s3cr3tsig&exp=1"

Step = httpx.Response | type[Exception] | Callable[[httpx.Request], httpx.Response]


class Upstream:
    """A scripted MockTransport handler: answers each request with the next step, records it.

    A step is a response, an httpx exception class (raised), or a function of the request.
    The last step repeats when the script runs out.
    """

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted failure", request=request)
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    @property
    def calls(self) -> int:
        return len(self.requests)


class UpperBoundRng(random.Random):
    """``uniform(a, b)`` returns ``b``: the largest sleep full jitter allows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def make_client(upstream: Upstream, **kwargs: Any) -> tuple[TruedyClient, list[float]]:
    sleeps: list[float] = []
    options: dict[str, Any] = {
        "base_url": BASE_URL,
        "api_key": API_KEY,
        "transport": httpx.MockTransport(upstream),
        "sleep": sleeps.append,
        "rng": random.Random(1234),
        "clock": NOW.timestamp,
    }
    options.update(kwargs)
    return TruedyClient(**options), sleeps


def ok_page(**kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=call_page_body(**kwargs))


def status(code: int, body: Any = None, **kwargs: Any) -> httpx.Response:
    if body is None:
        return httpx.Response(code, **kwargs)
    return httpx.Response(code, json=body, **kwargs)


# --- requests: headers, URLs, params ------------------------------------------------------------


def test_every_request_carries_bearer_key_user_agent_and_accept() -> None:
    upstream = Upstream(ok_page())
    client, _ = make_client(upstream)
    client.list_calls()

    request = upstream.requests[0]
    assert request.method == "GET"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"] == "truedy-dashboard/0.1"
    assert request.headers["Accept"] == "application/json"
    assert API_KEY not in str(request.url)


def test_empty_key_sends_no_authorization_header() -> None:
    upstream = Upstream(status(401, error_body("unauthorized")))
    client, _ = make_client(upstream, api_key="")
    with pytest.raises(Unauthorized):
        client.list_calls()
    assert "Authorization" not in upstream.requests[0].headers


def test_key_with_unsafe_characters_is_refused() -> None:
    with pytest.raises(ValueError) as excinfo:
        TruedyClient(base_url=BASE_URL, api_key="truedy_abc\r\nX-Evil: 1")
    assert "truedy_abc" not in str(excinfo.value)


@pytest.mark.parametrize("base_url", [BASE_URL, BASE_URL + "/"])
def test_base_url_with_or_without_trailing_slash(base_url: str) -> None:
    upstream = Upstream(ok_page(), status(200, call_envelope()))
    client, _ = make_client(upstream, base_url=base_url)
    client.list_calls()
    client.get_call("call_0001")

    assert upstream.requests[0].url.host == "api.truedy.test"
    assert upstream.requests[0].url.path == "/api/public/v1/calls"
    assert upstream.requests[1].url.path == "/api/public/v1/calls/call_0001"


@pytest.mark.parametrize("base_url", ["api.truedy.test/v1", "ftp://api.truedy.test/v1", "/v1"])
def test_base_url_must_be_absolute_http(base_url: str) -> None:
    with pytest.raises(ValueError):
        TruedyClient(base_url=base_url, api_key=API_KEY)


def test_list_params_always_send_limit_and_offset_and_omit_none() -> None:
    upstream = Upstream(ok_page())
    client, _ = make_client(upstream)
    client.list_calls(agent_id=None, status=None)

    assert dict(upstream.requests[0].url.params) == {"limit": "20", "offset": "0"}


def test_list_params_filters_and_utc_datetimes() -> None:
    upstream = Upstream(ok_page())
    client, _ = make_client(upstream)
    paris = timezone(timedelta(hours=1))
    client.list_calls(
        agent_id="agent sales&x=1",
        status="in-progress",
        direction="inbound",
        created_after=datetime(2026, 11, 23, 11, 0, tzinfo=paris),
        created_before=datetime(2026, 11, 24, 0, 0, 0, 250000, tzinfo=UTC),
        limit=100,
        offset=40,
    )

    assert dict(upstream.requests[0].url.params) == {
        "agent_id": "agent sales&x=1",
        "status": "in-progress",
        "direction": "inbound",
        "created_after": "2026-11-23T10:00:00Z",
        "created_before": "2026-11-24T00:00:00.250000Z",
        "limit": "100",
        "offset": "40",
    }
    assert upstream.requests[0].url.path == "/api/public/v1/calls"


def test_empty_agent_filter_is_omitted() -> None:
    upstream = Upstream(ok_page())
    client, _ = make_client(upstream)
    client.list_calls(agent_id="")
    assert "agent_id" not in upstream.requests[0].url.params


@pytest.mark.parametrize(
    "kwargs",
    [
        {"created_after": datetime(2026, 11, 23, 10, 0)},  # naive
        {"created_before": datetime(2026, 11, 23, 10, 0)},
        {"limit": 0},
        {"limit": 101},
        {"limit": True},
        {"offset": -1},
        {"status": "completed"},
        {"direction": "sideways"},
    ],
)
def test_programming_errors_raise_value_error_before_any_request(kwargs: dict[str, Any]) -> None:
    upstream = Upstream(ok_page())
    client, _ = make_client(upstream)
    with pytest.raises(ValueError):
        client.list_calls(**kwargs)
    assert upstream.calls == 0


def test_list_calls_returns_a_parsed_page() -> None:
    upstream = Upstream(ok_page(calls=[call_payload()] * 3, total=93, limit=3, offset=9))
    client, _ = make_client(upstream)
    page = client.list_calls(limit=3, offset=9)
    assert isinstance(page, CallPage)
    assert (page.total, page.limit, page.offset, len(page.calls)) == (93, 3, 9, 3)


def test_list_calls_reads_the_api_reference_variant() -> None:
    upstream = Upstream(ok_page(total=55, limit=50, offset=50, variant="reference"))
    client, _ = make_client(upstream)
    page = client.list_calls(limit=50, offset=50)
    assert (page.total, page.limit, page.offset) == (55, 50, 50)


def test_get_call_returns_a_call() -> None:
    upstream = Upstream(status(200, call_envelope()))
    client, _ = make_client(upstream)
    call = client.get_call("call_0001")
    assert isinstance(call, Call)
    assert call.transcript is not None


def test_client_is_a_context_manager() -> None:
    upstream = Upstream(ok_page())
    with make_client(upstream)[0] as client:
        client.list_calls()
    with pytest.raises(RuntimeError):
        client.list_calls()  # httpx refuses a closed client


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (401, error_body("unauthorized", "Invalid API key"), Unauthorized),
        (402, error_body("payment_required", "Out of credits"), PaymentRequired),
        (403, error_body("forbidden", "IP not allowed"), Forbidden),
        (404, error_body("not_found", "Call not found"), NotFound),
        (429, error_body("rate_limit_exceeded", details={"limit": 100}), RateLimited),
        (500, error_body("internal_error"), UpstreamUnavailable),
        (418, error_body("teapot"), UpstreamUnavailable),
    ],
)
def test_error_statuses_map_to_exceptions_with_request_id(
    code: int, body: dict[str, Any], expected: type[TruedyError]
) -> None:
    upstream = Upstream(status(code, body))
    client, _ = make_client(upstream, max_attempts=1)
    with pytest.raises(expected) as excinfo:
        client.get_call("call_0001")

    error = excinfo.value
    assert type(error) is expected
    assert error.status_code == code
    assert error.request_id == "req_err"
    assert error.code == body["error"]["code"]
    assert "request_id=req_err" in str(error)
    assert API_KEY not in str(error)


def test_forbidden_is_an_auth_problem() -> None:
    assert issubclass(Forbidden, Unauthorized)
    assert issubclass(InvalidCallId, NotFound)
    assert issubclass(UpstreamTimeout, UpstreamUnavailable)


@pytest.mark.parametrize("code", [400, 422])
def test_validation_errors_carry_field_and_reason(code: int) -> None:
    body = error_body(
        "validation_error", "Invalid limit", details={"field": "limit", "reason": "max 100"}
    )
    upstream = Upstream(status(code, body))
    client, _ = make_client(upstream)
    with pytest.raises(ValidationFailed) as excinfo:
        client.list_calls()
    assert (excinfo.value.field, excinfo.value.reason) == ("limit", "max 100")
    assert excinfo.value.request_id == "req_err"
    assert upstream.calls == 1


@pytest.mark.parametrize(
    ("code", "expected"),
    [(404, NotFound), (401, Unauthorized), (502, UpstreamUnavailable), (302, UpstreamUnavailable)],
)
def test_non_json_error_bodies_still_map_by_status(code: int, expected: type) -> None:
    response = httpx.Response(
        code,
        text="<html><body>Bad Gateway</body></html>",
        headers={"Content-Type": "text/html", "Location": "https://elsewhere.test/"},
    )
    upstream = Upstream(response)
    client, _ = make_client(upstream, max_attempts=1)
    with pytest.raises(expected) as excinfo:
        client.get_call("call_0001")
    assert excinfo.value.request_id is None
    assert excinfo.value.status_code == code
    assert upstream.calls == 1  # a redirect is never followed


def test_request_id_header_is_used_when_the_body_has_none() -> None:
    upstream = Upstream(httpx.Response(404, text="nope", headers={"X-Request-Id": "req_hdr"}))
    client, _ = make_client(upstream)
    with pytest.raises(NotFound) as excinfo:
        client.get_call("call_0001")
    assert excinfo.value.request_id == "req_hdr"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, content=b"\xff\xfe\x00garbage"),
        httpx.Response(200, json=["not", "an", "envelope"]),
        httpx.Response(200, json={"data": None, "meta": {"request_id": "req_bad"}}),
        httpx.Response(200, json={"data": [call_payload()], "meta": {"request_id": "req_bad"}}),
        httpx.Response(200, json={"data": {"id": "call_0001"}, "meta": {"request_id": "req_bad"}}),
    ],
)
def test_success_that_is_not_the_documented_shape_is_malformed(response: httpx.Response) -> None:
    upstream = Upstream(response)
    client, _ = make_client(upstream)
    with pytest.raises(MalformedResponse) as excinfo:
        client.get_call("call_0001")
    assert excinfo.value.status_code == 200
    if b"req_bad" in response.content:
        assert excinfo.value.request_id == "req_bad"
    assert upstream.calls == 1


def test_malformed_list_keeps_the_request_id() -> None:
    body = {"data": "oops", "meta": {"request_id": "req_list_bad"}}
    client, _ = make_client(Upstream(status(200, body)))
    with pytest.raises(MalformedResponse) as excinfo:
        client.list_calls()
    assert excinfo.value.request_id == "req_list_bad"


def test_failures_are_logged_without_key_or_query(caplog: pytest.LogCaptureFixture) -> None:
    upstream = Upstream(status(404, error_body("not_found", request_id="req_log")))
    client, _ = make_client(upstream)
    with caplog.at_level(logging.WARNING, logger="calls.client"), pytest.raises(NotFound):
        client.get_call("call_0001")

    (record,) = [r for r in caplog.records if r.name == "calls.client"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "GET /api/public/v1/calls/call_0001" in message
    assert "status=404" in message
    assert "request_id=req_log" in message
    assert API_KEY not in message


# --- retries ------------------------------------------------------------------------------------


def test_retries_503_then_succeeds() -> None:
    upstream = Upstream(status(503), status(503), ok_page())
    client, sleeps = make_client(upstream)
    assert isinstance(client.list_calls(), CallPage)
    assert upstream.calls == 3
    assert len(sleeps) == 2


def test_400_is_not_retried() -> None:
    upstream = Upstream(status(400, error_body("bad_request")), ok_page())
    client, sleeps = make_client(upstream)
    with pytest.raises(ValidationFailed):
        client.list_calls()
    assert upstream.calls == 1
    assert sleeps == []


@pytest.mark.parametrize("code", [401, 402, 403, 404, 422])
def test_other_4xx_are_not_retried(code: int) -> None:
    upstream = Upstream(status(code, error_body("x")), ok_page())
    client, sleeps = make_client(upstream)
    with pytest.raises(TruedyError):
        client.list_calls()
    assert upstream.calls == 1
    assert sleeps == []


def test_persistent_503_stops_at_max_attempts() -> None:
    upstream = Upstream(*[status(503, error_body("unavailable"))] * 10)
    client, sleeps = make_client(upstream)
    with pytest.raises(UpstreamUnavailable) as excinfo:
        client.list_calls()
    assert upstream.calls == 3
    assert len(sleeps) == 2
    assert excinfo.value.status_code == 503


@pytest.mark.parametrize("code", [500, 502, 504])
def test_other_5xx_are_retried(code: int) -> None:
    upstream = Upstream(status(code), ok_page())
    client, _ = make_client(upstream)
    client.list_calls()
    assert upstream.calls == 2


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError]
)
def test_connection_failure_then_success(failure: type[Exception]) -> None:
    upstream = Upstream(failure, ok_page())
    client, sleeps = make_client(upstream)
    assert isinstance(client.list_calls(), CallPage)
    assert upstream.calls == 2
    assert len(sleeps) == 1


def test_read_timeouts_exhaust_attempts_as_upstream_timeout() -> None:
    upstream = Upstream(httpx.ReadTimeout, httpx.ReadTimeout, httpx.ReadTimeout, ok_page())
    client, sleeps = make_client(upstream)
    with pytest.raises(UpstreamTimeout):
        client.get_call("call_0001")
    assert upstream.calls == 3
    assert len(sleeps) == 2


def test_connect_errors_exhaust_attempts_as_upstream_unavailable() -> None:
    upstream = Upstream(httpx.ConnectError)
    client, _ = make_client(upstream)
    with pytest.raises(UpstreamUnavailable) as excinfo:
        client.list_calls()
    assert not isinstance(excinfo.value, UpstreamTimeout)
    assert upstream.calls == 3


def test_pool_timeout_is_not_retried() -> None:
    upstream = Upstream(httpx.PoolTimeout, ok_page())
    client, _ = make_client(upstream)
    with pytest.raises(UpstreamUnavailable):
        client.list_calls()
    assert upstream.calls == 1


def test_429_with_short_retry_after_waits_that_long_then_succeeds() -> None:
    limited = status(429, error_body("rate_limit_exceeded"), headers={"Retry-After": "1"})
    upstream = Upstream(limited, ok_page())
    client, sleeps = make_client(upstream)
    client.list_calls()
    assert sleeps == [1.0]
    assert upstream.calls == 2


def test_429_with_long_retry_after_raises_at_once_without_sleeping() -> None:
    limited = status(429, error_body("rate_limit_exceeded"), headers={"Retry-After": "120"})
    upstream = Upstream(limited, ok_page())
    client, sleeps = make_client(upstream)
    with pytest.raises(RateLimited) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == 120.0
    assert excinfo.value.request_id == "req_err"
    assert sleeps == []
    assert upstream.calls == 1


def test_429_with_only_reset_at_in_the_body() -> None:
    reset_at = (NOW + timedelta(seconds=3)).isoformat().replace("+00:00", "Z")
    body = error_body("rate_limit_exceeded", details={"limit": 100, "reset_at": reset_at})
    upstream = Upstream(status(429, body), ok_page())
    client, sleeps = make_client(upstream)
    client.list_calls()
    assert sleeps == [3.0]


def test_429_with_far_reset_at_raises_with_retry_after() -> None:
    reset_at = (NOW + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = error_body("rate_limit_exceeded", details={"reset_at": reset_at})
    upstream = Upstream(status(429, body))
    client, sleeps = make_client(upstream)
    with pytest.raises(RateLimited) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == 60.0
    assert sleeps == []


def _rate_limited_at(truedy_now: datetime, reset_in: timedelta, *, how: str) -> httpx.Response:
    """A 429 with only ``reset_at``, from a Truedy whose clock reads ``truedy_now``, saying so
    in ``meta.ts`` or in the ``Date`` header."""
    reset_at = (truedy_now + reset_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = error_body("rate_limit_exceeded", details={"reset_at": reset_at})
    if how == "meta.ts":
        body["meta"]["ts"] = truedy_now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return status(429, body)
    return status(429, body, headers={"Date": format_datetime(truedy_now, usegmt=True)})


@pytest.mark.parametrize("how", ["meta.ts", "Date"])
@pytest.mark.parametrize("skew", [timedelta(minutes=-7), timedelta(minutes=7)], ids=str)
def test_reset_at_is_judged_on_truedys_clock_not_ours(how, skew) -> None:
    upstream = Upstream(_rate_limited_at(NOW + skew, timedelta(seconds=40), how=how))
    client, _ = make_client(upstream)
    with pytest.raises(RateLimited) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == 40.0
    assert upstream.calls == 1


@pytest.mark.parametrize(
    ("reset_in", "wait"),
    [
        (timedelta(minutes=-30), client_module.RATE_LIMIT_WAIT_MIN),
        (timedelta(0), client_module.RATE_LIMIT_WAIT_MIN),
        (timedelta(hours=6), client_module.WAIT_MAX),
        (timedelta(days=400), client_module.WAIT_MAX),
    ],
    ids=["passed", "now", "hours", "a year"],
)
def test_a_reset_in_the_past_or_far_ahead_gives_a_bounded_wait(reset_in, wait) -> None:
    upstream = Upstream(_rate_limited_at(NOW, reset_in, how="Date"), ok_page())
    client, sleeps = make_client(upstream, max_retry_wait=0.5)
    with pytest.raises(RateLimited) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == wait
    assert sleeps == []  # even the shortest wait is longer than this client may sleep


def test_a_long_retry_after_is_bounded_too() -> None:
    upstream = Upstream(status(503, headers={"Retry-After": str(24 * 3600)}))
    client, _ = make_client(upstream)
    with pytest.raises(UpstreamUnavailable) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == client_module.WAIT_MAX


@pytest.mark.parametrize("skew", [timedelta(minutes=-5), timedelta(0), timedelta(minutes=5)])
def test_upstream_now_is_our_clock_corrected_by_the_skew_truedy_showed(skew) -> None:
    answer = httpx.Response(
        200, json=call_page_body(), headers={"Date": format_datetime(NOW + skew, usegmt=True)}
    )
    client, _ = make_client(Upstream(answer))
    assert client.upstream_now() == NOW  # nothing seen yet: our clock
    client.list_calls()
    assert client.upstream_now() == NOW + skew


def test_meta_ts_is_preferred_to_the_date_header_and_a_wild_reading_is_ignored() -> None:
    truedy_now = NOW + timedelta(seconds=90, microseconds=500)
    body = call_page_body()
    body["meta"]["ts"] = truedy_now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    dated = {"Date": format_datetime(NOW + timedelta(seconds=89), usegmt=True)}
    wild = {"Date": format_datetime(NOW + timedelta(days=3), usegmt=True)}
    client, _ = make_client(
        Upstream(
            httpx.Response(200, json=body, headers=dated),
            httpx.Response(200, json=call_page_body(), headers=wild),
        )
    )
    client.list_calls()
    assert abs(client.upstream_now() - truedy_now) < timedelta(milliseconds=1)
    client.list_calls()  # a Date three days off is a broken header, not Truedy's clock
    assert abs(client.upstream_now() - truedy_now) < timedelta(milliseconds=1)


def test_http_date_retry_after() -> None:
    when = format_datetime(NOW + timedelta(seconds=2), usegmt=True)
    upstream = Upstream(status(503, headers={"Retry-After": when}), ok_page())
    client, sleeps = make_client(upstream)
    client.list_calls()
    assert sleeps == [2.0]


def test_http_date_retry_after_in_the_past_means_no_wait() -> None:
    when = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    upstream = Upstream(status(503, headers={"Retry-After": when}), ok_page())
    client, sleeps = make_client(upstream)
    client.list_calls()
    assert sleeps == [0.0]


def test_a_rate_limit_whose_reset_has_passed_still_waits_a_moment() -> None:
    when = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    upstream = Upstream(status(429, headers={"Retry-After": when}), ok_page())
    client, sleeps = make_client(upstream)
    client.list_calls()
    assert sleeps == [client_module.RATE_LIMIT_WAIT_MIN]


def test_503_with_long_retry_after_raises_unavailable_at_once() -> None:
    upstream = Upstream(status(503, headers={"Retry-After": "30"}), ok_page())
    client, sleeps = make_client(upstream)
    with pytest.raises(UpstreamUnavailable) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == 30.0
    assert sleeps == []
    assert upstream.calls == 1


def test_unparseable_retry_after_falls_back_to_backoff() -> None:
    upstream = Upstream(status(429, headers={"Retry-After": "soon"}), ok_page())
    client, sleeps = make_client(upstream, rng=UpperBoundRng())
    client.list_calls()
    assert sleeps == [0.2]


def test_429_on_the_last_attempt_carries_retry_after() -> None:
    upstream = Upstream(status(429, headers={"Retry-After": "2"}))
    client, sleeps = make_client(upstream, max_attempts=2)
    with pytest.raises(RateLimited) as excinfo:
        client.list_calls()
    assert excinfo.value.retry_after == 2.0
    assert sleeps == [2.0]
    assert upstream.calls == 2


def test_backoff_is_exponential_and_capped_at_its_upper_bound() -> None:
    upstream = Upstream(status(503))
    client, sleeps = make_client(upstream, max_attempts=6, rng=UpperBoundRng())
    with pytest.raises(UpstreamUnavailable):
        client.list_calls()
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6, 2.0])


@pytest.mark.parametrize("seed", range(20))
def test_full_jitter_stays_within_bounds(seed: int) -> None:
    upstream = Upstream(status(503))
    client, sleeps = make_client(upstream, max_attempts=6, rng=random.Random(seed))
    with pytest.raises(UpstreamUnavailable):
        client.list_calls()
    assert len(sleeps) == 5
    for attempt, wait in enumerate(sleeps):
        assert 0 <= wait <= min(2.0, 0.2 * 2**attempt)


# --- agents -------------------------------------------------------------------------------------


def test_list_agents_pages_through_everything_and_drops_secrets() -> None:
    everyone = [agent_payload(i) for i in range(250)]

    def agents_endpoint(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        chunk = everyone[offset : offset + limit]
        return httpx.Response(
            200, json=agent_page_body(chunk, total=250, limit=limit, offset=offset)
        )

    upstream = Upstream(agents_endpoint)
    client, _ = make_client(upstream)
    agents = client.list_agents()

    assert upstream.calls == 3
    assert [r.url.path for r in upstream.requests] == ["/api/public/v1/agents"] * 3
    assert [dict(r.url.params) for r in upstream.requests] == [
        {"limit": "100", "offset": "0"},
        {"limit": "100", "offset": "100"},
        {"limit": "100", "offset": "200"},
    ]
    assert len(agents) == 250
    assert agents[0].id == "agent_0000"
    assert all(not hasattr(agent, "system_prompt") for agent in agents)
    assert "SECRET" not in repr(agents)


def test_list_agents_with_none() -> None:
    upstream = Upstream(status(200, agent_page_body([], total=0)))
    client, _ = make_client(upstream)
    assert client.list_agents() == ()
    assert upstream.calls == 1


# --- call ids -----------------------------------------------------------------------------------

HOSTILE_IDS = [
    "..",
    ".",
    "%2e%2e",
    "../admin",
    "a?x=1",
    "a#b",
    "//evil",
    "http://evil/",
    "a/b",
    "a b",
    "a\nb",
    "",
    "a" * 65,
    "café",
    "call_١٢٣",  # Arabic-Indic digits
    "ｃａｌｌ",
]


@pytest.mark.parametrize("call_id", HOSTILE_IDS)
def test_hostile_call_ids_make_no_request(call_id: str) -> None:
    upstream = Upstream(status(200, call_envelope()))
    client, _ = make_client(upstream)
    assert not is_valid_call_id(call_id)
    with pytest.raises(InvalidCallId):
        client.get_call(call_id)
    assert upstream.calls == 0


@pytest.mark.parametrize("value", [None, 123, b"call_1"])
def test_non_string_call_ids_are_invalid(value: Any) -> None:
    upstream = Upstream(status(200, call_envelope()))
    client, _ = make_client(upstream)
    with pytest.raises(InvalidCallId):
        client.get_call(value)
    assert upstream.calls == 0


@pytest.mark.parametrize(
    "call_id", ["call_0001", "3f2c8a9e-5b1d-4c7a-9e0f-1a2b3c4d5e6f", "a" * 64, "-", "_"]
)
def test_valid_call_ids(call_id: str) -> None:
    assert is_valid_call_id(call_id)


@settings(max_examples=150, deadline=None)
@given(st.from_regex(CALL_ID_PATTERN, fullmatch=True))
def test_accepted_ids_always_hit_the_call_path_on_the_base_host(call_id: str) -> None:
    upstream = Upstream(status(200, call_envelope(call_payload(id=call_id))))
    client, _ = make_client(upstream)
    client.get_call(call_id)

    (request,) = upstream.requests
    assert request.url.host == "api.truedy.test"
    assert request.url.scheme == "https"
    assert request.url.path == "/api/public/v1/calls/" + call_id
    assert request.url.raw_path == b"/api/public/v1/calls/" + urllib.parse.quote(call_id).encode()
    assert request.url.query == b""


def test_an_answer_about_another_call_is_refused() -> None:
    """Truedy answering call B for call A would show B on A's page and overwrite B's archive
    row with A's id."""
    client, _ = make_client(Upstream(status(200, call_envelope(call_payload(id="call_B")))))
    with pytest.raises(MalformedResponse, match="another call"):
        client.get_call("call_A")


@pytest.mark.parametrize(
    "bad_id", ['call"1', "call\r\nX-Evil: 1", "../calls", "a" * 65, "call 1", ""]
)
def test_ids_not_of_the_documented_shape_are_refused_in_lists_too(bad_id: str) -> None:
    """Ids go into our links, file names and Content-Disposition headers."""
    page = call_page_body([call_payload(id="call_ok"), call_payload(id=bad_id)])
    client, _ = make_client(Upstream(status(200, page)))
    with pytest.raises(MalformedResponse):
        client.list_calls()


# --- recordings ---------------------------------------------------------------------------------


class TrackingStream(httpx.SyncByteStream):
    """A response body that remembers whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed = True


AUDIO = bytes(range(256)) * 4  # 1 KiB


def audio_response(
    code: int = 206, body: bytes = AUDIO, *, stream: TrackingStream | None = None
) -> httpx.Response:
    base_headers = {
        "Content-Type": "audio/mpeg",
        "Content-Length": str(len(body)),
        "Content-Range": f"bytes 0-{len(body) - 1}/4096",
        "Accept-Ranges": "bytes",
        "ETag": '"abc123"',
        "Last-Modified": "Mon, 23 Nov 2026 10:03:20 GMT",
        "Set-Cookie": "tracking=1",
        "X-Amz-Request-Id": "storage-internal",
        "Cache-Control": "public, max-age=86400",
        "Connection": "keep-alive",
    }
    stream = stream if stream is not None else TrackingStream([body[:300], body[300:]])
    return httpx.Response(code, headers=base_headers, stream=stream)


def test_recording_forwards_range_and_never_sends_the_key() -> None:
    upstream = Upstream(audio_response())
    client, _ = make_client(upstream)
    with client.open_recording(REC_URL, range_header="bytes=0-1023", if_range='"abc123"'):
        pass

    (request,) = upstream.requests
    assert str(request.url) == REC_URL
    assert request.headers["Range"] == "bytes=0-1023"
    assert request.headers["If-Range"] == '"abc123"'
    assert request.headers["Accept-Encoding"] == "identity"
    assert "Authorization" not in request.headers
    assert API_KEY not in str(request.headers)


def test_recording_without_range_sends_neither_header() -> None:
    upstream = Upstream(audio_response(200))
    client, _ = make_client(upstream)
    client.open_recording(REC_URL).close()
    assert "Range" not in upstream.requests[0].headers
    assert "If-Range" not in upstream.requests[0].headers


def test_recording_with_unsafe_range_value_does_not_forward_it() -> None:
    upstream = Upstream(audio_response(200))
    client, _ = make_client(upstream)
    client.open_recording(REC_URL, range_header="bytes=0-\r\nX-Evil: 1", if_range="é").close()
    assert "Range" not in upstream.requests[0].headers
    assert "If-Range" not in upstream.requests[0].headers


def test_recording_headers_are_filtered_to_the_audio_ones() -> None:
    client, _ = make_client(Upstream(audio_response()))
    with client.open_recording(REC_URL, range_header="bytes=0-") as recording:
        assert recording.status_code == 206
        assert recording.headers == {
            "content-type": "audio/mpeg",
            "content-length": "1024",
            "content-range": "bytes 0-1023/4096",
            "accept-ranges": "bytes",
            "etag": '"abc123"',
            "last-modified": "Mon, 23 Nov 2026 10:03:20 GMT",
        }


def test_partial_content_is_streamed_in_chunks_and_closed_after() -> None:
    body = TrackingStream([AUDIO[:300], AUDIO[300:]])
    client, _ = make_client(Upstream(audio_response(stream=body)))
    recording = client.open_recording(REC_URL, range_header="bytes=0-1023")
    assert isinstance(recording, RecordingStream)

    chunks = list(recording.iter_bytes(chunk_size=256))

    assert b"".join(chunks) == AUDIO
    assert [len(chunk) for chunk in chunks] == [256, 256, 256, 256]
    assert body.closed
    assert recording.closed


def test_recording_closed_when_iteration_is_abandoned() -> None:
    body = TrackingStream([AUDIO[:300], AUDIO[300:]])
    client, _ = make_client(Upstream(audio_response(stream=body)))
    recording = client.open_recording(REC_URL)
    chunks = recording.iter_bytes(chunk_size=100)
    next(chunks)
    assert not body.closed
    chunks.close()  # what Django does when the browser goes away mid-range
    assert body.closed


def test_unsatisfiable_range_is_passed_through() -> None:
    response = httpx.Response(416, headers={"Content-Range": "bytes */4096"})
    client, _ = make_client(Upstream(response))
    with client.open_recording(REC_URL, range_header="bytes=5000-") as recording:
        assert recording.status_code == 416
        assert recording.headers == {"content-range": "bytes */4096"}


@pytest.mark.parametrize("code", [403, 404, 410])
def test_expired_or_gone_recording(code: int) -> None:
    body = error_body("link_expired", request_id="req_rec")
    response = httpx.Response(code, json=body, headers={"Content-Type": "application/json"})
    upstream = Upstream(response)
    client, sleeps = make_client(upstream)
    with pytest.raises(RecordingUnavailable) as excinfo:
        client.open_recording(REC_URL)
    assert excinfo.value.status_code == code
    assert excinfo.value.request_id == "req_rec"
    assert response.is_closed
    assert upstream.calls == 1
    assert sleeps == []


def test_recording_5xx_is_upstream_unavailable() -> None:
    response = httpx.Response(502, text="bad gateway")
    upstream = Upstream(response)
    client, _ = make_client(upstream)
    with pytest.raises(UpstreamUnavailable) as excinfo:
        client.open_recording(REC_URL)
    assert excinfo.value.status_code == 502
    assert response.is_closed
    assert upstream.calls == 1  # a stream is not retried on 5xx


def test_recording_retries_connection_errors_only() -> None:
    upstream = Upstream(httpx.ConnectError, audio_response(200))
    client, sleeps = make_client(upstream)
    client.open_recording(REC_URL).close()
    assert upstream.calls == 2
    assert len(sleeps) == 1

    upstream = Upstream(httpx.ReadTimeout, audio_response(200))
    client, _ = make_client(upstream)
    with pytest.raises(UpstreamTimeout):
        client.open_recording(REC_URL)
    assert upstream.calls == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://storage.truedy.test/rec/x.mp3?sig=1",  # plain http to a foreign host
        "http://api.truedy.test/rec/x.mp3",  # same host but not the base scheme (https)
        "ftp://storage.truedy.test/x.mp3",
        "file:///etc/passwd",
        "/rec/x.mp3",  # relative: would be joined onto the API base
        "https://user:pw@storage.truedy.test/x.mp3",
        "not a url at all",
        "",
    ],
)
def test_recording_urls_outside_the_allow_list_are_refused(url: str) -> None:
    upstream = Upstream(audio_response(200))
    client, _ = make_client(upstream)
    with pytest.raises(RecordingUnavailable):
        client.open_recording(url)
    assert upstream.calls == 0


def test_plain_http_recording_on_the_api_origin_is_allowed() -> None:
    """The embedded simulator serves its signed links over plain HTTP on its own origin."""
    upstream = Upstream(audio_response(200))
    client, _ = make_client(upstream, base_url="http://testserver:8000/api/public/v1")
    client.open_recording("http://testserver:8000/sim/recordings/call_1.mp3?sig=x").close()
    assert upstream.calls == 1
    assert "Authorization" not in upstream.requests[0].headers

    with pytest.raises(RecordingUnavailable):
        client.open_recording("http://testserver:9000/sim/recordings/call_1.mp3?sig=x")
    with pytest.raises(RecordingUnavailable):
        client.open_recording("http://evil.test:8000/sim/recordings/call_1.mp3?sig=x")
    assert upstream.calls == 1


def test_recording_failure_log_has_no_signature(caplog: pytest.LogCaptureFixture) -> None:
    client, _ = make_client(Upstream(httpx.Response(403)))
    with (
        caplog.at_level(logging.WARNING, logger="calls.client"),
        pytest.raises(RecordingUnavailable),
    ):
        client.open_recording(REC_URL)
    text = " ".join(record.getMessage() for record in caplog.records)
    assert "/rec/call_0001.mp3" in text
    assert "status=403" in text
    assert "s3cr3tsig" not in text
    assert API_KEY not in text
