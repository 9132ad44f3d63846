"""The call page: facts, player and transcript; and the player's note that a listen began."""

import dataclasses
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from calls.archive.search import parse_search
from calls.forms import MAX_SEARCH_LENGTH, QUERY_ORDER, CallFilterForm
from calls.services import (
    audit,
    calls,
    live,
    page_cache,
    personal_data,
    recordings,
    suspicious,
    transcript_pages,
    transcripts,
)
from calls.services.calls import ListPlace, PageCall
from calls.services.listing import agent_names_if_possible, cached_agent_names
from calls.truedy.client import is_valid_call_id
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.lifecycle import (
    RECORDING_EXPIRY_MARGIN,
    TRUEDY_KEEPS_CALLS,
    is_live,
    recording_expiry,
)
from calls.truedy.records import Call
from calls.upstream import gateway, reads
from calls.upstream.problems import trouble
from calls.views import notes, reviews, scorecards
from calls.views.problems import call_not_found, upstream_error, waiting
from calls.views.rendering import (
    NO_STORE,
    PARTIALS,
    DashboardRequest,
    plain_text,
    render,
    requested_partial,
)

PLAYBACK_RATES = ("0.75", "1", "1.25", "1.5", "2")


@require_GET
def call_detail(request: DashboardRequest, call_id: str) -> HttpResponse:
    """The call page, or the partial an htmx request targets; kept whole while nothing it
    shows can have changed (calls.services.page_cache), and audited every time it is served."""
    key = page_cache.page_key(request, "call")
    kept = page_cache.kept_page(request, key, fills=lambda: _personal_fills(request, call_id))
    if isinstance(kept, HttpResponse):
        _audit_view(request, call_id, kept.status_code)
        return kept
    with page_cache.noting(kept):
        response = _call_detail(request, call_id, kept)
    return page_cache.keep_page(request, kept, response)


def _personal_fills(request: DashboardRequest, call_id: str) -> dict[str, str]:
    """What a kept call page (one viewer's, shared with people alike) gets for this viewer: the
    token its polls send, signed for them."""
    return {page_cache.POLL_MARK: audit.poll_token(request, call_id)}


def _call_detail(
    request: DashboardRequest, call_id: str, build: page_cache.PageBuild
) -> HttpResponse:
    page_cache.prime_permissions(request.user)
    list_form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    opened_from = _opened_from(request, list_form)
    back_query = list_form.query() if opened_from else ""
    if not is_valid_call_id(call_id):
        return call_not_found(request, back_query)  # an odd id is never sent upstream
    try:
        shown = calls.call_for_page(call_id, opened_from=opened_from)
    except NotFound:
        return call_not_found(request, back_query)
    except TruedyError as error:
        return upstream_error(request, error)
    # Personal data as the user's role may see it (README, "Personal data"): the page is timed
    # on what was said, then its call and turns are the ones the user may see, and its panels
    # only ever see those.
    _bound(request, build, shown)
    call, personal = personal_data.for_call_page(request.user, shown.call)
    context = _call_context(request, list_form, shown, opened_from, back_query) | personal
    context |= personal_data.page_turns(call, context["timing"], context["turn_page"])
    shown = dataclasses.replace(shown, call=call)
    context["recording_state"] = personal_data.recording_state_for(
        request.user, context["recording_state"]
    )
    context |= _review_work(request, shown.call, context["moment_turn"])
    build.personal[context["poll_token"]] = page_cache.POLL_MARK
    # An unreadable ?t= or ?turns= still shows the call, from the start, saying why (and a 400).
    status = 400 if context["moment_error"] or context["turns_error"] else 200
    response = render(request, "calls/call_detail.html", context, status=status)
    response["Cache-Control"] = NO_STORE
    _audit_view(request, call_id, response.status_code)
    return response


def _audit_view(request: DashboardRequest, call_id: str, status: int) -> None:
    if not audit.is_own_poll(request, call_id):
        # Page or fragment alike: only the page's own polls (its token) are not another view.
        audit.record_access(request, "view_call", call_id=call_id, status=status)


