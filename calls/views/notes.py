"""Notes on turns: add, resolve, each note's own link, and the *For you* page.

Every write is a POST that needs ``calls.review_calls`` (``review_permission_required``);
reading needs a staff login only.
Without JavaScript each write redirects (303) to where the note is, a message saying what
happened; with htmx the form, or the note, is swapped in place and ``notes:announce`` carries
what a screen reader hears (static/js/notes.js).
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from calls.forms import describe_errors
from calls.models import TurnNote
from calls.note_forms import ForYouPagesForm, NoteForm
from calls.services import notes, reviews, roles
from calls.services.notes import AddedNote
from calls.services.transcript_pages import TRANSCRIPT_PAGE_TURNS
from calls.truedy.client import is_valid_call_id
from calls.truedy.errors import NotFound
from calls.truedy.records import Call
from calls.views.problems import call_not_found
from calls.views.rendering import DashboardRequest, plain_text, render, see_other
from calls.views.roles import review_permission_required

FOR_YOU_PER_PAGE = 20
ANNOUNCE = "notes:announce"  # the htmx event notes.js reads aloud
SAVE_FAILED = (
    "Your note could not be saved: the database did not answer. Nothing was saved; your text "
    "is still here, so try again."
)


def note_panel_context(
    request: DashboardRequest, call: Call, *, turn: int | None
) -> dict[str, Any]:
    """What the call page needs for ``calls/notes/note_form.html`` and, per turn,
    ``calls/notes/turn_notes.html``: ``turn`` pre-fills the form (the cued turn)."""
    return {
        "note_call_id": call.id,
        "note_form": NoteForm(initial={"turn": turn}),
        "note_turn_count": _turn_count(call),
        "notes_by_turn": notes.notes_by_turn(notes.notes_of_call(call.id)),
        "can_review": roles.can_review(request.user),
    }


# --- a call's notes ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@review_permission_required
def call_notes(request: DashboardRequest, call_id: str) -> HttpResponse:
    """GET: the call's notes and the form on a page of their own (where the form says what
    was wrong without JavaScript). POST: add a note."""
    if not is_valid_call_id(call_id):
        return call_not_found(request, "")  # an odd id is never sent upstream
    try:
        call = notes.call_for_notes(call_id)
    except NotFound:
        return call_not_found(request, "")
    if request.method == "GET":
        return _notes_page(request, call_id, call, NoteForm(initial={"turn": 1}))
    form = NoteForm(request.POST, call=call)
    if not form.is_valid():
        return _refused(request, call_id, call, form, status=400)
    try:
        added = notes.add_note(
            request=request,
            call_id=call_id,
            text=form.cleaned_data["text"],
            turn=form.cleaned_data["turn"],
            seconds=form.seconds,
        )
    except DatabaseError:
        return _refused(request, call_id, call, form, status=503, problem=SAVE_FAILED)
    if request.htmx:
        fresh = NoteForm(initial={"turn": added.note.turn})
        context = _form_context(request, call_id, call, fresh) | {
            "note_added": added,
            "turn": added.note.turn,
            "turn_notes": notes.notes_on_turn(call_id, added.note.turn),
        }
        response = render(request, "calls/notes/note_form.html#form", context)
        return trigger_client_event(response, ANNOUNCE, {"message": _added_message(added)})
    messages.success(request, _added_message(added))
    return see_other(note_place(added.note))


def _refused(
    request: DashboardRequest,
    call_id: str,
    call: Call | None,
    form: NoteForm,
    *,
    status: int,
    problem: str = "",
) -> TemplateResponse:
    """The form again with what was typed and why it was not taken: the form alone for htmx,
    else the notes page."""
    if request.htmx:
        context = _form_context(request, call_id, call, form) | {"note_problem": problem}
        return render(request, "calls/notes/note_form.html#form", context, status=status)
    return _notes_page(request, call_id, call, form, status=status, problem=problem)


def _notes_page(
    request: DashboardRequest,
    call_id: str,
    call: Call | None,
    form: NoteForm,
    *,
    status: int = 200,
    problem: str = "",
) -> TemplateResponse:
    context = _form_context(request, call_id, call, form) | {
        "call": call,
        "note_problem": problem,
        "notes_by_turn": notes.notes_by_turn(notes.notes_of_call(call_id)),
        "errors": describe_errors(form) if form.is_bound and form.errors else [],
    }
    return render(request, "calls/notes/call_notes.html", context, status=status)


def _form_context(
    request: DashboardRequest, call_id: str, call: Call | None, form: NoteForm
) -> dict[str, Any]:
    return {
        "note_call_id": call_id,
        "note_form": form,
        "note_turn_count": _turn_count(call),
        "can_review": roles.can_review(request.user),
    }


def _turn_count(call: Call | None) -> int | None:
    """The highest turn a note can be on; None when that is not known (or there is none)."""
    return len(call.transcript or ()) or None if call is not None else None


def _added_message(added: AddedNote) -> str:
    note = added.note
    where = f"turn {note.turn}" if note.turn is not None else f"{note.seconds:g} s"
    message = f"Note added on {where}."
    if added.unknown_mentions:
        names = ", ".join(f"@{name}" for name in added.unknown_mentions)
        message += f" Nobody here is called {names}, so nobody was told."
    return message


# --- one note ----------------------------------------------------------------------------------


@require_GET
def note_detail(request: DashboardRequest, note_id: int) -> HttpResponse:
    """A note's own link: the call page, at the note."""
    note = TurnNote.objects.filter(pk=note_id).only("call_id", "turn", "seconds").first()
    if note is None:
        return plain_text(404, "No such note: it may have been mistyped.")
    return HttpResponseRedirect(note_place(note))


