"""Delivering an issue: a signed webhook to a real receiver on 127.0.0.1, an e-mail through
Django's mail (locmem in tests), each attempt recorded; a failure retried with backoff, shown on
the Alerts page, given up after the last retry and sent again by an admin's *Retry now*."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail

from calls.background import alerts as alert_tasks
from calls.models import AlertDelivery
from calls.services import alerts
from calls.truedy.filters import CallFilters
from tests.alerts.conftest import NOW, SECRET, archived, make_rule
from tests.conftest import as_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_later(monkeypatch):
    """Retries are sent to the broker, not run at once as they are where tasks run eagerly
    (the tests' setting): the messages are kept here."""
    kept: list[tuple] = []
    monkeypatch.setattr(
        alert_tasks.deliver_alert,
        "apply_async",
        lambda args=(), kwargs=None, **options: kept.append((args, options)),
    )
    return kept


def fired(**rule_values):
    """An issue of a rule that fired over two archived calls (its deliveries not sent yet)."""
    archived("call_1", minutes_ago=1)
    archived("call_2", minutes_ago=2)
    rule = make_rule(name="Busy line", threshold=1, **rule_values)
    issue = alerts.check_rule(rule, filters=CallFilters(), now=NOW)
    assert issue is not None
    return issue


def delivery(issue, channel: str) -> AlertDelivery:
    return issue.deliveries.get(channel=channel)


def test_a_webhook_is_delivered_signed_to_the_receiver(receiver):
    issue = fired(webhook_url=receiver.url, webhook_secret=SECRET)
    sent = delivery(issue, "webhook")
    assert as_worker(alert_tasks.deliver_alert, sent.pk) is True
    (request,) = receiver.requests
    headers = {name.lower(): value for name, value in request["headers"].items()}
    expected = hmac.new(
        SECRET.encode(),
        headers["x-alert-timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    assert hmac.compare_digest(headers["x-alert-signature"], f"sha256={expected}")
    body = json.loads(request["body"])
    assert body["event"] == "alert.opened"
    assert body["issue"]["id"] == issue.pk
    assert body["issue"]["call_ids"] == ["call_1", "call_2"]
    assert body["links"]["review"].endswith(f"/calls/review/start?alert={issue.pk}")
    sent.refresh_from_db()
    assert sent.delivered_at is not None and sent.attempts == 1 and not sent.last_error


def test_the_settings_secret_signs_a_rule_without_its_own(receiver, settings):
    settings.ALERT_WEBHOOK_SECRET = "the-deployment-wide-secret"
    issue = fired(webhook_url=receiver.url)
    as_worker(alert_tasks.deliver_alert, delivery(issue, "webhook").pk)
    (request,) = receiver.requests
    headers = {name.lower(): value for name, value in request["headers"].items()}
    signed = alerts.signature(
        "the-deployment-wide-secret", headers["x-alert-timestamp"], request["body"]
    )
    assert headers["x-alert-signature"] == signed


def test_an_email_goes_through_djangos_mail():
    issue = fired(email_to="ops@example.com, lead@example.com")
    assert as_worker(alert_tasks.deliver_alert, delivery(issue, "email").pk) is True
    (message,) = mail.outbox
    assert message.to == ["ops@example.com", "lead@example.com"]
    assert message.subject.startswith("[Alert] Busy line: 2 calls in the last 60 min")
    assert f"/calls/review/start?alert={issue.pk}" in message.body
    assert delivery(issue, "email").delivered_at is not None


def test_a_refused_webhook_is_retried_with_backoff_and_shown(
    refusing_url, admin_client, sent_later
):
    issue = fired(webhook_url=refusing_url, webhook_secret=SECRET)
    sent = delivery(issue, "webhook")
    with pytest.raises(Retry):
        as_worker(alert_tasks.deliver_alert, sent.pk)
    sent.refresh_from_db()
    assert (sent.attempts, sent.last_error, sent.delivered_at) == (1, "connection refused", None)
    assert sent.next_attempt_at is not None and sent.next_attempt_at > NOW
    for retries in (1, 2):
        with pytest.raises(Retry):
            as_worker(alert_tasks.deliver_alert, sent.pk, retries=retries)
    assert [options["countdown"] for _, options in sent_later] == [
        pytest.approx(delay, abs=20) for delay in (5, 10, 20)
    ]
    page = admin_client.get("/alerts/").content.decode()
    assert "Webhook\n        failed 3 times: connection refused; retrying at" in page
    assert "Retry now" in page


def test_a_webhook_is_given_up_after_the_last_retry_and_can_be_sent_again(
    refusing_url, receiver, admin_client, django_capture_on_commit_callbacks
):
    issue = fired(webhook_url=refusing_url, webhook_secret=SECRET)
    sent = delivery(issue, "webhook")
    retries = alert_tasks.DELIVERY_RETRIES
    assert as_worker(alert_tasks.deliver_alert, sent.pk, retries=retries) is False
    sent.refresh_from_db()
    assert sent.gave_up_at is not None and sent.delivered_at is None
    assert (
        "gave up after 1 attempt: connection refused"
        in admin_client.get("/alerts/").content.decode()
    )
    # The receiver is back (the rule's address fixed): Retry now sends it at once.
    AlertDelivery.objects.filter(pk=sent.pk).update(target=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/alerts/deliveries/{sent.pk}/retry")
    assert response.status_code == 303
    sent.refresh_from_db()
    assert sent.delivered_at is not None and sent.gave_up_at is None and sent.attempts == 2
    assert len(receiver.requests) == 1


def test_a_receiver_that_fails_is_named_by_its_status(receiver, sent_later):
    receiver.status = 500
    issue = fired(webhook_url=receiver.url, webhook_secret=SECRET)
    with pytest.raises(Retry):
        as_worker(alert_tasks.deliver_alert, delivery(issue, "webhook").pk)
    assert delivery(issue, "webhook").last_error == "the receiver answered 500"


def test_without_any_secret_the_webhook_is_not_sent_unsigned(receiver, settings, sent_later):
    settings.ALERT_WEBHOOK_SECRET = ""
    issue = fired(webhook_url=receiver.url)
    with pytest.raises(Retry):
        as_worker(alert_tasks.deliver_alert, delivery(issue, "webhook").pk)
    assert receiver.requests == []
    assert "no signing secret" in delivery(issue, "webhook").last_error


def test_a_delivery_made_is_not_made_again(receiver):
    issue = fired(webhook_url=receiver.url, webhook_secret=SECRET)
    sent = delivery(issue, "webhook")
    as_worker(alert_tasks.deliver_alert, sent.pk)
    as_worker(alert_tasks.deliver_alert, sent.pk)
    assert len(receiver.requests) == 1


def test_a_delivery_whose_message_was_lost_is_sent_again(
    receiver, frozen_simulator, django_capture_on_commit_callbacks
):
    issue = fired(webhook_url=receiver.url, webhook_secret=SECRET)
    sent = delivery(issue, "webhook")  # never sent: its message was lost
    assert alerts.overdue_deliveries(NOW, alert_tasks.REDELIVER_GRACE) == []
    later = NOW + alert_tasks.REDELIVER_GRACE + timedelta(seconds=1)
    assert alerts.overdue_deliveries(later, alert_tasks.REDELIVER_GRACE) == [sent.pk]
    frozen_simulator.clock.set(later)
    with django_capture_on_commit_callbacks(execute=True):
        alert_tasks.check_alerts()  # eager in tests: sent at once
    sent.refresh_from_db()
    assert sent.delivered_at is not None and len(receiver.requests) == 1