def _bound(request: DashboardRequest, build: page_cache.PageBuild, shown: PageCall) -> None:
    """How long the page may be kept: not at all while the call is live (its running time
    shows) or Truedy's answer is missing (waiting, or the archive standing in); else no longer
    than Truedy's answers stay fresh (``page_cache.noting``) and until the call changes with
    the clock: its recording link running out, its analysis window ending, Truedy dropping
    it after a year; or one of the user's reveals ends."""
    call = shown.call
    # Nor while the archive stands in for Truedy for an unsettled call because webhooks keep
    # it current (``followed``): whether they still do is a matter of time.
    followed = getattr(shown, "followed", False)
    if is_live(call) or shown.waiting or shown.error is not None or followed:
        build.refuse()
    expiry = recording_expiry(call)
    if expiry is not None:
        build.until(expiry - RECORDING_EXPIRY_MARGIN)
        build.until(expiry)
    if call.ended_at is not None:
        build.until(call.ended_at + reads.processing_window())
    if call.created_at is not None:
        build.until(call.created_at + TRUEDY_KEEPS_CALLS)
    if personal_data.masks_for(request.user):
        build.until(page_cache.reveals_end(request.user))


@require_POST
def call_played(request: DashboardRequest, call_id: str) -> HttpResponse:
    """The player's note that a listen began: one ``play_recording`` row per play.

    Counting the proxy's requests would not do: Chromium fetches one listen in several ranges
    and again after every seek. player.js posts here once per page load of the player.
    """
    if not is_valid_call_id(call_id):
        return plain_text(404, "No such call.")  # never recorded, never sent upstream
    audit.record_access(request, "play_recording", call_id=call_id, status=204)
    return HttpResponse(status=204)


def _review_work(request: DashboardRequest, call: Call, moment_turn: int | None) -> dict[str, Any]:
    """The review panel, the note form, the notes on each turn and any suspicious label."""
    context = reviews.review_panel(request, call.id, ai_outcome=call.outcome)
    context |= scorecards.scorecard_panel(request, call)
    context |= notes.note_panel_context(request, call, turn=moment_turn)
    context["turn_notes_html"] = {
        turn: render_to_string(
            "calls/notes/turn_notes.html",
            {"turn": turn, "turn_notes": turn_notes, "can_review": context["can_review"]},
            request=request,
        )
        for turn, turn_notes in context["notes_by_turn"].items()
    }
    # Notes on moments of a call without a transcript stand under the note form.
    context["moment_notes_html"] = context["turn_notes_html"].pop(None, "")
    context["suspicion_reasons"] = suspicious.reasons_for(call)
    return context


def _opened_from(request: DashboardRequest, form: CallFilterForm) -> ListPlace | None:
    """Opened from the list, the URL carries the list's query: the call's place in that list."""
    if not any(name in request.GET for name in QUERY_ORDER) or not form.is_valid():
        return None
    # A search's neighbours are its other hits (from the archive), as the list showed them.
    filters = personal_data.filters_for(request.user, form.list_filters())
    return ListPlace(filters, form.page, form.per_page)


