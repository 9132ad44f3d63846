"""Scorecards: what an admin defines, what a reviewer fills in, and the automatic score.

- **Versions.** A scorecard's definition (name, the agents it applies to, its questions) is a
  ``ScorecardVersion``; saving an edit makes a new one and leaves the old one as it was, so a
  score always reads against the questions it was given on. Saving what is already there makes
  no version.
- **The score** is a weighted percentage: each answered question with weight earns
  ``weight * credit`` (yes 1, no 0; a scale's step k of N, k/N; a choice its option's credit),
  over the sum of those questions' weights. "Not applicable", an unknown automatic answer and an
  unanswered optional question drop out of both; text is never scored. Nothing to score: None.
- **Automatic questions** are yes/no questions with a check (``automatic_checks``); a reviewer's
  form is pre-answered with each check's answer and evidence, and an answer that differs from
  the check's is stored as a ``CheckOverride`` (who, when, from what to what).
- **The automatic score** is the same arithmetic over the automatic questions alone, for every
  archived call without a reviewer (``score_archived_call``; calls/background/scoring.py runs it
  whenever the archive stores a call, and sweeps for calls a new version has not scored yet).

Every write goes with its audit row in one transaction, both or neither.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from calls.archive.store import TERMINAL_RANK, retry_if_locked, status_rank, to_record
from calls.models import (
    ArchivedCall,
    AuditAction,
    AutomaticScore,
    CheckOverride,
    QuestionKind,
    Scorecard,
    ScorecardQuestion,
    ScorecardScore,
    ScorecardVersion,
    WebhookEvent,
)
from calls.services import audit, page_cache
from calls.services.automatic_checks import CallFacts, CheckResult, run_check
from calls.truedy.records import Call

logger = logging.getLogger("calls.scorecards")

NOT_APPLICABLE = "na"
MAX_WEIGHT = 100
MAX_SCALE = 10
MAX_QUESTIONS = 40
MAX_TEXT_ANSWER = 2_000
# A call is scored automatically once it has ended (or failed, or was cancelled).
FINAL_RANK = TERMINAL_RANK
FINAL_STATUSES = ("ended", "failed", "cancelled")
SWEEP_BATCH = 500

# --- definitions -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Option:
    label: str
    credit: int  # percent of the question's weight


@dataclasses.dataclass(frozen=True, slots=True)
class QuestionSpec:
    text: str
    kind: str  # a QuestionKind value
    weight: int = 1
    mandatory: bool = False
    allow_na: bool = False
    scale_max: int | None = None
    options: tuple[Option, ...] = ()
    auto_check: Mapping[str, Any] | None = None

    def stored(self) -> dict[str, Any]:
        """As the question's row holds it (what makes two definitions the same)."""
        return {
            "text": self.text,
            "kind": self.kind,
            "weight": self.weight,
            "mandatory": self.mandatory,
            "allow_na": self.allow_na,
            "scale_max": self.scale_max if self.kind == QuestionKind.SCALE else None,
            "options": [dataclasses.asdict(option) for option in self.options]
            if self.kind == QuestionKind.CHOICE
            else [],
            "auto_check": dict(self.auto_check)
            if self.auto_check and self.kind == QuestionKind.YES_NO
            else None,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class ScorecardSpec:
    name: str
    description: str = ""
    agent_ids: tuple[str, ...] = ()  # empty: every call
    questions: tuple[QuestionSpec, ...] = ()

    def stored(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "agent_ids": sorted(set(self.agent_ids)),
            "questions": [question.stored() for question in self.questions],
        }


def spec_of(version: ScorecardVersion) -> ScorecardSpec:
    """A version's definition, as the editor starts from it."""
    return ScorecardSpec(
        name=version.name,
        description=version.description,
        agent_ids=tuple(version.agent_ids or ()),
        questions=tuple(
            QuestionSpec(
                text=question.text,
                kind=question.kind,
                weight=question.weight,
                mandatory=question.mandatory,
                allow_na=question.allow_na,
                scale_max=question.scale_max,
                options=tuple(
                    Option(str(option["label"]), int(option["credit"]))
                    for option in question.options or ()
                ),
                auto_check=question.auto_check,
            )
            for question in version.questions.all()
        ),
    )


def save_scorecard(
    request: HttpRequest, *, scorecard: Scorecard | None, spec: ScorecardSpec
) -> ScorecardVersion | None:
    """A new scorecard (``scorecard`` None) or a new version of one; None when ``spec`` is
    what the current version already says (nothing is written). The caller validated ``spec``
    (``calls.scorecard_forms``)."""
    if not spec.questions:
        raise ValueError("a scorecard has at least one question")
    user: Any = request.user
    with transaction.atomic():
        if scorecard is None:
            scorecard = Scorecard.objects.create(created_by=user)
            number = 1
        else:
            scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
            current = latest_version(scorecard)
            if current is not None and spec_of(current).stored() == spec.stored():
                return None
            number = (current.number if current else 0) + 1
        version = _write_version(scorecard, number, spec, user)
        audit.record_strict(
            request,
            AuditAction.CHANGE_SCORECARD,
            detail=f"{spec.name} (scorecard {scorecard.pk}) version {number}",
        )
    return version


def _write_version(
    scorecard: Scorecard, number: int, spec: ScorecardSpec, user: Any
) -> ScorecardVersion:
    version = ScorecardVersion.objects.create(
        scorecard=scorecard,
        number=number,
        name=spec.name,
        description=spec.description,
        agent_ids=sorted(set(spec.agent_ids)),
        created_by=user,
    )
    ScorecardQuestion.objects.bulk_create(
        ScorecardQuestion(version=version, position=position, **question.stored())
        for position, question in enumerate(spec.questions, start=1)
    )
    return version


def seed_scorecard(spec: ScorecardSpec) -> ScorecardVersion | None:
    """Make ``spec`` a scorecard unless one of that name exists (None then): for
    ``seed_demo_user``, a command rather than a person, so no audit row and nobody's name."""
    with transaction.atomic():
        if ScorecardVersion.objects.filter(name=spec.name).exists():
            return None
        return _write_version(Scorecard.objects.create(), 1, spec, None)


def demo_scorecard() -> ScorecardSpec:
    """The demo scorecard ``make run`` seeds: every kind of question and of automatic check,
    tuned to the simulator's calls."""
    yes_no = QuestionKind.YES_NO
    return ScorecardSpec(
        name="Call quality (demo)",
        description="A demo of every kind of question: automatic checks answered from the "
        "transcript, and questions a reviewer answers.",
        questions=(
            QuestionSpec(
                "The agent says it is an AI or automated assistant",
                yes_no,
                weight=3,
                mandatory=True,
                auto_check={
                    "kind": "phrase",
                    "speaker": "agent",
                    "phrases": "AI assistant|automated assistant|virtual assistant",
                    "said": True,
                },
            ),
            QuestionSpec(
                "The agent closes the call politely",
                yes_no,
                auto_check={
                    "kind": "phrase",
                    "speaker": "agent",
                    "phrases": "goodbye|bye|have a great day|have a good day|have a lovely day"
                    "|talk to you then",
                    "said": True,
                },
            ),
            QuestionSpec(
                "The contact never says they cannot hear the agent",
                yes_no,
                auto_check={
                    "kind": "phrase",
                    "speaker": "contact",
                    "phrases": "can't hear|cannot hear|breaking up",
                    "said": False,
                },
            ),
            QuestionSpec(
                "No silence longer than 10 s",
                yes_no,
                auto_check={"kind": "longest_silence", "max_seconds": 10.0},
            ),
            QuestionSpec(
                "The agent talks 30 to 70 % of the time",
                yes_no,
                auto_check={"kind": "talk_share", "min_percent": 30.0, "max_percent": 70.0},
            ),
            QuestionSpec(
                "The call lasts 20 s to 15 min",
                yes_no,
                auto_check={"kind": "duration", "min_seconds": 20.0, "max_seconds": 900.0},
            ),
            QuestionSpec(
                "The contact ends the call",
                yes_no,
                allow_na=True,
                auto_check={"kind": "ended_by", "party": "contact"},
            ),
            QuestionSpec(
                "How well did the agent handle the call?",
                QuestionKind.SCALE,
                weight=2,
                mandatory=True,
                scale_max=5,
            ),
            QuestionSpec(
                "Was the contact's request resolved?",
                QuestionKind.CHOICE,
                weight=2,
                allow_na=True,
                options=(Option("Resolved", 100), Option("Partly", 50), Option("Not resolved", 0)),
            ),
            QuestionSpec("Coaching note", QuestionKind.TEXT, weight=0),
        ),
    )


def set_retired(request: HttpRequest, scorecard: Scorecard, *, retired: bool) -> None:
    """Retire a scorecard (no longer offered, nor computed; its scores stay) or bring it back."""
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        scorecard.retired_at = timezone.now() if retired else None
        scorecard.save(update_fields=["retired_at"])
        what = "retired" if retired else "restored"
        audit.record_strict(
            request, AuditAction.CHANGE_SCORECARD, detail=f"scorecard {scorecard.pk} {what}"
        )


def latest_version(scorecard: Scorecard) -> ScorecardVersion | None:
    return scorecard.versions.order_by("-number").first()


def _with_questions(versions: QuerySet[ScorecardVersion]) -> QuerySet[ScorecardVersion]:
    return versions.select_related("scorecard", "created_by").prefetch_related(
        Prefetch("questions", queryset=ScorecardQuestion.objects.order_by("position", "id"))
    )


def version_with_questions(version_id: int) -> ScorecardVersion | None:
    return _with_questions(ScorecardVersion.objects.filter(pk=version_id)).first()


def scorecards_overview() -> list[tuple[Scorecard, ScorecardVersion]]:
    """Every scorecard with its newest version, active ones first, then by name."""
    newest = _with_questions(ScorecardVersion.objects.filter(id__in=_newest_ids()))
    rows = [(version.scorecard, version) for version in newest]
    return sorted(rows, key=lambda row: (row[0].retired_at is not None, row[1].name.casefold()))


def _newest_ids() -> QuerySet[ScorecardVersion, Any]:
    newest = ScorecardVersion.objects.filter(scorecard=OuterRef("scorecard")).order_by("-number")
    return ScorecardVersion.objects.filter(id=newest.values("id")[:1]).values("id")


def _current_versions() -> list[ScorecardVersion]:
    """Every scorecard's current version with its questions, as every call page reads them:
    from the cache while no write of the app's models changed them (the pages' generation:
    a new version, its questions in the same transaction, a scorecard retired)."""
    return cast(
        list[ScorecardVersion],
        page_cache.cached_value(
            "scorecard-versions",
            lambda: list(_with_questions(ScorecardVersion.objects.current())),
        ),
    )


def applicable_versions(
    agent_id: str | None, *, every_agent: bool = False
) -> list[ScorecardVersion]:
    """The current version of every active scorecard that applies to calls of ``agent_id``
    (``every_agent``: whatever agents they apply to), with their questions, by name."""
    current = _current_versions()
    found = [version for version in current if every_agent or version.applies_to(agent_id)]
    return sorted(found, key=lambda version: (version.name.casefold(), version.pk))


# --- the arithmetic -------------------------------------------------------------------------


def credit(question: ScorecardQuestion | QuestionSpec, answer: Any) -> float | None:
    """What an answer earns, 0 to 1 of the question's weight; None when it does not count
    (not applicable, unanswered, text, or a value that is not an answer)."""
    if answer is None or answer == NOT_APPLICABLE:
        return None
    kind = question.kind
    if kind == QuestionKind.YES_NO:
        return {"yes": 1.0, "no": 0.0}.get(answer)
    if kind == QuestionKind.SCALE:
        top = question.scale_max or 0
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= top:
            return None
        return answer / top if top else None
    if kind == QuestionKind.CHOICE:
        options = list(question.options or ())
        if isinstance(answer, bool) or not isinstance(answer, int):
            return None
        if not 0 <= answer < len(options):
            return None
        option = options[answer]
        value = option.credit if isinstance(option, Option) else option["credit"]
        return max(0.0, min(1.0, int(value) / 100))
    return None


def weighted_percentage(items: Iterable[tuple[int, float | None]]) -> float | None:
    """``(weight, credit)`` pairs as a percentage of the weight that counts: a credit of None
    (not applicable, unknown) and a weight of 0 drop out of the denominator. None when nothing
    counts; otherwise 0 to 100, rounded to one decimal."""
    earned = possible = 0.0
    for weight, share in items:
        if share is None or weight <= 0:
            continue
        earned += weight * share
        possible += weight
    if possible <= 0:
        return None
    return round(100.0 * earned / possible, 1)


def score_of(version: ScorecardVersion, answers: Mapping[str, Any]) -> float | None:
    """A filled scorecard's score: ``answers`` maps each question's id (as text) to its answer."""
    return weighted_percentage(
        (question.weight, credit(question, answers.get(str(question.pk))))
        for question in version.questions.all()
    )


def shown_score(score: float | None) -> str:
    """ "85 %", "79.5 %", or "no score"."""
    if score is None:
        return "no score"
    return f"{score:.0f} %" if score == int(score) else f"{score:.1f} %"


# --- automatic answers ------------------------------------------------------------------------


def end_reason_for(call: Call) -> str | None:
    """How Truedy says the call ended: its metadata's ``end_reason`` if it has one, else the
    newest stored webhook about it that carries one (``endReason`` in the voice engine's
    camelCase, ``end_reason`` flat). None when Truedy never said."""
    for key in ("end_reason", "endReason"):
        value = call.metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:64]
    events = WebhookEvent.objects.filter(
        call_id=call.id, event__in=("call.ended", "call.completed", "call.failed")
    ).order_by("-received_at", "-id")
    for raw in events.values_list("raw_body", flat=True)[:5]:
        found = _end_reason_in(raw)
        if found:
            return found
    return None


