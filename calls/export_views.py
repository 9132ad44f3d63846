"""Downloads: every call the list's filters match as CSV, and a call's transcript as JSON."""

import itertools
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from calls import audit, backend, export, views
from calls.archive import to_record
from calls.client import format_timestamp
from calls.errors import TruedyError
from calls.filters import CallFilterForm
from calls.paging import iter_matching_calls
from calls.records import Call
from calls.search import matching_archived_calls
from calls.totals import reads_archive

ARCHIVE_CHUNK = 500  # archived rows read from the database at a time
FILENAME_PARTS = ("agent_id", "status", "direction", "q")


@require_GET
def calls_export_csv(request: HttpRequest) -> HttpResponse:
    """Every call matching the list's query, newest first, streamed as CSV (P6)."""
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        return views.call_list(request)  # the list's own 400 page; nothing asked of Truedy
    filters = views._list_filters(form)
    if form.search or reads_archive(filters, backend.now()):
        # As the totals do: a search (Truedy cannot search), a range Truedy no longer keeps, or
        # one a sync has covered is read from the archive, sparing Truedy's rate limit.
        calls = _archived_calls(filters | {"q": form.search})
    else:
        calls = iter_matching_calls(filters)
    names = views.agent_names_if_possible()
    try:
        # The first page is read before the answer starts: if Truedy fails now, the usual
        # error page can still say so with the right status.
        first = list(itertools.islice(calls, 1))
    except TruedyError as error:
        return views.upstream_error(request, error)
    base_url = request.build_absolute_uri(reverse("call_list"))
    lines = export.csv_lines(
        itertools.chain(first, calls),
        zone=form.zone,
        agent_names=names,
        link=export.call_link(base_url),
    )
    response = StreamingHttpResponse(export.chunked(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(form)}"'
    response["Cache-Control"] = views.NO_STORE
    audit.record(request, "export_csv", detail=form.query(page=None, per_page=None), status=200)
    return response


def _archived_calls(filters: dict) -> Iterator[Call]:
    rows = matching_archived_calls(filters).defer("search_text")
    return (to_record(row) for row in rows.iterator(chunk_size=ARCHIVE_CHUNK))


def _filename(form: CallFilterForm) -> str:
    """``calls-failed-inbound-from-2026-11-01-to-2026-11-23-2026-11-24.csv``: what was asked
    for, then the day of the export in the viewer's zone. Only [a-z0-9_-]: safe in a header."""
    parts = ["calls"]
    parts += [slugify(form.data.get(name, "")) for name in FILENAME_PARTS]
    for name, word in (("created_after", "from"), ("created_before", "to")):
        typed = slugify(form.data.get(name, ""))
        if typed:
            parts.append(f"{word}-{typed}")
    stem = "-".join(part for part in parts if part)[:100].rstrip("-")
    return f"{stem}-{backend.now().astimezone(form.zone).date().isoformat()}.csv"


@require_GET
def call_transcript_json(request: HttpRequest, call_id: str) -> HttpResponse:
    """The transcript as JSON: the turns of ``.txt`` with their speaker and start time, and the
    call they belong to. Errors answer as the ``.txt`` download does."""
    call = views.call_for_download(call_id)
    if isinstance(call, HttpResponse):
        return call
    response = JsonResponse(
        transcript_document(call, views.agent_names_if_possible()),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = f'attachment; filename="call-{call_id}-transcript.json"'
    response["Cache-Control"] = views.NO_STORE
    audit.record(
        request, "download_transcript", call_id=call.id, detail="json", status=response.status_code
    )
    return response


def transcript_document(call: Call, agent_names: dict[str, str]) -> dict:
    """Times are UTC ISO 8601 (as Truedy sends them); a turn's ``timestamp`` is seconds from
    the start of the call; ``speaker`` is Truedy's "agent" / "contact"."""
    return {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "agent_name": agent_names.get(call.agent_id or ""),
        "created_at": format_timestamp(call.created_at) if call.created_at else None,
        "duration_seconds": call.duration_seconds,
        "turns": [
            {"speaker": turn.speaker, "text": turn.text, "timestamp": turn.timestamp}
            for turn in call.transcript or ()
        ],
    }
