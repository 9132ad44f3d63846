"""Review work over HTTP: a call's review panel, its review page, a verdict and an outcome.

Every write is a POST with CSRF, validated by a form (a bad value shows the form again saying
why, status 400), allowed to reviewers only (``calls.views.roles``) and answered with a redirect
(303), so it all works without JavaScript. With htmx the review panel swaps only itself and its
live region says what was saved ("Saved: pass"); a verdict given in a queue goes on to the
queue's next call. A write the database refuses stores nothing (its audit row included), says
so (503) and shows what was entered, to send again.
"""

import logging
from typing import Any

from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from calls.labels import label
from calls.models import Verdict
from calls.review_forms import CorrectionForm, VerdictForm
from calls.services import audit, corrections, review_queue, reviews, roles
from calls.services.calls import call_or_archived
from calls.services.listing import agent_names_if_possible
from calls.truedy.client import is_valid_call_id
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.records import Call
from calls.views.rendering import NO_STORE, DashboardRequest, requested_partial
from calls.views.review_steps import (
    Carried,
    action_query,
    carried,
    next_in_queue,
    problem,
    see_other,
)
from calls.views.roles import review_permission_required

logger = logging.getLogger("calls.views")

PANEL = "calls/review/panel.html"
PANEL_TARGET = "review-work"  # the part of the panel an htmx write swaps
REVIEW_PAGE = "calls/review/call_review.html"
NOT_SAVED = (
    "Not saved: the database could not store it. What you entered is still here: send it again."
)


# --- the review panel ---------------------------------------------------------------------------


def review_panel(
    request: DashboardRequest,
    call_id: str,
    *,
    ai_outcome: str | None,
    outcome_known: bool = True,
    verdict_form: VerdictForm | None = None,
    correction_form: CorrectionForm | None = None,
    saved: str = "",
    failure: str = "",
    return_to: str = "call",
) -> dict[str, Any]:
    """The context ``templates/calls/review/panel.html`` needs, as one entry: ``review``.

    ``ai_outcome``: Truedy's outcome of the call (``outcome_known=False`` when Truedy could not
    say). The queue and the list come from the request's URL. ``saved`` is what the live region
    announces.
    """
    where = carried(request)
    history = corrections.correction_history(call_id)
    outcome = corrections.effective_from_history(ai_outcome, history)
    can_review = roles.can_review(request.user)
    queue = where.queue
    return {
        "review": {
            "call_id": call_id,
            "ai_outcome": ai_outcome,
            "outcome_known": outcome_known,
            "outcome": outcome,
            "history": reviews.review_history(call_id),
            "corrections": history,
            "can_review": can_review,
            "role": roles.role_name(request.user),
            "verdicts": Verdict.choices,
            # Only reviewers see the forms: nobody else pays for building them.
            "verdict_form": (verdict_form or VerdictForm()) if can_review else None,
            "correction_form": (correction_form or CorrectionForm(current=outcome.outcome))
            if can_review
            else None,
            "teammates": roles.reviewers() if can_review else (),
            "suggestions": corrections.suggested_outcomes() if can_review else (),
            "progress": _progress(queue, call_id) if queue else None,
            "in_queue": queue is not None,
            "action_query": action_query(where),
            "return_to": return_to,
            "saved": saved,
            "failure": failure,
            "swapped": requested_partial(request, frozenset({PANEL_TARGET})) is not None,
        }
    }


def _progress(queue: review_queue.Queue, call_id: str) -> review_queue.Progress | None:
    try:
        return review_queue.progress(queue, current=call_id)
    except TruedyError:
        return None  # the queue's calls cannot be read now: the page does without its figures


def _panel_response(
    request: DashboardRequest, call: Call | None, call_id: str, *, status: int = 200, **panel: Any
) -> TemplateResponse:
    """The panel alone for htmx, else the call's review page around it."""
    known = call is not None
    ai_outcome = call.outcome if call else None
    context = review_panel(
        request, call_id, ai_outcome=ai_outcome, outcome_known=known, **panel
    ) | {
        "call": call,
        "call_id": call_id,
        "back_query": carried(request).list_query(),
    }
    fragment = requested_partial(request, frozenset({PANEL_TARGET}))
    name = f"{PANEL}#{PANEL_TARGET}" if fragment else REVIEW_PAGE
    if not fragment:
        context["agent_names"] = agent_names_if_possible() if call else {}
    response = TemplateResponse(request, name, context, status=status)
    response["Cache-Control"] = NO_STORE
    return response


# --- a call's review page and its writes ----------------------------------------------------------


