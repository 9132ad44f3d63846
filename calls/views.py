"""Thin function views: validate the request, ask the services, render a page or a fragment.

One URL serves both the full page and, for htmx, the named partial it targets (``results``,
``call``, ``transcript``); every response says it varies on ``HX-Request``.
"""

import json
import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from calls import (
    archive,
    audit,
    backend,
    recording_streams,
    saved_views,
    search,
    services,
    totals,
)
from calls.client import LINK_REFUSED, NOT_AUDIO, is_valid_call_id
from calls.errors import (
    MalformedResponse,
    NotFound,
    PaymentRequired,
    RateLimited,
    RecordingUnavailable,
    TruedyError,
    Unauthorized,
    UpstreamUnavailable,
)
from calls.filters import (
    MAX_SEARCH_LENGTH,
    PER_PAGE_CHOICES,
    QUERY_ORDER,
    CallFilterForm,
    describe_errors,
)
from calls.middleware import PRIVATE_NO_STORE
from calls.models import ArchivedCall
from calls.moments import parse_moment
from calls.records import Call, CallPage, transcript_as_text
from calls.resilience import CircuitOpen, trouble
from calls.transcript_pages import page_of_turns
from calls.transcript_timing import TranscriptTiming, time_transcript

logger = logging.getLogger("calls.views")

# Seconds between polls of a call that is live or still being transcribed.
POLL_SECONDS = 5
PLAYBACK_RATES = ("0.75", "1", "1.25", "1.5", "2")
# Transcripts and audio never sit in a browser or proxy cache (S12); every other signed-in page
# gets the same by default (calls.middleware.PrivateByDefaultMiddleware).
NO_STORE = PRIVATE_NO_STORE
MEDIA_CSP = "sandbox; default-src 'none'"
TOO_MANY_STREAMS = "Too many recordings are playing at once; try again in a few seconds."
STREAM_RETRY_AFTER = 5


