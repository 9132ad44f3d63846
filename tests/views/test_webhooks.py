"""The webhook receiver (calls/views/webhooks.py, calls/truedy/webhooks.py,
calls/archive/webhook_events.py) and the sender (calls/simulator/webhooks.py)."""

import hashlib
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client, TestCase

from calls.archive.webhook_events import RefreshDeferred, event_key
from calls.background import tasks
from calls.background.retrying import MAX_RETRIES
from calls.models import ArchivedCall, WebhookEvent
from calls.simulator.webhooks import WebhookSender, call_event
from calls.truedy.webhooks import BadPayload, SignatureError, parse_event, sign, verify_signature
from calls.upstream import cache, reads
from calls.views.webhooks import truedy_webhook
from tests.conftest import FROZEN_NOW, as_worker
from tests.views.test_call_detail import LIVE

URL = "/webhooks/truedy"
SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture(autouse=True)
def _webhook_secret(settings, tmp_path):
    settings.TRUEDY_WEBHOOK_SECRET = SECRET
    settings.MEDIA_ROOT = tmp_path  # the archive copies recordings into default storage


@pytest.fixture
def queued(monkeypatch):
    """Tasks are sent, not run (as with a broker and no worker yet): the ids of the events
    whose follow-up was enqueued, in order."""
    sent: list[int] = []

    def send(args=None, kwargs=None, **options):
        sent.append(args[0])

    monkeypatch.setattr(tasks.process_webhook_event, "apply_async", send)
    return sent


@pytest.fixture
def sender():
    sender = WebhookSender(SECRET, "http://testserver" + URL)
    yield sender
    sender.close()


def deliver(client, sender, payload, **options):
    """POST a delivery; what its transaction enqueued on commit runs (tasks run where they
    are sent in tests) although the test's own transaction never commits."""
    body, headers = sender.build_request(payload, **options)
    del headers["Content-Type"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, body, content_type="application/json", headers=headers)


def call_fetches(sim, call_id: str) -> int:
    return sum(1 for r in sim.requests if r.path.endswith(f"/calls/{call_id}"))


def an_ended_call(sim) -> str:
    now = sim.clock.now_us()
    return next(c.id for c in sim.data.calls if c.status_at(now) == "ended" and c.ended < now)


# --- the signature: a table -------------------------------------------------------------------

NOW = 1_700_000_000
BODY = b'{"event":"call.ended","data":{"call_id":"call_x"}}'
GOOD = sign(SECRET, str(NOW), BODY)
OTHER = sign("whsec_someone_else", str(NOW), BODY)
# Computed apart from this code: printf '%s' '1700000000.<BODY>' | openssl dgst -sha256 -hmac
VECTOR_SECRET = "whsec_vector"
VECTOR = "91e6ce58575ecb1b738cfee58a21809cc53a8da85c3148fc82c0b517612eb2c8"


def test_the_signature_matches_an_independently_computed_vector():
    assert sign(VECTOR_SECRET, str(NOW), BODY) == VECTOR
    verify_signature(
        body=BODY, timestamp=str(NOW), signature=VECTOR, secrets=[VECTOR_SECRET], now=NOW
    )


