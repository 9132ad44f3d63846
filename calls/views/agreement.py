"""How often the AI's outcome is right, for exactly the calls of one list view."""

from typing import Any

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from calls.forms import CallFilterForm, describe_errors
from calls.services import agreement, personal_data
from calls.services.listing import agent_names_if_possible
from calls.truedy.errors import TruedyError
from calls.views.problems import upstream_error
from calls.views.rendering import DashboardRequest, render

TEMPLATE = "calls/agreement.html"


@require_GET
def agreement_table(request: DashboardRequest) -> HttpResponse:
    """The AI's outcome against the reviewers' (``?<the list's query>``): a confusion table,
    agreement per label and per agent, and the number of judged calls it rests on."""
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        refused: dict[str, Any] = {"errors": describe_errors(form), "list_query": ""}
        return render(request, TEMPLATE, refused, status=400)
    try:
        filters = personal_data.filters_for(request.user, form.list_filters())
        figures = agreement.for_filters(filters)
    except TruedyError as error:
        return upstream_error(request, error)
    context: dict[str, Any] = {
        "figures": figures,
        "list_query": form.query(page=None),
        "agent_names": agent_names_if_possible() if figures.per_agent else {},
        "filtered": form.is_filtered,
    }
    return render(request, TEMPLATE, context)