@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        # Nothing invalid goes upstream: names come from the cache or not at all.
        context = _list_context(request, form, services.agent_names(cached_only=True))
        context["errors"] = describe_errors(form)
        return _render(request, "calls/call_list.html", context, status=400)
    # A search, or a range Truedy no longer has, is answered by the archive alone.
    from_archive = search.lists_from_archive(_search_filters(form), backend.now())
    matches = {}
    try:
        if from_archive:
            names = agent_names_if_possible()
            page, matches = _archive_page(form)
        else:
            names = services.agent_names()
            page = services.list_calls(**form.api_params())
    except TruedyError as error:
        return upstream_error(request, error)
    context = _list_context(request, form, names)
    num_pages = max(1, -(-page.total // form.per_page))
    context.update(
        from_archive=from_archive,
        searched=bool(form.search),
        call_rows=[(call, matches.get(call.id)) for call in page.calls],
        totals_query=form.query(page=None, per_page=None),
        calls=page.calls,
        total=page.total,
        first_row=page.offset + 1,
        last_row=page.offset + len(page.calls),
        num_pages=num_pages,
        page_links=_page_links(form, num_pages),
        past_the_end=form.page > num_pages,
    )
    # A page number past the end of the list does not exist (as Django's paginator says).
    status = 404 if form.page > num_pages else 200
    response = _render(request, "calls/call_list.html", context, status=status)
    if request.htmx:
        # The form sends every field, empty or not; the address bar gets the canonical link.
        push_url(response, f"{request.path}?{form.query()}")
    return response


@require_GET
def call_detail(request: HttpRequest, call_id: str) -> HttpResponse:
    # Opened from the list, the URL carries the list's query: the call's place in that list.
    from_list = any(name in request.GET for name in QUERY_ORDER)
    list_form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    back_query = list_form.query() if from_list and list_form.is_valid() else ""
    if not is_valid_call_id(call_id):
        return call_not_found(request, back_query)  # never sent upstream (S13)
    moment, moment_error = _moment(request)
    waiting = archived = from_archive = None
    try:
        call = services.get_call(call_id)
    except NotFound:
        # Older than Truedy's 12 months, or deleted there: the archive may still have it.
        archived = archive.get_archived(call_id)
        if archived is None:
            return call_not_found(request, back_query)
        call, from_archive = archive.to_record(archived), {"gone": True, "row": archived}
    except TruedyError as error:
        # Truedy out of reach and this call never cached: the archive's copy (transcript and
        # all) stands in, else its row in the list it was opened from, and the page fills
        # itself in when Truedy answers again.
        archived = archive.get_archived(call_id)
        row = _cached_row(call_id, list_form) if back_query and archived is None else None
        if archived is not None:
            from_archive = {"trouble": trouble(error), "row": archived}
            call = archive.to_record(archived)
        elif row is None or not isinstance(error, PASSING_TROUBLE):
            return upstream_error(request, error)
        else:
            call, waiting = row, _waiting(error)
    names = agent_names_if_possible()
    now = backend.now()
    timing = _timing(call)
    if moment is not None and call.duration_seconds:
        moment = min(moment, float(call.duration_seconds))
    moment_turn = _turn_at(timing, moment)
    turn_page, turns_error = page_of_turns(
        timing.turns if timing else (), wanted=request.GET.get("turns"), current=moment_turn
    )
    context = {
        "call": call,
        "timing": timing,
        "turn_page": turn_page,
        "moment": moment,
        "moment_error": moment_error,
        "turns_error": turns_error,
        "moment_turn": moment_turn,
        "moment_query": f"{back_query}&" if back_query else "",
        "playback_rates": PLAYBACK_RATES,
        "agent_names": names,
        "back_query": back_query,
        "neighbours": _neighbours(call_id, list_form) if back_query else None,
        "waiting": waiting,
        "transcript_state": "waiting" if waiting else services.transcript_state(call, now).value,
        "recording_state": "waiting" if waiting else _recording_state(call, now, archived),
        "from_archive": from_archive,
        "recording_expires": services.recording_expiry(call),
        "poll_seconds": POLL_SECONDS,
        "poll_headers": json.dumps({audit.POLL_HEADER: audit.poll_token(request, call_id)}),
        "talk_turns": len(call.transcript or ()),
    }
    # An unreadable ?t= or ?turns= still shows the call, from the start, saying why (and a 400).
    status = 400 if moment_error or turns_error else 200
    response = _render(request, "calls/call_detail.html", context, status=status)
    response["Cache-Control"] = NO_STORE
    if not audit.is_own_poll(request, call_id):
        # Page or fragment alike: only the page's own polls (its token) are not another view.
        audit.record_access(request, "view_call", call_id=call_id, status=response.status_code)
    return response


@require_GET
def call_transcript_text(request: HttpRequest, call_id: str) -> HttpResponse:
    """The transcript as plain text: one ``Agent: …`` line per turn (Truedy's own format)."""
    call = call_for_download(call_id)
    if isinstance(call, HttpResponse):
        return call
    response = HttpResponse(transcript_as_text(call), content_type="text/plain; charset=utf-8")
    # The file is named from the id in our URL (checked), never from Truedy's answer.
    response["Content-Disposition"] = f'attachment; filename="call-{call_id}-transcript.txt"'
    response["Cache-Control"] = NO_STORE
    audit.record(request, "download_transcript", call_id=call.id, status=response.status_code)
    return response


def call_for_download(call_id: str) -> Call | HttpResponse:
    """The call whose transcript is downloaded, or the plain-text answer saying why there is
    none. The archive stands in for a call Truedy no longer has, or cannot give right now, as it
    does on the call page."""
    if not is_valid_call_id(call_id):
        return _plain(404, "No such call.")  # never sent upstream (S13)
    try:
        call = services.get_call(call_id)
    except (NotFound, TruedyError) as error:
        archived = archive.get_archived(call_id)
        if archived is not None:
            call = archive.to_record(archived)
        elif isinstance(error, NotFound):
            return _plain(404, "No such call.")
        else:
            return _plain(502, f"{trouble(error)}. Try again.")
    if call.transcript is None:
        return _plain(404, "This call has no transcript (yet).")
    return call


@require_GET
def call_recording(request: HttpRequest, call_id: str) -> HttpResponse:
    """The call's MP3, streamed through from Truedy's signed link with ``Range`` passed on, so
    the browser only ever sees our URL and seeking works."""
    if not is_valid_call_id(call_id):
        return _recording_unavailable(request, 404, "There is no such call.")
    try:
        stream = recording_streams.open_in_slot(
            request.user.pk,
            lambda: services.open_recording(
                call_id,
                range_header=request.headers.get("Range"),
                if_range=request.headers.get("If-Range"),
            ),
        )
    except TruedyError as error:
        return _recording_failed(request, error)
    if stream is None:
        response = _recording_unavailable(request, 503, TOO_MANY_STREAMS)
        response["Retry-After"] = str(STREAM_RETRY_AFTER)
        return response
    response = StreamingHttpResponse(stream, status=stream.status_code, content_type="audio/mpeg")
    for name, value in stream.headers.items():  # the client keeps only what playback needs
        response[name] = value
    response["Cache-Control"] = NO_STORE
    # Audio only (the client refuses any other type), and even so nothing in it may run as
    # this origin: opened on its own, it is a sandboxed document with no sources.
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Content-Disposition"] = f'inline; filename="call-{call_id}.mp3"'
    if stream.status_code in (200, 206):
        # Whatever the client asked for, audio that left is audited (once per window).
        detail = "stream" if "Range" in request.headers else "download"
        audit.record_access(
            request, "play_recording", call_id=call_id, detail=detail, status=stream.status_code
        )
    return response


def _recording_failed(request: HttpRequest, error: TruedyError) -> HttpResponse:
    if isinstance(error, NotFound):
        return _recording_unavailable(request, 404, "There is no such call.")
    if isinstance(error, RecordingUnavailable):
        return _recording_unavailable(request, *_recording_problem(error))
    # Media players read no "wait" page: a rate limit is a 503 here. The words name the
    # trouble, never an exception or an address (they would map the network behind us).
    status = 503 if isinstance(error, RateLimited) else upstream_problem(error)[1]
    response = _recording_unavailable(request, status, f"{trouble(error)}. Try again.")
    if status == 503 and error.retry_after:
        response["Retry-After"] = str(math.ceil(error.retry_after))
    return response


def upstream_error(request: HttpRequest, error: TruedyError) -> HttpResponse:
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
    target = _requested_partial(request, ANY_PAGE_PARTIAL)
    context = {
        "kind": kind,
        "message": error.message,
        "request_id": error.request_id,
        "status_code": error.status_code,
        "retry_after": math.ceil(error.retry_after) if error.retry_after else None,
        "reload_in": _waiting(error)["retry_in"],
        # A fragment that retries itself replaces what it was swapped for: the results'
        # contents, or the whole call article / transcript section (which it then stands for).
        "target": target,
        "replaces_target": target in ("call", "transcript"),
    }
    response = _render(
        request, "calls/upstream_error.html", context, status=status, fragment="problem"
    )
    if kind in ("busy", "waiting") and context["retry_after"]:
        response["Retry-After"] = str(context["retry_after"])
    return response


# Troubles that pass by themselves: a page can wait them out on cached data.
PASSING_TROUBLE = (RateLimited, UpstreamUnavailable, MalformedResponse)


def _waiting(error: TruedyError) -> dict:
    """What a page that fills itself in says, and how soon it tries again (5-60 s)."""
    retry_in = min(60, max(5, math.ceil(error.retry_after or 5) + 1))
    return {"reason": trouble(error), "retry_in": retry_in}


def _cached_row(call_id: str, form: CallFilterForm) -> Call | None:
    if not form.is_valid():
        return None
    return services.cached_list_row(
        call_id, page=form.page, per_page=form.per_page, filters=_list_filters(form)
    )


def _list_filters(form: CallFilterForm) -> dict:
    """The list's filters without its paging: what every page of that list shares."""
    return {k: v for k, v in form.api_params().items() if k not in ("limit", "offset")}


def upstream_problem(error: TruedyError) -> tuple[str, int]:
    """(what kind of failure, the status our page answers with).

    A rate limit is not a failure: the page says how long, and loads itself again then (200).
    """
    if isinstance(error, RateLimited):
        return "waiting", 200
    if isinstance(error, Unauthorized):
        return "auth", 502
    if isinstance(error, PaymentRequired):
        return "billing", 502
    if isinstance(error, CircuitOpen):
        return "busy", 503
    if isinstance(error, MalformedResponse):
        return "garbled", 502
    return "unreachable", 502


def call_not_found(request: HttpRequest, back_query: str) -> HttpResponse:
    context = {"back_query": back_query}
    return _render(request, "calls/call_not_found.html", context, status=404, fragment="problem")


# --- helpers --------------------------------------------------------------------------------


def _render(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    status: int = 200,
    fragment: str | None = None,
) -> TemplateResponse:
    """The whole page, or only the partial an htmx request targets (``hx-target="#name"``).

    Error pages pass ``fragment``: the one partial they swap into whatever was targeted.
    """
    # Error templates answer any page partial's target with their one fragment.
    available = ANY_PAGE_PARTIAL if fragment else PARTIALS.get(template, frozenset())
    partial = _requested_partial(request, available)
    name = f"{template}#{fragment or partial}" if partial else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# The partials each page template defines; an htmx request for any other target (a header
# anyone can send) gets the whole page.
PARTIALS = {
    "calls/call_list.html": frozenset({"results"}),
    "calls/call_detail.html": frozenset({"call", "transcript"}),
    "calls/call_totals.html": frozenset({"totals"}),
}
ANY_PAGE_PARTIAL = frozenset().union(*PARTIALS.values())


def _requested_partial(request: HttpRequest, available: frozenset[str]) -> str | None:
    """The partial an htmx request targets, if it is one of ``available``."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return None
    return htmx.target if htmx.target in available else None


def _list_context(request: HttpRequest, form: CallFilterForm, names: dict[str, str]) -> dict:
    zone = form.zone
    today = backend.now().astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    week_start = today - timedelta(days=6)
    agent_choices = sorted(names.items(), key=lambda item: item[1].casefold())
    chosen_agent = form.data.get("agent_id", "") if form.is_bound else ""
    if chosen_agent and chosen_agent not in names:
        agent_choices.append((chosen_agent, chosen_agent))  # a deleted agent: its raw id
    fragment = _requested_partial(request, PARTIALS["calls/call_list.html"]) is not None
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


def _neighbours(call_id: str, form: CallFilterForm) -> dict | None:
    """Previous/next within the list the call was opened from, with the query for each."""
    if not form.is_valid():
        return None
    try:
        found = services.find_neighbours(
            call_id,
            page=form.page,
            per_page=form.per_page,
            filters=_list_filters(form),
        )
    except TruedyError:
        return None  # the call page still works without its place in the list
    if found is None:
        return None
    return {
        "position": found.position,
        "total": found.total,
        "previous": (found.previous.call_id, form.query(page=found.previous.page))
        if found.previous
        else None,
        "next": (found.next.call_id, form.query(page=found.next.page)) if found.next else None,
    }


def _moment(request: HttpRequest) -> tuple[float | None, str]:
    """The ``?t=`` a "link to this moment" carries: (seconds, "") or (None, what is wrong)."""
    text = request.GET.get("t")
    if text is None:
        return None, ""
    try:
        return parse_moment(text), ""
    except ValueError as error:
        return None, str(error)


def _timing(call: Call) -> TranscriptTiming | None:
    if not call.transcript:
        return None
    threshold = settings.DEAD_AIR_SECONDS
    return time_transcript(call.transcript, call.duration_seconds, threshold=threshold)


def _turn_at(timing: TranscriptTiming | None, moment: float | None) -> int | None:
    """The number of the turn being spoken at ``moment`` (the last one started by then)."""
    if timing is None or moment is None:
        return None
    number = None
    for timed in timing.turns:
        if timed.start > moment:
            break
        number = timed.number
    return number or 1


def _recording_state(call: Call, now: datetime, archived: ArchivedCall | None) -> str:
    """What the recording section shows; "archived" when Truedy's link is gone but the
    archive holds a copy (the recording view then streams that)."""
    state = services.recording_state(call, now)
    if state is services.RecordingState.AVAILABLE:
        return state.value
    if archived is None and state is services.RecordingState.EXPIRED:
        archived = archive.get_archived(call.id)
    if archived is not None and archived.recording:
        return "archived"
    return state.value


def _recording_problem(error: RecordingUnavailable) -> tuple[int, str]:
    if error.code in (services.RecordingState.NONE.value, services.RecordingState.NOT_YET.value):
        return 404, error.message
    if error.code == services.RecordingState.EXPIRED.value:
        return 410, error.message
    if error.code == LINK_REFUSED:
        return 502, "Truedy gave a recording link to a place the dashboard does not fetch from."
    if error.code == NOT_AUDIO:
        return 502, "Truedy's storage answered with something that is not audio."
    # Storage refused a freshly fetched link: expired or withdrawn upstream.
    return 410, "The recording link has expired or was withdrawn by Truedy."


def _recording_unavailable(request: HttpRequest, status: int, message: str) -> HttpResponse:
    response = TemplateResponse(
        request, "calls/recording_unavailable.html", {"message": message}, status=status
    )
    response["Cache-Control"] = NO_STORE
    return response


def _plain(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


@require_POST
def call_played(request: HttpRequest, call_id: str) -> HttpResponse:
    """The player's note that a listen began: one ``play_recording`` row per play (S6).

    Counting the proxy's requests would not do: Chromium fetches one listen in several ranges
    and again after every seek. player.js posts here once per page load of the player.
    """
    if not is_valid_call_id(call_id):
        return _plain(404, "No such call.")  # never recorded, never sent upstream (S13)
    audit.record_access(request, "play_recording", call_id=call_id, status=204)
    return HttpResponse(status=204)


# --- the list from the archive, and its totals (issue 6) -------------------------------------


@require_GET
def call_totals(request: HttpRequest) -> HttpResponse:
    """Totals above the list: an htmx fragment the list loads after itself (so a slow count
    never holds the list up), or a page of its own without JavaScript."""
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    context = {
        "list_query": form.query(page=None) if form.is_valid() else "",
        "zone_name": form.zone.key,
    }
    if not form.is_valid():
        context["errors"] = describe_errors(form)
        return _render(request, "calls/call_totals.html", context, status=400)
    context["totals_query"] = form.query(page=None, per_page=None)
    try:
        context["totals"] = totals.call_totals(_search_filters(form), zone=form.zone)
    except TruedyError as error:
        kind, status = upstream_problem(error)
        context["problem"] = trouble(error)
        context["retry_in"] = _waiting(error)["retry_in"] if kind == "waiting" else None
        return _render(request, "calls/call_totals.html", context, status=status)
    return _render(request, "calls/call_totals.html", context)


def _search_filters(form: CallFilterForm) -> dict:
    """The list's filters with its search: what the archive is asked (calls.search)."""
    return _list_filters(form) | {"q": form.search}


def _archive_page(form: CallFilterForm) -> tuple[CallPage, dict[str, search.MatchingLine]]:
    """One page of the list from the archive, with each row's matching line for a search."""
    rows = search.matching_archived_calls(_search_filters(form))
    offset = (form.page - 1) * form.per_page
    chosen = list(rows[offset : offset + form.per_page])
    page = CallPage(
        calls=tuple(archive.to_record(row) for row in chosen),
        total=rows.count(),
        limit=form.per_page,
        offset=offset,
    )
    lines = {row.id: search.matching_line(row, form.search) for row in chosen}
    return page, {call_id: line for call_id, line in lines.items() if line is not None}


def agent_names_if_possible() -> dict[str, str]:
    """Agent names where the page can do without them: the cached ones if Truedy fails (the ids
    still say who)."""
    try:
        return services.agent_names()
    except TruedyError:
        return services.agent_names(cached_only=True)
