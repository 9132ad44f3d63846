"""Alerts: a rule measures a saved view's calls over its window, in the archive only (no Truedy
request); a rule that crosses its threshold outside its cool-down opens an issue holding exactly
the calls that fired it, and each of the issue's deliveries (a signed webhook, an e-mail) is
recorded attempt by attempt (README, "Alerts").

The metrics, over the view's calls created in the last ``window_minutes`` (and inside the view's
own dates, if it has any):

- ``calls``: how many there are; the calls that fire it are all of them.
- ``outcome``: the calls whose effective outcome (the latest correction, else the AI's) is the
  rule's; ``failed_check``: the calls whose automatic answer to the rule's question is "no"
  (of those with a known answer); ``long_silence``: the calls whose longest silence is over
  ``silence_seconds`` (of those with transcript turns). Each counted, or as a share in percent
  (``as_share``) of the calls it can be judged on.
- ``no_calls``: fires when the window holds no call at all (the threshold is not used).

Above a threshold, the calls that fire a rule are the ones counted; below, the others (the calls
that pulled the share down), so the review queue holds what there is to look at.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from calls.archive.search import matching_archived_calls
from calls.models import (
    AlertDelivery,
    AlertDirection,
    AlertIssue,
    AlertIssueCall,
    AlertMetric,
    AlertRule,
    AlertState,
    ArchivedCall,
    AutomaticScore,
    DeliveryChannel,
    ScorecardQuestion,
    ScorecardVersion,
)
from calls.services import page_cache
from calls.services.corrections import effective_outcomes
from calls.services.history import in_chunks
from calls.truedy.filters import CallFilters

CHUNK = 500  # archived calls read at a time
ISSUE_CALLS_BATCH = 1000  # rows of an issue's calls written at a time
MAX_ERROR_CHARS = 500
SIGNATURE_HEADER = "X-Alert-Signature"
TIMESTAMP_HEADER = "X-Alert-Timestamp"
ISSUES_SHOWN = 100  # acknowledged and resolved issues the page lists (every open one shows)


class DeliveryFailed(Exception):
    """A delivery attempt failed; ``final``: trying again cannot help (no secret, bad address)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_ERROR_CHARS]
        self.final = final


@dataclasses.dataclass(frozen=True, slots=True)
class Measurement:
    """What a rule measured over its window."""

    value: float  # a number of calls, or a percent
    counted: int  # the calls with the property (or, for ``calls``/``no_calls``, every call)
    judged: int  # the calls it could be judged on (the share's denominator)
    fired_ids: tuple[str, ...]  # the calls that fire it, newest first
    window_start: datetime
    window_end: datetime

    def breaches(self, rule: AlertRule) -> bool:
        if rule.metric == AlertMetric.NO_CALLS:
            return self.counted == 0
        if rule.metric != AlertMetric.CALLS and rule.as_share and not self.judged:
            return False  # no call to judge: no share to compare
        if rule.direction == AlertDirection.BELOW:
            return self.value < rule.threshold
        return self.value > rule.threshold


# --- what a rule says, in words -----------------------------------------------------------------


def number(value: float) -> str:
    """12, 12.5 (one decimal at most)."""
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def measured_thing(rule: AlertRule) -> str:
    """The calls a rule counts, in words: "calls failing “Says it is an AI”"."""
    if rule.metric == AlertMetric.OUTCOME:
        return f"calls with outcome “{rule.outcome}”"
    if rule.metric == AlertMetric.FAILED_CHECK:
        question = rule.check_question.text if rule.check_question else "a deleted question"
        return f"calls failing “{question}”"
    if rule.metric == AlertMetric.LONG_SILENCE:
        return f"calls with a silence over {number(rule.silence_seconds or 0)} s"
    return "calls"


def describe_rule(rule: AlertRule) -> str:
    """ "Share of calls failing “Disclosure” above 10 % over the last 60 min"."""
    window = f"over the last {rule.window_minutes} min"
    if rule.metric == AlertMetric.NO_CALLS:
        return f"No calls at all {window}"
    unit = " %" if rule.as_share and rule.metric != AlertMetric.CALLS else ""
    what = measured_thing(rule)
    head = f"Share of {what}" if unit else f"Number of {what}"
    return f"{head} {rule.get_direction_display()} {number(rule.threshold)}{unit} {window}"


