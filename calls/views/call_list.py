"""The call list and its totals."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect, push_url, reswap, retarget

from calls.archive.freshness import archive_currency
from calls.archive.search import UNREVIEWED, MatchingLine
from calls.forms import (
    MAX_SEARCH_LENGTH,
    MAX_YEAR,
    MIN_YEAR,
    PER_PAGE_CHOICES,
    CallFilterForm,
    describe_errors,
    score_range_text,
    sort_text,
)
from calls.lib.timezones import zone_names_version
from calls.models import Verdict
from calls.services import corrections, listing, live, page_cache, personal_data, reviews, totals
from calls.services.row_media import media_of_rows
from calls.templatetags.call_format import call_table_rows
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.filters import DEFAULT_SORT
from calls.truedy.lifecycle import RECORDING_EXPIRY_MARGIN, recording_expiry
from calls.truedy.records import KNOWN_OUTCOMES, Call
from calls.upstream import gateway, reads
from calls.upstream.problems import trouble
from calls.views import saved_views
from calls.views.campaigns import campaign_not_found
from calls.views.problems import upstream_error, upstream_problem, waiting
from calls.views.rendering import PARTIALS, DashboardRequest, render, requested_partial


@require_GET
def call_list(request: DashboardRequest) -> HttpResponse:
    """The list, or the results an htmx request targets; kept whole (calls.services.page_cache)
    while nothing it shows can have changed: the key holds today's date (the presets), the
    check the archive's state (whether it may answer, and what the page says of it)."""
    now = gateway.now()
    today = now.astimezone(request.viewer_zone).date()
    key = page_cache.page_key(request, "list", today, saved_views=True)
    currency = archive_currency(now)
    check = (currency.current and currency.holds_since, currency.why_not())
    kept = page_cache.kept_page(request, key, check)
    if isinstance(kept, HttpResponse):
        return kept
    with page_cache.noting(kept):
        response = _call_list(request, kept)
    return page_cache.keep_page(request, kept, response)


def _call_list(request: DashboardRequest, build: page_cache.PageBuild) -> HttpResponse:
    page_cache.prime_permissions(request.user)
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        # Nothing invalid goes upstream: names come from the cache or not at all.
        context = _list_context(request, form, listing.cached_agent_names())
        context["errors"] = describe_errors(form)
        return _refused(request, context)
    if form.search is not None and form.search.kind == "call_id":
        return _open_call(request, form.search.text)
    try:
        filters = personal_data.filters_for(request.user, form.list_filters())
        found = listing.list_page(filters, page=form.page, per_page=form.per_page)
    except NotFound:  # only a campaign filter can name something Truedy does not have
        return campaign_not_found(request)
    except TruedyError as error:
        return upstream_error(request, error)
    found = personal_data.list_page_for(request.user, found)
    _bound(request, build, found)
    context = _list_context(request, form, found.agent_names) | _results(form, found)
    context["search_refusal"] = personal_data.search_refusal(filters)
    if not context["fragment"]:
        context["filter_form_html"] = _filter_form_html(request, context)
    # A page number past the end of the list does not exist (as Django's paginator says).
    status = 404 if context["past_the_end"] else 200
    response = render(request, "calls/call_list.html", context, status=status)
    if request.htmx:
        # The form sends every field, empty or not; the address bar gets the canonical link.
        push_url(response, f"{request.path}?{form.query()}")
    return response


@require_GET
def call_totals(request: DashboardRequest) -> HttpResponse:
    """Totals below the list: an htmx fragment the list loads after itself (so a slow count
    never holds the list up, nor pushes its rows down), or a page of its own without
    JavaScript."""
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
        filters = personal_data.filters_for(request.user, form.list_filters())
        context["totals"] = totals.for_filters(filters, zone=form.zone)
    except TruedyError as error:
        kind, status = upstream_problem(error)
        context["problem"] = trouble(error)
        context["retry_in"] = waiting(error)["retry_in"] if kind == "waiting" else None
        return render(request, "calls/call_totals.html", context, status=status)
    return render(request, "calls/call_totals.html", context)