def _end_reason_in(raw: str) -> str | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return None
    inner = data.get("call")
    places: list[dict[str, Any]] = [data, inner] if isinstance(inner, dict) else [data]
    for place in places:
        for key in ("end_reason", "endReason"):
            value = place.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:64]
    return None


def facts_of(call: Call, *, end_reason: str | None) -> CallFacts:
    return CallFacts.of(
        call.transcript,
        None if call.duration_seconds is None else float(call.duration_seconds),
        end_reason,
        dead_air_seconds=settings.DEAD_AIR_SECONDS,
        # Truedy's duration runs from answer to hang-up: a call with neither never connected.
        answered=call.started_at is not None or bool(call.duration_seconds),
    )


def automatic_results(version: ScorecardVersion, facts: CallFacts) -> dict[int, CheckResult]:
    """Each automatic question's answer about the call, by question id. A check stored in a
    shape that no longer reads answers "unknown" instead of failing the page."""
    results: dict[int, CheckResult] = {}
    for question in version.questions.all():
        if not question.auto_check:
            continue
        try:
            results[question.pk] = run_check(question.auto_check, facts)
        except ValueError as error:
            logger.warning("scorecard question %s has a check that cannot run", question.pk)
            results[question.pk] = CheckResult(None, f"This check cannot run: {error}")
    return results