ACCEPTED = {
    "good": {},
    "exactly 5 min old": {"now": NOW + 300},
    "exactly 5 min ahead": {"now": NOW - 300},
    "upper-case hex": {"signature": GOOD.upper()},
    "second of two signatures (comma)": {"signature": f"{OTHER},{GOOD}"},
    "first of two signatures (space)": {"signature": f"{GOOD} {OTHER}"},
    "old secret during rotation": {"secrets": ["whsec_new_one", SECRET]},
    "surrounding whitespace": {"timestamp": f" {NOW} ", "signature": f" {GOOD} "},
}
REFUSED = {
    "wrong secret": ({"secrets": ["whsec_someone_else_entirely"]}, "does not match"),
    "tampered body": ({"body": BODY.replace(b"call_x", b"call_y")}, "does not match"),
    "body re-serialised": ({"body": json.dumps(json.loads(BODY)).encode()}, "does not match"),
    "timestamp changed": ({"timestamp": str(NOW + 1), "now": NOW + 1}, "does not match"),
    "5 min 1 s old": ({"now": NOW + 301}, "5 minutes away"),
    "5 min 1 s ahead": ({"now": NOW - 301}, "5 minutes away"),
    "no timestamp header": ({"timestamp": None}, "X-Truedy-Timestamp header is missing"),
    "empty timestamp": ({"timestamp": "  "}, "X-Truedy-Timestamp header is missing"),
    "no signature header": ({"signature": None}, "X-Truedy-Signature header is missing"),
    "non-numeric timestamp": ({"timestamp": "yesterday"}, "whole seconds"),
    "fractional timestamp": ({"timestamp": f"{NOW}.5"}, "whole seconds"),
    "negative timestamp": ({"timestamp": f"-{NOW}"}, "whole seconds"),
    "not hex": ({"signature": "v1=" + "z" * 64}, "no hex HMAC-SHA256"),
    "truncated signature": ({"signature": GOOD[:63]}, "no hex HMAC-SHA256"),
    "prefixed signature": ({"signature": "sha256=" + GOOD}, "no hex HMAC-SHA256"),
    "no secret configured": ({"secrets": []}, "not configured"),
}


def _verify(**overrides):
    arguments = {"body": BODY, "timestamp": str(NOW), "signature": GOOD, "secrets": [SECRET]}
    arguments["now"] = NOW
    verify_signature(**(arguments | overrides))


@pytest.mark.parametrize("overrides", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_signatures_accepted(overrides):
    _verify(**overrides)


@pytest.mark.parametrize(("overrides", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_signatures_refused(overrides, reason):
    with pytest.raises(SignatureError, match=reason):
        _verify(**overrides)


# --- the payload ------------------------------------------------------------------------------


def test_a_flat_event_is_read():
    body = json.dumps(
        {
            "id": "evt_1",
            "event": "call.ended",
            "timestamp": "2026-11-24T11:59:58.123Z",
            "data": {"call_id": "call_a", "agent_id": "agent_1", "status": "ended"},
        }
    ).encode()
    parsed = parse_event(body)
    assert (parsed.event, parsed.event_id, parsed.call_id) == ("call.ended", "evt_1", "call_a")
    assert parsed.occurred_at == datetime(2026, 11, 24, 11, 59, 58, 123000, tzinfo=UTC)
    assert event_key(parsed, body) == "evt_1"


def test_a_camel_case_event_is_read_and_the_alias_named_as_the_event():
    body = json.dumps(
        {
            "event": "call.completed",
            "timestamp": "2026-11-24T12:00:00+01:00",
            "data": {"call": {"callId": "call_b", "agent": {"agentId": "a"}, "costUsd": 0.42}},
        }
    ).encode()
    parsed = parse_event(body)
    assert (parsed.event, parsed.call_id, parsed.event_id) == ("call.ended", "call_b", None)
    assert parsed.occurred_at == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert event_key(parsed, body) == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    ("data", "call_id"),
    [
        ({"callId": "c1"}, "c1"),
        ({"call": {"call_id": "c2"}}, "c2"),
        ({"call": {"id": "c3"}}, "c3"),
        ({"id": "c4", "status": "ended"}, "c4"),
        ({"call_id": 42}, None),
        ({}, None),
    ],
)
def test_the_call_id_is_found_in_every_shape(data, call_id):
    assert parse_event(json.dumps({"event": "call.ended", "data": data}).encode()).call_id == (
        call_id
    )


def test_an_unparseable_timestamp_is_kept_as_unknown():
    parsed = parse_event(b'{"event": "call.ended", "timestamp": "soon", "data": {}}')
    assert parsed.occurred_at is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"data": {}}', '"event" must be a non-empty string'),
        (b'{"event": 7}', '"event" must be a non-empty string'),
        (b'{"event": "call.ended", "data": [1]}', '"data" must be a JSON object'),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_broken_payloads_say_what_is_wrong(body, message):
    with pytest.raises(BadPayload, match=message):
        parse_event(body)


def test_a_long_event_id_is_hashed_to_fit_the_key():
    parsed = parse_event(json.dumps({"id": "e" * 300, "event": "call.ended"}).encode())
    assert event_key(parsed, b"") == hashlib.sha256(b"e" * 300).hexdigest()


# --- the endpoint -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_event_is_stored_answered_204_and_the_call_archived(
    client, sender, frozen_simulator
):
    call_id = an_ended_call(frozen_simulator)
    response = deliver(client, sender, call_event(frozen_simulator, call_id, "call.ended"))
    assert response.status_code == 204
    assert response.content == b""
    stored = WebhookEvent.objects.get()
    assert (stored.event, stored.call_id, stored.process_error) == ("call.ended", call_id, "")
    assert stored.processed_at is not None
    assert json.loads(stored.raw_body)["data"]["call_id"] == call_id
    archived = ArchivedCall.objects.get(pk=call_id)
    assert (archived.status, archived.source) == ("ended", "webhook")


