"""Alerts on the scheduler (README, "Alerts").

- ``check_alerts``: every ALERT_CHECK_INTERVAL seconds, each active rule is measured over the
  archive (calls/services/alerts.py; no Truedy request) and an issue is opened where one fires;
  each of its deliveries is sent once the issue commits. Deliveries whose message was lost are
  sent again (``overdue_deliveries``), so none is forgotten.
- ``deliver_alert``: one delivery (webhook or e-mail), recorded attempt by attempt, retried with
  backoff (calls/background/retrying.py) and given up after DELIVERY_RETRIES retries; the Alerts
  page shows each failure, when the next try is due, and a given-up delivery (an admin's
  *Retry now* starts it again).

Both are idempotent: a rule in its cool-down opens nothing, a delivery made is not made again.
"""

import functools
import logging
from datetime import timedelta

from celery import Task, shared_task
from django.db import transaction

from calls.alert_forms import BadViewQuery, rule_filters
from calls.background.retrying import retry_delay
from calls.services import alerts
from calls.upstream import gateway

logger = logging.getLogger("calls.background")

DELIVERY_RETRIES = 6  # 5, 10, 20, 40, 80, 160 s (with jitter): about five minutes in all
# A delivery overdue this long had its message lost: it is sent again.
REDELIVER_GRACE = timedelta(seconds=120)


def _send(task: Task, *args: object) -> None:
    try:
        task.apply_async(args)
    except Exception:
        logger.exception("could not enqueue %s%r (the next check sends it again)", task.name, args)


def send_soon(delivery_ids: list[int]) -> None:
    """Send each delivery once the current transaction commits (at once outside one)."""
    for delivery_id in delivery_ids:
        transaction.on_commit(functools.partial(_send, deliver_alert, delivery_id), robust=True)


@shared_task
def check_alerts() -> int:
    """Check every active rule once; the number of issues opened."""
    now = gateway.now()
    opened = 0
    for rule in alerts.active_rules():
        try:
            filters = rule_filters(rule.query)
        except BadViewQuery as error:
            alerts.note_problem(rule, str(error), now=now)
            continue
        try:
            issue = alerts.check_rule(rule, filters=filters, now=now)
        except Exception:
            logger.exception("alert rule %s could not be checked", rule.pk)
            alerts.note_problem(rule, "The check failed: see the worker's log.", now=now)
            continue
        if issue is not None:
            opened += 1
            logger.warning("alert %s opened: %s", issue.pk, issue.summary)
            send_soon(list(issue.deliveries.values_list("pk", flat=True)))
    overdue = alerts.overdue_deliveries(now, REDELIVER_GRACE)
    if overdue:
        logger.warning("%d alert deliveries were overdue: sent again", len(overdue))
        send_soon(overdue)
    return opened


@shared_task(bind=True, max_retries=DELIVERY_RETRIES)
def deliver_alert(self: Task, delivery_id: int) -> bool:
    """One attempt at a delivery; a failure is retried with backoff, then given up (shown)."""
    try:
        alerts.attempt_delivery(delivery_id)
    except alerts.DeliveryFailed as failed:
        retries = self.request.retries
        if failed.final or retries >= DELIVERY_RETRIES:
            alerts.give_up(delivery_id)
            logger.error("alert delivery %s given up: %s", delivery_id, failed.reason)
            return False
        delay = retry_delay(retries)
        alerts.will_retry(delivery_id, at=gateway.now() + timedelta(seconds=delay))
        raise self.retry(countdown=delay, exc=failed) from None
    return True
