"""Searching the archive: the calls a list's filters and its `q` select, and the line that matched.

Truedy cannot search transcripts, so `q` is answered from our archive (``ArchivedCall``) alone.
Every word must appear (in any order) in the call's ``search_text``, the transcript and summary
lower-cased by the archive; ``icontains`` works alike on SQLite and PostgreSQL.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from calls.archive.suspicious import suspicious_archived_calls
from calls.labels import speaker
from calls.models import ArchivedCall, Review, TurnNote
from calls.truedy.filters import CallFilters
from calls.truedy.lifecycle import TRUEDY_KEEPS_CALLS

# A matching line is shortened to about this many characters, the first match this far in.
LINE_CHARS = 160
CONTEXT_BEFORE = 50
ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def search_words(text: str | None) -> tuple[str, ...]:
    """The words of a search, lower-cased (as the archive's ``search_text`` is), each once."""
    return tuple(dict.fromkeys(word.lower() for word in (text or "").split()))


def matching_archived_calls(filters: CallFilters) -> QuerySet[ArchivedCall]:
    """Archived calls matching the list's filters (None or "" means no filter), newest first."""
    calls = ArchivedCall.objects.all()
    for name in ("agent_id", "status", "direction"):
        if getattr(filters, name):
            calls = calls.filter(**{name: getattr(filters, name)})
    if filters.created_after is not None:
        calls = calls.filter(created_at__gt=filters.created_after)
    if filters.created_before is not None:
        calls = calls.filter(created_at__lt=filters.created_before)
    for word in search_words(filters.q):
        calls = calls.filter(search_text__icontains=word)
    if filters.contact:
        calls = calls.filter(Q(to_number=filters.contact) | Q(from_number=filters.contact))
    calls = _with_review_work(calls, filters)
    return calls.order_by(F("created_at").desc(nulls_last=True), "-id")


UNREVIEWED = "unreviewed"


def _with_review_work(
    calls: QuerySet[ArchivedCall], filters: CallFilters
) -> QuerySet[ArchivedCall]:
    """The review filters: a call's verdict is its latest review's; open notes are unresolved."""
    if filters.review == UNREVIEWED:
        calls = calls.exclude(Exists(Review.objects.filter(call_id=OuterRef("id"))))
    elif filters.review:
        latest = Review.objects.filter(call_id=OuterRef("id")).order_by("-at", "-id")
        calls = calls.annotate(verdict=Subquery(latest.values("verdict")[:1])).filter(
            verdict=filters.review
        )
    if filters.suspicious:
        calls = suspicious_archived_calls(calls)
    if filters.open_notes:
        calls = calls.filter(
            Exists(TurnNote.objects.filter(call_id=OuterRef("id"), resolved_at__isnull=True))
        )
    return calls


def lists_from_archive(filters: CallFilters, now: datetime) -> bool:
    """The list (and its totals) must come from the archive: a search, which Truedy cannot do,
    or a range that ended before Truedy's retention began, where Truedy has nothing left."""
    before = filters.created_before
    return filters.searches or (before is not None and before <= now - TRUEDY_KEEPS_CALLS)


@dataclass(frozen=True, slots=True)
class MatchingLine:
    """Where a search matched: "Agent", "Contact" or "Summary", and the (shortened) text as
    ``(text, is_match)`` parts. Plain text: the template escapes every part."""

    source: str
    parts: tuple[tuple[str, bool], ...]
    seconds: float | None = None  # where the turn starts in the call; None for the summary


def matching_line(call: ArchivedCall, q: str | None) -> MatchingLine | None:
    """The transcript turn or summary sentence holding the most of the search's words (the
    first such), shortened around the first match; None without a search or a match."""
    words = search_words(q)
    if not words:
        return None
    best: tuple[int, str, str, float | None] | None = None
    for source, text, seconds in _candidates(call):
        lowered = text.lower()
        score = sum(1 for word in words if word in lowered)
        if score and (best is None or score > best[0]):
            best = (score, source, text, seconds)
            if score == len(words):
                break
    if best is None:
        return None
    _, source, text, seconds = best
    return MatchingLine(source, _parts(_shorten(text, words), words), seconds)


def _candidates(call: ArchivedCall) -> Iterator[tuple[str, str, float | None]]:
    turns = call.transcript if isinstance(call.transcript, list) else ()
    for turn in turns:  # stored as Truedy sent them: checked, not trusted
        if isinstance(turn, dict) and isinstance(turn.get("text"), str):
            who = turn.get("speaker")
            yield speaker(who if isinstance(who, str) else ""), turn["text"], _start(turn)
    for sentence in _SENTENCE_END.split(call.summary or ""):
        if sentence:
            yield "Summary", sentence, None


def _start(turn: dict[str, object]) -> float | None:
    """The turn's start in seconds, when Truedy gave a usable one."""
    value = turn.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < 10**7 else None


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "call" does not cut "callback" short.
    alternatives = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in alternatives), re.IGNORECASE)


def _shorten(text: str, words: tuple[str, ...]) -> str:
    """``text`` cut to about LINE_CHARS around its first match, at spaces where there are any."""
    text = " ".join(text.split())
    if len(text) <= LINE_CHARS:
        return text
    first = _pattern(words).search(text)
    start = max(0, (first.start() if first else 0) - CONTEXT_BEFORE)
    if start:
        space = text.find(" ", start, first.start() if first else None)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + LINE_CHARS)
    if end < len(text):
        space = text.rfind(" ", start + LINE_CHARS // 2, end)
        end = space if space != -1 else end
    return (ELLIPSIS if start else "") + text[start:end] + (ELLIPSIS if end < len(text) else "")


def _parts(text: str, words: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    parts: list[tuple[str, bool]] = []
    at = 0
    for match in _pattern(words).finditer(text):
        if match.start() > at:
            parts.append((text[at : match.start()], False))
        parts.append((match.group(), True))
        at = match.end()
    if at < len(text):
        parts.append((text[at:], False))
    return tuple(parts)
