"""Verdicts on calls: pass, fail or follow-up, with an optional note, by whom and when.

Each verdict is a new ``Review`` row (append-only); a call's latest row is its verdict and the
earlier ones its history, so a call can be reviewed again and nothing is lost. Rows reference
calls by id, archived or not. Every verdict is written with its audit row in one transaction:
if the audit row cannot be written, neither is the verdict, and the reviewer is told.
"""

import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from calls.models import AuditAction, Review, Verdict
from calls.services import audit
from calls.services.history import call_history, in_chunks, latest_rows

MAX_NOTE_CHARS = 2_000
_PEOPLE = ("reviewer", "assigned_to")


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewFacts:
    """A call's verdict as a row of a list or an export shows it."""

    verdict: str  # a Verdict value
    reviewer: str  # username
    at: datetime
    assigned_to: str | None  # username, for a follow-up handed to a teammate


def record_review(
    request: HttpRequest,
    *,
    call_id: str,
    verdict: Verdict | str,
    note: str = "",
    assigned_to: Any = None,
) -> Review:
    """Store the request's user's verdict on ``call_id`` and its audit row, both or neither.

    The caller has validated the values (``calls.review_forms.VerdictForm``); a database failure
    raises and stores nothing.
    """
    verdict = Verdict(verdict)
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"a note has at most {MAX_NOTE_CHARS} characters")
    reviewer: Any = request.user
    with transaction.atomic():
        review = Review.objects.create(
            call_id=call_id,
            verdict=verdict,
            note=note,
            reviewer=reviewer,
            assigned_to=assigned_to if verdict == Verdict.FOLLOW_UP else None,
        )
        detail = verdict.value
        if review.assigned_to is not None:
            detail += f" for {review.assigned_to.get_username()}"
        audit.record_strict(request, AuditAction.REVIEW_CALL, call_id=call_id, detail=detail)
    return review


def latest_reviews(call_ids: Iterable[str]) -> dict[str, Review]:
    """Each call's verdict (its latest review), for many calls at once; unreviewed calls are
    left out."""
    return latest_rows(Review, call_ids, *_PEOPLE)


def review_facts(call_ids: Iterable[str]) -> dict[str, ReviewFacts]:
    """``latest_reviews`` as plain values, for a list's rows or an export."""
    return {
        call_id: ReviewFacts(
            verdict=review.verdict,
            reviewer=review.reviewer.get_username(),
            at=review.at,
            assigned_to=review.assigned_to.get_username() if review.assigned_to else None,
        )
        for call_id, review in latest_reviews(call_ids).items()
    }


def review_history(call_id: str) -> list[Review]:
    """Every verdict on the call, newest (the one that counts) first."""
    return call_history(Review, call_id, *_PEOPLE)


def reviewed_ids(call_ids: Iterable[str]) -> set[str]:
    """Which of ``call_ids`` have at least one verdict."""
    found: set[str] = set()
    for chunk in in_chunks(call_ids):
        rows = Review.objects.filter(call_id__in=chunk).values_list("call_id", flat=True)
        found.update(rows.distinct())
    return found


def verdict_counts(call_ids: Iterable[str]) -> dict[str, int]:
    """How many of the calls have each verdict now (their latest), every verdict listed."""
    counts = Counter(review.verdict for review in latest_reviews(call_ids).values())
    return {verdict.value: counts.get(verdict.value, 0) for verdict in Verdict}


def handed_to(user: Any) -> list[Review]:
    """Follow-ups handed to ``user`` that are still theirs: calls whose verdict (latest review)
    is a follow-up assigned to them, newest first."""
    candidates = Review.objects.filter(assigned_to=user, verdict=Verdict.FOLLOW_UP)
    call_ids = candidates.values_list("call_id", flat=True).distinct()
    latest = latest_reviews(list(call_ids))
    mine = [
        review
        for review in latest.values()
        if review.verdict == Verdict.FOLLOW_UP and review.assigned_to_id == user.pk
    ]
    return sorted(mine, key=lambda review: (review.at, review.pk), reverse=True)