def automatic_score(version: ScorecardVersion, results: Mapping[int, CheckResult]) -> float | None:
    """The weighted percentage over the automatic questions with a known answer."""
    return weighted_percentage(
        (question.weight, credit(question, results[question.pk].answer))
        for question in version.questions.all()
        if question.pk in results
    )


# --- a reviewer's score -------------------------------------------------------------------------


def record_score(
    request: HttpRequest,
    *,
    call_id: str,
    version: ScorecardVersion,
    answers: Mapping[str, Any],
    automatic: Mapping[int, CheckResult],
) -> ScorecardScore:
    """Store the request's user's filled scorecard, each override of an automatic answer, and
    the audit row: all or nothing. ``answers`` (question id as text → answer) were validated by
    ``calls.scorecard_forms.ScoreForm``; ``automatic`` are the checks' answers now."""
    reviewer: Any = request.user
    stored: dict[str, dict[str, Any]] = {}
    overridden: list[tuple[ScorecardQuestion, CheckResult, Any]] = []
    for question in version.questions.all():
        answer = answers.get(str(question.pk))
        entry: dict[str, Any] = {"answer": answer}
        result = automatic.get(question.pk)
        if result is not None:
            entry["automatic"] = result.shown
            entry["evidence"] = result.evidence[:500]
            if result.seconds is not None:
                entry["seconds"] = round(result.seconds, 2)
            if answer != result.answer:
                overridden.append((question, result, answer))
        stored[str(question.pk)] = entry
    score = score_of(version, answers)
    with transaction.atomic():
        row = ScorecardScore.objects.create(
            call_id=call_id, version=version, score=score, answers=stored, reviewer=reviewer
        )
        CheckOverride.objects.bulk_create(
            CheckOverride(
                score=row,
                question=question,
                call_id=call_id,
                automatic=result.shown,
                answer="" if answer is None else str(answer),
                evidence=result.evidence[:500],
                by=reviewer,
                at=row.at,
            )
            for question, result, answer in overridden
        )
        detail = f"{shown_score(score)} on {version.name} (version {version.number})"
        if overridden:
            detail += f"; {len(overridden)} automatic answer{'s' if len(overridden) > 1 else ''}"
            detail += " overridden"
        audit.record_strict(request, AuditAction.SCORE_CALL, call_id=call_id, detail=detail)
    return row


