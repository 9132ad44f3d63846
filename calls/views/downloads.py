"""Downloads: a call's recording (streamed, seekable), its transcript as text or JSON, and
every call of a list as CSV."""

import itertools
import math

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from calls.forms import CallFilterForm
from calls.services import audit, export, personal_data, recording_streams, recordings, roles
from calls.services.calls import PageCall, call_or_archived
from calls.services.listing import (
    agent_names_if_possible,
    cached_agent_names,
    every_matching_call,
    ignored_by,
)
from calls.truedy.client import LINK_REFUSED, NOT_AUDIO, is_valid_call_id
from calls.truedy.errors import NotFound, RateLimited, RecordingUnavailable, TruedyError
from calls.truedy.lifecycle import RecordingState
from calls.truedy.records import transcript_as_text
from calls.upstream import gateway
from calls.upstream.problems import trouble
from calls.views.call_list import call_list
from calls.views.problems import upstream_error, upstream_problem
from calls.views.rendering import NO_STORE, DashboardRequest, plain_text

MEDIA_CSP = "sandbox; default-src 'none'"
TOO_MANY_STREAMS = "Too many recordings are playing at once; try again in a few seconds."
STREAM_RETRY_AFTER = 5
FILENAME_PARTS = ("agent_id", "status", "direction", "q")

# --- the recording ------------------------------------------------------------------------------


@require_GET
def call_recording(request: DashboardRequest, call_id: str) -> HttpResponse | StreamingHttpResponse:
    """The call's MP3, streamed through from Truedy's signed link (or the archive's copy) with
    ``Range`` passed on, so the browser only ever sees our URL and seeking works."""
    if not is_valid_call_id(call_id):
        return _recording_unavailable(request, 404, "There is no such call.")
    if not roles.can_play_recordings(request.user):
        return _recording_unavailable(request, 403, roles.RECORDINGS_REFUSED)
    try:
        stream = recording_streams.open_in_slot(
            request.user.pk,
            lambda: recordings.open_recording(
                call_id,
                range_header=request.headers.get("Range"),
                if_range=request.headers.get("If-Range"),
            ),
        )
    except TruedyError as error:
        return _recording_failed(request, error)
    if stream is None:
        response: HttpResponse | StreamingHttpResponse = _recording_unavailable(
            request, 503, TOO_MANY_STREAMS
        )
        response["Retry-After"] = str(STREAM_RETRY_AFTER)
        return response
    response = _audio(stream, call_id)
    if stream.status_code in (200, 206):
        # Whatever the client asked for, audio that left is audited (once per window).
        detail = "stream" if "Range" in request.headers else "download"
        audit.record_access(
            request, "play_recording", call_id=call_id, detail=detail, status=stream.status_code
        )
    return response


def _audio(stream: recording_streams.PacedStream, call_id: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, status=stream.status_code, content_type="audio/mpeg")
    for name, value in stream.headers.items():  # the client keeps only what playback needs
        response[name] = value
    response["Cache-Control"] = NO_STORE
    # Audio only (the client refuses any other type), and even so nothing in it may run as
    # this origin: opened on its own, it is a sandboxed document with no sources.
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Content-Disposition"] = f'inline; filename="call-{call_id}.mp3"'
    return response


def _recording_failed(request: DashboardRequest, error: TruedyError) -> HttpResponse:
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


def _recording_problem(error: RecordingUnavailable) -> tuple[int, str]:
    if error.code in (RecordingState.NONE.value, RecordingState.NOT_YET.value):
        return 404, error.message
    if error.code == RecordingState.EXPIRED.value:
        return 410, error.message
    if error.code == LINK_REFUSED:
        return 502, "Truedy gave a recording link to a place the dashboard does not fetch from."
    if error.code == NOT_AUDIO:
        return 502, "Truedy's storage answered with something that is not audio."
    # Storage refused a freshly fetched link: expired or withdrawn upstream.
    return 410, "The recording link has expired or was withdrawn by Truedy."


def _recording_unavailable(request: DashboardRequest, status: int, message: str) -> HttpResponse:
    response = TemplateResponse(
        request, "calls/recording_unavailable.html", {"message": message}, status=status
    )
    response["Cache-Control"] = NO_STORE
    return response


# --- the transcript -------------------------------------------------------------------------------


