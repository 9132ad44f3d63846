"""New calls on the simulator and the webhooks it sends by itself: `Simulator.place_call`, the
control endpoint, `CallPlacer`, `WebhookEmitter` and the command's options for them.

Each simulator's clock stands still at the real now when the test starts (no calendar date is
written here) and the tests move it; real time passes only for deliveries and threads to run,
awaited by polling a condition with a generous deadline.
"""

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calls.management.commands.truedy_simulator import Command
from calls.simulator import (
    API_PREFIX,
    DEFAULT_API_KEY,
    CallPlacer,
    Simulator,
    WebhookEmitter,
    serve,
)
from calls.simulator.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, sign

ORIGIN = "http://simulator.truedy.local"
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
SECRET = "whsec_traffic_test"
DEADLINE_SECONDS = 10.0


def wait_for(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def agent_id(sim: Simulator, persona: str) -> str:
    return next(a.id for a in sim.data.agents if a.spec.persona == persona)


@pytest.fixture
def sim() -> Simulator:
    return Simulator(seed=42, call_count=300, now=datetime.now(UTC))


@pytest.fixture
def empty_sim() -> Simulator:
    """No calls at all until a test places some: every event is about those."""
    return Simulator(seed=42, call_count=0, now=datetime.now(UTC))


@pytest.fixture
def api(sim: Simulator) -> httpx.Client:
    return httpx.Client(transport=sim.transport(), base_url=ORIGIN + API_PREFIX, headers=AUTH)


def detail(api: httpx.Client, call_id: str) -> dict[str, Any]:
    response = api.get(f"/calls/{call_id}")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps what it is sent and answers 204."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/truedy"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in list(self.deliveries)]

    def about(self, call_id: str) -> list[str]:
        return [e["event"] for e in self.events if e["data"]["call_id"] == call_id]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def start_emitter() -> Iterator[Callable[..., WebhookEmitter]]:
    """Starts emitters that poll fast and retry at once; stops them after the test."""
    started: list[WebhookEmitter] = []

    def start(sim: Simulator, sender: WebhookSender, **options: Any) -> WebhookEmitter:
        options = {"poll_seconds": 0.01, "retry_delays": (0.01, 0.01), **options}
        emitter = WebhookEmitter(sim, sender, **options)
        emitter.start()
        started.append(emitter)
        return emitter

    yield start
    for emitter in started:
        emitter.stop()


def mock_sender(handler: Callable[[httpx.Request], httpx.Response]) -> WebhookSender:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return WebhookSender(SECRET, "http://dashboard.test/webhooks/truedy", client=client)


# --------------------------------------------------------------------------- place_call


def test_a_placed_call_is_the_newest_and_matches_its_filters(
    sim: Simulator, api: httpx.Client
) -> None:
    ava = agent_id(sim, "Ava")
    total = api.get("/calls").json()["meta"]["total"]
    call_id = sim.place_call(agent_id=ava)
    body = api.get("/calls", params={"limit": 5}).json()
    assert body["data"][0]["id"] == call_id
    assert body["meta"]["total"] == total + 1
    call = body["data"][0]
    assert call["agent_id"] == ava and call["status"] == "queued"
    just_before = (parse_ts(call["created_at"]) - timedelta(seconds=1)).isoformat()
    for params in (
        {"agent_id": ava},
        {"status": "queued"},
        {"direction": call["direction"]},
        {"created_after": just_before},
        {"agent_id": ava, "status": "queued", "created_after": just_before},
    ):
        assert api.get("/calls", params=params).json()["data"][0]["id"] == call_id, params
    ended = api.get("/calls", params={"status": "ended", "limit": 100}).json()["data"]
    assert call_id not in [c["id"] for c in ended]
    other = agent_id(sim, "Jordan")
    listed = api.get("/calls", params={"agent_id": other, "limit": 100}).json()["data"]
    assert call_id not in [c["id"] for c in listed]
    assert detail(api, call_id)["created_at"] == call["created_at"]