def _bound(request: DashboardRequest, build: page_cache.PageBuild, found: listing.ListPage) -> None:
    """How long the page may be kept. Not at all when read from the archive (some of its
    writes, ``update()``s, bump no generation). Else no longer than Truedy's answer stays
    fresh (``page_cache.noting``): until then a rebuilt page would show the same rows, live
    ones included, except where a row changes with the clock: its recording link running
    out, its analysis window ending (it stops being watched); or one of the user's reveals
    ending."""
    calls = found.page.calls
    if found.from_archive or found.campaign or found.matches:
        build.refuse()
    for call in calls:
        expiry = recording_expiry(call)
        if expiry is not None:
            build.until(expiry - RECORDING_EXPIRY_MARGIN)
            build.until(expiry)
        if call.ended_at is not None:
            build.until(call.ended_at + reads.processing_window())
    if personal_data.masks_for(request.user):
        build.until(page_cache.reveals_end(request.user))


def _refused(request: DashboardRequest, context: dict[str, Any]) -> HttpResponse:
    """Filters the list cannot use (400): the page again with the reasons beside the filters.
    An htmx request gets only the reasons, swapped into that region: the results it shows stay,
    and so does the address bar (their link)."""
    response = render(
        request, "calls/call_list.html", context, status=400, fragment="filter_errors"
    )
    if context["fragment"]:
        retarget(response, "#filter-errors")
        reswap(response, "outerHTML")
        push_url(response, False)
    return response


def _open_call(request: DashboardRequest, call_id: str) -> HttpResponse:
    """A call id in the search box opens that call (its page says so if there is none)."""
    url = reverse("calls:call_detail", args=[call_id])
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