def describe_measurement(rule: AlertRule, measured: Measurement) -> str:
    """What fired: "40 % of 30 calls (12) were calls with outcome “voicemail”"."""
    window = f"in the last {rule.window_minutes} min"
    if rule.metric == AlertMetric.NO_CALLS:
        return f"No calls at all {window}"
    if rule.metric == AlertMetric.CALLS:
        shown = f"{measured.counted} call{'s' if measured.counted != 1 else ''} {window}"
    elif rule.as_share:
        shown = (
            f"{number(measured.value)} % {measured_thing(rule)} ({measured.counted} of "
            f"{measured.judged}) {window}"
        )
    else:
        shown = f"{measured.counted} {measured_thing(rule)} {window}"
    unit = " %" if rule.as_share and rule.metric != AlertMetric.CALLS else ""
    return f"{shown}: {rule.get_direction_display()} {number(rule.threshold)}{unit}"


# --- measuring ----------------------------------------------------------------------------------


def window_filters(filters: CallFilters, *, minutes: int, now: datetime) -> CallFilters:
    """The view's filters narrowed to calls created in the last ``minutes`` before ``now``."""
    start = now - timedelta(minutes=minutes)
    after = start if filters.created_after is None else max(filters.created_after, start)
    before = now if filters.created_before is None else min(filters.created_before, now)
    return dataclasses.replace(filters, created_after=after, created_before=before)


def measure(rule: AlertRule, *, filters: CallFilters, now: datetime) -> Measurement:
    """Measure ``rule`` over the archived calls ``filters`` (its saved view's) select in its
    window ending ``now``. Reads the database only."""
    windowed = window_filters(filters, minutes=rule.window_minutes, now=now)
    assert windowed.created_after is not None and windowed.created_before is not None
    calls = matching_archived_calls(windowed)
    if rule.metric in (AlertMetric.CALLS, AlertMetric.NO_CALLS):
        ids = tuple(calls.values_list("id", flat=True))
        having, judged = ids, ids
    else:
        having, judged = _split(rule, calls)
    if rule.direction == AlertDirection.BELOW and rule.metric != AlertMetric.CALLS:
        chosen = set(having)
        fired = tuple(call_id for call_id in judged if call_id not in chosen)
    else:
        fired = having
    if rule.metric in (AlertMetric.CALLS, AlertMetric.NO_CALLS) or not rule.as_share:
        value = float(len(having))
    else:
        value = 100.0 * len(having) / len(judged) if judged else 0.0
    return Measurement(
        value=round(value, 2),
        counted=len(having),
        judged=len(judged),
        fired_ids=fired,
        window_start=windowed.created_after,
        window_end=windowed.created_before,
    )