def test_a_placed_call_rings_talks_ends_and_gets_its_transcript_as_the_clock_moves(
    sim: Simulator, api: httpx.Client
) -> None:
    call_id = sim.place_call(talk_seconds=20, ring_seconds=3, agent_id=agent_id(sim, "Jordan"))
    created = parse_ts(detail(api, call_id)["created_at"])
    assert created <= sim.clock.now() < created + timedelta(seconds=1)

    def at(seconds: float) -> dict[str, Any]:
        sim.clock.set(created + timedelta(seconds=seconds))
        return detail(api, call_id)

    assert at(0.5)["status"] == "queued"
    assert at(1)["status"] == "ringing"
    live = at(4)
    assert live["status"] == "in-progress"
    assert parse_ts(live["started_at"]) == created + timedelta(seconds=4)
    assert live["ended_at"] is None and live["transcript"] is None
    listed = api.get("/calls", params={"status": "in-progress"}).json()["data"]
    assert call_id in [c["id"] for c in listed]
    ended = at(24)
    assert ended["status"] == "ended" and ended["duration_seconds"] == 20
    assert parse_ts(ended["ended_at"]) == created + timedelta(seconds=24)
    assert ended["outcome"] and ended["cost_cents"] > 0
    assert ended["transcript"] is None and ended["summary"] is None  # not analysed yet
    analysed = at(24 + sim.transcript_delay_seconds)
    assert analysed["transcript"] and analysed["summary"]
    assert {turn["speaker"] for turn in analysed["transcript"]} == {"agent", "contact"}
    assert analysed["transcript"][-1]["timestamp"] <= 20


def test_failed_and_cancelled_calls_settle_after_ringing(sim: Simulator, api: httpx.Client) -> None:
    failed = sim.place_call(final="failed", ring_seconds=10)
    cancelled = sim.place_call(final="cancelled", ring_seconds=5)
    sim.clock.advance(7)
    assert detail(api, failed)["status"] == "ringing"
    assert detail(api, cancelled)["status"] == "cancelled"
    sim.clock.advance(60)
    call = detail(api, failed)
    assert call["status"] == "failed" and call["started_at"] is None
    assert call["outcome"] is None and call["transcript"] is None


def test_placed_calls_are_the_same_every_run_and_leave_the_seeded_calls_alone() -> None:
    now = datetime.now(UTC)
    first, second = (Simulator(seed=42, call_count=300, now=now) for _ in range(2))
    seeded = [c.id for c in first.data.calls]
    placed = [first.place_call() for _ in range(5)]
    assert placed == [second.place_call() for _ in range(5)]
    assert [c.id for c in first.data.calls if c.id not in placed] == seeded
    assert placed != [Simulator(seed=43, call_count=0, now=now).place_call() for _ in range(5)]
    for sim in (first, second):
        sim.clock.advance(60)
    apis = [
        httpx.Client(transport=s.transport(), base_url=ORIGIN + API_PREFIX, headers=AUTH)
        for s in (first, second)
    ]
    for call_id in placed:
        assert detail(apis[0], call_id) == detail(apis[1], call_id)


def test_long_enough_calls_of_agents_with_recordings_have_one(
    sim: Simulator, api: httpx.Client
) -> None:
    ava = agent_id(sim, "Ava")
    long_calls = [sim.place_call(agent_id=ava, talk_seconds=120) for _ in range(8)]
    short_calls = [sim.place_call(agent_id=ava) for _ in range(4)]
    sim.clock.advance(300)
    recorded = [detail(api, c) for c in long_calls if detail(api, c)["recording_url"]]
    assert recorded, "about 6 in 10 have a recording"
    for call in recorded:
        assert call["recording_url"].startswith(f"{ORIGIN}/recordings/")
        assert call["transcript"][-1]["timestamp"] <= call["duration_seconds"] == 120
        audio = httpx.Client(transport=sim.transport()).get(call["recording_url"])
        assert audio.status_code == 200 and audio.content
    # No recording is as short as 20 s: a call never holds audio longer than itself.
    assert all(detail(api, c)["recording_url"] is None for c in short_calls)


def test_bad_arguments_are_refused(sim: Simulator) -> None:
    for options in (
        {"talk_seconds": -1},
        {"ring_seconds": 86_401},
        {"agent_id": "agt_nobody"},
        {"final": "ringing"},
    ):
        with pytest.raises(ValueError):
            sim.place_call(**options)