def score_history(call_id: str) -> list[ScorecardScore]:
    """Every filled scorecard of the call, newest first, with who, the version and overrides."""
    return list(
        ScorecardScore.objects.filter(call_id=call_id)
        .select_related("reviewer", "version", "version__scorecard")
        .prefetch_related("overrides__question", "overrides__by")
        .order_by("-at", "-id")
    )


def latest_by_scorecard(history: Sequence[ScorecardScore]) -> dict[int, ScorecardScore]:
    """Of a call's history (newest first), the score that counts for each scorecard."""
    latest: dict[int, ScorecardScore] = {}
    for row in history:
        latest.setdefault(row.version.scorecard_id, row)
    return latest


# --- the archive's automatic scores ---------------------------------------------------------------


def is_final(archived: ArchivedCall) -> bool:
    return status_rank(archived.status) >= FINAL_RANK


def score_archived_call(call_id: str, *, versions: Sequence[ScorecardVersion] | None = None) -> int:
    """Compute and store the call's automatic score on every current scorecard version that
    applies to it (replacing that version's earlier result); the number of scores stored. A
    call that has not ended yet is left for later."""
    archived = ArchivedCall.objects.filter(pk=call_id).first()
    if archived is None or not is_final(archived):
        return 0
    versions = applicable_versions(archived.agent_id) if versions is None else versions
    wanted = [version for version in versions if version.applies_to(archived.agent_id)]
    if not any(question.auto_check for version in wanted for question in version.questions.all()):
        return 0
    call = to_record(archived)
    facts = facts_of(call, end_reason=end_reason_for(call))
    now = timezone.now()
    for version in wanted:
        results = automatic_results(version, facts)
        row = {
            "score": automatic_score(version, results),
            "results": [
                {
                    "question": question_id,
                    "answer": result.shown,
                    "evidence": result.evidence[:500],
                    "seconds": None if result.seconds is None else round(result.seconds, 2),
                }
                for question_id, result in results.items()
            ],
            "computed_at": now,
        }
        _store_automatic(call_id, version, row)
    return len(wanted)


