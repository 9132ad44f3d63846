"""Scorecards over HTTP: the admin's pages that define them, and a reviewer's filled scorecard.

- ``/scorecards/``: every scorecard (any staff member reads them); an Admin (``calls.
  manage_scorecards``) also creates, edits (each save is a new version) and retires them. The
  editor works without JavaScript: *Add a question* posts the form back with one more row.
- ``/calls/<id>/scorecard``: a reviewer's answers (``calls.review_calls``). On the call page the
  panel sits beside the verdict; without JavaScript a save redirects back (303), with htmx the
  panel swaps itself and its live region says "Scorecard saved: 85 %".

Every bad value shows the form again saying why (400); a refused role gets 403 and nothing is
written; a write the database refuses stores nothing and says so (503), keeping what was typed.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calls.background import scoring
from calls.models import QuestionKind, Scorecard, ScorecardScore, ScorecardVersion
from calls.scorecard_forms import (
    BaseQuestionFormSet,
    ScorecardForm,
    ScoreForm,
    answer_choices,
    field_name,
    question_formset,
    scorecard_spec,
    with_another_question,
)
from calls.services import audit, automatic_checks, personal_data, roles, scorecards
from calls.services.automatic_checks import CheckResult
from calls.services.calls import call_or_archived
from calls.services.listing import agent_names_if_possible
from calls.truedy.client import is_valid_call_id
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.lifecycle import is_live
from calls.truedy.records import Call
from calls.views.rendering import NO_STORE, DashboardRequest, requested_partial
from calls.views.review_steps import action_query, carried, problem, see_other
from calls.views.roles import SAFE_METHODS, review_permission_required

logger = logging.getLogger("calls.views")

PANEL = "calls/scorecards/panel.html"
PANEL_TARGET = "scorecard-work"
# Set on every view only an Admin may use: the URL walk (tests/test_url_walk.py) finds them.
ADMIN_MARK = "manages_scorecards"
NOT_SAVED = (
    "Not saved: the database could not store it. What you entered is still here: send it again."
)

View = Callable[..., HttpResponse]


def manage_scorecards_required(view: View) -> View:
    """Only an Admin (``calls.manage_scorecards``) gets through ``view``, whatever the method:
    everyone else gets 403 and nothing is written."""

    @functools.wraps(view)
    def guarded(request: DashboardRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not roles.can_manage_scorecards(request.user):
            return _refused(request)
        return view(request, *args, **kwargs)

    setattr(guarded, ADMIN_MARK, True)
    return guarded


def _refused(request: DashboardRequest) -> TemplateResponse:
    name = "calls/scorecards/refused.html"
    if request.htmx and not request.htmx.boosted:
        name += "#refusal"
    read_only = request.method in SAFE_METHODS
    context = {"role": roles.role_name(request.user), "read_only": read_only}
    return TemplateResponse(request, name, context, status=403)


# --- the admin's pages ---------------------------------------------------------------------------


@require_GET
def scorecard_list(request: DashboardRequest) -> HttpResponse:
    """Every scorecard, active ones first, with what it applies to and its current version."""
    rows = [
        {
            "scorecard": scorecard,
            "version": version,
            "questions": len(version.questions.all()),
            "automatic": sum(1 for question in version.questions.all() if question.auto_check),
        }
        for scorecard, version in scorecards.scorecards_overview()
    ]
    context = {
        "rows": rows,
        "can_manage": roles.can_manage_scorecards(request.user),
        "agent_names": agent_names_if_possible(),
    }
    return TemplateResponse(request, "calls/scorecards/list.html", context)


@require_GET
def scorecard_detail(request: DashboardRequest, scorecard_id: int) -> HttpResponse:
    """A scorecard's questions (its current version, or ``?version=N``) and its versions."""
    scorecard = get_object_or_404(Scorecard, pk=scorecard_id)
    versions = list(scorecard.versions.select_related("created_by").order_by("-number"))
    wanted = request.GET.get("version", "")
    if wanted:
        shown = next((v for v in versions if str(v.number) == wanted), None)
        if shown is None:
            return problem(request, 404, f"This scorecard has no version “{wanted[:20]}”.")
    else:
        shown = versions[0] if versions else None
    if shown is None:
        raise Http404("a scorecard without versions")
    version = scorecards.version_with_questions(shown.pk)
    assert version is not None
    context = {
        "scorecard": scorecard,
        "version": version,
        "versions": versions,
        "current": versions[0],
        "questions": [
            (
                question,
                automatic_checks.describe(question.auto_check) if question.auto_check else "",
            )
            for question in version.questions.all()
        ],
        "reviewed_calls": ScorecardScore.objects.filter(version=version).count(),
        "automatic_calls": version.automatic_scores.count(),
        "can_manage": roles.can_manage_scorecards(request.user),
        "agent_names": agent_names_if_possible(),
    }
    return TemplateResponse(request, "calls/scorecards/detail.html", context)