def test_placing_while_the_server_lists_keeps_every_page_whole(sim: Simulator) -> None:
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:
                errors.append(error)

        return run

    stored = len(sim.data.calls)
    with serve(sim) as server:
        total = httpx.get(server.base_url + "/calls", headers=AUTH).json()["meta"]["total"]

        def place() -> None:
            with httpx.Client(headers=AUTH) as client:
                for _ in range(25):
                    assert client.post(server.place_call_url).status_code == 201

        def read() -> None:
            with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
                for _ in range(25):
                    body = client.get("/calls", params={"limit": 100}).json()
                    keys = [(-parse_ts(c["created_at"]).timestamp(), c["id"]) for c in body["data"]]
                    assert keys == sorted(keys) and len(keys) == 100
                    assert body["meta"]["total"] >= total

        threads = [threading.Thread(target=guarded(w)) for w in (place, place, read, read)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(sim.data.calls) == len(sim.data.by_id) == stored + 50


# --------------------------------------------------------------------------- control endpoint


def test_post_places_a_call_and_answers_201(sim: Simulator, api: httpx.Client) -> None:
    control = httpx.Client(transport=sim.transport(), base_url=ORIGIN, headers=AUTH)
    response = control.post("/_simulator/calls", json={"talk_seconds": 5, "ring_seconds": 0})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "created_at", "ends_at"}
    assert parse_ts(body["ends_at"]) - parse_ts(body["created_at"]) == timedelta(seconds=6)
    newest = api.get("/calls", params={"limit": 1}).json()["data"][0]
    assert (newest["id"], newest["created_at"]) == (body["id"], body["created_at"])
    assert control.post("/_simulator/calls").status_code == 201  # the body is optional
    assert all(r.path.startswith(API_PREFIX) for r in sim.requests)  # not API traffic


@pytest.mark.parametrize(
    ("request_options", "status", "field"),
    [
        ({"headers": {}}, 401, None),
        ({"headers": {"Authorization": "Bearer truedy_wrong"}}, 401, None),
        ({"method": "GET"}, 405, None),
        ({"path": "/_simulator/agents"}, 404, None),
        ({"content": b"{not json"}, 400, None),
        ({"content": b"[1, 2]"}, 400, None),
        ({"json": {"talk_seconds": -1}}, 422, "talk_seconds"),
        ({"json": {"ring_seconds": "3"}}, 422, "ring_seconds"),
        ({"json": {"talk_seconds": True}}, 422, "talk_seconds"),
        ({"json": {"agent_id": "agt_nobody"}}, 422, "agent_id"),
        ({"json": {"final": "queued"}}, 422, "final"),
        ({"json": {"talk_secs": 5}}, 422, "talk_secs"),
    ],
)
def test_control_endpoint_refusals(
    sim: Simulator, request_options: dict[str, Any], status: int, field: str | None
) -> None:
    options = {"method": "POST", "path": "/_simulator/calls", "headers": AUTH, **request_options}
    before = len(sim.data.calls)
    with httpx.Client(transport=sim.transport(), base_url=ORIGIN) as control:
        response = control.request(options.pop("method"), options.pop("path"), **options)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["details"].get("field") == field
    assert len(sim.data.calls) == before


def test_control_endpoint_over_http(sim: Simulator) -> None:
    with serve(sim) as server:
        assert server.place_call_url == f"{server.origin}/_simulator/calls"
        assert httpx.post(server.place_call_url, json={}).status_code == 401
        response = httpx.post(server.place_call_url, headers=AUTH, json={"talk_seconds": 30})
        assert response.status_code == 201
        listed = httpx.get(server.base_url + "/calls", headers=AUTH).json()["data"]
        assert listed[0]["id"] == response.json()["id"]


# --------------------------------------------------------------------------- CallPlacer


def test_the_placer_places_a_call_each_period_of_the_simulators_clock(sim: Simulator) -> None:
    placer = CallPlacer(sim, every_seconds=30, talk_seconds=10, ring_seconds=2)
    placer.start()
    try:
        sim.clock.advance(30)
        wait_for(lambda: len(placer.placed) == 1, "the first call")
        assert sim.data.calls[0].id == placer.placed[0]
        sim.clock.advance(3600)  # one call after a jump, not the backlog
        wait_for(lambda: len(placer.placed) == 2, "the second call")
        assert [c.id for c in sim.data.calls[:2]] == placer.placed[::-1]
        assert len(placer.placed) == 2  # the clock stands still: the next is 30 s away
    finally:
        placer.stop()
    with pytest.raises(ValueError):
        CallPlacer(sim, every_seconds=0)