@review_permission_required
@require_http_methods(["GET", "HEAD", "POST"])
def call_review(request: DashboardRequest, call_id: str) -> HttpResponse:
    """GET: the call's review page (its verdict, history and outcome). POST: a verdict."""
    if not is_valid_call_id(call_id):
        return problem(request, 404, "There is no such call.")  # never sent upstream
    try:
        call = _known_call(call_id)
    except NotFound:
        return problem(request, 404, "There is no such call.")
    if request.method == "POST":
        return _save_verdict(request, call, call_id)
    if call is None:
        return _unreachable(request, call_id)
    response = _panel_response(request, call, call_id, return_to="review")
    audit.record_access(request, "view_call", call_id=call_id, status=response.status_code)
    return response


def _save_verdict(request: DashboardRequest, call: Call | None, call_id: str) -> HttpResponse:
    form = VerdictForm(request.POST)
    return_to = request.POST.get("return_to", "call")
    if not form.is_valid():
        return _panel_response(
            request, call, call_id, status=400, verdict_form=form, return_to=return_to
        )
    data = form.cleaned_data
    try:
        review = reviews.record_review(
            request,
            call_id=call_id,
            verdict=data["verdict"],
            note=data["note"],
            assigned_to=data["assigned_to"],
        )
    except DatabaseError:
        logger.exception("Could not store a verdict")
        return _panel_response(
            request,
            call,
            call_id,
            status=503,
            verdict_form=form,
            failure=NOT_SAVED,
            return_to=return_to,
        )
    saved = f"Saved: {review.get_verdict_display().lower()}"
    where = carried(request)
    queue = where.queue
    if queue is not None:
        return next_in_queue(request, where, queue, after=call_id, saved=saved)
    review_queue.release(call_id, request.user.pk)
    if requested_partial(request, frozenset({PANEL_TARGET})):
        return _panel_response(request, call, call_id, saved=saved, return_to=return_to)
    messages.success(request, saved)
    return _back(call_id, where, form.cleaned_data["return_to"])


@review_permission_required
@require_POST
def call_outcome(request: DashboardRequest, call_id: str) -> HttpResponse:
    """A reviewer's outcome for the call, with a reason."""
    if not is_valid_call_id(call_id):
        return problem(request, 404, "There is no such call.")
    try:
        call = _known_call(call_id)
    except NotFound:
        return problem(request, 404, "There is no such call.")
    return_to = request.POST.get("return_to", "call")
    if call is None:
        # The AI's outcome is kept beside each correction: without it nothing is stored.
        form = CorrectionForm(request.POST)
        form.is_valid()
        return _panel_response(
            request,
            None,
            call_id,
            status=503,
            correction_form=form,
            failure="Not saved: Truedy is unreachable, so the AI's outcome cannot be read. "
            "What you entered is still here: send it again in a moment.",
            return_to=return_to,
        )
    current = corrections.effective_outcome(call_id, call.outcome).outcome
    form = CorrectionForm(request.POST, current=current)
    if not form.is_valid():
        return _panel_response(
            request, call, call_id, status=400, correction_form=form, return_to=return_to
        )
    try:
        correction = corrections.correct_outcome(
            request,
            call_id=call_id,
            ai_outcome=call.outcome,
            outcome=form.cleaned_data["outcome"],
            reason=form.cleaned_data["reason"],
        )
    except DatabaseError:
        logger.exception("Could not store an outcome correction")
        return _panel_response(
            request,
            call,
            call_id,
            status=503,
            correction_form=form,
            failure=NOT_SAVED,
            return_to=return_to,
        )
    saved = f"Saved: outcome {label(correction.outcome)}"
    if requested_partial(request, frozenset({PANEL_TARGET})):
        return _panel_response(request, call, call_id, saved=saved, return_to=return_to)
    messages.success(request, saved)
    return _back(call_id, carried(request), form.cleaned_data["return_to"])


def _known_call(call_id: str) -> Call | None:
    """The call, from Truedy's cache, Truedy or the archive; None when Truedy cannot answer
    now and the archive has no copy. Raises ``NotFound`` when the call does not exist."""
    try:
        return call_or_archived(call_id).call
    except NotFound:
        raise
    except TruedyError:
        return None


def _back(call_id: str, where: Carried, return_to: str) -> HttpResponseRedirect:
    """After a write without JavaScript: back to the page the form was on (303)."""
    name = "calls:call_review" if return_to == "review" else "calls:call_detail"
    query = action_query(where)
    return see_other(reverse(name, args=[call_id]) + query)


def _unreachable(request: DashboardRequest, call_id: str) -> TemplateResponse:
    return problem(
        request,
        503,
        "This call cannot be shown now: Truedy is unreachable and the archive has no copy. "
        "Try again in a moment.",
    )