def _results(form: CallFilterForm, found: listing.ListPage) -> dict[str, Any]:
    page = found.page
    num_pages = max(1, -(-page.total // form.per_page))
    context = _archive_controls(form, found)
    call_rows = [(call, found.matches.get(call.id)) for call in page.calls]
    return context | {
        # The archive standing in for Truedy's list is Truedy's list: live rows stay live.
        "from_archive": found.from_archive and not found.as_truedy,
        "campaign_source": found.campaign,
        "search": form.search,
        "reach": found.reach,
        "archive_covers_view": found.covered,
        "review_filters_text": _review_filters_text(form),
        "find": form.search.text if form.search else "",
        "call_rows": call_rows,
        "rows_html": _rows_html(form, found, call_rows),
        "totals_query": form.query(page=None, per_page=None),
        "calls": page.calls,
        "total": page.total,
        "first_row": page.offset + 1,
        "last_row": page.offset + len(page.calls),
        "num_pages": num_pages,
        "page_links": _page_links(form, num_pages),
        "past_the_end": form.page > num_pages,
    }


# The table's columns: (heading, class, the column ``sort`` sorts it by, or "").
COLUMNS = (
    ("Created", "", "created"),
    ("Agent", "", "agent"),
    ("Direction", "", ""),
    ("Status", "", ""),
    ("Contact", "", ""),
    ("Duration", "num", "duration"),
    ("Media", "media", ""),
    ("Outcome", "", "outcome"),
    ("Cost", "num", "cost"),
    ("Review", "", ""),
)
# Columns that read best largest first when first sorted by.
_DESCENDING_FIRST = ("created", "duration", "cost", "auto_score")


def _archive_controls(form: CallFilterForm, found: listing.ListPage) -> dict[str, Any]:
    """Sort links in the headings and the archive's own filters, allowed when the list is read
    from the archive (current, or a search); else why not, and what the link asked for that
    the list leaves out."""
    allowed = found.from_archive
    reason = ""
    if not allowed:
        why = found.currency.why_not() if found.currency else "Truedy's own list is shown"
        reason = f"Sorting and these filters need the archive to be current: {why}"
    # The order the rows are in: Truedy's when the archive could not sort them.
    sort = (form.cleaned_data.get("sort") or DEFAULT_SORT) if allowed else DEFAULT_SORT
    headers = []
    for heading, css, column in COLUMNS:
        header: dict[str, Any] = {"label": heading, "css": css, "link": None, "aria_sort": ""}
        if column and sort.lstrip("-") == column:
            header["aria_sort"] = "descending" if sort.startswith("-") else "ascending"
        if column and allowed:
            if sort.lstrip("-") == column:  # again: the other way round
                target = column if sort.startswith("-") else f"-{column}"
            else:
                target = f"-{column}" if column in _DESCENDING_FIRST else column
            header["link"] = form.query(sort=target, page=None)
            header["next"] = sort_text(target)
        headers.append(header)
    currency = found.currency
    return {
        "archive_controls": allowed,
        "archive_controls_reason": reason,
        "headers": headers,
        "sort_text": sort_text(sort),
        "ignored": [IGNORED_TEXT[name] for name in found.ignored],
        "list_source": {
            "lag": currency.behind,
            "bound": currency.bound_seconds,
        }
        if found.as_truedy and currency is not None
        else None,
    }


IGNORED_TEXT = {
    "sort": "the sort order",
    "outcome": "the outcome filter",
    "duration_min": "the shortest duration",
    "duration_max": "the longest duration",
    "cost_min": "the lowest cost",
    "cost_max": "the highest cost",
    "has_recording": "the recording filter",
}


# The agents page's figure a list shows (``only=``), in words.
ONLY_WORDS = {
    "reviewed": "with a verdict",
    "corrected": "whose outcome a reviewer corrected",
    "scored": "a reviewer scored",
    "dead-air": "connected, with dead air (a silence of {seconds:g} s or more)",
}


def _only_text(form: CallFilterForm) -> str:
    """The ``only=`` filter's chip: "Only calls with a verdict"; empty without it."""
    only = form.cleaned_data.get("only") if form.is_valid() else None
    if not only:
        return ""
    return "Only calls " + ONLY_WORDS[only].format(seconds=settings.DEAD_AIR_SECONDS)


def _review_filters_text(form: CallFilterForm) -> str:
    """The review filters in words: "unreviewed and with open notes"."""
    data = form.cleaned_data
    parts = []
    if data.get("review") == UNREVIEWED:
        parts.append("nobody has reviewed")
    elif data.get("review"):
        parts.append(f"reviewed as {Verdict(data['review']).label}")
    if data.get("suspicious"):
        parts.append("whose AI outcome the call cannot support (suspicious labels)")
    if data.get("notes"):
        parts.append("with open notes")
    if data.get("auto_score"):
        parts.append(f"whose automatic score is {score_range_text(data['auto_score'])}")
    if data.get("only"):
        parts.append(ONLY_WORDS[data["only"]].format(seconds=settings.DEAD_AIR_SECONDS))
    return " and ".join(parts)


def _filter_form_html(request: DashboardRequest, context: dict[str, Any]) -> SafeString:
    """The filters (the ``filter_form`` partial), from the page cache when nothing they show
    has changed: the query as typed, the zone, the agents, today's presets, the campaign's
    name, and why the archive's controls are off (if they are)."""
    campaign = context["campaign_source"]
    key = page_cache.entry_key(
        "list-filters",
        (
            sorted(request.GET.lists()),
            context["zone_name"],
            context["agent_choices"],
            context["presets"],
            context["only_text"],
            context["archive_controls_reason"],
            campaign.campaign.name if campaign else None,
            context["zone_names_url"],
        ),
    )

    def build() -> str:
        return render_to_string("calls/call_list.html#filter_form", context, request)

    # Rendered by the template, autoescaped (also when read back from the cache).
    return mark_safe(page_cache.cached_html(key, build))  # noqa: S308


def _rows_html(
    form: CallFilterForm,
    found: listing.ListPage,
    call_rows: list[tuple[Call, MatchingLine | None]],
) -> SafeString:
    """The table's rows, from the page cache when nothing they show has changed: the calls as
    this viewer sees them (masked or not), their live state now, their media, the query their
    links carry, the zone; the review work on them is the cache's generation."""
    calls = found.page.calls
    row_query = form.query()
    find = form.search.text if form.search else ""
    media = media_of_rows(calls, from_archive=found.from_archive)
    now = gateway.now()
    key = page_cache.entry_key(
        "list-rows",
        (
            call_rows,
            row_query,
            found.agent_names,
            find,
            media,
            tuple(live.follow_state(call, now) for call in calls),
            timezone.get_current_timezone_name(),
        ),
    )

    def build() -> str:
        return call_table_rows(
            call_rows,
            row_query,
            found.agent_names,
            find,
            reviews.review_facts(call.id for call in calls),
            corrections.effective_outcomes({call.id: call.outcome for call in calls}),
            media,
        )

    # Built by call_table_rows, every value escaped (also when read back from the cache).
    return mark_safe(page_cache.cached_html(key, build))  # noqa: S308


def _list_context(
    request: DashboardRequest, form: CallFilterForm, names: dict[str, str]
) -> dict[str, Any]:
    zone = form.zone
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
        # The campaign filter's chip removes it (and starts again from the first page).
        "campaign_remove_query": form.query(campaign=None, page=None),
        "alert_remove_query": form.query(alert=None, page=None),
        "only_remove_query": form.query(only=None, page=None),
        "only_text": _only_text(form),
        "search_max_length": MAX_SEARCH_LENGTH,
        # Also in a swap of the results (out of band): the view they now show is marked.
        "saved_views": saved_views.views_of(request.user),
        "view_query": form.query(page=None) if form.is_valid() else None,
        # An invalid query is kept as typed: saving it is refused with the reasons.
        "save_query": form.query(page=None) if form.is_valid() else request.GET.urlencode(),
        # An htmx swap of the results also updates what "Save view" saves (out of band).
        "fragment": fragment,
        "per_page": form.per_page,  # (in templates `form.per_page` is the bound field)
        "page_number": form.page,
        "row_query": form.query() if form.is_valid() else "",
        # (id, name, label, value as typed) of the range control's two dates
        "range_fields": [
            ("f-after", "created_after", "From", form.data.get("created_after", "")),
            ("f-before", "created_before", "To", form.data.get("created_before", "")),
        ],
        "presets": _presets(form),
        "known_outcomes": KNOWN_OUTCOMES,
        "min_year": MIN_YEAR,
        "max_year": MAX_YEAR,
        "zone_names_url": reverse("calls:time_zone_names", args=[zone_names_version()]),
    }


@dataclass(frozen=True)
class Preset:
    """A date range the range control offers in one click: whole days up to today."""

    label: str
    first: date
    last: date
    query: str  # the list's query with these dates (the link without JavaScript)
    active: bool  # the list shows exactly this range


def _presets(form: CallFilterForm) -> list[Preset]:
    """Today, Yesterday, Last 7 and Last 30 days, as days in the viewer's zone."""
    today = gateway.now().astimezone(form.zone).date()
    yesterday = today - timedelta(days=1)
    ranges = [
        ("Today", today, today),
        ("Yesterday", yesterday, yesterday),
        ("Last 7 days", today - timedelta(days=6), today),
        ("Last 30 days", today - timedelta(days=29), today),
    ]
    shown = (form.data.get("created_after", ""), form.data.get("created_before", ""))
    return [
        Preset(
            label,
            first,
            last,
            form.query(created_after=first, created_before=last, page=None),
            form.is_valid() and shown == (first.isoformat(), last.isoformat()),
        )
        for label, first, last in ranges
    ]


def _page_links(form: CallFilterForm, num_pages: int) -> dict[str, str | None]:
    page = form.page
    return {
        "first": form.query(page=1) if page > 1 else None,
        "previous": form.query(page=min(page, num_pages + 1) - 1) if page > 1 else None,
        "next": form.query(page=page + 1) if page < num_pages else None,
        "last": form.query(page=num_pages) if page < num_pages else None,
    }