@pytest.mark.django_db
def test_a_camel_case_event_archives_its_call(client, sender, frozen_simulator):
    call_id = an_ended_call(frozen_simulator)
    payload = call_event(frozen_simulator, call_id, "call.completed", camel=True)
    assert deliver(client, sender, payload).status_code == 204
    assert WebhookEvent.objects.get().event == "call.ended"
    assert ArchivedCall.objects.filter(pk=call_id, status="ended").exists()


@pytest.mark.django_db
def test_the_follow_up_is_enqueued_when_the_event_commits_and_the_204_asks_truedy_nothing(
    rf, sender, frozen_simulator, queued
):
    call_id = an_ended_call(frozen_simulator)
    frozen_simulator.reset_requests()
    body, headers = sender.build_request(call_event(frozen_simulator, call_id, "call.ended"))
    request = rf.post(URL, body, content_type="application/json", headers=headers)
    with TestCase.captureOnCommitCallbacks() as on_commit:
        response = truedy_webhook(request)
        assert queued == [], "nothing is sent before the event's transaction commits"
    assert response.status_code == 204
    assert frozen_simulator.requests == []  # answered without asking Truedy anything
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is None
    assert len(on_commit) == 1
    on_commit[0]()  # the commit
    assert queued == [stored.pk]
    tasks.process_webhook_event.run(stored.pk)  # a worker takes it
    assert call_fetches(frozen_simulator, call_id) == 1
    assert WebhookEvent.objects.get().processed_at is not None
    tasks.process_webhook_event.run(stored.pk)  # delivered twice (a worker died before its ack)
    assert call_fetches(frozen_simulator, call_id) == 1, "the follow-up runs once"


