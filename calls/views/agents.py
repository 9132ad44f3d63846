"""The agents page: agents compared over a range and the list's filters, and its CSV."""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from calls.forms import QUERY_ORDER, CallFilterForm, describe_errors
from calls.services import agent_figures, listing, personal_data
from calls.services.agent_figures import AgentFigures, AgentTable
from calls.truedy.errors import NotFound, TruedyError
from calls.upstream import gateway
from calls.views.call_list import _presets
from calls.views.campaigns import campaign_not_found
from calls.views.problems import upstream_error
from calls.views.rendering import NO_STORE, DashboardRequest, render

TEMPLATE = "calls/agents/agent_table.html"


@require_GET
def agent_table(request: DashboardRequest) -> HttpResponse:
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    context = _form_context(form)
    if not form.is_valid():
        context["errors"] = describe_errors(form)
        return render(request, TEMPLATE, context, status=400)
    found = _figures(request, form)
    if isinstance(found, HttpResponse):
        return found
    names = listing.agent_names_if_possible()
    context |= {
        "table": found,
        "rows": [_row(figures, form, names) for figures in found.agents],
        "total_row": _row(found.total, form, names),
        "csv_query": form.query(page=None, per_page=None),
    }
    return render(request, TEMPLATE, context)


@require_GET
def agent_table_csv(request: DashboardRequest) -> HttpResponse:
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        return agent_table(request)  # the page's own 400, the reasons beside the filters
    found = _figures(request, form)
    if isinstance(found, HttpResponse):
        return found
    text = agent_figures.csv_text(found, agent_names=listing.agent_names_if_possible())
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    day = gateway.now().astimezone(form.zone).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="agents-{day}.csv"'
    response["Cache-Control"] = NO_STORE
    return response


def _figures(request: DashboardRequest, form: CallFilterForm) -> AgentTable | HttpResponse:
    """The table for a valid form; a campaign is resolved first (it may need Truedy)."""
    filters = personal_data.filters_for(request.user, form.list_filters())
    try:
        filters = listing.resolved(filters)
    except NotFound:
        return campaign_not_found(request)
    except TruedyError as error:
        return upstream_error(request, error)
    now = gateway.now()
    return agent_figures.agent_figures(
        filters, zone=form.zone, today=now.astimezone(form.zone).date(), now=now
    )


def _form_context(form: CallFilterForm) -> dict[str, Any]:
    return {
        "form": form,
        "zone_name": form.zone.key,
        "range_fields": [
            ("f-after", "created_after", "From", form.data.get("created_after", "")),
            ("f-before", "created_before", "To", form.data.get("created_before", "")),
        ],
        "presets": _presets(form),
    }


def _row(figures: AgentFigures, form: CallFilterForm, names: dict[str, str]) -> dict[str, Any]:
    """A row of the table: the figures and, for each, the list of exactly those calls."""
    agent_id = figures.agent_id
    links: dict[str, str | None] = {}
    # Calls without an agent cannot be listed apart (an empty agent filter means any agent).
    if agent_id != "":
        agent = {"agent_id": agent_id} if agent_id else {}

        def link(**extra: str) -> str:
            """The list's canonical link with these filters too (one the list's query does not
            order yet goes last)."""
            known = {name: value for name, value in extra.items() if name in QUERY_ORDER}
            more = urlencode({n: v for n, v in extra.items() if n not in known})
            query = form.query(page=None, per_page=None, **agent, **known)
            return (
                f"{reverse('calls:call_list')}?{'&'.join(part for part in (query, more) if part)}"
            )

        links = {
            "calls": link(),
            "connected": link(status=agent_figures.CONNECTED_STATUS),
            "duration": link(sort="-duration"),
            "cost": link(sort="-cost"),
            "auto_score": link(auto_score="from-0"),
            "reviewed": link(only="reviewed"),
            "corrected": link(only="corrected"),
            "scored": link(only="scored"),
            "dead_air": link(only="dead-air"),
            **{f"verdict_{verdict}": link(review=verdict) for verdict, _ in figures.verdicts},
        }
        outcome_links = [
            (outcome, count, link(outcome=outcome) if outcome else None)
            for outcome, count in figures.outcomes
        ]
    else:
        outcome_links = [(outcome, count, None) for outcome, count in figures.outcomes]
    return {
        "figures": figures,
        "name": _agent_name(agent_id, names),
        "links": links,
        "outcomes": outcome_links,
        "verdicts": [
            (verdict, count, links.get(f"verdict_{verdict}")) for verdict, count in figures.verdicts
        ],
    }


def _agent_name(agent_id: str | None, names: dict[str, str]) -> str:
    if agent_id is None:
        return "All agents"
    if not agent_id:
        return "No agent"
    return names.get(agent_id, agent_id)
