"""Outcome corrections: a reviewer's outcome for a call, with a reason, in place of the AI's.

Truedy's AI labels each ended call with an outcome; reviewers find some of them wrong. A
correction never changes the AI's label: it is a new ``OutcomeCorrection`` row (append-only,
the AI's label kept beside it), and a call's *effective* outcome is its latest correction, else
the AI's. Lists, the call page, totals and the export show the effective one, marked.
"""

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from calls.labels import label
from calls.models import ArchivedCall, AuditAction, OutcomeCorrection
from calls.services import audit
from calls.services.history import call_history, latest_rows
from calls.truedy.records import KNOWN_OUTCOMES

MAX_LABEL_CHARS = 64
MAX_REASON_CHARS = 500
MAX_SUGGESTIONS = 60
# Letters and digits of any script, spaces, "-" and "_": nothing a page or a spreadsheet could
# read as markup or a formula.
_LABEL_RE = re.compile(r"[\w\- ]+")
_HAS_WORD_RE = re.compile(r"[^\W_]")


@dataclasses.dataclass(frozen=True, slots=True)
class EffectiveOutcome:
    ai_outcome: str | None  # Truedy's label
    outcome: str | None  # the one that counts: the latest correction, else the AI's
    corrected_by: str | None = None  # username of the latest correction's author
    at: datetime | None = None  # when it was made
    reason: str = ""

    @property
    def corrected(self) -> bool:
        return self.corrected_by is not None


def clean_label(text: str) -> str:
    """An outcome as stored: a known label if ``text`` names one ("Callback requested",
    "callback_requested"), else a free label in the same shape ("Demo booked" ->
    "demo-booked"). Raises ``ValueError`` with the reason when ``text`` cannot be one."""
    words = " ".join(text.split())
    if not words:
        raise ValueError("Give an outcome.")
    if len(words) > MAX_LABEL_CHARS:
        raise ValueError(
            f"An outcome has at most {MAX_LABEL_CHARS} characters (this one has {len(words)})."
        )
    if _LABEL_RE.fullmatch(words) is None or _HAS_WORD_RE.search(words) is None:
        raise ValueError("An outcome may hold only letters, digits, spaces, “-” and “_”.")
    slug = re.sub(r"[\s_-]+", "-", words.lower()).strip("-")
    for known in KNOWN_OUTCOMES:
        if slug == known.replace("_", "-"):
            return known
    return slug


def correct_outcome(
    request: HttpRequest, *, call_id: str, ai_outcome: str | None, outcome: str, reason: str
) -> OutcomeCorrection:
    """Store the request's user's outcome for ``call_id`` and its audit row, both or neither.

    ``outcome`` is what ``clean_label`` returned; ``reason`` is required."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"a reason of 1 to {MAX_REASON_CHARS} characters is required")
    author: Any = request.user
    with transaction.atomic():
        correction = OutcomeCorrection.objects.create(
            call_id=call_id,
            ai_outcome=ai_outcome or "",
            outcome=outcome,
            reason=reason,
            corrected_by=author,
        )
        audit.record_strict(
            request,
            AuditAction.CORRECT_OUTCOME,
            call_id=call_id,
            detail=f"{ai_outcome or '(none)'} -> {outcome}",
        )
    return correction


def effective_outcomes(ai_outcomes: Mapping[str, str | None]) -> dict[str, EffectiveOutcome]:
    """Call id -> its AI and effective outcome, for many calls at once (one query per 500).

    ``ai_outcomes`` maps each call id to Truedy's label for it."""
    latest = latest_rows(OutcomeCorrection, ai_outcomes, "corrected_by")
    return {
        call_id: _effective(ai_outcome, latest.get(call_id))
        for call_id, ai_outcome in ai_outcomes.items()
    }


def effective_from_history(
    ai_outcome: str | None, history: Sequence[OutcomeCorrection]
) -> EffectiveOutcome:
    """``effective_outcome`` from the call's ``correction_history`` (newest first), which a
    page reads anyway: no query of its own."""
    return _effective(ai_outcome, history[0] if history else None)


def _effective(ai_outcome: str | None, correction: OutcomeCorrection | None) -> EffectiveOutcome:
    if correction is None:
        return EffectiveOutcome(ai_outcome, ai_outcome)
    return EffectiveOutcome(
        ai_outcome=ai_outcome,
        outcome=correction.outcome,
        corrected_by=correction.corrected_by.get_username(),
        at=correction.at,
        reason=correction.reason,
    )


def effective_outcome(call_id: str, ai_outcome: str | None) -> EffectiveOutcome:
    return effective_outcomes({call_id: ai_outcome})[call_id]


def corrected_outcomes(call_ids: Iterable[str]) -> dict[str, str]:
    """Call id -> its corrected outcome, for the calls that have a correction."""
    return {
        call_id: row.outcome for call_id, row in latest_rows(OutcomeCorrection, call_ids).items()
    }


def correction_history(call_id: str) -> list[OutcomeCorrection]:
    """Every correction of the call's outcome, newest (the one that counts) first."""
    return call_history(OutcomeCorrection, call_id, "corrected_by")


def suggested_outcomes() -> list[tuple[str, str]]:
    """(value, words) of the outcomes a reviewer is offered: Truedy's documented labels, the
    ones the archive has seen and the ones reviewers have used."""
    seen = set(KNOWN_OUTCOMES)
    seen.update(
        ArchivedCall.objects.exclude(outcome="")
        .order_by()
        .values_list("outcome", flat=True)
        .distinct()[:MAX_SUGGESTIONS]
    )
    seen.update(
        OutcomeCorrection.objects.order_by()
        .values_list("outcome", flat=True)
        .distinct()[:MAX_SUGGESTIONS]
    )
    offered = {value for value in seen if _is_label(value)}
    return sorted(((value, label(value)) for value in offered), key=lambda pair: pair[1].casefold())


def _is_label(value: str) -> bool:
    try:
        return clean_label(value) == value
    except ValueError:
        return False
