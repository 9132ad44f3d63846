"""Suspicious labels in the archive: decisive AI outcomes the call itself cannot support.

A decisive outcome (the contact committed to something, which takes some talking) is suspicious
when the contact said fewer than ``SUSPICIOUS_MIN_CONTACT_WORDS`` words or the call lasted less
than ``SUSPICIOUS_MIN_SECONDS``. The archive counts the contact's words when it stores a call
(``ArchivedCall.contact_words``), so the database answers the whole rule and a list filtered by
it pages in SQL. The same rule over one call, with its reasons as sentences, is
calls.services.suspicious.
"""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower, Replace, Trim

from calls.models import ArchivedCall
from calls.truedy.records import Turn

# Outcomes that say the contact committed to something: Truedy's documented labels, the
# simulator's, and the "demo booked" users report. As outcome_key writes them.
DECISIVE_OUTCOMES = frozenset(
    {
        "interested",
        "callback-requested",
        "booked",
        "demo-booked",
        "escalated",
        "confirmed",
        "rescheduled",
    }
)
CONTACT = "contact"


def outcome_key(outcome: str | None) -> str:
    """An outcome label as compared: "Demo_Booked" and "demo booked" are "demo-booked"."""
    return "-".join((outcome or "").replace("_", " ").replace("-", " ").lower().split())


def is_decisive(outcome: str | None) -> bool:
    return outcome_key(outcome) in DECISIVE_OUTCOMES


def word_count(text: str) -> int:
    """Words as a listener counts them: "Yeah, who's this?" is 3; a lone "…" is none."""
    return sum(1 for token in text.split() if any(char.isalnum() for char in token))


def contact_words(turns: Iterable[Turn]) -> int:
    return sum(word_count(turn.text) for turn in turns if turn.speaker == CONTACT)


def stored_contact_words(transcript: Any) -> int | None:
    """``contact_words`` over turns as the archive stores them (checked, not trusted: None for
    something that is not a list of turns)."""
    if not isinstance(transcript, list):
        return None
    texts = [
        turn.get("text")
        for turn in transcript
        if isinstance(turn, dict) and turn.get("speaker") == CONTACT
    ]
    return sum(word_count(text) for text in texts if isinstance(text, str))


def decisive_archived_calls(calls: QuerySet[ArchivedCall]) -> QuerySet[ArchivedCall]:
    """Those of ``calls`` whose outcome is decisive, normalised by the database as by
    ``outcome_key`` (case, ``_`` and spaces; inner runs of spaces are not folded)."""
    key = Lower(Replace(Replace(Trim("outcome"), Value("_"), Value("-")), Value(" "), Value("-")))
    return calls.alias(outcome_key=key).filter(outcome_key__in=DECISIVE_OUTCOMES)


def suspicious_archived_calls(
    calls: QuerySet[ArchivedCall],
    *,
    min_contact_words: int | None = None,
    min_seconds: int | None = None,
) -> QuerySet[ArchivedCall]:
    """Those of ``calls`` the rule flags, in ``calls``' order, in one query."""
    words = (
        settings.SUSPICIOUS_MIN_CONTACT_WORDS if min_contact_words is None else min_contact_words
    )
    seconds = settings.SUSPICIOUS_MIN_SECONDS if min_seconds is None else min_seconds
    return decisive_archived_calls(calls).filter(
        Q(duration_seconds__lt=seconds) | Q(contact_words__lt=words)
    )