def _split(
    rule: AlertRule, calls: QuerySet[ArchivedCall]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the calls with the rule's property, the calls it can be judged on), newest first."""
    having: list[str] = []
    judged: list[str] = []
    if rule.metric == AlertMetric.OUTCOME:
        for chunk in _chunks(calls.values_list("id", "outcome")):
            effective = effective_outcomes(dict(chunk))
            for call_id, _ in chunk:
                judged.append(call_id)
                if effective[call_id].outcome == rule.outcome:
                    having.append(call_id)
    elif rule.metric == AlertMetric.FAILED_CHECK:
        question = current_question(rule.check_question) if rule.check_question else None
        for ids in _chunks(calls.values_list("id", flat=True)):
            answers = _automatic_answers(question, ids) if question else {}
            for call_id in ids:
                answer = answers.get(call_id)
                if answer in ("yes", "no"):
                    judged.append(call_id)
                    if answer == "no":
                        having.append(call_id)
    elif rule.metric == AlertMetric.LONG_SILENCE:
        # The archive stores each call's longest silence as the checks measure it (None
        # without transcript turns; calls.archive.store.stored_longest_silence).
        limit = rule.silence_seconds or 0.0
        timed = calls.exclude(longest_silence=None)
        judged = list(timed.values_list("id", flat=True))
        having = list(timed.filter(longest_silence__gt=limit).values_list("id", flat=True))
    return tuple(having), tuple(judged)


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def current_question(question: ScorecardQuestion) -> ScorecardQuestion:
    """The same automatic question on its scorecard's current version (same place), so a rule
    keeps watching it after the scorecard is edited; the question itself otherwise."""
    scorecard_id = ScorecardVersion.objects.filter(pk=question.version_id).values_list(
        "scorecard_id", flat=True
    )
    current = ScorecardVersion.objects.current().filter(scorecard_id__in=scorecard_id).first()
    if current is None or current.pk == question.version_id:
        return question
    same = current.questions.filter(position=question.position, auto_check__isnull=False).first()
    return same or question


def _automatic_answers(question: ScorecardQuestion, call_ids: list[str]) -> dict[str, str]:
    """Call id -> its automatic answer ("yes", "no", "unknown") to ``question``."""
    answers: dict[str, str] = {}
    rows = AutomaticScore.objects.filter(version_id=question.version_id, call_id__in=call_ids)
    for call_id, results in rows.values_list("call_id", "results"):
        for entry in results or ():
            if isinstance(entry, dict) and entry.get("question") == question.pk:
                answers[call_id] = str(entry.get("answer"))
    return answers


# --- checking a rule ----------------------------------------------------------------------------


def active_rules() -> list[AlertRule]:
    return list(AlertRule.objects.filter(active=True).select_related("check_question"))


def in_cooldown(rule: AlertRule, now: datetime) -> bool:
    last = rule.last_fired_at
    return last is not None and now < last + timedelta(minutes=rule.cooldown_minutes)


def note_problem(rule: AlertRule, problem: str, *, now: datetime) -> None:
    """A rule that cannot be checked (its view's filters no longer read): said on its page."""
    AlertRule.objects.filter(pk=rule.pk).update(
        last_checked_at=now, last_problem=problem[:MAX_ERROR_CHARS]
    )


def check_rule(rule: AlertRule, *, filters: CallFilters, now: datetime) -> AlertIssue | None:
    """Measure ``rule``; open an issue if it breaches and is outside its cool-down (with its
    calls and a delivery per channel, all in one transaction). The new issue, else None."""
    measured = measure(rule, filters=filters, now=now)
    breached = measured.breaches(rule)
    with transaction.atomic():
        # One checker at a time per rule: two schedulers never open the same issue twice.
        locked = AlertRule.objects.select_for_update().get(pk=rule.pk)
        AlertRule.objects.filter(pk=rule.pk).update(
            last_checked_at=now, last_value=measured.value, last_problem=""
        )
        if not breached or in_cooldown(locked, now):
            return None
        issue = AlertIssue.objects.create(
            rule=locked,
            opened_at=now,
            value=measured.value,
            summary=describe_measurement(locked, measured)[:500],
            window_start=measured.window_start,
            window_end=measured.window_end,
            call_count=len(measured.fired_ids),
        )
        for batch in in_chunks(measured.fired_ids, ISSUE_CALLS_BATCH):
            AlertIssueCall.objects.bulk_create(
                AlertIssueCall(issue=issue, call_id=call_id) for call_id in batch
            )
        if locked.webhook_url:
            AlertDelivery.objects.create(
                issue=issue, channel=DeliveryChannel.WEBHOOK, target=locked.webhook_url
            )
        if locked.email_to:
            AlertDelivery.objects.create(
                issue=issue, channel=DeliveryChannel.EMAIL, target=locked.email_to
            )
        AlertRule.objects.filter(pk=rule.pk).update(last_fired_at=now)
    return issue


def issue_call_ids(issue: AlertIssue) -> list[str]:
    return list(issue.calls.order_by("id").values_list("call_id", flat=True))


# --- delivering an issue -------------------------------------------------------------------------


def links(issue: AlertIssue) -> dict[str, str]:
    """The issue's list and review queue, absolute when DASHBOARD_URL is set."""
    base = settings.DASHBOARD_URL.rstrip("/")
    return {
        "alerts": base + reverse("calls:alert_list"),
        "calls": f"{base}{reverse('calls:call_list')}?alert={issue.pk}",
        "review": f"{base}{reverse('calls:review_start')}?alert={issue.pk}",
    }


def payload(issue: AlertIssue) -> dict[str, Any]:
    """The webhook's JSON body: the issue, its rule and exactly its call ids."""
    rule = issue.rule
    return {
        "event": "alert.opened",
        "issue": {
            "id": issue.pk,
            "state": issue.state,
            "opened_at": issue.opened_at.isoformat(),
            "summary": issue.summary,
            "value": issue.value,
            "window_start": issue.window_start.isoformat(),
            "window_end": issue.window_end.isoformat(),
            "call_ids": issue_call_ids(issue),
        },
        "rule": {
            "id": rule.pk,
            "name": rule.name,
            "metric": rule.metric,
            "condition": describe_rule(rule),
            "view": rule.view_name,
            "query": rule.query,
        },
        "links": links(issue),
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC-SHA256 of ``<timestamp>.<body>`` with ``secret``, in hex: a receiver
    recomputes it, compares in constant time and refuses an old timestamp (a replay)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def send_webhook(
    issue: AlertIssue, *, url: str, transport: httpx.BaseTransport | None = None
) -> None:
    """POST the issue to ``url``, signed. Raises ``DeliveryFailed``."""
    secret = issue.rule.webhook_secret or settings.ALERT_WEBHOOK_SECRET
    if not secret:
        raise DeliveryFailed("no signing secret: set one on the rule or ALERT_WEBHOOK_SECRET")
    body = json.dumps(payload(issue), separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "truedy-dashboard-alerts",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "X-Alert-Issue": str(issue.pk),
    }
    try:
        with httpx.Client(
            timeout=settings.ALERT_WEBHOOK_TIMEOUT, follow_redirects=False, transport=transport
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryFailed(
            f"no answer within {number(settings.ALERT_WEBHOOK_TIMEOUT)} s"
        ) from None
    except httpx.ConnectError as error:
        raise DeliveryFailed(_connect_reason(error)) from None
    except httpx.HTTPError as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"the receiver answered {response.status_code}")


def _connect_reason(error: httpx.ConnectError) -> str:
    text = str(error)
    if "refused" in text.lower():
        return "connection refused"
    return f"could not connect: {text}" if text else "could not connect"


def send_email(issue: AlertIssue, *, to: str) -> None:
    """Mail the issue through Django's mail settings. Raises ``DeliveryFailed``."""
    recipients = [address.strip() for address in to.split(",") if address.strip()]
    if not recipients:
        raise DeliveryFailed("no address to send to", final=True)
    found = links(issue)
    lines = [
        f"Alert {issue.pk}: {issue.rule.name}",
        "",
        issue.summary,
        f"Rule: {describe_rule(issue.rule)}",
        f"View: {issue.rule.view_name or 'every call'}",
        f"Window: {issue.window_start:%Y-%m-%d %H:%M} to {issue.window_end:%Y-%m-%d %H:%M} UTC",
        f"Calls that fired it: {issue.call_count}",
        "",
        f"Review them: {found['review']}",
        f"See them listed: {found['calls']}",
        f"Every alert: {found['alerts']}",
    ]
    try:
        send_mail(
            f"[Alert] {issue.rule.name}: {issue.summary}"[:200],
            "\n".join(lines) + "\n",
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except Exception as error:  # smtplib, socket and backend errors alike
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None


def attempt_delivery(delivery_id: int, *, now: datetime | None = None) -> AlertDelivery | None:
    """One attempt at a delivery not yet made, recorded either way. Returns the delivery (None
    if it is gone); raises ``DeliveryFailed`` after recording the failure."""
    delivery = AlertDelivery.objects.select_related("issue__rule").filter(pk=delivery_id).first()
    if delivery is None or delivery.delivered_at is not None:
        return delivery
    try:
        if delivery.channel == DeliveryChannel.WEBHOOK:
            send_webhook(delivery.issue, url=delivery.target)
        else:
            send_email(delivery.issue, to=delivery.target)
    except DeliveryFailed as failed:
        _record(delivery, now=now, error=failed.reason)
        raise
    _record(delivery, now=now, error=None)
    return delivery


def _record(delivery: AlertDelivery, *, now: datetime | None, error: str | None) -> None:
    at = now or timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = at
    delivery.next_attempt_at = None
    if error is None:
        delivery.delivered_at = at
        delivery.gave_up_at = None
    else:
        delivery.last_error = error
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "gave_up_at",
            "last_error",
        ]
    )


def will_retry(delivery_id: int, *, at: datetime) -> None:
    AlertDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True).update(
        next_attempt_at=at
    )