def _call_context(
    request: DashboardRequest,
    list_form: CallFilterForm,
    shown: PageCall,
    opened_from: ListPlace | None,
    back_query: str,
) -> dict[str, Any]:
    call = shown.call
    now = gateway.now()
    timing = transcripts.timing_of(call)
    moment, moment_error = _moment(request)
    if moment is not None and call.duration_seconds:
        moment = min(moment, float(call.duration_seconds))
    moment_turn = transcripts.turn_at(timing, moment)
    turn_page, turns_error = transcript_pages.page_of_turns(
        timing.turns if timing else (), wanted=request.GET.get("turns"), current=moment_turn
    )
    recording_state = recordings.recording_state_for_page(
        call, now, shown.archived, settled=shown.settled
    )
    find = _find(request)
    # Links within the page (a turn's moment, another page of turns, "jump to time") keep the
    # list the call was opened from and the words being found.
    page_query = "&".join(filter(None, [back_query, urlencode({"find": find}) if find else ""]))
    return {
        "call": call,
        "timing": timing,
        "turn_page": turn_page,
        "moment": moment,
        "moment_error": moment_error,
        "turns_error": turns_error,
        "moment_turn": moment_turn,
        "moment_query": f"{page_query}&" if page_query else "",
        "jump_fields": list(QueryDict(page_query).items()),
        "find": find,
        "elapsed": _elapsed(call, now),
        # The transcript arriving by itself (its poll) brings the summary, timings and find box.
        "details_out_of_band": requested_partial(request, PARTIALS["calls/call_detail.html"])
        == "transcript",
        "playback_rates": PLAYBACK_RATES,
        # A settled call asks Truedy nothing, not even its agents' names (the ids still say who).
        "agent_names": cached_agent_names() if shown.settled else agent_names_if_possible(),
        "back_query": back_query,
        "neighbours": _neighbours(call.id, opened_from, list_form) if opened_from else None,
        "waiting": waiting(shown.error) if shown.waiting and shown.error else None,
        "transcript_state": "waiting" if shown.waiting else reads.transcript_state(call, now).value,
        "recording_state": "waiting" if shown.waiting else recording_state,
        "from_archive": _from_archive(shown, now),
        "settled": shown.settled,
        "recording_expires": recording_expiry(call),
        # A live or processing call follows the list's live updates (calls/services/live.py).
        "live_progress": live.progress_text(call, now),
        "poll_token": (poll := audit.poll_token(request, call.id)),
        "poll_headers": json.dumps({audit.POLL_HEADER: poll}),
        "talk_turns": len(call.transcript or ()),
    }


def _from_archive(shown: PageCall, now: datetime) -> dict[str, Any] | None:
    """What the page says when the archive's copy stands in for Truedy's answer, or is read
    instead of asking (a settled call: older than Truedy keeps, it is gone from Truedy)."""
    if shown.archived is not None and shown.settled:
        created = shown.call.created_at
        if created is not None and created < now - TRUEDY_KEEPS_CALLS:
            return {"gone": True, "row": shown.archived}
        return {"settled": True, "row": shown.archived}
    if shown.archived is not None and shown.followed:
        return {"followed": True, "row": shown.archived}
    if shown.archived is None or shown.error is None:
        return None
    if shown.gone:
        return {"gone": True, "row": shown.archived}
    return {"trouble": trouble(shown.error), "row": shown.archived}


def _neighbours(
    call_id: str, opened_from: ListPlace, form: CallFilterForm
) -> dict[str, Any] | None:
    """Previous/next within the list the call was opened from, with the query for each."""
    found = calls.neighbours(call_id, opened_from)
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


def _find(request: DashboardRequest) -> str:
    """The words to find in the transcript (``?find=``, as a search hit on the list links them:
    the search's wanted words and phrases, without its quotes and -words); anything longer than
    the list's search allows is ignored."""
    asked = request.GET.get("find") or ""
    if len(asked) > MAX_SEARCH_LENGTH:
        return ""
    return " ".join(parse_search(asked).wanted)


def _elapsed(call: Call, now: datetime) -> int | None:
    """Whole seconds a live call has been going (since it was answered, or placed), else None."""
    since = call.started_at or call.created_at
    if not is_live(call) or since is None:
        return None
    return max(0, int((now - since).total_seconds()))


def _moment(request: DashboardRequest) -> tuple[float | None, str]:
    """The ``?t=`` a "link to this moment" carries: (seconds, "") or (None, what is wrong)."""
    text = request.GET.get("t")
    if text is None:
        return None, ""
    try:
        return transcripts.parse_offset(text), ""
    except ValueError as error:
        return None, str(error)
