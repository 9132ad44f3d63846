"""The pages that say something went wrong: Truedy failed, or there is no such call.

``calls.upstream.problems`` says what kind of failure an error is; here each kind gets its HTTP
status and its page, which swaps into whatever part of a page htmx asked for.
"""

import logging
import math
from typing import Any

from django.http import HttpResponse

from calls.truedy.errors import TruedyError
from calls.upstream.problems import BudgetExhausted, problem_of
from calls.views.rendering import ANY_PAGE_PARTIAL, DashboardRequest, render, requested_partial

logger = logging.getLogger("calls.views")

# A rate limit is not a failure: the page says how long, and loads itself again then (200).
STATUS_OF_KIND = {
    "waiting": 200,
    "auth": 502,
    "billing": 502,
    "busy": 503,
    "garbled": 502,
    "unreachable": 502,
}


def upstream_problem(error: TruedyError) -> tuple[str, int]:
    """(what kind of failure, the status our page answers with)."""
    kind = problem_of(error).kind
    return kind, STATUS_OF_KIND[kind]


def waiting(error: TruedyError) -> dict[str, Any]:
    """What a page that fills itself in says, and how soon it tries again (5-60 s)."""
    retry_in = min(60, max(5, math.ceil(error.retry_after or 5) + 1))
    return {"reason": problem_of(error).notice, "retry_in": retry_in}


def upstream_error(request: DashboardRequest, error: TruedyError) -> HttpResponse:
    """Truedy failed and nothing cached can stand in: say what happened, and how to retry."""
    kind, status = upstream_problem(error)
    if kind in ("auth", "billing"):
        # Not a blip: somebody has to act. Logged loudly, never retried (the client does not).
        logger.error(
            "Truedy refused the dashboard: status=%s request_id=%s kind=%s",
            error.status_code,
            error.request_id,
            kind,
        )
    target = requested_partial(request, ANY_PAGE_PARTIAL)
    context = {
        "kind": kind,
        # Our own request budget said wait, not Truedy (calls.upstream.budget).
        "own_budget": isinstance(error, BudgetExhausted),
        "message": error.message,
        "request_id": error.request_id,
        "status_code": error.status_code,
        "retry_after": math.ceil(error.retry_after) if error.retry_after else None,
        "reload_in": waiting(error)["retry_in"],
        # A fragment that retries itself replaces what it was swapped for: the results'
        # contents, or the whole call article / transcript section (which it then stands for).
        "target": target,
        "replaces_target": target in ("call", "transcript"),
    }
    response = render(
        request, "calls/upstream_error.html", context, status=status, fragment="problem"
    )
    if kind in ("busy", "waiting") and context["retry_after"]:
        response["Retry-After"] = str(context["retry_after"])
    return response


def call_not_found(request: DashboardRequest, back_query: str) -> HttpResponse:
    context = {"back_query": back_query}
    return render(request, "calls/call_not_found.html", context, status=404, fragment="problem")
