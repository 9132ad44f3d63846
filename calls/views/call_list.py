"""The call list and its totals."""

from datetime import timedelta
from typing import Any

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from calls.forms import MAX_SEARCH_LENGTH, PER_PAGE_CHOICES, CallFilterForm, describe_errors
from calls.services import listing, totals
from calls.truedy.errors import TruedyError
from calls.upstream import gateway
from calls.upstream.problems import trouble
from calls.views import saved_views
from calls.views.problems import upstream_error, upstream_problem, waiting
from calls.views.rendering import PARTIALS, DashboardRequest, render, requested_partial


@require_GET
def call_list(request: DashboardRequest) -> HttpResponse:
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        # Nothing invalid goes upstream: names come from the cache or not at all.
        context = _list_context(request, form, listing.cached_agent_names())
        context["errors"] = describe_errors(form)
        return render(request, "calls/call_list.html", context, status=400)
    try:
        found = listing.list_page(form.list_filters(), page=form.page, per_page=form.per_page)
    except TruedyError as error:
        return upstream_error(request, error)
    context = _list_context(request, form, found.agent_names) | _results(form, found)
    # A page number past the end of the list does not exist (as Django's paginator says).
    status = 404 if context["past_the_end"] else 200
    response = render(request, "calls/call_list.html", context, status=status)
    if request.htmx:
        # The form sends every field, empty or not; the address bar gets the canonical link.
        push_url(response, f"{request.path}?{form.query()}")
    return response


@require_GET
def call_totals(request: DashboardRequest) -> HttpResponse:
    """Totals above the list: an htmx fragment the list loads after itself (so a slow count
    never holds the list up), or a page of its own without JavaScript."""
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    context: dict[str, Any] = {
        "list_query": form.query(page=None) if form.is_valid() else "",
        "zone_name": form.zone.key,
    }
    if not form.is_valid():
        context["errors"] = describe_errors(form)
        return render(request, "calls/call_totals.html", context, status=400)
    context["totals_query"] = form.query(page=None, per_page=None)
    try:
        context["totals"] = totals.for_filters(form.list_filters(), zone=form.zone)
    except TruedyError as error:
        kind, status = upstream_problem(error)
        context["problem"] = trouble(error)
        context["retry_in"] = waiting(error)["retry_in"] if kind == "waiting" else None
        return render(request, "calls/call_totals.html", context, status=status)
    return render(request, "calls/call_totals.html", context)


def _results(form: CallFilterForm, found: listing.ListPage) -> dict[str, Any]:
    page = found.page
    num_pages = max(1, -(-page.total // form.per_page))
    return {
        "from_archive": found.from_archive,
        "searched": bool(form.search),
        "call_rows": [(call, found.matches.get(call.id)) for call in page.calls],
        "totals_query": form.query(page=None, per_page=None),
        "calls": page.calls,
        "total": page.total,
        "first_row": page.offset + 1,
        "last_row": page.offset + len(page.calls),
        "num_pages": num_pages,
        "page_links": _page_links(form, num_pages),
        "past_the_end": form.page > num_pages,
    }


def _list_context(
    request: DashboardRequest, form: CallFilterForm, names: dict[str, str]
) -> dict[str, Any]:
    zone = form.zone
    today = gateway.now().astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    week_start = today - timedelta(days=6)
    agent_choices = sorted(names.items(), key=lambda item: item[1].casefold())
    chosen_agent = form.data.get("agent_id", "") if form.is_bound else ""
    if chosen_agent and chosen_agent not in names:
        agent_choices.append((chosen_agent, chosen_agent))  # a deleted agent: its raw id
    fragment = requested_partial(request, PARTIALS["calls/call_list.html"]) is not None
    return {
        "form": form,
        "agent_names": names,
        "agent_choices": agent_choices,
        "zone_name": zone.key,
        "per_page_choices": PER_PAGE_CHOICES,
        "search_max_length": MAX_SEARCH_LENGTH,
        # The menu sits outside the results: a swap of them does not show it.
        "saved_views": [] if fragment else saved_views.views_of(request.user),
        # An invalid query is kept as typed: saving it is refused with the reasons.
        "save_query": form.query(page=None) if form.is_valid() else request.GET.urlencode(),
        # An htmx swap of the results also updates what "Save view" saves (out of band).
        "fragment": fragment,
        "per_page": form.per_page,  # (in templates `form.per_page` is the bound field)
        "page_number": form.page,
        "row_query": form.query() if form.is_valid() else "",
        "presets": [
            ("Today", form.query(created_after=today, created_before=today, page=None)),
            ("Yesterday", form.query(created_after=yesterday, created_before=yesterday, page=None)),
            ("Last 7 days", form.query(created_after=week_start, created_before=today, page=None)),
        ]
        if form.is_valid()
        else [],
    }


def _page_links(form: CallFilterForm, num_pages: int) -> dict[str, str | None]:
    page = form.page
    return {
        "first": form.query(page=1) if page > 1 else None,
        "previous": form.query(page=min(page, num_pages + 1) - 1) if page > 1 else None,
        "next": form.query(page=page + 1) if page < num_pages else None,
        "last": form.query(page=num_pages) if page < num_pages else None,
    }