@manage_scorecards_required
@require_http_methods(["GET", "HEAD", "POST"])
def scorecard_new(request: DashboardRequest) -> HttpResponse:
    """The editor for a new scorecard; POST saves its version 1."""
    return _editor(request, None)


@manage_scorecards_required
@require_http_methods(["GET", "HEAD", "POST"])
def scorecard_edit(request: DashboardRequest, scorecard_id: int) -> HttpResponse:
    """The editor, starting from the current version; POST saves a new version."""
    scorecard = get_object_or_404(Scorecard, pk=scorecard_id)
    return _editor(request, scorecard)


@manage_scorecards_required
@require_POST
def scorecard_retire(request: DashboardRequest, scorecard_id: int) -> HttpResponse:
    """Retire a scorecard (``action=retire``) or bring it back (``action=restore``)."""
    scorecard = get_object_or_404(Scorecard, pk=scorecard_id)
    action = request.POST.get("action", "")
    if action not in ("retire", "restore"):
        return problem(request, 400, "Say whether to retire the scorecard or bring it back.")
    try:
        scorecards.set_retired(request, scorecard, retired=action == "retire")
    except DatabaseError:
        logger.exception("Could not retire or restore a scorecard")
        return problem(request, 503, "Not saved: the database could not store it. Try again.")
    if action == "restore":
        scoring.rescore_soon()
    messages.success(
        request,
        "Retired: the scorecard is no longer offered; its scores stay."
        if action == "retire"
        else "Restored: the scorecard is offered again.",
    )
    return see_other(reverse("calls:scorecard_detail", args=[scorecard.pk]))


def _agent_choices(*also: str) -> list[tuple[str, str]]:
    names = agent_names_if_possible()
    choices = sorted(names.items(), key=lambda item: item[1].casefold())
    choices += [(agent_id, agent_id) for agent_id in also if agent_id not in names]
    return choices


def _editor(request: DashboardRequest, scorecard: Scorecard | None) -> HttpResponse:
    current = scorecards.latest_version(scorecard) if scorecard else None
    start = scorecards.spec_of(current) if current else None
    chosen = request.POST.getlist("agent_ids") if request.method == "POST" else []
    agents = _agent_choices(*(start.agent_ids if start else ()), *chosen)
    if request.method != "POST":
        initial: dict[str, Any] = {"scope": "all"}
        if start is not None:
            initial = {
                "name": start.name,
                "description": start.description,
                "scope": "agents" if start.agent_ids else "all",
                "agent_ids": list(start.agent_ids),
            }
        form = ScorecardForm(initial=initial, agents=agents)
        questions = question_formset(questions=start.questions if start else ())
        return _editor_page(request, scorecard, current, form, questions)
    form = ScorecardForm(request.POST, agents=agents)
    if "add_question" in request.POST:
        questions = question_formset(with_another_question(request.POST))
        return _editor_page(request, scorecard, current, form, questions, show_errors=False)
    questions = question_formset(request.POST)
    if not (form.is_valid() and questions.is_valid()):
        return _editor_page(request, scorecard, current, form, questions, status=400)
    spec = scorecard_spec(form, questions)
    try:
        version = scorecards.save_scorecard(request, scorecard=scorecard, spec=spec)
    except DatabaseError:
        logger.exception("Could not store a scorecard")
        return _editor_page(
            request, scorecard, current, form, questions, status=503, failure=NOT_SAVED
        )
    if version is None:
        assert current is not None
        messages.info(request, f"Nothing changed: the scorecard is still version {current.number}.")
        return see_other(reverse("calls:scorecard_detail", args=[current.scorecard_id]))
    scoring.rescore_soon()
    messages.success(
        request,
        f"Saved “{version.name}”, version {version.number}. Scores already given keep the "
        "version they were given on.",
    )
    return see_other(reverse("calls:scorecard_detail", args=[version.scorecard_id]))


