"""Hostile input never breaks a page or reaches Truedy unchecked.

Hypothesis throws arbitrary query strings at every GET view and arbitrary call ids at the call
views. Every request the dashboard then makes is caught at the simulator's transport, as httpx
built it, and checked against an allowlist taken from the client's own code: which paths, which
query keys (each at most once) and which values.
"""

import inspect
from collections import Counter
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from calls.forms import PER_PAGE_CHOICES, QUERY_ORDER
from calls.simulator import Simulator
from calls.simulator.signing import RECORDINGS_PATH
from calls.truedy.client import (
    CALL_ID_PATTERN,
    PAGE_LIMIT_MAX,
    TruedyClient,
    format_timestamp,
    is_valid_call_id,
)
from calls.truedy.records import DIRECTIONS, STATUSES
from calls.upstream import gateway
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

ALLOWED_STATUSES = {200, 206, 302, 400, 404, 410}

# --- what may reach Truedy, from the client's own code ------------------------------------

_SIMULATOR = httpx.URL(gateway.SIMULATOR_BASE_URL)
API = _SIMULATOR.path.rstrip("/")  # "/api/public/v1"
# GET /calls takes exactly the keyword arguments of TruedyClient.list_calls.
LIST_KEYS = frozenset(inspect.signature(TruedyClient.list_calls).parameters) - {"self"}
AGENT_KEYS = frozenset({"limit", "offset"})  # TruedyClient.list_agents pages with these
RECORDING_KEYS = frozenset({"expires", "signature"})  # the signed link Truedy hands out


def _whole_number(value: str, minimum: int, maximum: int | None = None) -> bool:
    """ASCII digits in canonical form (no sign, no leading zero), within the bounds."""
    if not (value.isascii() and value.isdigit()) or str(int(value)) != value:
        return False
    return int(value) >= minimum and (maximum is None or int(value) <= maximum)


def _utc_instant(value: str) -> bool:
    """What format_timestamp writes: ISO 8601 in UTC with Z, and nothing else."""
    try:
        return format_timestamp(datetime.fromisoformat(value)) == value
    except ValueError:
        return False


VALUE_CHECKS = {
    "agent_id": lambda v: CALL_ID_PATTERN.fullmatch(v) is not None,  # the form's agent check
    "status": lambda v: v in STATUSES,
    "direction": lambda v: v in DIRECTIONS,
    "created_after": _utc_instant,
    "created_before": _utc_instant,
    "limit": lambda v: _whole_number(v, 1, PAGE_LIMIT_MAX),
    "offset": lambda v: _whole_number(v, 0),
    "expires": lambda v: _whole_number(v, 0),
    "signature": lambda v: len(v) == 64 and all(c in "0123456789abcdef" for c in v),
}


