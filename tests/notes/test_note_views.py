"""The notes pages through the test client: add, resolve, a note's own link and *For you*."""

import json

import pytest
from django.db import DatabaseError

from calls.models import AuditEvent, Review, TurnNote
from calls.upstream import reads
from tests.conftest import upstream_paths
from tests.views.test_call_detail import an_ended_call_with_turns

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "note-form"}


@pytest.fixture
def call(frozen_simulator):
    return reads.get_call(an_ended_call_with_turns(frozen_simulator))


def notes_url(call_id: str) -> str:
    return f"/calls/{call_id}/notes/"


def add(client, call_id, headers=None, **fields):
    data = {"turn": "2", "text": "Check this"} | fields
    return client.post(notes_url(call_id), data, **(headers or {}))


# --- adding ------------------------------------------------------------------------------------


def test_without_javascript_a_note_goes_back_to_the_call_at_the_note(reviewer_client, call):
    response = add(reviewer_client, call.id, text="Was the price right? @nobody")
    note = TurnNote.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/calls/{call.id}/#note-{note.pk}"
    shown = reviewer_client.get(response["Location"]).content.decode()
    assert "Note added on turn 2. Nobody here is called @nobody, so nobody was told." in shown


def test_with_htmx_the_form_comes_back_empty_with_the_turns_notes(reviewer_client, call):
    response = add(reviewer_client, call.id, text="Line one\r\nline <two>", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    note = TurnNote.objects.get()
    assert note.text == "Line one\nline <two>"
    assert html.lstrip().startswith('<form id="note-form"')
    assert '<template data-note-turn="2">' in html and f'id="note-{note.pk}"' in html
    assert "Line one<br>line &lt;two&gt;" in html  # escaped, line breaks kept
    assert "<textarea" in html and "Line one</textarea>" not in html  # emptied for the next
    trigger = json.loads(response["HX-Trigger"])
    assert trigger == {"notes:announce": {"message": "Note added on turn 2."}}
    assert "HX-Request" in response["Vary"]


def test_a_moment_note_lands_on_the_turn_spoken_then(reviewer_client, call):
    moment = call.transcript[2].timestamp + 0.1
    response = reviewer_client.post(notes_url(call.id), {"t": f"{moment:.2f}", "text": "Here"})
    note = TurnNote.objects.get()
    assert (note.turn, note.seconds) == (3, round(moment, 2))
    assert response["Location"] == f"/calls/{call.id}/?t={note.seconds:g}#note-{note.pk}"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "Write the note: it cannot be empty."),
        ({"text": "x" * 2001}, "A note has at most 2,000 characters (this one has 2,001)."),
        ({"text": "bell\x07"}, "A note cannot hold control characters."),
        ({"text": "nul\x00"}, "Null characters are not allowed."),
        ({"turn": "999"}, "turns: pick one from 1 to"),
        ({"turn": "0"}, "The turn is a number: 1 for the first turn."),
        ({"turn": "two"}, "The turn is a number: 1 for the first turn."),
        ({"turn": "", "t": "soon"}, "is not a time"),
        ({"turn": "", "t": "99:00"}, "This call lasts"),
        ({"turn": ""}, "Say which turn the note is on (or which moment)."),
    ],
)
def test_a_bad_note_is_a_400_that_says_why_and_keeps_the_rest(
    reviewer_client, call, fields, message
):
    response = add(reviewer_client, call.id, **fields)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'aria-invalid="true"' in html or 'role="alert"' in html
    assert not TurnNote.objects.exists() and not AuditEvent.objects.filter(action="add_note")
    fragment = add(reviewer_client, call.id, **fields, headers=HTMX)
    assert fragment.status_code == 400
    assert fragment.content.decode().lstrip().startswith('<form id="note-form"')


def test_a_note_of_two_thousand_characters_counts_line_breaks_once(reviewer_client, call):
    text = ("x" * 99 + "\r\n") * 20  # 2,000 characters in the browser, 2,020 as sent
    assert add(reviewer_client, call.id, text=text).status_code == 303
    assert len(TurnNote.objects.get().text) == 1999  # the last line break is stripped


def test_markup_in_a_note_is_shown_as_text(reviewer_client, call):
    add(reviewer_client, call.id, text='<script>alert("x")</script>')
    html = reviewer_client.get(notes_url(call.id)).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<script>alert("x")' not in html