def _editor_page(
    request: DashboardRequest,
    scorecard: Scorecard | None,
    current: ScorecardVersion | None,
    form: ScorecardForm,
    questions: BaseQuestionFormSet,
    *,
    status: int = 200,
    show_errors: bool = True,
    failure: str = "",
) -> TemplateResponse:
    context = {
        "scorecard": scorecard,
        "current": current,
        "form": form,
        "questions": questions,
        "show_errors": show_errors,
        "failure": failure,
        "kinds": QuestionKind.choices,
        "errors": _editor_errors(form, questions) if show_errors and form.is_bound else [],
    }
    response = TemplateResponse(request, "calls/scorecards/edit.html", context, status=status)
    response["Cache-Control"] = NO_STORE
    return response


def _editor_errors(form: ScorecardForm, questions: BaseQuestionFormSet) -> list[str]:
    """Every problem as a sentence, questions named by their number on the page."""
    found = [
        f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
        for name, errors in form.errors.items()
        for message in errors
    ]
    found += [str(message) for message in questions.non_form_errors()]
    for number, question in enumerate(questions.forms, start=1):
        for name, errors in question.errors.items():
            label = question.fields[name].label if name in question.fields else ""
            prefix = f"Question {number}" + (f", {label}" if label and name != "check" else "")
            found += [f"{prefix}: {message}" for message in errors]
    return found


# --- a reviewer's score on the call page --------------------------------------------------------


def scorecard_panel(
    request: DashboardRequest,
    call: Call,
    *,
    bound: dict[int, ScoreForm] | None = None,
    automatic: dict[int, dict[int, CheckResult]] | None = None,
    saved: str = "",
    failure: str = "",
    always: bool = False,
) -> dict[str, Any]:
    """The context ``templates/calls/scorecards/panel.html`` needs, as one entry:
    ``scorecards`` (None when no scorecard applies to the call nor scored it, unless
    ``always``). ``bound``: forms that were sent and refused, by version id."""
    versions = scorecards.applicable_versions(call.agent_id)
    history = scorecards.score_history(call.id)
    if not versions and not history and not always:
        return {"scorecards": None}
    live = is_live(call)  # scored once it has ended: the page refreshes a live call's panel
    if live:
        versions = []
    latest = scorecards.latest_by_scorecard(history)
    can_review = roles.can_review(request.user)
    facts = None
    cards = []
    for version in versions:
        results = (automatic or {}).get(version.pk)
        if results is None:
            if facts is None:
                facts = scorecards.facts_of(call, end_reason=scorecards.end_reason_for(call))
            results = scorecards.automatic_results(version, facts)
        last = latest.get(version.scorecard_id)
        form = (bound or {}).get(version.pk) or ScoreForm(
            version=version,
            automatic=results,
            answers=_answers_of(last) if last and last.version_id == version.pk else None,
        )
        cards.append(_card(version, form, results, last))
    return {
        "scorecards": {
            "call_id": call.id,
            "cards": cards,
            "history": [
                {
                    "row": row,
                    "score_text": scorecards.shown_score(row.score),
                    "overrides": list(row.overrides.all()),
                }
                for row in history
            ],
            "can_review": can_review,
            "live": live,
            "role": roles.role_name(request.user),
            "action_query": action_query(carried(request)),
            "saved": saved,
            "failure": failure,
            "swapped": requested_partial(request, frozenset({PANEL_TARGET})) is not None,
        }
    }


def _answers_of(score: ScorecardScore) -> dict[str, Any]:
    return {
        key: entry.get("answer")
        for key, entry in (score.answers or {}).items()
        if isinstance(entry, dict)
    }


def _card(
    version: ScorecardVersion,
    form: ScoreForm,
    results: dict[int, CheckResult],
    last: ScorecardScore | None,
) -> dict[str, Any]:
    rows = []
    for question in version.questions.all():
        field = form[field_name(question)]
        value = field.value()
        rows.append(
            {
                "question": question,
                "field": field,
                "value": "" if value is None else str(value),
                "choices": answer_choices(question) if question.kind != QuestionKind.TEXT else [],
                "automatic": results.get(question.pk),
                "moment": _moment(results.get(question.pk)),
                "check": automatic_checks.describe(question.auto_check)
                if question.auto_check
                else "",
            }
        )
    known = [result for result in results.values() if result.answer is not None]
    return {
        "version": version,
        "form": form,
        "rows": rows,
        "automatic_score_text": scorecards.shown_score(
            scorecards.automatic_score(version, results)
        ),
        "latest_score_text": scorecards.shown_score(last.score) if last else "",
        "checks": len(results),
        "checks_known": len(known),
        "latest": last,
        "latest_is_older": last is not None and last.version_id != version.pk,
        "errors": [message for errors in form.errors.values() for message in errors]
        if form.is_bound
        else [],
    }


