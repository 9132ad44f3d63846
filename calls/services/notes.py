"""Notes on transcript turns: add, resolve, @mentions, and what each user is asked to look at.

A note sits on a 1-based turn of a call's transcript, or on a moment (``?t=`` seconds) and the
turn spoken then. ``@username`` mentions an active staff member (case-insensitively); a name
nobody has stays as text and is reported back, never refused. Every note added or resolved is
in the audit log in the same transaction: if its row cannot be written, nothing is.
"""

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils import timezone

from calls.models import AuditAction, TurnNote
from calls.services import audit
from calls.services.calls import call_or_archived
from calls.services.history import in_chunks
from calls.truedy.client import format_timestamp
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.records import Call

MAX_NOTE_CHARS = 2000
# "@name" where a word does not go on before it (so "ops@example.com" mentions nobody); the
# characters are those Django allows in a username.
_MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]+)")
_TRAILING = ".,;:!?-"  # "thanks @alice." mentions alice


@dataclasses.dataclass(frozen=True, slots=True)
class Mentions:
    users: tuple[Any, ...]  # active staff users, each once
    unknown: tuple[str, ...]  # names as typed (without "@") that are nobody's


@dataclasses.dataclass(frozen=True, slots=True)
class AddedNote:
    note: TurnNote
    unknown_mentions: tuple[str, ...]


def parse_mentions(text: str) -> Mentions:
    """The staff members ``text`` mentions, and the mentioned names that match nobody."""
    typed = list(dict.fromkeys(match.group(1) for match in _MENTION.finditer(text)))
    if not typed:
        return Mentions((), ())
    wanted = {name.lower() for name in typed} | {name.rstrip(_TRAILING).lower() for name in typed}
    staff = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .annotate(name_key=Lower("username"))
        .filter(name_key__in=wanted)
    )
    by_name = {user.name_key: user for user in staff}
    users: dict[Any, Any] = {}
    unknown: list[str] = []
    for name in typed:
        user = by_name.get(name.lower()) or by_name.get(name.rstrip(_TRAILING).lower())
        if user is not None:
            users.setdefault(user.pk, user)
        elif name.rstrip(_TRAILING) and name.rstrip(_TRAILING) not in unknown:
            unknown.append(name.rstrip(_TRAILING))
    return Mentions(tuple(users.values()), tuple(unknown))


def call_for_notes(call_id: str) -> Call | None:
    """The call a note is being added to, to check its turn and moment against: None when
    Truedy cannot say right now (the note is still taken). Raises ``NotFound`` for a call that
    neither Truedy nor the archive has."""
    try:
        return call_or_archived(call_id).call
    except NotFound:
        raise
    except TruedyError:
        return None


def add_note(
    *, request: HttpRequest, call_id: str, text: str, turn: int | None, seconds: float | None
) -> AddedNote:
    """A note by the request's user, with its mentions and its audit row, all or nothing.

    Raises ``DatabaseError`` when it cannot be stored (then nothing is)."""
    mentions = parse_mentions(text)
    author: Any = request.user  # signed in: the view let only a reviewer through
    with transaction.atomic():
        note = TurnNote.objects.create(
            call_id=call_id, turn=turn, seconds=seconds, text=text, author=author
        )
        note.mentions.set(mentions.users)
        audit.record_strict(
            request, AuditAction.ADD_NOTE, call_id=call_id, detail=f"note {note.pk}{_where(note)}"
        )
    return AddedNote(note, mentions.unknown)


def resolve_note(*, request: HttpRequest, note_id: int) -> TurnNote:
    """Mark a note resolved by the request's user. A note already resolved stays as it was (by
    whoever resolved it first) and writes nothing. Raises ``TurnNote.DoesNotExist``."""
    resolver: Any = request.user  # signed in: the view let only a reviewer through
    with transaction.atomic():
        note = TurnNote.objects.select_for_update().get(pk=note_id)
        if note.resolved_at is None:
            note.resolved_at = timezone.now()
            note.resolved_by = resolver
            note.save(update_fields=["resolved_at", "resolved_by"])
            audit.record_strict(
                request, AuditAction.RESOLVE_NOTE, call_id=note.call_id, detail=f"note {note.pk}"
            )
    return with_people(TurnNote.objects.filter(pk=note_id)).get()


def _where(note: TurnNote) -> str:
    place = f" on turn {note.turn}" if note.turn is not None else ""
    return place + (f" at {note.seconds:g} s" if note.seconds is not None else "")


# --- reading ----------------------------------------------------------------------------------


def with_people(notes: QuerySet[TurnNote]) -> QuerySet[TurnNote]:
    """Notes with their author, resolver and mentions loaded (one query each, not per note)."""
    return notes.select_related("author", "resolved_by").prefetch_related("mentions")


def notes_of_call(call_id: str) -> list[TurnNote]:
    """Every note on the call, by turn (moment-only notes first), then oldest first."""
    return list(with_people(TurnNote.objects.filter(call_id=call_id)).order_by("turn", "at", "id"))


def notes_on_turn(call_id: str, turn: int | None) -> list[TurnNote]:
    """The notes on one turn of the call (``None``: its notes on a moment without a turn)."""
    return list(
        with_people(TurnNote.objects.filter(call_id=call_id, turn=turn)).order_by("at", "id")
    )


def notes_by_turn(notes: Iterable[TurnNote]) -> dict[int | None, list[TurnNote]]:
    """``notes`` grouped by their turn number (None: a moment of a call without a transcript)."""
    grouped: dict[int | None, list[TurnNote]] = defaultdict(list)
    for note in notes:
        grouped[note.turn].append(note)
    return dict(grouped)


def open_note_counts(call_ids: Iterable[str]) -> dict[str, int]:
    """Open notes per call, for any number of ids; a call without any is left out."""
    counts: dict[str, int] = {}
    for chunk in in_chunks(call_ids):
        rows = (
            TurnNote.objects.filter(call_id__in=chunk, resolved_at__isnull=True)
            .values("call_id")
            .annotate(open=Count("id"))
            .values_list("call_id", "open")
        )
        counts.update(rows)
    return counts


def calls_with_open_notes() -> QuerySet[TurnNote, Any]:
    """The ids of calls with an open note, as a subquery (``id__in=calls_with_open_notes()``)."""
    return TurnNote.objects.filter(resolved_at__isnull=True).values("call_id")


def open_notes_mentioning(user: Any) -> QuerySet[TurnNote]:
    """Open notes that mention ``user``, newest first: their *For you* notes."""
    return with_people(TurnNote.objects.filter(mentions=user, resolved_at__isnull=True)).order_by(
        "-at", "-id"
    )


def notes_document(call_id: str) -> list[dict[str, Any]]:
    """The call's notes for its transcript JSON: times in UTC ISO 8601, people by username."""
    return [_note_document(note) for note in notes_of_call(call_id)]


def _note_document(note: TurnNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "turn": note.turn,
        "seconds": note.seconds,
        "text": note.text,
        "author": note.author.get_username(),
        "at": format_timestamp(note.at),
        "mentions": mentioned_names(note),
        "resolved_at": format_timestamp(note.resolved_at) if note.resolved_at else None,
        "resolved_by": note.resolved_by.get_username() if note.resolved_by else None,
    }


def mentioned_names(note: TurnNote) -> Sequence[str]:
    return sorted(user.get_username() for user in note.mentions.all())