def give_up(delivery_id: int, *, now: datetime | None = None) -> None:
    AlertDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True).update(
        gave_up_at=now or timezone.now(), next_attempt_at=None
    )


def retry_now(delivery: AlertDelivery, *, now: datetime | None = None) -> bool:
    """An admin's *Retry now*: a delivery not made is due again at once (False if it was
    delivered meanwhile)."""
    return bool(
        AlertDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(
            gave_up_at=None, next_attempt_at=now or timezone.now()
        )
    )


def overdue_deliveries(now: datetime, grace: timedelta) -> list[int]:
    """Deliveries still to make whose attempt is overdue by ``grace``: their message was lost
    (a worker and its broker gone), so they are sent again rather than forgotten."""
    due = Q(next_attempt_at__lt=now - grace) | Q(
        next_attempt_at__isnull=True, attempts=0, issue__opened_at__lt=now - grace
    )
    rows = AlertDelivery.objects.filter(due, delivered_at__isnull=True, gave_up_at__isnull=True)
    return list(rows.values_list("pk", flat=True))


# --- the Alerts page -----------------------------------------------------------------------------


def open_count() -> int:
    """The header's count on every page: kept at the pages' generation, which every write of
    an issue bumps (its signals, or ``_issues_changed`` after an ``update``)."""
    count: int = page_cache.cached_value(
        "open-alerts", lambda: AlertIssue.objects.filter(state=AlertState.OPEN).count()
    )
    return count


