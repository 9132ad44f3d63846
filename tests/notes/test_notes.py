"""Notes on turns as a service: mentions, adding and resolving (audited, all or nothing), counts
and what each user is asked to look at."""

import json

import pytest
from django.db import DatabaseError
from django.test import RequestFactory

from calls.models import AuditEvent, Review, TurnNote
from calls.services import notes
from calls.services.notes import (
    add_note,
    open_note_counts,
    open_notes_mentioning,
    parse_mentions,
    resolve_note,
)
from calls.services.reviews import handed_to
from tests.views.test_call_detail import an_ended_call_with_turns

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]


def request_by(user):
    request = RequestFactory().post("/", HTTP_USER_AGENT="pytest")
    request.user = user
    return request


@pytest.fixture
def team(django_user_model):
    make = django_user_model.objects.create_user
    return {
        "alice": make(username="Alice", password="x", is_staff=True),
        "bob.smith": make(username="bob.smith", password="x", is_staff=True),
        "gone": make(username="gone", password="x", is_staff=True, is_active=False),
        "guest": make(username="guest", password="x", is_staff=False),
    }


# --- mentions ----------------------------------------------------------------------------------


def test_mentions_match_active_staff_case_insensitively(team):
    found = parse_mentions("@alice and @BOB.SMITH, please check. Thanks @alice!")
    assert sorted(user.username for user in found.users) == ["Alice", "bob.smith"]
    assert found.unknown == ()


def test_unknown_names_are_reported_back_not_refused(team):
    found = parse_mentions("@nobody, @gone and @guest: see @alice.")
    assert [user.username for user in found.users] == ["Alice"]
    assert found.unknown == ("nobody", "gone", "guest")


def test_an_email_address_mentions_nobody(team):
    assert parse_mentions("write to ops@alice.com or alice@example.com") == notes.Mentions((), ())


def test_a_note_without_mentions_asks_the_database_nothing(team, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert parse_mentions("No one to tell here.") == notes.Mentions((), ())


# --- adding and resolving ----------------------------------------------------------------------


def test_a_note_is_stored_with_its_mentions_and_its_audit_row(team, staff_user):
    added = add_note(
        request=request_by(staff_user),
        call_id="call_0000001",
        text="@alice look at this, @ghost too",
        turn=3,
        seconds=None,
    )
    note = TurnNote.objects.get()
    assert (note.call_id, note.turn, note.author) == ("call_0000001", 3, staff_user)
    assert list(note.mentions.all()) == [team["alice"]]
    assert added.unknown_mentions == ("ghost",)
    event = AuditEvent.objects.get(action="add_note")
    assert (event.user, event.call_id, event.detail) == (
        staff_user,
        "call_0000001",
        f"note {note.pk} on turn 3",
    )
    assert "look at this" not in event.detail  # the text stays out of the log


def test_a_failed_audit_row_stores_no_note(staff_user, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(AuditEvent.objects, "create", refuse)
    with pytest.raises(DatabaseError):
        add_note(
            request=request_by(staff_user),
            call_id="call_0000001",
            text="Kept nowhere",
            turn=1,
            seconds=None,
        )
    assert not TurnNote.objects.exists()


def test_resolving_twice_is_harmless_and_audited_once(staff_user, django_user_model):
    other = django_user_model.objects.create_user(username="other", is_staff=True)
    note = TurnNote.objects.create(call_id="call_0000001", turn=1, text="x", author=staff_user)
    first = resolve_note(request=request_by(staff_user), note_id=note.pk)
    again = resolve_note(request=request_by(other), note_id=note.pk)
    assert first.resolved_by == again.resolved_by == staff_user
    assert first.resolved_at == again.resolved_at is not None
    assert AuditEvent.objects.filter(action="resolve_note").count() == 1


def test_resolving_a_missing_note_raises(staff_user):
    with pytest.raises(TurnNote.DoesNotExist):
        resolve_note(request=request_by(staff_user), note_id=999)


# --- reading -----------------------------------------------------------------------------------


def test_open_notes_are_counted_per_call_for_many_calls(staff_user, django_assert_num_queries):
    for call_id, resolved in [
        ("call_a", False),
        ("call_a", False),
        ("call_a", True),
        ("call_b", False),
    ]:
        note = TurnNote.objects.create(call_id=call_id, turn=1, text="x", author=staff_user)
        if resolved:
            resolve_note(request=request_by(staff_user), note_id=note.pk)
    ids = ["call_a", "call_b", "call_c", *(f"call_{n}" for n in range(1200))]
    with django_assert_num_queries(3):  # 500 ids a query
        counts = open_note_counts(ids)
    assert counts == {"call_a": 2, "call_b": 1}


def test_for_you_lists_open_notes_that_mention_me_newest_first(team, staff_user):
    alice = team["alice"]
    older = add_note(
        request=request_by(staff_user), call_id="c1", text="@alice 1", turn=1, seconds=None
    )
    newer = add_note(
        request=request_by(staff_user), call_id="c2", text="@Alice 2", turn=2, seconds=None
    )
    add_note(request=request_by(staff_user), call_id="c3", text="@bob.smith", turn=1, seconds=None)
    resolved = add_note(
        request=request_by(staff_user), call_id="c4", text="@alice", turn=1, seconds=None
    )
    resolve_note(request=request_by(alice), note_id=resolved.note.pk)
    assert list(open_notes_mentioning(alice)) == [newer.note, older.note]
    assert list(open_notes_mentioning(staff_user)) == []


def test_calls_handed_to_me_leave_my_list_once_reviewed_again(team, staff_user):
    alice = team["alice"]
    handed = Review.objects.create(
        call_id="c1", verdict="follow-up", reviewer=staff_user, assigned_to=alice
    )
    Review.objects.create(call_id="c2", verdict="follow-up", reviewer=staff_user, assigned_to=alice)
    Review.objects.create(call_id="c2", verdict="pass", reviewer=alice)
    assert handed_to(alice) == [handed]


def test_the_transcript_json_carries_the_calls_notes(staff_client, frozen_simulator, team):
    call_id = an_ended_call_with_turns(frozen_simulator)
    added = add_note(
        request=request_by(team["alice"]),
        call_id=call_id,
        text="<b>not html</b> @bob.smith",
        turn=2,
        seconds=12.5,
    )
    resolve_note(request=request_by(team["alice"]), note_id=added.note.pk)
    document = json.loads(staff_client.get(f"/calls/{call_id}/transcript.json").content)
    [note] = document["notes"]
    assert note["text"] == "<b>not html</b> @bob.smith"
    assert (note["turn"], note["seconds"], note["author"]) == (2, 12.5, "Alice")
    assert note["mentions"] == ["bob.smith"]
    assert note["resolved_by"] == "Alice" and note["resolved_at"].endswith("Z")
    assert note["at"].endswith("Z")