# --------------------------------------------------------------------------- WebhookEmitter


def test_the_emitter_sends_each_event_as_it_happens_in_time_order(
    sim: Simulator, receiver: Receiver, start_emitter: Callable[..., WebhookEmitter]
) -> None:
    started = sim.clock.now()
    emitter = start_emitter(sim, WebhookSender(SECRET, receiver.url))
    call_id = sim.place_call(talk_seconds=20, ring_seconds=3)
    sim.clock.advance(5)  # answered at about +4 s
    wait_for(lambda: receiver.about(call_id) == ["call.started"], "call.started")
    sim.clock.advance(55)  # ends at about +24 s, transcript 15 s later
    wait_for(lambda: len(receiver.about(call_id)) == 3, "call.ended and call.analyzed")
    assert receiver.about(call_id) == ["call.started", "call.ended", "call.analyzed"]

    events = receiver.events
    statuses = {e["event"]: e["data"]["status"] for e in events if e["data"]["call_id"] == call_id}
    assert statuses == {
        "call.started": "in-progress",
        "call.ended": "ended",
        "call.analyzed": "ended",
    }
    moments = [parse_ts(e["timestamp"]) for e in events]
    assert moments == sorted(moments)
    assert all(started < moment <= sim.clock.now() for moment in moments)  # no history
    assert len({(e["data"]["call_id"], e["event"]) for e in events}) == len(events)
    assert {e["data"]["call_id"] for e in events} - {call_id}, "calls live at the start send too"
    for headers, body in receiver.deliveries:
        assert headers[SIGNATURE_HEADER] == sign(SECRET, headers[TIMESTAMP_HEADER], body)
    # The receiver keeps a delivery before it answers; the emitter counts it once answered.
    wait_for(lambda: emitter.delivered == len(receiver.deliveries), "the last answer counted")
    assert emitter.dropped == 0


def test_failed_calls_send_call_failed_and_cancelled_ones_call_ended(
    empty_sim: Simulator, receiver: Receiver, start_emitter: Callable[..., WebhookEmitter]
) -> None:
    start_emitter(empty_sim, WebhookSender(SECRET, receiver.url))
    failed = empty_sim.place_call(final="failed")
    cancelled = empty_sim.place_call(final="cancelled")
    empty_sim.clock.advance(60)
    wait_for(lambda: len(receiver.deliveries) == 2, "two events")
    assert receiver.about(failed) == ["call.failed"]
    assert receiver.about(cancelled) == ["call.ended"]
    statuses = {e["data"]["call_id"]: e["data"]["status"] for e in receiver.events}
    assert statuses == {failed: "failed", cancelled: "cancelled"}