def issues_for_page() -> list[AlertIssue]:
    """Every open issue, then acknowledged, then resolved (the latest ISSUES_SHOWN of those),
    each newest first, with their rule, people and deliveries."""
    rank = Case(
        When(state=AlertState.OPEN, then=Value(0)),
        When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    issues = (
        AlertIssue.objects.select_related("rule", "acknowledged_by", "resolved_by")
        .prefetch_related("deliveries")
        .annotate(rank=rank)
        .order_by("rank", "-opened_at", "-id")
    )
    shown: list[AlertIssue] = list(issues.filter(state=AlertState.OPEN))
    shown += list(issues.exclude(state=AlertState.OPEN)[:ISSUES_SHOWN])
    return shown


def issue_for_page(issue_id: int) -> AlertIssue:
    """One issue as the page shows it. Raises ``AlertIssue.DoesNotExist``."""
    return (
        AlertIssue.objects.select_related("rule", "acknowledged_by", "resolved_by")
        .prefetch_related("deliveries")
        .get(pk=issue_id)
    )


def issue_counts() -> dict[str, int]:
    rows = AlertIssue.objects.values("state").annotate(n=Count("id")).order_by()
    return {row["state"]: row["n"] for row in rows}


def acknowledge(issue: AlertIssue, *, by: Any, now: datetime | None = None) -> bool:
    """Open → acknowledged by ``by``. False (nothing written) if it was not open any more."""
    return _issues_changed(
        AlertIssue.objects.filter(pk=issue.pk, state=AlertState.OPEN).update(
            state=AlertState.ACKNOWLEDGED, acknowledged_at=now or timezone.now(), acknowledged_by=by
        )
    )


def resolve(issue: AlertIssue, *, by: Any, now: datetime | None = None) -> bool:
    """Open or acknowledged → resolved by ``by``. False if it was resolved already."""
    return _issues_changed(
        AlertIssue.objects.filter(pk=issue.pk)
        .exclude(state=AlertState.RESOLVED)
        .update(state=AlertState.RESOLVED, resolved_at=now or timezone.now(), resolved_by=by)
    )


def _issues_changed(updated: int) -> bool:
    """An ``update`` sends no signal: the pages (their header's count) are told here."""
    if updated:
        page_cache.bump_pages()
    return bool(updated)