@require_GET
def call_transcript_text(request: DashboardRequest, call_id: str) -> HttpResponse:
    """The transcript as plain text: one ``Agent: …`` line per turn (Truedy's own format)."""
    shown = _call_for_download(call_id)
    if isinstance(shown, HttpResponse):
        return shown
    call = personal_data.call_for(request.user, shown.call)
    response = HttpResponse(transcript_as_text(call), content_type="text/plain; charset=utf-8")
    # The file is named from the id in our URL (checked), never from Truedy's answer.
    response["Content-Disposition"] = f'attachment; filename="call-{call_id}-transcript.txt"'
    response["Cache-Control"] = NO_STORE
    audit.record(request, "download_transcript", call_id=call.id, status=response.status_code)
    return response


@require_GET
def call_transcript_json(request: DashboardRequest, call_id: str) -> HttpResponse:
    """The transcript as JSON (calls.services.export.transcript_document). Errors answer as
    the ``.txt`` download does."""
    shown = _call_for_download(call_id)
    if isinstance(shown, HttpResponse):
        return shown
    call = personal_data.call_for(request.user, shown.call)
    names = cached_agent_names() if shown.settled else agent_names_if_possible()
    response = JsonResponse(
        export.transcript_document(call, names),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = f'attachment; filename="call-{call_id}-transcript.json"'
    response["Cache-Control"] = NO_STORE
    audit.record(
        request, "download_transcript", call_id=call.id, detail="json", status=response.status_code
    )
    return response


def _call_for_download(call_id: str) -> PageCall | HttpResponse:
    """The call whose transcript is downloaded (the archive standing in as on the call page;
    a settled one read from the archive alone), or the plain-text answer saying why there is
    none."""
    if not is_valid_call_id(call_id):
        return plain_text(404, "No such call.")  # an odd id is never sent upstream
    try:
        shown = call_or_archived(call_id)
    except NotFound:
        return plain_text(404, "No such call.")
    except TruedyError as error:
        return plain_text(502, f"{trouble(error)}. Try again.")
    if shown.call.transcript is None:
        return plain_text(404, "This call has no transcript (yet).")
    return shown


# --- every call of a list -------------------------------------------------------------------------


@require_GET
def calls_export_csv(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    """Every call matching the list's query, newest first (or in its ``sort``), streamed as
    CSV. A sort or filter only the archive answers, while it cannot answer the export, is
    refused (409) rather than left out of a file that would not say so."""
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        return call_list(request)  # the list's own 400 page; nothing asked of Truedy
    filters = personal_data.filters_for(request.user, form.list_filters())
    ignored = ignored_by(filters)
    if ignored:
        return plain_text(
            409,
            f"{', '.join(ignored)}: these need the dashboard's archive to be current, and it is "
            "not right now. Export without them, or try again once the archive has caught up.",
        )
    calls = personal_data.stream_for(request.user, every_matching_call(filters))
    names = agent_names_if_possible()
    try:
        # The first page is read before the answer starts: if Truedy fails now, the usual
        # error page can still say so with the right status.
        first = list(itertools.islice(calls, 1))
    except TruedyError as error:
        return upstream_error(request, error)
    base_url = request.build_absolute_uri(reverse("calls:call_list"))
    lines = export.csv_lines(
        itertools.chain(first, calls),
        zone=form.zone,
        agent_names=names,
        link=export.call_link(base_url),
        review_work=export.review_columns,
    )
    response = StreamingHttpResponse(export.chunked(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_csv_filename(form)}"'
    response["Cache-Control"] = NO_STORE
    audit.record(request, "export_csv", detail=form.query(page=None, per_page=None), status=200)
    return response


def _csv_filename(form: CallFilterForm) -> str:
    """``calls-failed-inbound-from-2026-11-01-to-2026-11-23-2026-11-24.csv``: what was asked
    for, then the day of the export in the viewer's zone. Only [a-z0-9_-]: safe in a header."""
    parts = ["calls"]
    parts += [slugify(form.data.get(name, "")) for name in FILENAME_PARTS]
    for name, word in (("created_after", "from"), ("created_before", "to")):
        typed = slugify(form.data.get(name, ""))
        if typed:
            parts.append(f"{word}-{typed}")
    stem = "-".join(part for part in parts if part)[:100].rstrip("-")
    return f"{stem}-{gateway.now().astimezone(form.zone).date().isoformat()}.csv"
