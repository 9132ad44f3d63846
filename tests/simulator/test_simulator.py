"""The embedded Truedy simulator behaves like the Truedy Calls API.

See https://docs.truedy.ai/guides/call-management.
"""

import io
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.management.commands.truedy_simulator import Command
from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator, serve

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
BASE = "http://simulator.truedy.local" + API_PREFIX
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
AUDIO = bytes(range(256)) * 40  # 10,240 bytes standing in for an MP3
TURNS = [
    {"speaker": "agent", "text": "Hi, this is Ava from Brightline Solar.", "timestamp": 0.0},
    {"speaker": "contact", "text": "Hello! Yes, I'm interested.", "timestamp": 3.2},
    {"speaker": "agent", "text": "Great, see you Thursday.", "timestamp": 41.5},
]


def client_for(sim: Simulator, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(transport=sim.transport(), base_url=BASE, headers=headers or AUTH)


def all_calls(api: httpx.Client, **params: str) -> list[dict]:
    items: list[dict] = []
    offset = 0
    while True:
        body = api.get("/calls", params={**params, "limit": 100, "offset": offset}).json()
        items += body["data"]
        offset += 100
        if offset >= body["meta"]["total"]:
            return items


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_recordings(directory: Path) -> Path:
    """A tiny manifest + fake audio, independent of the real recordings."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tiny.mp3").write_bytes(AUDIO)
    entry = {
        "name": "tiny",
        "file": "tiny.mp3",
        "kind": "sales",
        "direction": "outbound",
        "outcome": "interested",
        "agent_role": "sales",
        "duration_seconds": 42.4,
        "bytes": len(AUDIO),
        "summary": "Tiny test recording.",
        "turns": TURNS,
    }
    (directory / "manifest.json").write_text(json.dumps({"recordings": [entry]}))
    return directory


@pytest.fixture
def sim() -> Simulator:
    return Simulator(seed=42, now=NOW)


@pytest.fixture
def api(sim: Simulator) -> httpx.Client:
    return client_for(sim)


@pytest.fixture
def tiny_sim(tmp_path: Path) -> Simulator:
    return Simulator(seed=42, call_count=300, now=NOW, recordings_dir=write_recordings(tmp_path))


@pytest.fixture(scope="module")
def shared_sim() -> Simulator:
    """For read-only tests: never move its clock or touch its switches."""
    return Simulator(seed=42, now=NOW)


@pytest.fixture(scope="module")
def shared_api(shared_sim: Simulator) -> httpx.Client:
    return client_for(shared_sim)


@pytest.fixture(scope="module")
def everything(shared_api: httpx.Client) -> list[dict]:
    return all_calls(shared_api)


# --------------------------------------------------------------------------- auth, envelopes


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer truedy_wrongwrongwrongwrongwrongwrong00"},
        {"Authorization": DEFAULT_API_KEY},
        {"Authorization": f"Basic {DEFAULT_API_KEY}"},
    ],
)
def test_missing_or_wrong_key_is_401(sim: Simulator, headers: dict[str, str]) -> None:
    response = httpx.Client(transport=sim.transport(), base_url=BASE, headers=headers).get("/calls")
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["meta"]["request_id"] == response.headers["X-Request-Id"]


def test_every_response_has_a_fresh_request_id(api: httpx.Client) -> None:
    ids = {api.get("/calls").json()["meta"]["request_id"] for _ in range(3)}
    ids.add(api.get("/calls/nope").json()["meta"]["request_id"])
    assert len(ids) == 4
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", i) for i in ids)


def test_list_envelope_and_defaults(api: httpx.Client) -> None:
    response = api.get("/calls")
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert len(body["data"]) == 20
    assert body["meta"]["limit"] == 20
    assert body["meta"]["offset"] == 0
    assert body["meta"]["request_id"] == response.headers["X-Request-Id"]
    assert 0.88 * 2000 < body["meta"]["total"] < 0.97 * 2000  # ~1/13 older than 12 months


def test_list_items_omit_transcript_and_detail_has_it(api: httpx.Client) -> None:
    item = api.get("/calls", params={"status": "ended", "offset": 20}).json()["data"][0]
    assert "transcript" not in item
    detail = api.get(f"/calls/{item['id']}").json()["data"]
    assert "transcript" in detail
    assert {k: v for k, v in detail.items() if k != "transcript"} == item


def test_unknown_path_is_404_and_other_methods_405(api: httpx.Client) -> None:
    for path in ("/nothing", "/calls/a/b", "/calls/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    response = api.post("/calls", json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert api.delete("/calls/x").status_code == 405


def test_unknown_query_parameters_are_ignored(api: httpx.Client) -> None:
    plain = api.get("/calls").json()
    noisy = api.get("/calls", params={"sort": "oldest", "page": "9", "foo": "<b>"}).json()
    assert noisy["data"] == plain["data"]


def test_requests_are_recorded_and_can_be_reset(sim: Simulator, api: httpx.Client) -> None:
    api.get("/calls", params={"limit": 5, "status": "ended"})
    api.get("/agents")
    assert [r.path for r in sim.requests] == [f"{API_PREFIX}/calls", f"{API_PREFIX}/agents"]
    first = sim.requests[0]
    assert first.method == "GET"
    assert first.query == {"limit": "5", "status": "ended"}
    assert first.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    sim.reset_requests()
    assert sim.requests == []


# --------------------------------------------------------------------------- list semantics


def test_filters_are_anded_and_total_is_right(
    shared_api: httpx.Client, everything: list[dict]
) -> None:
    agents = {a["name"].split()[0]: a["id"] for a in shared_api.get("/agents").json()["data"]}
    after, before = "2025-09-01T00:00:00Z", "2026-01-15T12:30:00.5+01:00"
    params = {
        "agent_id": agents["Ava"],
        "status": "ended",
        "direction": "outbound",
        "created_after": after,
        "created_before": before,
    }
    found = all_calls(shared_api, **params)
    expected = [
        c
        for c in everything
        if c["agent_id"] == agents["Ava"]
        and c["status"] == "ended"
        and c["direction"] == "outbound"
        and parse_ts(after) < parse_ts(c["created_at"]) < parse_ts(before)
    ]
    assert 50 < len(found) == len(expected)
    assert [c["id"] for c in found] == [c["id"] for c in expected]
    total = shared_api.get("/calls", params={**params, "limit": 1}).json()["meta"]["total"]
    assert total == len(expected)


@pytest.mark.parametrize(
    ("param", "values"),
    [("status", ["queued", "ringing", "in-progress", "ended", "failed", "cancelled"]),
     ("direction", ["outbound", "inbound", "webrtc"])],
)  # fmt: skip
def test_each_filter_value_matches_only_its_calls(
    shared_api: httpx.Client, everything: list[dict], param: str, values: list[str]
) -> None:
    for value in values:
        body = shared_api.get("/calls", params={param: value, "limit": 100}).json()
        assert body["meta"]["total"] == sum(c[param] == value for c in everything) > 0
        assert all(c[param] == value for c in body["data"])


def test_unknown_agent_id_matches_nothing(shared_api: httpx.Client) -> None:
    body = shared_api.get("/calls", params={"agent_id": "agt_doesnotexist"}).json()
    assert body["data"] == []
    assert body["meta"]["total"] == 0


def test_offset_past_the_end_is_empty_with_the_right_total(shared_api: httpx.Client) -> None:
    total = shared_api.get("/calls").json()["meta"]["total"]
    body = shared_api.get("/calls", params={"offset": total + 5, "limit": 10}).json()
    assert body["data"] == []
    assert body["meta"] == {**body["meta"], "total": total, "offset": total + 5, "limit": 10}
    last = shared_api.get("/calls", params={"offset": total - 3, "limit": 10}).json()
    assert len(last["data"]) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"status": "in_progress"}, "status"),
        ({"status": "done"}, "status"),
        ({"direction": "sideways"}, "direction"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-01T00:00:00Z"}, "created_before"),
        ({"created_after": "2026-01-01T00:00:00.1234567Z"}, "created_after"),
    ],
)
def test_invalid_parameters_are_422_naming_the_field(
    shared_api: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = shared_api.get("/calls", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["field"] == field
    assert error["details"]["reason"]


@pytest.mark.parametrize(
    "instant",
    [
        "2026-02-01T10:00:00Z",
        "2026-02-01T10:00:00.000Z",
        "2026-02-01T10:00:00.000000Z",
        "2026-02-01T11:00:00+01:00",
        "2026-02-01T05:00:00-05:00",
        "2026-02-01T10:00:00",
    ],
)
def test_dates_accept_offsets_and_fractions(shared_api: httpx.Client, instant: str) -> None:
    reference = {"created_after": "2026-02-01T10:00:00Z"}
    expected = shared_api.get("/calls", params=reference).json()["meta"]["total"]
    assert shared_api.get("/calls", params={"created_after": instant}).json()["meta"]["total"] == (
        expected
    )


def test_created_bounds_are_exclusive(shared_api: httpx.Client, everything: list[dict]) -> None:
    call = everything[40]
    on = {"created_after": call["created_at"], "created_before": call["created_at"]}
    assert shared_api.get("/calls", params=on).json()["data"] == []
    before = shared_api.get("/calls", params={"created_before": call["created_at"]}).json()
    assert call["id"] not in {c["id"] for c in before["data"]}


def test_newest_first_and_pages_are_stable(
    shared_api: httpx.Client, everything: list[dict]
) -> None:
    keys = [(parse_ts(c["created_at"]), c["id"]) for c in everything]
    assert keys == sorted(keys, key=lambda k: (-k[0].timestamp(), k[1]))
    paged: list[str] = []
    offset = 0
    while offset < len(everything):
        page = shared_api.get("/calls", params={"limit": 37, "offset": offset}).json()
        paged += [c["id"] for c in page["data"]]
        offset += 37
    assert paged == [c["id"] for c in everything]
    assert len(set(paged)) == len(paged)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(-3, 130), offset=st.integers(-3, 2100))
def test_limit_offset_property(shared_api: httpx.Client, limit: int, offset: int) -> None:
    response = shared_api.get("/calls", params={"limit": limit, "offset": offset})
    if not 1 <= limit <= 100 or offset < 0:
        assert response.status_code == 422
        return
    body = response.json()
    total = body["meta"]["total"]
    assert len(body["data"]) == max(0, min(limit, total - offset))


# --------------------------------------------------------------------------- one call


def test_unknown_call_is_404(api: httpx.Client) -> None:
    for call_id in ("nope", "00000000-0000-4000-8000-000000000000", "call_%3Cscript%3E"):
        response = api.get(f"/calls/{call_id}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_call_older_than_12_months_is_invisible(sim: Simulator, api: httpx.Client) -> None:
    sim.clock.set(NOW - timedelta(days=30))
    edge = (NOW - timedelta(days=366)).isoformat()
    old = api.get("/calls", params={"created_before": edge, "limit": 5}).json()["data"]
    assert old, "30 days ago, calls from 12-13 months before now were still visible"
    assert api.get(f"/calls/{old[0]['id']}").status_code == 200
    sim.clock.set(NOW)
    assert api.get(f"/calls/{old[0]['id']}").status_code == 404
    assert api.get("/calls", params={"created_before": edge}).json()["meta"]["total"] == 0


def test_calls_created_after_the_clock_are_invisible(sim: Simulator, api: httpx.Client) -> None:
    newest = api.get("/calls", params={"limit": 1}).json()["data"][0]
    sim.clock.set(parse_ts(newest["created_at"]) - timedelta(seconds=1))
    assert api.get(f"/calls/{newest['id']}").status_code == 404
    assert newest["id"] != api.get("/calls", params={"limit": 1}).json()["data"][0]["id"]


def test_live_call_transcript_is_null_until_the_delay_has_passed(
    sim: Simulator, api: httpx.Client
) -> None:
    live = api.get("/calls", params={"status": "in-progress"}).json()["data"]
    assert len(live) == 3
    for call in live:
        assert call["ended_at"] is None and call["duration_seconds"] is None
        assert call["started_at"] is not None and call["summary"] is None
    sim.clock.advance(31)
    now = [api.get(f"/calls/{c['id']}").json()["data"] for c in live]
    ended = [c for c in now if c["status"] == "ended"]
    assert len(ended) == 1
    call = ended[0]
    assert call["transcript"] is None and call["summary"] is None
    assert call["duration_seconds"] > 30 and call["cost_cents"] > 0
    assert parse_ts(call["ended_at"]) <= NOW + timedelta(seconds=30)
    sim.clock.advance(15)
    call = api.get(f"/calls/{call['id']}").json()["data"]
    assert call["transcript"] and call["summary"]
    assert call["transcript"][-1]["timestamp"] <= call["duration_seconds"]
    sim.clock.advance(300)
    statuses = {api.get(f"/calls/{c['id']}").json()["data"]["status"] for c in live}
    assert statuses == {"ended"}


def test_queued_and_ringing_calls_progress_with_the_clock(
    sim: Simulator, api: httpx.Client
) -> None:
    queued = api.get("/calls", params={"status": "queued"}).json()["data"]
    ringing = api.get("/calls", params={"status": "ringing"}).json()["data"]
    assert len(queued) == len(ringing) == 1
    sim.clock.advance(25)
    assert api.get(f"/calls/{ringing[0]['id']}").json()["data"]["status"] == "in-progress"
    sim.clock.advance(3600)
    for call in queued + ringing:
        assert api.get(f"/calls/{call['id']}").json()["data"]["status"] == "ended"
    assert api.get("/calls", params={"status": "queued"}).json()["meta"]["total"] == 0


# --------------------------------------------------------------------------- agents


def test_agents_list_and_filters(api: httpx.Client) -> None:
    body = api.get("/agents").json()
    agents = body["data"]
    assert body["meta"]["total"] == len(agents) >= 6
    for agent in agents:
        assert re.fullmatch(r"agt_[a-z0-9]{20}", agent["id"])
        assert {"name", "status", "created_at", "system_prompt", "phone_numbers"} <= set(agent)
        assert all(re.fullmatch(r"\+[1-9]\d{7,14}", n) for n in agent["phone_numbers"])
    assert any(a["status"] == "draft" for a in agents)
    found = api.get("/agents", params={"name": "SUPPORT"}).json()["data"]
    assert found and all("support" in a["name"].lower() for a in found)
    drafts = api.get("/agents", params={"status": "draft"}).json()
    assert drafts["meta"]["total"] == 1
    page = api.get("/agents", params={"limit": 2, "offset": 1}).json()
    assert [a["id"] for a in page["data"]] == [a["id"] for a in agents[1:3]]
    assert api.get("/agents", params={"limit": 0}).status_code == 422
    assert api.get("/agents", params={"status": "sleeping"}).status_code == 422


# --------------------------------------------------------------------------- recordings


def _recorded_call(api: httpx.Client, sim: Simulator) -> dict:
    """The most recent call with a still-valid recording link."""
    for call in api.get("/calls", params={"status": "ended", "limit": 100}).json()["data"]:
        if call["recording_url"]:
            expires = int(parse_qs(urlsplit(call["recording_url"]).query)["expires"][0])
            if expires > sim.clock.now().timestamp():
                return call
    raise AssertionError("no recent recorded call")


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_recording_url_is_signed_on_the_simulator_host(
    tiny_sim: Simulator,
) -> None:
    api = client_for(tiny_sim)
    call = _recorded_call(api, tiny_sim)
    parts = urlsplit(call["recording_url"])
    assert f"{parts.scheme}://{parts.netloc}" == "http://simulator.truedy.local"
    assert parts.path == f"/recordings/{call['id']}.mp3"
    query = parse_qs(parts.query)
    assert int(query["expires"][0]) == int(parse_ts(call["ended_at"]).timestamp()) + 86400
    assert re.fullmatch(r"[0-9a-f]{64}", query["signature"][0])
    anonymous = httpx.Client(transport=tiny_sim.transport())
    response = anonymous.get(call["recording_url"])
    assert response.status_code == 200
    assert response.content == AUDIO
    assert response.headers["content-type"] == "audio/mpeg"


def test_recording_link_expires_24h_after_the_call_ends(tiny_sim: Simulator) -> None:
    api = client_for(tiny_sim)
    call = _recorded_call(api, tiny_sim)
    anonymous = httpx.Client(transport=tiny_sim.transport())
    tiny_sim.clock.set(parse_ts(call["ended_at"]) + timedelta(hours=24) - timedelta(seconds=1))
    assert anonymous.get(call["recording_url"]).status_code == 200
    tiny_sim.clock.advance(2)
    response = anonymous.get(call["recording_url"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "link_expired"
    fresh = api.get(f"/calls/{call['id']}").json()["data"]
    assert fresh["recording_url"] == call["recording_url"]  # the API hands out the dead link


def test_storage_refusals_hit_recording_downloads_only(tiny_sim: Simulator) -> None:
    api = client_for(tiny_sim)
    call = _recorded_call(api, tiny_sim)
    anonymous = httpx.Client(transport=tiny_sim.transport())
    tiny_sim.switches.refuse_recordings_next(2)
    tiny_sim.switches.refuse_recordings_next(1, status=503)
    assert api.get(f"/calls/{call['id']}").status_code == 200, "the API is not affected"
    refused = [anonymous.get(call["recording_url"]) for _ in range(3)]
    assert [r.status_code for r in refused] == [403, 403, 503]
    assert refused[0].json()["error"]["code"] == "link_expired"
    assert anonymous.get(call["recording_url"]).status_code == 200
    tiny_sim.switches.refuse_recordings_next(5)
    tiny_sim.switches.reset()
    assert anonymous.get(call["recording_url"]).status_code == 200
    with pytest.raises(ValueError):
        tiny_sim.switches.refuse_recordings_next(1, status=302)


def test_old_calls_carry_already_expired_links(tiny_sim: Simulator) -> None:
    api = client_for(tiny_sim)
    old = [c for c in all_calls(api, status="ended")[50:] if c["recording_url"]]
    assert old
    response = httpx.Client(transport=tiny_sim.transport()).get(old[0]["recording_url"])
    assert response.status_code == 403


def test_tampered_recording_links_are_403(tiny_sim: Simulator) -> None:
    api = client_for(tiny_sim)
    call = _recorded_call(api, tiny_sim)
    url = call["recording_url"]
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    expires = parse_qs(urlsplit(url).query)["expires"][0]
    anonymous = httpx.Client(transport=tiny_sim.transport())
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for bad in (
        _with_query(url, signature=flipped),
        _with_query(url, expires=str(int(expires) + 3600)),
        _with_query(url, expires="never"),
        url.split("?")[0],
    ):
        response = anonymous.get(bad)
        assert response.status_code == 403, bad
        assert response.json()["error"]["code"] == "forbidden"


def test_unknown_recording_is_404(tiny_sim: Simulator) -> None:
    anonymous = httpx.Client(
        transport=tiny_sim.transport(), base_url="http://simulator.truedy.local"
    )
    assert anonymous.get("/recordings/nope.mp3?expires=1&signature=00").status_code == 404
    unrecorded = next(
        c for c in all_calls(client_for(tiny_sim), status="ended") if not c["recording_url"]
    )
    assert anonymous.get(f"/recordings/{unrecorded['id']}.mp3").status_code == 404


@pytest.fixture
def recording(tiny_sim: Simulator) -> tuple[httpx.Client, str]:
    call = _recorded_call(client_for(tiny_sim), tiny_sim)
    return httpx.Client(transport=tiny_sim.transport()), call["recording_url"]


def test_range_first_100_bytes(recording: tuple[httpx.Client, str]) -> None:
    client, url = recording
    response = client.get(url, headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(AUDIO)}"
    assert response.headers["Content-Length"] == "100"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert response.content == AUDIO[:100]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=-100", len(AUDIO) - 100, len(AUDIO) - 1),
        ("bytes=10000-", 10000, len(AUDIO) - 1),
        ("bytes=5-5", 5, 5),
        ("bytes=10000-999999", 10000, len(AUDIO) - 1),
        ("bytes=-999999", 0, len(AUDIO) - 1),
    ],
)
def test_range_forms(
    recording: tuple[httpx.Client, str], header: str, start: int, end: int
) -> None:
    client, url = recording
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(AUDIO)}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.content == AUDIO[start : end + 1]


@pytest.mark.parametrize("header", [f"bytes={len(AUDIO)}-", "bytes=20000-20010", "bytes=-0"])
def test_unsatisfiable_range_is_416(recording: tuple[httpx.Client, str], header: str) -> None:
    client, url = recording
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(AUDIO)}"


@pytest.mark.parametrize(
    "header", ["bytes=abc", "bytes=10-5", "items=0-10", "bytes=0-9,20-29", "bytes=-", "bytes 0-9"]
)
def test_malformed_or_multi_range_gets_the_whole_file(
    recording: tuple[httpx.Client, str], header: str
) -> None:
    client, url = recording
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(AUDIO))
    assert response.content == AUDIO


def test_if_range(recording: tuple[httpx.Client, str]) -> None:
    client, url = recording
    full = client.get(url)
    etag, modified = full.headers["ETag"], full.headers["Last-Modified"]
    for validator in (etag, modified):
        ranged = client.get(url, headers={"Range": "bytes=0-9", "If-Range": validator})
        assert ranged.status_code == 206
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == AUDIO


def test_head_and_streamed_body(recording: tuple[httpx.Client, str]) -> None:
    client, url = recording
    head = client.head(url)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(AUDIO))
    assert head.content == b""
    with client.stream("GET", url) as response:
        chunks = list(response.iter_raw())
    assert b"".join(chunks) == AUDIO


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_satisfiable_range_returns_exactly_those_bytes(
    recording: tuple[httpx.Client, str], data: st.DataObject
) -> None:
    client, url = recording
    first = data.draw(st.integers(0, len(AUDIO) - 1))
    last = data.draw(st.integers(first, len(AUDIO) + 50))
    response = client.get(url, headers={"Range": f"bytes={first}-{last}"})
    assert response.status_code == 206
    assert response.content == AUDIO[first : last + 1]


# --------------------------------------------------------------------------- determinism, speed


def _snapshot(sim: Simulator) -> str:
    api = client_for(sim)
    pages = [
        api.get("/calls", params={"limit": 100, "offset": offset}).json()["data"]
        for offset in (0, 700, 1700)
    ]
    detail = api.get(f"/calls/{pages[0][30]['id']}").json()["data"]
    agents = api.get("/agents").json()["data"]
    return json.dumps([pages, detail, agents], ensure_ascii=False, sort_keys=False)


def test_same_seed_and_now_give_byte_identical_data() -> None:
    assert _snapshot(Simulator(seed=42, now=NOW)) == _snapshot(Simulator(seed=42, now=NOW))


def test_different_seed_gives_different_data() -> None:
    assert _snapshot(Simulator(seed=42, now=NOW)) != _snapshot(Simulator(seed=43, now=NOW))


def test_real_time_clock_starts_now_and_ticks() -> None:
    sim = Simulator(call_count=50)
    assert abs((sim.clock.now() - datetime.now(UTC)).total_seconds()) < 2
    before = sim.clock.now()
    time.sleep(0.01)
    assert sim.clock.now() > before
    sim.clock.advance(3600)
    assert sim.clock.now() - before >= timedelta(hours=1)


@pytest.mark.slow
def test_100k_calls_build_and_page_correctly() -> None:
    """Scale is a setting; its speed is measured by bench/simulator_startup.py, not here."""
    sim = Simulator(seed=42, call_count=100_000, now=NOW)
    api = client_for(sim)
    body = api.get("/calls", params={"limit": 100, "status": "failed", "offset": 50}).json()
    assert body["meta"]["total"] > 1000 and len(body["data"]) == 100
    assert all(call["status"] == "failed" for call in body["data"])
    visible = api.get("/calls", params={"limit": 1}).json()["meta"]["total"]
    assert 90_000 < visible < 95_000  # about 12 of the 13 months are visible


# --------------------------------------------------------------------------- switches


def test_latency_switch_delays_every_response(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.latency_seconds = 0.2
    started = time.perf_counter()
    assert api.get("/calls", params={"limit": 1}).status_code == 200
    assert api.get("/nothing").status_code == 404
    assert time.perf_counter() - started >= 0.4


def test_fail_next_fails_exactly_n_requests(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.fail_next(2)
    responses = [api.get("/calls") for _ in range(3)]
    assert [r.status_code for r in responses] == [500, 500, 200]
    assert responses[0].json()["error"]["code"] == "internal_error"
    assert responses[0].json()["meta"]["request_id"]
    sim.switches.fail_next(1, status=503)
    response = api.get("/calls/whatever")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_timeout_next_raises_read_timeout_in_process(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.timeout_next(1)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/calls")
    assert api.get("/calls").status_code == 200


@pytest.mark.parametrize("kind", ["truncated", "html", "wrong_shape"])
def test_malformed_next(sim: Simulator, api: httpx.Client, kind: str) -> None:
    sim.switches.malformed_next(1, kind=kind)
    response = api.get("/calls")
    assert response.status_code == 200
    if kind == "truncated":
        assert response.headers["content-type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    elif kind == "html":
        assert response.headers["content-type"].startswith("text/html")
        assert b"<html>" in response.content
    else:
        assert isinstance(response.json()["data"], str)
    assert isinstance(api.get("/calls").json()["data"], list)


def test_rate_limit_next_with_retry_after(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.rate_limit_next(1, retry_after=7)
    response = api.get("/calls")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert parse_ts(error["details"]["reset_at"]) == NOW + timedelta(seconds=7)
    assert error["details"]["limit"] > 0
    assert api.get("/calls").status_code == 200


def test_rate_limit_next_with_reset_at_only(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.rate_limit_next(2, retry_after=20, reset_at_only=True)
    for _ in range(2):
        response = api.get("/calls")
        assert response.status_code == 429
        assert "Retry-After" not in response.headers
        assert parse_ts(response.json()["error"]["details"]["reset_at"]) > NOW


def test_rate_limit_per_minute_window(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.rate_limit_per_minute = 3
    codes = [api.get("/calls", params={"limit": 1}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.get("/calls")
    assert int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]["details"]["limit"] == 3
    sim.clock.advance(60)
    ok = api.get("/calls")
    assert ok.status_code == 200
    assert ok.headers["X-RateLimit-Remaining"] == "2"
    sim.switches.rate_limit_per_minute = None
    assert all(api.get("/calls").status_code == 200 for _ in range(5))


def test_switches_reject_nonsense(sim: Simulator) -> None:
    with pytest.raises(ValueError):
        sim.switches.malformed_next(1, kind="gibberish")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sim.switches.variant = "beta"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        sim.switches.fail_next(1, status=200)


def test_reference_variant_shapes(sim: Simulator, api: httpx.Client) -> None:
    sim.switches.variant = "reference"
    body = api.get("/calls", params={"limit": 100}).json()
    assert set(body["meta"]) == {"request_id", "ts"}
    assert body["pagination"]["limit"] == 100 and body["pagination"]["has_more"] is True
    assert body["pagination"]["total"] > 1000
    statuses = {c["status"] for c in body["data"]}
    assert {"in_progress", "completed", "created"} <= statuses
    assert not statuses & {"in-progress", "ended", "queued"}
    for call in body["data"]:
        assert "cost_cents" not in call and "cost_credits" in call
        assert "to" not in call and "from" not in call
        if call["direction"] == "inbound":
            assert set(call) >= {"phone_number"} and "to_number" not in call
        else:
            assert {"to_number", "from_number"} <= set(call)
        for key in ("created_at", "updated_at"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", call[key])
    last = api.get("/calls", params={"offset": body["pagination"]["total"] - 1}).json()
    assert last["pagination"]["has_more"] is False
    filtered = api.get("/calls", params={"status": "in-progress"}).json()
    assert {c["status"] for c in filtered["data"]} == {"in_progress"}
    assert api.get("/calls", params={"status": "in_progress"}).status_code == 422
    agents = api.get("/agents").json()
    assert "pagination" in agents and "total" not in agents["meta"]


def test_reference_variant_has_the_same_values(sim: Simulator, api: httpx.Client) -> None:
    primary = api.get("/calls", params={"limit": 50, "status": "ended"}).json()["data"]
    sim.switches.variant = "reference"
    reference = api.get("/calls", params={"limit": 50, "status": "ended"}).json()["data"]
    for p, r in zip(primary, reference, strict=True):
        assert p["cost_cents"] == r["cost_credits"]
        assert parse_ts(p["created_at"]) == parse_ts(r["created_at"])
        contact = p["from"] if p["direction"] == "inbound" else p["to"]
        assert contact == (r.get("phone_number") or r.get("to_number"))


def test_primary_timestamps_have_none_or_three_fractional_digits(
    everything: list[dict],
) -> None:
    shapes = set()
    for call in everything:
        for key in ("created_at", "started_at", "ended_at", "updated_at"):
            if call[key] is not None:
                match = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", call[key])
                assert match, call[key]
                shapes.add(match.group(1) is None)
        fractions = {("." in call[k]) for k in ("created_at", "updated_at")}
        assert len(fractions) == 1  # one precision per call
    assert shapes == {True, False}


# --------------------------------------------------------------------------- real HTTP


def test_over_http(sim: Simulator) -> None:
    with serve(sim, port=0) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}{API_PREFIX}"
        with httpx.Client(base_url=server.base_url, headers=AUTH) as api:
            body = api.get("/calls", params={"status": "ended", "limit": 100}).json()
            assert body["meta"]["total"] > 1000
            assert api.get("/calls").headers["content-type"] == "application/json"
            assert httpx.get(server.base_url + "/calls").status_code == 401
            url = next(c["recording_url"] for c in body["data"] if c["recording_url"])
            assert url.startswith(f"http://127.0.0.1:{server.port}/recordings/")
            ranged = httpx.get(url, headers={"Range": "bytes=0-99"})
            assert ranged.status_code == 206
            assert len(ranged.content) == 100
            full = httpx.get(url)
            assert full.status_code == 200
            assert int(full.headers["Content-Length"]) == len(full.content) > 10_000
            assert full.content[:100] == ranged.content


def test_switches_over_http(sim: Simulator) -> None:
    with serve(sim) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as api:
        sim.switches.latency_seconds = 0.2
        started = time.perf_counter()
        assert api.get("/calls", params={"limit": 1}).status_code == 200
        assert time.perf_counter() - started >= 0.2
        sim.switches.latency_seconds = 0
        sim.switches.timeout_sleep_seconds = 1.0
        sim.switches.timeout_next(1)
        with pytest.raises(httpx.ReadTimeout):
            api.get("/calls", timeout=httpx.Timeout(5.0, read=0.2))
        sim.switches.fail_next(1, status=502)
        assert api.get("/calls").status_code == 502
        sim.switches.malformed_next(1, kind="html")
        assert api.get("/calls").headers["content-type"].startswith("text/html")
        assert api.get("/calls").status_code == 200


def test_wsgi_app_mounted_under_a_prefix_builds_links_with_it(sim: Simulator) -> None:
    environ: dict = {
        "SCRIPT_NAME": "/sim",
        "PATH_INFO": f"{API_PREFIX}/calls",
        "QUERY_STRING": "limit=30&status=ended",
        "HTTP_HOST": "demo.example:8000",
        "HTTP_AUTHORIZATION": f"Bearer {DEFAULT_API_KEY}",
    }
    setup_testing_defaults(environ)
    captured: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured.update(status=status, headers=dict(headers))

    body = b"".join(sim.wsgi_app(environ, start_response))
    assert captured["status"] == "200 OK"
    data = json.loads(body)["data"]
    url = next(c["recording_url"] for c in data if c["recording_url"])
    assert url.startswith("http://demo.example:8000/sim/recordings/")


# --------------------------------------------------------------------------- management command


def test_command_builds_the_simulator_from_options_and_settings(settings: object) -> None:
    settings.TRUEDY_SIMULATOR_CALLS = 60  # type: ignore[attr-defined]
    settings.TRUEDY_SIMULATOR_SEED = 7  # type: ignore[attr-defined]
    command = Command()
    parser = command.create_parser("manage.py", "truedy_simulator")
    options = vars(
        parser.parse_args(
            ["--latency-ms", "250", "--rate-limit-per-minute", "30", "--variant", "reference"]
        )
    )
    assert options["host"] == "127.0.0.1" and options["port"] == 8765
    sim = command.build(options)
    assert len(sim.data.calls) == 60 and sim.seed == 7
    assert sim.switches.latency_seconds == 0.25
    assert sim.switches.rate_limit_per_minute == 30
    assert sim.switches.variant == "reference"
    sim = command.build(vars(parser.parse_args(["--calls", "10", "--seed", "3"])))
    assert len(sim.data.calls) == 10 and sim.seed == 3 and sim.switches.variant == "primary"


def test_command_serves_until_stopped() -> None:
    command = Command()
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=(command, "--port", "0", "--calls", "40"),
        kwargs={"stdout": out},
        daemon=True,
    )
    thread.start()
    assert command.ready.wait(10)
    assert command.server is not None
    base_url = command.server.base_url
    assert f"TRUEDY_API_BASE_URL={base_url} TRUEDY_API_KEY={DEFAULT_API_KEY}" in out.getvalue()
    assert httpx.get(base_url + "/calls", headers=AUTH).json()["meta"]["total"] > 20
    command.stop.set()
    thread.join(10)
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/calls", headers=AUTH)


def test_request_log_keeps_only_the_newest_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded simulator runs for the life of the dashboard: its log must not grow forever."""
    import calls.simulator.app as app_module

    monkeypatch.setattr(app_module, "REQUEST_LOG_LIMIT", 3)
    sim = Simulator(call_count=20, now=NOW)
    api = client_for(sim)
    for offset in range(5):
        api.get("/calls", params={"limit": 1, "offset": offset})
    assert [r.query["offset"] for r in sim.requests] == ["2", "3", "4"]
