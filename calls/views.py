"""Thin function views: validate the request, ask the services, render a page or a fragment.

One URL serves both the full page and, for htmx, the named partial it targets (``results``,
``call``, ``transcript``); every response says it varies on ``HX-Request``.
"""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from calls import backend, services
from calls.client import is_valid_call_id
from calls.errors import NotFound, RecordingUnavailable, TruedyError
from calls.filters import PER_PAGE_CHOICES, QUERY_ORDER, CallFilterForm, describe_errors
from calls.records import Call

# Seconds between polls of a call that is live or still being transcribed.
POLL_SECONDS = 5
NO_STORE = "private, no-store"  # transcripts and audio never sit in a browser or proxy cache (S12)


@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        # Nothing invalid goes upstream: names come from the cache or not at all.
        context = _list_context(form, services.agent_names(cached_only=True))
        context["errors"] = describe_errors(form)
        return _render(request, "calls/call_list.html", context, status=400)
    try:
        names = services.agent_names()
        page = services.list_calls(**form.api_params())
    except TruedyError as error:
        return upstream_error(request, error)
    context = _list_context(form, names)
    num_pages = max(1, -(-page.total // form.per_page))
    context.update(
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
    try:
        call = services.get_call(call_id)
        names = services.agent_names()
    except NotFound:
        return call_not_found(request, back_query)
    except TruedyError as error:
        return upstream_error(request, error)
    now = backend.now()
    context = {
        "call": call,
        "agent_names": names,
        "back_query": back_query,
        "neighbours": _neighbours(call_id, list_form) if back_query else None,
        "transcript_state": services.transcript_state(call, now).value,
        "recording_state": services.recording_state(call, now).value,
        "recording_expires": services.recording_expiry(call),
        "poll_seconds": POLL_SECONDS,
        "talk_turns": len(call.transcript or ()),
    }
    response = _render(request, "calls/call_detail.html", context)
    response["Cache-Control"] = NO_STORE
    return response


@require_GET
def call_transcript_text(request: HttpRequest, call_id: str) -> HttpResponse:
    """The transcript as plain text: one ``Agent: …`` line per turn (Truedy's own format)."""
    if not is_valid_call_id(call_id):
        return _plain(404, "No such call.")
    try:
        call = services.get_call(call_id)
    except NotFound:
        return _plain(404, "No such call.")
    except TruedyError as error:
        return _plain(502, f"Truedy could not be reached: {error.message}")
    if call.transcript is None:
        return _plain(404, "This call has no transcript (yet).")
    response = HttpResponse(transcript_as_text(call), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="call-{call.id}-transcript.txt"'
    response["Cache-Control"] = NO_STORE
    return response


@require_GET
def call_recording(request: HttpRequest, call_id: str) -> HttpResponse:
    """The call's MP3, streamed through from Truedy's signed link with ``Range`` passed on, so
    the browser only ever sees our URL and seeking works."""
    if not is_valid_call_id(call_id):
        return _recording_unavailable(request, 404, "There is no such call.")
    try:
        stream = services.open_recording(
            call_id,
            range_header=request.headers.get("Range"),
            if_range=request.headers.get("If-Range"),
        )
    except NotFound:
        return _recording_unavailable(request, 404, "There is no such call.")
    except RecordingUnavailable as error:
        return _recording_unavailable(request, *_recording_problem(error))
    except TruedyError as error:
        return _recording_unavailable(request, 502, f"Truedy could not be reached: {error}")
    response = StreamingHttpResponse(
        stream.iter_bytes(), status=stream.status_code, content_type="audio/mpeg"
    )
    for name, value in stream.headers.items():  # the client keeps only what playback needs
        response[name] = value
    response["Cache-Control"] = NO_STORE
    response["Content-Disposition"] = f'inline; filename="call-{call_id}.mp3"'
    return response


def upstream_error(request: HttpRequest, error: TruedyError) -> HttpResponse:
    context = {"message": error.message, "request_id": error.request_id}
    return _render(request, "calls/upstream_error.html", context, status=502, fragment="problem")


def call_not_found(request: HttpRequest, back_query: str) -> HttpResponse:
    context = {"back_query": back_query}
    return _render(request, "calls/call_not_found.html", context, status=404, fragment="problem")


def transcript_as_text(call: Call) -> str:
    labels = {"agent": "Agent", "contact": "Contact"}
    lines = [f"{labels.get(turn.speaker, turn.speaker)}: {turn.text}" for turn in call.transcript]
    return "\n".join(lines) + "\n" if lines else ""


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
    partial = _requested_partial(request)
    name = f"{template}#{fragment or partial}" if partial else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# The partials each page template defines; an htmx request for any other target gets the page.
PARTIALS = frozenset({"results", "call", "transcript"})


def _requested_partial(request: HttpRequest) -> str | None:
    htmx = request.htmx
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return None
    return htmx.target if htmx.target in PARTIALS else None


def _list_context(form: CallFilterForm, names: dict[str, str]) -> dict:
    zone = form.zone
    today = backend.now().astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    week_start = today - timedelta(days=6)
    agent_choices = sorted(names.items(), key=lambda item: item[1].casefold())
    chosen_agent = form.data.get("agent_id", "") if form.is_bound else ""
    if chosen_agent and chosen_agent not in names:
        agent_choices.append((chosen_agent, chosen_agent))  # a deleted agent: its raw id
    return {
        "form": form,
        "agent_names": names,
        "agent_choices": agent_choices,
        "zone_name": zone.key,
        "per_page_choices": PER_PAGE_CHOICES,
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
            filters={k: v for k, v in form.api_params().items() if k not in ("limit", "offset")},
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


def _recording_problem(error: RecordingUnavailable) -> tuple[int, str]:
    if error.code in (services.RecordingState.NONE.value, services.RecordingState.NOT_YET.value):
        return 404, error.message
    if error.code == services.RecordingState.EXPIRED.value:
        return 410, error.message
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