def assert_allowlisted(request: httpx.Request) -> None:
    url = request.url
    assert (url.scheme, url.host, url.port) == (_SIMULATOR.scheme, _SIMULATOR.host, None), url
    path = url.raw_path.partition(b"?")[0].decode("ascii")
    pairs = parse_qsl(url.query.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    keys = Counter(key for key, _ in pairs)
    assert all(count == 1 for count in keys.values()), f"repeated query key upstream: {url}"
    if path == f"{API}/calls":
        assert set(keys) <= LIST_KEYS and {"limit", "offset"} <= set(keys), url
    elif path == f"{API}/agents":
        assert set(keys) == AGENT_KEYS, url
    elif path.startswith(f"{API}/calls/"):
        call_id = path.removeprefix(f"{API}/calls/")
        assert is_valid_call_id(call_id), f"unchecked call id upstream: {url}"
        assert not pairs, url
    elif path == f"{API}/batch-calls":
        assert set(keys) == AGENT_KEYS, url  # the campaigns page: limit and offset only
    elif path.startswith(f"{API}/batch-calls/"):
        campaign_id, _, rest = path.removeprefix(f"{API}/batch-calls/").partition("/")
        assert is_valid_call_id(campaign_id), f"unchecked campaign id upstream: {url}"
        assert (rest, set(keys)) in (("", set()), ("contacts", AGENT_KEYS)), url
    elif path.startswith(RECORDINGS_PATH):
        name = path.removeprefix(RECORDINGS_PATH)
        assert name.endswith(".mp3") and is_valid_call_id(name.removesuffix(".mp3")), url
        assert set(keys) == RECORDING_KEYS, url
    else:
        raise AssertionError(f"a path outside the allowlist reached Truedy: {url}")
    for key, value in pairs:
        assert VALUE_CHECKS[key](value), f"unvalidated {key}={value!r} upstream: {url}"


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def upstream(frozen_simulator, monkeypatch) -> list[httpx.Request]:
    """Every request the dashboard sends to the (frozen) simulator, exactly as httpx built it."""
    sent: list[httpx.Request] = []
    handle = frozen_simulator.handle

    def recording_handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handle(request)

    monkeypatch.setattr(frozen_simulator, "handle", recording_handle)
    return sent


def fresh_start(simulator: Simulator, sent: list[httpx.Request]) -> None:
    """Each example starts cold, so what it asks of Truedy is really asked."""
    cache.clear()
    simulator.reset_requests()
    sent.clear()


HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- (a) any query string, every GET view ----------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # NUL included
_long = st.integers(min_value=1_000, max_value=20_000).map(lambda n: "9" * n)
_plausible = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e3",
        "٣",
        "１０",
        "10",
        "100",
        "101",
        "1000000",
        "1000001",
        "\x00",
        "%00",
        "ended",
        "ENDED",
        "in-progress",
        "inbound",
        "Europe/Berlin",
        "../../etc/passwd",
        "2026-11-23",
        "2026-02-30",
        "2026-11-23T14:30",
        "2026-11-23T14:30:00Z",
        "2026-11-23T14:30:00+24:00",
        "1969-12-31",
        "9999-12-31",
        "agent_1",
        "a?x=1",
        "http://evil/",
        "1:23",
        "1m23s",
    ]
)
_valid_list_value = st.one_of(
    st.sampled_from(STATUSES),
    st.sampled_from(DIRECTIONS),
    st.sampled_from([str(n) for n in PER_PAGE_CHOICES]),
    st.integers(min_value=1, max_value=50).map(str),
    st.dates().map(lambda d: d.isoformat()),
)
_keys = st.one_of(
    st.sampled_from((*QUERY_ORDER, "t", "limit", "offset", "next", "agent_id[]")), _text
)
_values = st.one_of(_plausible, _valid_list_value, _text, _long)
_pairs = st.lists(st.tuples(_keys, _values), max_size=8)
# Values the form accepts, so that filters really go upstream and their values get checked.
_moments = st.one_of(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
        lambda d: d.isoformat(timespec="minutes")
    ),
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
)
_valid_pairs = st.lists(
    st.one_of(
        st.tuples(st.just("status"), st.sampled_from(STATUSES)),
        st.tuples(st.just("direction"), st.sampled_from(DIRECTIONS)),
        st.tuples(st.just("agent_id"), st.from_regex(CALL_ID_PATTERN, fullmatch=True)),
        st.tuples(st.sampled_from(["created_after", "created_before"]), _moments),
        st.tuples(st.just("tz"), st.sampled_from(["UTC", "Europe/Berlin", "America/Santiago"])),
        st.tuples(st.just("per_page"), st.sampled_from([str(n) for n in PER_PAGE_CHOICES])),
        st.tuples(st.just("page"), st.integers(min_value=1, max_value=90).map(str)),
    ),
    max_size=6,
)
# Encoded pairs (repeated keys, unicode, NUL, long values), or raw bytes of a broken query.
_query_strings = st.one_of(
    _pairs.map(urlencode),
    _valid_pairs.map(urlencode),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
)
# The fragments each page has (views.PARTIALS, per template), and a target no page has.
PAGE_TARGETS = {"/calls/": {"results"}, "/calls/{id}/": {"call", "transcript"}}
JUNK_TARGET = "\x00<script>"
_htmx_targets = st.sampled_from([None, "results", "call", "transcript", JUNK_TARGET])

GET_VIEWS = ["/calls/", "/calls/{id}/", "/calls/{id}/recording", "/calls/{id}/transcript.txt", "/"]