@pytest.mark.django_db
def test_a_rolled_back_event_enqueues_nothing(sender, frozen_simulator, queued):
    from django.db import transaction

    from calls.archive.webhook_events import store_event

    body = b'{"event": "call.ended", "id": "evt_rb", "data": {"call_id": "call_x"}}'
    with (
        TestCase.captureOnCommitCallbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        store_event(parse_event(body), body, then=lambda row: tasks.enqueue_follow_up(row.pk))
        raise RuntimeError("the request failed after storing")
    assert queued == []
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("with_id", [True, False], ids=["with id", "body hash"])
def test_a_duplicate_is_stored_once_acknowledged_and_not_processed_again(
    client, sender, frozen_simulator, with_id
):
    call_id = an_ended_call(frozen_simulator)
    frozen_simulator.reset_requests()
    payload = call_event(frozen_simulator, call_id, "call.ended", with_id=with_id)
    first = deliver(client, sender, payload)
    again = deliver(client, sender, payload, age_seconds=30)  # a retry: new timestamp, same body
    assert (first.status_code, again.status_code) == (204, 204)
    assert WebhookEvent.objects.count() == 1
    assert call_fetches(frozen_simulator, call_id) == 1


@pytest.mark.django_db
def test_an_unknown_event_is_stored_and_acknowledged_without_asking_truedy(
    client, sender, frozen_simulator
):
    call_id = an_ended_call(frozen_simulator)
    frozen_simulator.reset_requests()
    payload = {"id": "evt_x", "event": "agent.updated", "data": {"call_id": call_id}}
    assert deliver(client, sender, payload).status_code == 204
    stored = WebhookEvent.objects.get()
    assert stored.event == "agent.updated"
    assert stored.process_error == "not acted on: unknown event 'agent.updated'"
    assert frozen_simulator.requests == []


@pytest.mark.django_db
def test_an_invalid_call_id_is_stored_but_never_sent_upstream(client, sender, frozen_simulator):
    frozen_simulator.reset_requests()
    payload = {"id": "evt_y", "event": "call.ended", "data": {"call_id": "../agents?x=1"}}
    assert deliver(client, sender, payload).status_code == 204
    stored = WebhookEvent.objects.get()
    assert (stored.call_id, stored.process_error) == (
        "../agents?x=1",
        "not acted on: not a valid call id",
    )
    assert frozen_simulator.requests == []


@pytest.mark.django_db
def test_a_call_truedy_does_not_have_is_noted(client, sender, frozen_simulator):
    payload = {"id": "evt_z", "event": "call.ended", "data": {"call_id": "call_unknown000"}}
    assert deliver(client, sender, payload).status_code == 204
    assert WebhookEvent.objects.get().process_error == "Truedy has no such call"
    assert not ArchivedCall.objects.exists()


@pytest.mark.django_db
def test_truedy_failing_during_the_refresh_is_noted_and_archives_nothing(
    client, sender, frozen_simulator
):
    call_id = an_ended_call(frozen_simulator)
    frozen_simulator.switches.fail_next(100, status=503)
    response = deliver(client, sender, call_event(frozen_simulator, call_id, "call.ended"))
    assert response.status_code == 204  # authentic and stored: Truedy's failure is ours to handle
    stored = WebhookEvent.objects.get()
    assert stored.process_error.startswith("gave up after")  # every retry failed too
    assert not ArchivedCall.objects.exists()


@pytest.mark.django_db
def test_a_refresh_truedy_failed_is_retried_later_and_not_marked_done(
    client, sender, frozen_simulator, queued
):
    call_id = an_ended_call(frozen_simulator)
    deliver(client, sender, call_event(frozen_simulator, call_id, "call.ended"))
    (event_id,) = queued
    frozen_simulator.switches.fail_next(10, status=503)
    with pytest.raises(Retry) as retry:
        as_worker(tasks.process_webhook_event, event_id)
    assert 2.5 <= retry.value.when <= 5  # the first backoff: 5 s, jittered down to half
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is None
    assert (stored.attempts, stored.process_error) == (1, "retrying: Truedy is unreachable")
    assert stored.retry_at is not None
    assert not ArchivedCall.objects.exists()
    while frozen_simulator.switches.take_fault():  # Truedy is back
        pass
    as_worker(tasks.process_webhook_event, event_id, retries=1)  # the retry, once Truedy answers
    stored = WebhookEvent.objects.get()
    assert (stored.processed_at is not None, stored.process_error) == (True, "")
    assert ArchivedCall.objects.filter(pk=call_id, source="webhook").exists()


@pytest.mark.django_db
def test_a_retry_never_comes_before_truedys_cool_down(client, sender, frozen_simulator, queued):
    call_id = an_ended_call(frozen_simulator)
    deliver(client, sender, call_event(frozen_simulator, call_id, "call.ended"))
    (event_id,) = queued
    frozen_simulator.switches.rate_limit_next(retry_after=120)
    with pytest.raises(Retry) as retry:
        as_worker(tasks.process_webhook_event, event_id)
    assert retry.value.when >= 119


@pytest.mark.django_db
def test_after_its_last_retry_the_follow_up_fails_visibly(client, sender, frozen_simulator, queued):
    call_id = an_ended_call(frozen_simulator)
    deliver(client, sender, call_event(frozen_simulator, call_id, "call.ended"))
    (event_id,) = queued
    frozen_simulator.switches.fail_next(10, status=503)
    with pytest.raises(RefreshDeferred):
        as_worker(tasks.process_webhook_event, event_id, retries=MAX_RETRIES)
    stored = WebhookEvent.objects.get()
    assert stored.process_error == (
        f"gave up after {MAX_RETRIES + 1} attempts: Truedy is unreachable"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"secret": "whsec_forged"}, "the signature does not match"),
        ({"age_seconds": 301}, "more than 5 minutes away"),
        ({"age_seconds": -301}, "more than 5 minutes away"),
    ],
    ids=["wrong secret", "replayed", "from the future"],
)
def test_unverifiable_deliveries_get_401_and_store_nothing(
    client, sender, frozen_simulator, options, reason
):
    payload = call_event(frozen_simulator, an_ended_call(frozen_simulator), "call.ended")
    response = deliver(client, sender, payload, **options)
    assert response.status_code == 401
    assert reason in response.content.decode()
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_missing_headers_get_401(client):
    response = client.post(URL, BODY, content_type="application/json")
    assert response.status_code == 401
    assert "X-Truedy-Timestamp header is missing" in response.content.decode()


