"""Alerts over HTTP (README, "Alerts").

- ``/alerts/``: the issues rules opened, open ones first, each linking to the list and the review
  queue of exactly its calls, with its deliveries (delivered, failing and when the next try is,
  or given up). Reviewers and Admins acknowledge and resolve (``calls.review_calls``); Viewers
  read. An Admin may *Retry now* a delivery not made.
- ``/alerts/rules/``: the rules and what each last measured; an Admin (``calls.manage_alerts``)
  defines and edits them.

Every bad value shows the form again saying why (400); a refused role gets 403 and nothing is
written; without JavaScript each button posts and comes back (303), with htmx the issue swaps
itself.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calls.alert_forms import AlertRuleForm
from calls.background.alerts import send_soon
from calls.models import AlertDelivery, AlertIssue, AlertRule, AuditAction
from calls.services import alerts, audit, roles
from calls.upstream import gateway
from calls.views.rendering import DashboardRequest, requested_partial, see_other
from calls.views.roles import SAFE_METHODS, review_permission_required
from calls.views.scorecards import ADMIN_MARK

LIST = "calls/alerts/list.html"
RULES = "calls/alerts/rules.html"
EDITOR = "calls/alerts/edit.html"

View = Callable[..., HttpResponse]


def manage_alerts_required(view: View) -> View:
    """Only an Admin (``calls.manage_alerts``) gets through ``view``, whatever the method:
    everyone else gets 403 and nothing is written."""

    @functools.wraps(view)
    def guarded(request: DashboardRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not roles.can_manage_alerts(request.user):
            name = "calls/alerts/refused.html"
            if request.htmx and not request.htmx.boosted:
                name += "#refusal"
            context = {
                "role": roles.role_name(request.user),
                "read_only": request.method in SAFE_METHODS,
            }
            return TemplateResponse(request, name, context, status=403)
        return view(request, *args, **kwargs)

    setattr(guarded, ADMIN_MARK, True)  # the URL walk checks every Admin-only view
    return guarded


# --- issues ------------------------------------------------------------------------------------


@require_GET
def alert_list(request: DashboardRequest) -> HttpResponse:
    """Every open issue, then the latest acknowledged and resolved ones."""
    context = {
        "issues": alerts.issues_for_page(),
        "counts": alerts.issue_counts(),
        "can_act": roles.can_review(request.user),
        "can_manage": roles.can_manage_alerts(request.user),
        "now": gateway.now(),
    }
    response = TemplateResponse(request, LIST, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@review_permission_required
@require_POST
def alert_acknowledge(request: DashboardRequest, issue_id: int) -> HttpResponse:
    """Open → acknowledged, by the request's user."""
    issue = get_object_or_404(AlertIssue, pk=issue_id)
    with transaction.atomic():  # the change and its audit row, or neither
        changed = alerts.acknowledge(issue, by=request.user, now=gateway.now())
        if changed:
            audit.record_strict(request, AuditAction.ACKNOWLEDGE_ALERT, detail=f"alert {issue_id}")
    said = "Acknowledged." if changed else "Already acknowledged or resolved: nothing changed."
    return _after_change(request, issue_id, said)


@review_permission_required
@require_POST
def alert_resolve(request: DashboardRequest, issue_id: int) -> HttpResponse:
    """Open or acknowledged → resolved, by the request's user."""
    issue = get_object_or_404(AlertIssue, pk=issue_id)
    with transaction.atomic():
        changed = alerts.resolve(issue, by=request.user, now=gateway.now())
        if changed:
            audit.record_strict(request, AuditAction.RESOLVE_ALERT, detail=f"alert {issue_id}")
    said = "Resolved." if changed else "Already resolved: nothing changed."
    return _after_change(request, issue_id, said)


@manage_alerts_required
@require_POST
def alert_delivery_retry(request: DashboardRequest, delivery_id: int) -> HttpResponse:
    """*Retry now*: a delivery not made (failing or given up) is sent again at once."""
    delivery = get_object_or_404(AlertDelivery, pk=delivery_id)
    if alerts.retry_now(delivery, now=gateway.now()):
        send_soon([delivery.pk])
        said = f"{delivery.get_channel_display()} of alert {delivery.issue_id}: sent again."
    else:
        said = "Already delivered: nothing to send."
    return _after_change(request, delivery.issue_id, said)


def _after_change(request: DashboardRequest, issue_id: int, said: str) -> HttpResponse:
    """With htmx, the issue again (its live region says what changed); else back (303)."""
    if (
        request.htmx
        and not request.htmx.boosted
        and requested_partial(request, frozenset({f"alert-{issue_id}"}))
    ):
        issue = alerts.issue_for_page(issue_id)
        context = {
            "issue": issue,
            "can_act": roles.can_review(request.user),
            "can_manage": roles.can_manage_alerts(request.user),
            "now": gateway.now(),
            "said": said,
        }
        return TemplateResponse(request, f"{LIST}#issue", context)
    messages.success(request, said)
    return see_other(f"{reverse('calls:alert_list')}#alert-{issue_id}")


# --- rules -------------------------------------------------------------------------------------


@require_GET
def alert_rule_list(request: DashboardRequest) -> HttpResponse:
    """Every rule, what it watches and what it last measured."""
    rules = [
        (rule, alerts.describe_rule(rule))
        for rule in AlertRule.objects.select_related("check_question", "created_by")
    ]
    context = {"rules": rules, "can_manage": roles.can_manage_alerts(request.user)}
    return TemplateResponse(request, RULES, context)


@manage_alerts_required
@require_http_methods(["GET", "HEAD", "POST"])
def alert_rule_new(request: DashboardRequest) -> HttpResponse:
    return _editor(request, AlertRule(created_by=request.user))


@manage_alerts_required
@require_http_methods(["GET", "HEAD", "POST"])
def alert_rule_edit(request: DashboardRequest, rule_id: int) -> HttpResponse:
    return _editor(request, get_object_or_404(AlertRule, pk=rule_id))


def _editor(request: DashboardRequest, rule: AlertRule) -> HttpResponse:
    new = rule.pk is None
    if request.method != "POST":
        form = AlertRuleForm(instance=rule, user=request.user)
        return TemplateResponse(request, EDITOR, {"form": form, "rule": rule, "new": new})
    form = AlertRuleForm(request.POST, instance=rule, user=request.user)
    if not form.is_valid():
        context = {"form": form, "rule": rule, "new": new}
        return TemplateResponse(request, EDITOR, context, status=400)
    with transaction.atomic():
        saved = form.save(commit=False)
        saved.updated_at = gateway.now()
        saved.save()
        verb = "defined" if new else "changed"
        audit.record_strict(
            request, AuditAction.CHANGE_ALERT_RULE, detail=f"{verb} rule {saved.pk}: {saved.name}"
        )
    messages.success(request, f"{'Saved' if new else 'Changed'} the rule “{saved.name}”.")
    return see_other(reverse("calls:alert_rule_list"))