@pytest.mark.parametrize("view", GET_VIEWS)
@HYPOTHESIS
@given(query=_query_strings, target=_htmx_targets)
@example(query="status=bogus&status=ended&page=0&per_page=7", target=None)
@example(query="agent_id=..%2F..%2Fadmin&created_after=2026-02-30", target=None)
@example(query="page=999999&per_page=100&t=1%3A23", target=None)
@example(query="limit=1000&offset=-5&tz=Mars%2FOlympus", target=None)
@example(query="status=ended&direction=inbound&created_after=2026-11-20&tz=UTC", target=None)
def test_any_query_string_is_answered_without_an_error_or_an_unchecked_upstream_request(
    staff_client, frozen_simulator, upstream, view, query, target
):
    # Another page's fragment name is a known 500 of its own (the test below): not this one's.
    assume(target not in {"results", "call", "transcript"} - PAGE_TARGETS.get(view, set()))
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target} if target else {}
    fresh_start(frozen_simulator, upstream)
    path = view.format(id=recorded_call(frozen_simulator).id)
    response = staff_client.get(path, QUERY_STRING=query, **htmx)
    response.close()  # a recording stream is closed, not read
    assert response.status_code in ALLOWED_STATUSES, (path, query, response.status_code)
    event(f"status {response.status_code}")  # --hypothesis-show-statistics: inputs get through
    for request in upstream:
        assert_allowlisted(request)
        if request.url.path == f"{API}/calls" and len(request.url.params) > 2:
            event("filtered list asked of Truedy")


@pytest.mark.parametrize(
    ("view", "target"),
    [
        ("/calls/", "call"),
        ("/calls/", "transcript"),
        ("/calls/{id}/", "results"),
    ],
)
def test_a_fragment_target_the_page_does_not_have_is_not_a_server_error(
    staff_client, frozen_simulator, view, target
):
    """HX-Target is a request header anyone can set: another page's fragment name must give
    the whole page (as any unknown target does), not a missing-template 500."""
    path = view.format(id=recorded_call(frozen_simulator).id)
    response = staff_client.get(path, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
    assert response.status_code == 200


# --- (b) any call id --------------------------------------------------------------------------

_ids = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80),
    st.from_regex(CALL_ID_PATTERN, fullmatch=True),
    st.text(alphabet="./%?#:@&=+;x2eEfF", min_size=1, max_size=12),
)
CALL_VIEW_SUFFIXES = ["/", "/recording", "/transcript.txt"]


@pytest.mark.parametrize("suffix", CALL_VIEW_SUFFIXES)
@HYPOTHESIS
@given(call_id=_ids)
def test_a_call_id_is_refused_or_sent_as_one_quoted_path_segment(
    staff_client, frozen_simulator, upstream, suffix, call_id
):
    fresh_start(frozen_simulator, upstream)
    response = staff_client.get("/calls/" + quote(call_id, safe="") + suffix)
    response.close()
    assert response.status_code == 404, (call_id, response.status_code)
    if not is_valid_call_id(call_id):
        assert upstream == [], f"{call_id!r} reached Truedy"
        return
    expected = f"{API}/calls/{quote(call_id, safe='')}"
    paths = [request.url.raw_path.decode("ascii") for request in upstream]
    assert expected in paths
    assert set(paths) <= {expected, f"{API}/agents?limit=100&offset=0"}, paths
    assert [r.path for r in frozen_simulator.requests if "/calls" in r.path] == [
        f"{API}/calls/{call_id}"
    ] * paths.count(expected)


EXPLICIT_IDS = ["..", "%2e%2e", "a?x=1", "a#b", "//evil", "http://evil/", "a/b", "%2F", "x" * 65]


@pytest.mark.parametrize("call_id", EXPLICIT_IDS)
def test_a_hostile_call_id_is_a_404_without_any_upstream_request(staff_client, simulator, call_id):
    """As one path segment (percent-encoded), on the call page, the recording and the .txt."""
    for suffix in CALL_VIEW_SUFFIXES:
        path = "/calls/" + quote(call_id, safe="") + suffix
        response = staff_client.get(path)
        response.close()
        assert response.status_code == 404, path
        assert simulator.requests == [], path


@pytest.mark.parametrize("call_id", EXPLICIT_IDS)
def test_a_hostile_call_id_typed_raw_into_the_url_never_reaches_truedy(
    staff_client, simulator, call_id
):
    """Raw, "?" and "#" end the path ("/calls/a?x=1/" is "/calls/a"), which CommonMiddleware's
    APPEND_SLASH answers with a 301 to "/calls/a/"; everything else finds no URL or no valid id."""
    for suffix in CALL_VIEW_SUFFIXES:
        path = "/calls/" + call_id + suffix
        response = staff_client.get(path)
        response.close()
        assert response.status_code in (301, 404), path
        assert simulator.requests == [], path


def test_the_longest_valid_id_still_reaches_truedy_as_one_segment(staff_client, upstream):
    call_id = "x" * 64
    assert staff_client.get(f"/calls/{call_id}/").status_code == 404  # Truedy: no such call
    assert [r.url.raw_path.decode() for r in upstream] == [f"{API}/calls/{call_id}"]