def test_a_failed_write_loses_nothing_and_says_so(reviewer_client, call, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(AuditEvent.objects, "create", refuse)
    response = add(reviewer_client, call.id, text="Please keep me")
    html = response.content.decode()
    assert response.status_code == 503
    assert "Nothing was saved; your text is still here" in html
    assert "Please keep me</textarea>" in html
    assert not TurnNote.objects.exists()


def test_while_truedy_fails_a_note_is_still_taken(reviewer_client, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    frozen_simulator.switches.fail_next(50, status=500)
    response = add(reviewer_client, call_id, turn="5")
    assert response.status_code == 303
    assert TurnNote.objects.get().turn == 5


@pytest.mark.parametrize("call_id", ["call$1", "x" * 65, "call_doesnotexist000000000000"])
def test_a_note_on_no_call_is_a_404(reviewer_client, frozen_simulator, call_id):
    frozen_simulator.reset_requests()
    response = add(reviewer_client, call_id)
    assert response.status_code == 404
    assert not TurnNote.objects.exists()
    if "$" in call_id or len(call_id) > 64:
        assert upstream_paths(frozen_simulator) == []


def test_a_viewer_reads_notes_but_cannot_add_one(viewer_client, reviewer_client, call):
    add(reviewer_client, call.id, text="Seen by all")
    page = viewer_client.get(notes_url(call.id))
    assert page.status_code == 200
    assert "Seen by all" in page.content.decode()
    assert "adding them needs the Reviewer role" in page.content.decode()
    assert 'id="note-form"' not in page.content.decode()
    refused = add(viewer_client, call.id, text="Not stored")
    assert refused.status_code == 403
    assert TurnNote.objects.count() == 1
    assert AuditEvent.objects.filter(action="add_note").count() == 1


# --- one note ----------------------------------------------------------------------------------


def test_a_notes_link_opens_the_call_at_the_note(viewer_client, reviewer_client, call):
    add(reviewer_client, call.id)
    note = TurnNote.objects.get()
    response = viewer_client.get(f"/calls/notes/{note.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/calls/{call.id}/#note-{note.pk}"
    assert viewer_client.get("/calls/notes/999/").status_code == 404


def test_a_note_on_a_late_turn_links_to_its_page_of_the_transcript(viewer_client, staff_user):
    note = TurnNote.objects.create(call_id="call_x", turn=2500, text="x", author=staff_user)
    response = viewer_client.get(f"/calls/notes/{note.pk}/")
    assert response["Location"] == f"/calls/call_x/?turns=2#note-{note.pk}"


def test_resolving_with_htmx_swaps_the_note_and_announces_it(reviewer_client, reviewer, call):
    add(reviewer_client, call.id)
    note = TurnNote.objects.get()
    response = reviewer_client.post(f"/calls/notes/{note.pk}/resolve", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li class="turn-note resolved" id="note-{note.pk}"')
    assert "Resolved by rita" in html and ">Resolve<" not in html
    assert json.loads(response["HX-Trigger"]) == {"notes:announce": {"message": "Note resolved."}}
    again = reviewer_client.post(f"/calls/notes/{note.pk}/resolve", **HTMX)
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action="resolve_note").count() == 1


def test_resolving_without_javascript_goes_back_where_it_was_asked(reviewer_client, call):
    add(reviewer_client, call.id)
    note = TurnNote.objects.get()
    back = reviewer_client.post(f"/calls/notes/{note.pk}/resolve", {"next": "/for-you/?notes=1"})
    assert (back.status_code, back["Location"]) == (303, "/for-you/?notes=1")
    elsewhere = reviewer_client.post(
        f"/calls/notes/{note.pk}/resolve", {"next": "https://evil.example/"}
    )
    assert elsewhere["Location"] == f"/calls/{call.id}/#note-{note.pk}"


def test_a_viewer_cannot_resolve_and_a_missing_note_is_a_404(viewer_client, reviewer_client, call):
    add(reviewer_client, call.id)
    note = TurnNote.objects.get()
    assert viewer_client.post(f"/calls/notes/{note.pk}/resolve").status_code == 403
    note.refresh_from_db()
    assert note.resolved_at is None
    assert reviewer_client.post("/calls/notes/999/resolve").status_code == 404


# --- For you -----------------------------------------------------------------------------------


def test_for_you_lists_my_mentions_and_the_calls_handed_to_me(
    viewer_client, viewer, reviewer_client, reviewer, call
):
    add(reviewer_client, call.id, text="@Victor can you listen to this? <i>now</i>")
    Review.objects.create(
        call_id=call.id,
        verdict="follow-up",
        note="Yours\nplease",
        reviewer=reviewer,
        assigned_to=viewer,
    )
    note = TurnNote.objects.get()
    html = viewer_client.get("/for-you/").content.decode()
    assert 'Notes that mention you <span class="count">(1 open)' in html
    assert f'href="/calls/notes/{note.pk}/">Call <code>{call.id}</code>, turn 2</a>' in html
    assert "can you listen to this? &lt;i&gt;now&lt;/i&gt;" in html
    assert ">Resolve<" not in html  # a viewer
    assert 'Calls handed to you <span class="count">(1)' in html
    assert "Yours<br>please" in html and "Follow-up" in html


def test_for_you_is_empty_with_a_word_on_how_it_fills(viewer_client):
    html = viewer_client.get("/for-you/").content.decode()
    assert "No open note mentions you. When a teammate writes @victor" in html
    assert "No call is handed to you." in html


def test_for_you_pages_through_many_notes(viewer_client, viewer, reviewer):
    for number in range(25):
        note = TurnNote.objects.create(
            call_id=f"c{number}", turn=1, text=f"n{number}", author=reviewer
        )
        note.mentions.add(viewer)
    first = viewer_client.get("/for-you/").content.decode()
    second = viewer_client.get("/for-you/?notes=2").content.decode()
    # Each note's text ends at its tag ("n24<"): a bare "n24" can occur in the page's CSRF token.
    assert "n24<" in first and "n4<" not in first and "Page 1 of 2" in first
    assert "n4<" in second and "n24<" not in second
    assert viewer_client.get("/for-you/?notes=3").status_code == 404
    refused = viewer_client.get("/for-you/?notes=abc&handed=0")
    assert refused.status_code == 400
    assert "Notes page: Enter a whole number." in refused.content.decode()
    assert "Handed calls page: Ensure this value is greater than or equal to 1." in (
        refused.content.decode()
    )