@require_POST
@review_permission_required
def note_resolve(request: DashboardRequest, note_id: int) -> HttpResponse:
    """Resolve a note (again is harmless), then back where the reviewer was."""
    try:
        note = notes.resolve_note(request=request, note_id=note_id)
    except TurnNote.DoesNotExist:
        return plain_text(404, "No such note: it may have been mistyped.")
    except DatabaseError:
        return plain_text(
            503, "The note could not be resolved: the database did not answer. Try again."
        )
    if request.htmx:
        context = {"note": note, "can_review": True, "show_call": "show_call" in request.POST}
        response = render(request, "calls/notes/note.html", context)
        return trigger_client_event(response, ANNOUNCE, {"message": "Note resolved."})
    messages.success(request, "Note resolved.")
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    return see_other(back if back and safe else note_place(note))


def note_place(note: TurnNote) -> str:
    """The call page at ``note``: its moment cued (``?t=``), or its turn's page of the
    transcript, scrolled to the note."""
    url = reverse("calls:call_detail", args=[note.call_id])
    if note.seconds is not None:
        url += f"?t={note.seconds:g}"
    elif note.turn is not None and note.turn > TRANSCRIPT_PAGE_TURNS:
        url += f"?turns={(note.turn - 1) // TRANSCRIPT_PAGE_TURNS + 1}"
    return f"{url}#note-{note.pk}"


# --- For you -----------------------------------------------------------------------------------


@require_GET
def for_you(request: DashboardRequest) -> HttpResponse:
    """Open notes that mention the user and calls handed to them, newest first."""
    form = ForYouPagesForm(request.GET)
    if not form.is_valid():
        refused: dict[str, Any] = {"errors": describe_errors(form)}
        return render(request, "calls/notes/for_you.html", refused, status=400)
    mentioned = _page(notes.open_notes_mentioning(request.user), form.page("notes"))
    handed = _page(reviews.handed_to(request.user), form.page("handed"))
    if mentioned is None or handed is None:
        missing: dict[str, Any] = {"errors": ["There is no such page: the list is shorter."]}
        return render(request, "calls/notes/for_you.html", missing, status=404)
    context: dict[str, Any] = {
        "mentioned": mentioned,
        "handed": handed,
        "can_review": roles.can_review(request.user),
        "here": request.get_full_path(),
    }
    return render(request, "calls/notes/for_you.html", context)


def _page(items: Any, number: int) -> Page[Any] | None:
    paginator = Paginator(items, FOR_YOU_PER_PAGE)
    if number > paginator.num_pages:
        return None
    return paginator.page(number)
