"""Live updates for an open list or call page: a small JSON answer the page polls.

``GET /calls/live/?<the list's query>&watch=<id>:<progress>,<id>&top=<created>&rows=1`` says
where each watched call is now (and, with ``rows=1``, gives the row of each that is further on
than the progress the page sent with it), how many calls of the view are live now,
and which calls newer than ``top`` match the view (its first page only). Every poll is answered
from the shared snapshot (calls.services.live): no Truedy request of its own. An unchanged
answer is a 304 to the page's ``If-None-Match``; nothing is stored by a browser or proxy.
"""

import re
from datetime import datetime

from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_GET

from calls.forms import CallFilterForm, describe_errors
from calls.services import corrections, live, personal_data, reviews, row_media
from calls.services.listing import cached_agent_names
from calls.templatetags.call_format import call_table_rows
from calls.truedy.client import is_valid_call_id
from calls.upstream.gateway import now as upstream_now
from calls.views.rendering import NO_STORE, DashboardRequest

_WEAK = re.compile(r'^W/(?=")')


@require_GET
def live_updates(request: DashboardRequest) -> HttpResponse:
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        return _refused(" ".join(describe_errors(form)))
    try:
        watch = _watched(request.GET.get("watch", ""))
        top = _top(request.GET.get("top"))
    except ValueError as error:
        return _refused(str(error))
    found = live.answer(
        filters=personal_data.filters_for(request.user, form.list_filters()),
        watch=tuple(watch),
        top=top,
        first_page=form.page == 1,
    )
    etag = found.etag
    if _matches(request.headers.get("If-None-Match", ""), etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        rows_html = (
            _rows_html(request, found, form.query(), watch)
            if request.GET.get("rows") == "1"
            else None
        )
        response = JsonResponse(found.as_json(rows_html))
    response["ETag"] = etag
    response["Cache-Control"] = NO_STORE
    return response


def _refused(reason: str) -> JsonResponse:
    response = JsonResponse({"error": reason}, status=400)
    response["Cache-Control"] = NO_STORE
    return response


def _watched(text: str) -> dict[str, live.Progress | None]:
    """Call id -> the progress the page shows of it (None: not said), in the page's order."""
    watched: dict[str, live.Progress | None] = {}
    for part in filter(None, text.split(",")):
        call_id, _, shown = part.partition(":")
        if not is_valid_call_id(call_id):
            raise ValueError(f"watch: {call_id[:80]!r} is not a call id.")
        try:
            watched[call_id] = live.parse_progress(shown) if shown else None
        except ValueError as error:
            raise ValueError(f"watch: {error}.") from None
    if len(watched) > live.MAX_WATCHED:
        raise ValueError(f"watch: at most {live.MAX_WATCHED} calls at a time.")
    return watched


def _top(text: str | None) -> datetime | None:
    """The created time of the row at the top of the page: new calls are those after it."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("top: not a date and time (ISO 8601, with its offset).") from None
    if moment.tzinfo is None:
        raise ValueError("top: give the time's offset (…Z or …+00:00).")
    return moment


def _matches(header: str, etag: str) -> bool:
    """``If-None-Match`` names this ETag (gzip may have weakened the one the page was sent)."""
    wanted = _WEAK.sub("", etag)
    return any(_WEAK.sub("", tag.strip()) == wanted for tag in header.split(",") if tag.strip())


def _rows_html(
    request: DashboardRequest,
    found: live.LiveAnswer,
    row_query: str,
    shown: dict[str, live.Progress | None],
) -> dict[str, str]:
    """The row of each watched call that is further on than the page shows it, as the list
    renders it (the same cells, links and review work), to put in place of the old one."""
    calls = [row.call for call_id, row in found.rows.items() if _further(row, shown.get(call_id))]
    if not calls:
        return {}
    calls = personal_data.calls_for(request.user, calls)  # as the list shows them
    names = cached_agent_names()  # never a Truedy request: ids stand in for unknown names
    verdicts = reviews.review_facts(call.id for call in calls)
    outcomes = corrections.effective_outcomes({call.id: call.outcome for call in calls})
    media = row_media.media_of_rows(
        calls, from_archive=found.source == "archive", now=upstream_now()
    )
    return {
        call.id: str(
            call_table_rows([(call, None)], row_query, names, "", verdicts, outcomes, media)
        ).strip()
        for call in calls
    }


def _further(row: live.WatchedRow, shown: live.Progress | None) -> bool:
    return shown is None or live.parse_progress(row.progress) > shown