@pytest.mark.django_db
def test_with_no_secret_configured_everything_is_refused(client, sender, settings, caplog):
    settings.TRUEDY_WEBHOOK_SECRET = ""
    with caplog.at_level(logging.WARNING, logger="calls.webhooks"):
        response = deliver(client, sender, {"event": "call.ended", "data": {}})
    assert response.status_code == 401
    assert "not configured" in response.content.decode()
    assert not WebhookEvent.objects.exists()
    assert "TRUEDY_WEBHOOK_SECRET is empty" in caplog.text or "not configured" in caplog.text


@pytest.mark.django_db
def test_broken_json_with_a_good_signature_gets_400_and_says_why(client, sender):
    response = deliver(client, sender, b'{"event": "call.ended", "data": ')
    assert response.status_code == 400
    assert response.content.decode().startswith("Webhook refused: the body is not JSON")
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_other_methods_get_405_with_allow(client):
    for method in (client.get, client.put, client.delete):
        response = method(URL)
        assert response.status_code == 405
        assert response["Allow"] == "POST"


@pytest.mark.django_db
def test_an_oversized_body_gets_413_before_anything_else(client, sender):
    payload = {"event": "call.ended", "data": {"padding": "x" * 1_000_001}}
    response = deliver(client, sender, payload)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_no_csrf_token_or_session_is_needed(sender, frozen_simulator):
    strict = Client(enforce_csrf_checks=True)
    payload = call_event(frozen_simulator, an_ended_call(frozen_simulator), "call.ended")
    assert deliver(strict, sender, payload).status_code == 204


@pytest.mark.django_db
def test_neither_the_secret_nor_a_signature_is_logged(client, sender, frozen_simulator, caplog):
    payload = call_event(frozen_simulator, an_ended_call(frozen_simulator), "call.ended")
    body, headers = sender.build_request(payload)
    with caplog.at_level(logging.DEBUG):
        deliver(client, sender, payload)
        deliver(client, sender, payload, secret="whsec_forged")
        deliver(client, sender, b"{broken")
    assert "calls.webhooks" in {record.name for record in caplog.records}
    signature = headers["X-Truedy-Signature"]
    assert SECRET not in caplog.text and signature not in caplog.text
    assert sign("whsec_forged", headers["X-Truedy-Timestamp"], body) not in caplog.text