def _store_automatic(call_id: str, version: ScorecardVersion, row: dict[str, Any]) -> None:
    def store() -> None:
        AutomaticScore.objects.update_or_create(call_id=call_id, version=version, defaults=row)

    retry_if_locked(store)


def unscored_call_ids(limit: int = SWEEP_BATCH) -> list[str]:
    """Ended archived calls whose automatic score on some current version is missing, or older
    than the call's last change: what a sweep computes next (at most ``limit``)."""
    found: dict[str, None] = {}
    for version in ScorecardVersion.objects.current():
        if not version.questions.filter(auto_check__isnull=False).exists():
            continue
        calls = ArchivedCall.objects.filter(status__in=FINAL_STATUSES)
        if version.agent_ids:
            calls = calls.filter(agent_id__in=version.agent_ids)
        fresh = AutomaticScore.objects.filter(
            call_id=OuterRef("id"), version=version, computed_at__gte=OuterRef("refreshed_at")
        )
        ids = (
            calls.filter(~Exists(fresh)).order_by("-created_at", "-id").values_list("id", flat=True)
        )
        for call_id in ids[: limit - len(found)]:
            found[call_id] = None
        if len(found) >= limit:
            break
    return list(found)


def automatic_scores_of(call_id: str) -> dict[int, AutomaticScore]:
    """The call's stored automatic scores on current versions, by version id."""
    rows = AutomaticScore.objects.current().filter(call_id=call_id)
    return {row.version_id: row for row in rows}


def any_automatic_questions() -> bool:
    """Whether any active scorecard has an automatic question (else nothing is computed)."""
    return ScorecardQuestion.objects.filter(
        version__in=ScorecardVersion.objects.current(), auto_check__isnull=False
    ).exists()