def _moment(result: CheckResult | None) -> tuple[int, str] | None:
    """Where a check's evidence is in the call: whole seconds for ``?t=``, and as a clock."""
    if result is None or result.seconds is None:
        return None
    seconds = max(0, int(result.seconds))
    return seconds, automatic_checks.clock(seconds)


@review_permission_required
@require_http_methods(["GET", "HEAD", "POST"])
def call_scorecard(request: DashboardRequest, call_id: str) -> HttpResponse:
    """GET: the call's scorecards on a page of their own. POST: a reviewer's filled scorecard
    (``version`` names the scorecard version the form showed)."""
    if not is_valid_call_id(call_id):
        return problem(request, 404, "There is no such call.")  # never sent upstream
    try:
        # Its evidence quotes the transcript: as the user may see it (README, "Personal data").
        call = personal_data.call_for(request.user, call_or_archived(call_id).call)
    except NotFound:
        return problem(request, 404, "There is no such call.")
    except TruedyError:
        return problem(
            request,
            503,
            "This call cannot be scored now: Truedy is unreachable and the archive has no copy. "
            "Try again in a moment.",
        )
    if request.method != "POST":
        return _panel_response(request, call)
    return _save_score(request, call)


def _save_score(request: DashboardRequest, call: Call) -> HttpResponse:
    if is_live(call):
        message = "The call is still going: score it once it has ended. Nothing was saved."
        return _panel_response(request, call, status=409, failure=message)
    version, refusal = _posted_version(request, call)
    if version is None:
        return _panel_response(request, call, status=refusal[0], failure=refusal[1])
    results = scorecards.automatic_results(
        version, scorecards.facts_of(call, end_reason=scorecards.end_reason_for(call))
    )
    form = ScoreForm(request.POST, version=version, automatic=results)
    panel: dict[str, Any] = {"bound": {version.pk: form}, "automatic": {version.pk: results}}
    if not form.is_valid():
        return _panel_response(request, call, status=400, **panel)
    try:
        row = scorecards.record_score(
            request, call_id=call.id, version=version, answers=form.answers(), automatic=results
        )
    except DatabaseError:
        logger.exception("Could not store a score")
        return _panel_response(request, call, status=503, failure=NOT_SAVED, **panel)
    saved = f"Scorecard saved: {scorecards.shown_score(row.score)}"
    if requested_partial(request, frozenset({PANEL_TARGET})):
        return _panel_response(request, call, saved=saved)
    messages.success(request, saved)
    query = action_query(carried(request))
    return see_other(reverse("calls:call_detail", args=[call.id]) + query + "#scorecards-panel")


def _posted_version(
    request: DashboardRequest, call: Call
) -> tuple[ScorecardVersion | None, tuple[int, str]]:
    """The scorecard version the form was for, if it may be filled in for this call now;
    otherwise (None, (status, why))."""
    text = request.POST.get("version", "")
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None, (400, "Choose a scorecard to fill in: the form names none.")
    version = scorecards.version_with_questions(int(text))
    if version is None:
        return None, (400, "That scorecard does not exist. Nothing was saved.")
    current = {v.pk: v for v in scorecards.applicable_versions(call.agent_id)}
    if version.pk in current:
        return current[version.pk], (200, "")
    if version.scorecard.retired_at is not None:
        return None, (409, f"“{version.name}” was retired meanwhile. Nothing was saved.")
    newer = scorecards.latest_version(version.scorecard)
    if newer is not None and newer.pk != version.pk:
        return None, (
            409,
            f"“{version.name}” was changed while you filled it in (it is now version "
            f"{newer.number}). Nothing was saved: fill in the current version below.",
        )
    return None, (400, f"“{version.name}” does not apply to this call's agent. Nothing was saved.")


def _panel_response(
    request: DashboardRequest, call: Call, *, status: int = 200, **panel: Any
) -> TemplateResponse:
    """The panel alone for htmx, else the call's scorecard page around it."""
    context = scorecard_panel(request, call, always=True, **panel) | {
        "call": call,
        "back_query": carried(request).list_query(),
    }
    fragment = requested_partial(request, frozenset({PANEL_TARGET}))
    name = f"{PANEL}#{PANEL_TARGET}" if fragment else "calls/scorecards/call_scorecard.html"
    response = TemplateResponse(request, name, context, status=status)
    response["Cache-Control"] = NO_STORE
    # The panel quotes the call's transcript as evidence: a view of the call, as the page is.
    audit.record_access(request, "view_call", call_id=call.id, status=status)
    return response