# --- cache and archive after an event ---------------------------------------------------------


@pytest.mark.django_db
def test_invalidate_call_refetches_the_call_and_lists_but_keeps_them_as_fallback(
    frozen_simulator,
):
    call_id = an_ended_call(frozen_simulator)
    reads.get_call(call_id)
    reads.list_calls(status="ended")
    frozen_simulator.reset_requests()
    reads.get_call(call_id)
    reads.list_calls(status="ended")
    assert frozen_simulator.requests == [], "both cached"

    cache.invalidate_call(call_id)
    reads.get_call(call_id)
    reads.list_calls(status="ended")
    assert [r.path.rsplit("/", 1)[-1] for r in frozen_simulator.requests] == [call_id, "calls"]

    cache.invalidate_call(call_id)
    frozen_simulator.switches.fail_next(20, status=500)
    assert reads.get_call(call_id).id == call_id  # the stale copy, Truedy being down
    assert reads.list_calls(status="ended").total > 0
    frozen_simulator.switches.reset()


@pytest.mark.django_db
def test_a_list_fetched_after_the_change_is_fresh_again(frozen_simulator):
    cache.invalidate_call(an_ended_call(frozen_simulator))
    time.sleep(0.001)
    reads.list_calls(status="ended")
    frozen_simulator.reset_requests()
    reads.list_calls(status="ended")
    assert frozen_simulator.requests == []


@pytest.mark.django_db
def test_a_webhook_replaces_the_cached_call(client, sender, frozen_simulator):
    before = reads.get_call(LIVE)
    assert before.status == "in-progress"
    frozen_simulator.clock.advance(600)  # it has ended upstream; the cache still says live
    assert reads.get_call(LIVE).status == "in-progress"
    response = deliver(client, sender, call_event(frozen_simulator, LIVE, "call.ended"))
    assert response.status_code == 204
    frozen_simulator.reset_requests()
    assert reads.get_call(LIVE).status == "ended"
    assert call_fetches(frozen_simulator, LIVE) == 0, "the webhook already refreshed it"


@pytest.mark.django_db
def test_events_out_of_order_never_regress_the_archive(client, sender, frozen_simulator):
    started = call_event(frozen_simulator, LIVE, "call.started")
    frozen_simulator.clock.advance(600)
    ended = call_event(frozen_simulator, LIVE, "call.ended")
    assert deliver(client, sender, ended).status_code == 204
    assert ArchivedCall.objects.get(pk=LIVE).status == "ended"
    # The late call.started, answered by an upstream read that still sees the call live.
    frozen_simulator.clock.set(FROZEN_NOW)
    assert deliver(client, sender, started).status_code == 204
    assert reads.get_call(LIVE).status == "in-progress"  # what that refresh was told
    assert WebhookEvent.objects.count() == 2
    assert ArchivedCall.objects.get(pk=LIVE).status == "ended"


# --- over real HTTP ---------------------------------------------------------------------------


def test_the_sender_over_http_gets_its_204s_without_a_truedy_request(
    live_server, frozen_simulator, queued
):
    """Two deliveries on one keep-alive connection: neither waits for Truedy."""
    now = frozen_simulator.clock.now_us()
    first, second = [c.id for c in frozen_simulator.data.calls if c.status_at(now) == "ended"][:2]
    frozen_simulator.reset_requests()
    sender = WebhookSender(SECRET, live_server.url + URL)
    try:
        for call_id in (first, second):
            response = sender.send(call_event(frozen_simulator, call_id, "call.ended"))
            assert response.status_code == 204
    finally:
        sender.close()
    assert frozen_simulator.requests == []
    assert len(queued) == 2
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 2