def test_a_delivery_answered_500_is_tried_again_with_the_same_event(
    empty_sim: Simulator, start_emitter: Callable[..., WebhookEmitter]
) -> None:
    answers = iter([500, 503])
    seen: list[dict[str, Any]] = []

    def dashboard(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(next(answers, 204))

    emitter = start_emitter(empty_sim, mock_sender(dashboard))
    empty_sim.place_call(final="failed")
    empty_sim.clock.advance(60)
    wait_for(lambda: emitter.delivered == 1, "the third attempt to succeed")
    assert len(seen) == 3 and seen[0] == seen[1] == seen[2]
    assert emitter.dropped == 0


def test_an_unreachable_receiver_is_retried_then_dropped_with_a_log_line(
    empty_sim: Simulator,
    start_emitter: Callable[..., WebhookEmitter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = WebhookSender(SECRET, f"http://127.0.0.1:{port}/webhooks/truedy")
    emitter = start_emitter(empty_sim, sender, retry_delays=(0.01,))
    caplog.set_level(logging.INFO, logger="calls.simulator.emitter")
    call_id = empty_sim.place_call(final="failed")
    empty_sim.clock.advance(60)
    wait_for(lambda: emitter.dropped == 1, "the event to be dropped")
    assert emitter.delivered == 0
    assert "dropped after 2 attempts" in caplog.text and "ConnectError" in caplog.text
    assert call_id in empty_sim.data.by_id


def test_the_emitter_carries_on_after_an_unexpected_error(
    empty_sim: Simulator, start_emitter: Callable[..., WebhookEmitter]
) -> None:
    seen: list[str] = []

    def dashboard(request: httpx.Request) -> httpx.Response:
        event = json.loads(request.content)
        seen.append(event["data"]["call_id"])
        if len(seen) == 1:
            raise RuntimeError("a bug in the transport")
        return httpx.Response(204)

    emitter = start_emitter(empty_sim, mock_sender(dashboard))
    first = empty_sim.place_call(final="failed")
    empty_sim.clock.advance(60)
    wait_for(lambda: seen == [first], "the first delivery")
    second = empty_sim.place_call(final="failed")
    empty_sim.clock.advance(60)
    wait_for(lambda: emitter.delivered == 1, "the next event")
    assert seen == [first, second]


def test_an_emitter_sends_nothing_about_history(
    sim: Simulator, start_emitter: Callable[..., WebhookEmitter]
) -> None:
    sent: list[dict[str, Any]] = []

    def dashboard(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(204)

    sim.clock.advance(3600)  # every call live at the anchor has ended and been analysed
    emitter = start_emitter(sim, mock_sender(dashboard))
    call_id = sim.place_call(final="failed")
    sim.clock.advance(60)
    wait_for(lambda: emitter.delivered == 1, "the placed call's event")
    assert [(e["data"]["call_id"], e["event"]) for e in sent] == [(call_id, "call.failed")]


# --------------------------------------------------------------------------- the command


def test_command_places_calls_and_sends_webhooks_until_stopped(receiver: Receiver) -> None:
    command = Command()
    out = io.StringIO()
    args = ["--port", "0", "--calls", "40", "--new-call-every", "0.05"]
    args += ["--webhook-url", receiver.url, "--webhook-secret", SECRET]
    thread = threading.Thread(
        target=call_command, args=(command, *args), kwargs={"stdout": out}, daemon=True
    )
    thread.start()
    assert command.ready.wait(DEADLINE_SECONDS)
    assert command.server is not None and command.placer is not None
    assert f"Webhooks: sending call events to {receiver.url}" in out.getvalue()
    assert "New calls: one every 0.05 s" in out.getvalue()
    assert f"POST {command.server.place_call_url}" in out.getvalue()
    placer = command.placer
    wait_for(lambda: placer.placed, "a placed call")
    call_id = placer.placed[0]
    command.server.simulator.clock.advance(60)  # rather than wait for it to end
    wait_for(lambda: "call.analyzed" in receiver.about(call_id), "its events")
    assert receiver.about(call_id) == ["call.started", "call.ended", "call.analyzed"]
    command.stop.set()
    thread.join(DEADLINE_SECONDS)
    assert not thread.is_alive()
    names = {t.name for t in threading.enumerate()}
    assert not names & {"truedy-webhooks", "truedy-new-calls"}


def test_command_webhook_options(settings: Any) -> None:
    settings.TRUEDY_WEBHOOK_SECRET = "whsec_old, whsec_new"
    command = Command()
    parser = command.create_parser("manage.py", "truedy_simulator")
    options = vars(parser.parse_args(["--webhook-url", "http://127.0.0.1:8000/webhooks/truedy"]))
    sender = command.webhook_sender(options)
    assert sender is not None and sender.secret == "whsec_new"  # the newest, as it rotates
    sender.close()
    options = vars(parser.parse_args([]))
    assert command.webhook_sender(options) is None and options["new_call_every"] == 0
    settings.TRUEDY_WEBHOOK_SECRET = ""
    for args in (
        ["--webhook-url", "http://127.0.0.1:8000/webhooks/truedy"],  # no secret
        ["--webhook-url", "ftp://example.test/", "--webhook-secret", SECRET],
        ["--new-call-every", "-1"],
    ):
        with pytest.raises(CommandError):
            call_command(Command(), "--port", "0", "--calls", "10", *args)