def test_send_webhooks_delivers_demo_events(live_server, frozen_simulator, capsys):
    call_id = an_ended_call(frozen_simulator)
    call_command(
        "send_webhooks",
        "--url",
        live_server.url + URL,
        "--call",
        call_id,
        "--event",
        "call.joined",
        "--event",
        "call.ended",
        "--duplicate",
        "--camel",
    )
    lines = capsys.readouterr().out.splitlines()
    joined, ended = f"call.joined for {call_id} -> 204", f"call.ended for {call_id} -> 204"
    assert lines == [joined, joined, ended, ended]
    assert sorted(WebhookEvent.objects.values_list("event", flat=True)) == [
        "call.ended",
        "call.joined",
    ]


def test_send_webhooks_shows_the_refusal_of_a_forgery(live_server, frozen_simulator, capsys):
    call_command("send_webhooks", "--url", live_server.url + URL, "--bad-signature", "--stale")
    out = capsys.readouterr().out
    assert "-> 401 Webhook refused: X-Truedy-Timestamp is more than 5 minutes away" in out
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_send_webhooks_needs_the_secret(settings):
    settings.TRUEDY_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="TRUEDY_WEBHOOK_SECRET is empty"):
        call_command("send_webhooks")


@pytest.mark.django_db
def test_send_webhooks_says_when_the_dashboard_is_not_there(frozen_simulator):
    with pytest.raises(CommandError, match="Could not reach"):
        call_command("send_webhooks", "--url", "http://127.0.0.1:9/webhooks/truedy")


# --- concurrent duplicates (PostgreSQL) -------------------------------------------------------


@pytest.mark.shared_backends
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_copies_of_one_event_store_one_row(frozen_simulator):
    if connection.vendor == "sqlite":
        pytest.skip(
            "threads cannot write one in-memory SQLite database at once; `make test` runs "
            "this in its PostgreSQL pass (make test-shared-backends)"
        )
    call_id = an_ended_call(frozen_simulator)
    frozen_simulator.reset_requests()
    sender = WebhookSender(SECRET, "http://testserver" + URL)
    body, headers = sender.build_request(call_event(frozen_simulator, call_id, "call.ended"))
    del headers["Content-Type"]
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(URL, body, content_type="application/json", headers=headers)
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [204] * 10
    assert WebhookEvent.objects.count() == 1
    assert call_fetches(frozen_simulator, call_id) == 1, "processed once"


def test_the_simulator_event_timestamps_follow_its_clock(frozen_simulator):
    event = call_event(frozen_simulator, LIVE, "call.started")
    assert event["timestamp"] == "2026-11-24T12:00:00.000Z"
    assert event["data"]["status"] == "in-progress"
    frozen_simulator.clock.advance(timedelta(minutes=10).total_seconds())
    assert call_event(frozen_simulator, LIVE, "call.ended")["data"]["status"] == "ended"


@pytest.mark.django_db(transaction=True)  # a retry happens only outside a transaction
def test_storing_waits_out_a_database_a_worker_holds(monkeypatch):
    """SQLite refuses a write at once while a worker refreshing an earlier event writes the
    archive (seen as a 500 in CI); the insert is tried again instead."""
    from django.db import OperationalError

    from calls.archive import store
    from calls.archive.webhook_events import store_event

    monkeypatch.setattr(store, "LOCKED_PAUSE", 0.001)
    real_create = WebhookEvent.objects.create
    attempts = []

    def create(**fields):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("database table is locked")
        return real_create(**fields)

    monkeypatch.setattr(WebhookEvent.objects, "create", create)
    body = b'{"event": "call.ended", "id": "evt_locked", "data": {"call_id": "call_x"}}'
    stored = store_event(parse_event(body), body)
    assert stored is not None and stored.event_key == "evt_locked"
    assert len(attempts) == 2
