"""How often is the AI right? Its outcome against the reviewers', for the calls of one view.

A call counts once a person has judged it: a correction of its outcome counts as the
correction's label (the latest one), a review without a correction as agreeing with the AI's
label. Labels are compared as ``outcome_key`` writes them, so "Demo_Booked" and "demo-booked"
agree. The figures are pure functions over ``Judged`` records; ``for_filters`` reads a view's
calls and the database's verdicts and corrections to make them.
"""

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from calls.archive.suspicious import outcome_key
from calls.models import OutcomeCorrection, Review
from calls.services.corrections import corrected_outcomes
from calls.services.history import IN_CHUNK
from calls.services.listing import every_matching_call, reads_archive
from calls.services.reviews import reviewed_ids
from calls.services.totals import MAX_TRUEDY_CALLS
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call
from calls.upstream import gateway

_CHUNK = IN_CHUNK  # calls whose reviews are looked up at a time


@dataclasses.dataclass(frozen=True, slots=True)
class Judged:
    """One call a person has judged: the AI's outcome and theirs, as ``outcome_key``s ("" for
    no outcome)."""

    call_id: str
    agent_id: str
    ai: str
    reviewer: str

    @property
    def agrees(self) -> bool:
        return self.ai == self.reviewer


@dataclasses.dataclass(frozen=True, slots=True)
class Rate:
    """How many of ``n`` judged calls (with one AI label, or of one agent) the reviewer agreed
    with."""

    key: str
    n: int
    agreed: int

    @property
    def percent(self) -> int:
        return round(100 * self.agreed / self.n) if self.n else 0


@dataclasses.dataclass(frozen=True, slots=True)
class ConfusionRow:
    ai: str
    cells: tuple[tuple[str, int], ...]  # (reviewer label, calls), in the table's column order
    total: int


@dataclasses.dataclass(frozen=True, slots=True)
class Agreement:
    n: int  # judged calls the figures rest on
    agreed: int
    columns: tuple[str, ...]  # reviewer labels: the AI's labels first, in row order
    rows: tuple[ConfusionRow, ...]  # AI labels, most frequent first
    per_label: tuple[Rate, ...]  # by AI label, in row order
    per_agent: tuple[Rate, ...]  # most judged first
    capped: bool = False  # the view had more calls than were read (the newest were)

    @property
    def percent(self) -> int:
        return round(100 * self.agreed / self.n) if self.n else 0


EMPTY = Agreement(n=0, agreed=0, columns=(), rows=(), per_label=(), per_agent=())


def agreement(judged: Iterable[Judged], *, capped: bool = False) -> Agreement:
    """The confusion table (rows: the AI's label, columns: the reviewer's) and agreement rates."""
    calls = list(judged)
    if not calls:
        return dataclasses.replace(EMPTY, capped=capped)
    pairs = Counter((call.ai, call.reviewer) for call in calls)
    by_ai = Counter(call.ai for call in calls)
    ai_order = _most_first(by_ai)
    by_reviewer = Counter(call.reviewer for call in calls)
    columns = (
        *(key for key in ai_order if key in by_reviewer),
        *(key for key in _most_first(by_reviewer) if key not in by_ai),
    )
    rows = tuple(
        ConfusionRow(ai, tuple((column, pairs[ai, column]) for column in columns), by_ai[ai])
        for ai in ai_order
    )
    agreed = sum(1 for call in calls if call.agrees)
    return Agreement(
        n=len(calls),
        agreed=agreed,
        columns=columns,
        rows=rows,
        per_label=tuple(_rates(calls, lambda call: call.ai, order=ai_order)),
        per_agent=tuple(_rates(calls, lambda call: call.agent_id)),
        capped=capped,
    )


def _most_first(counts: Counter[str]) -> tuple[str, ...]:
    return tuple(sorted(counts, key=lambda key: (-counts[key], key)))


def _rates(
    calls: Sequence[Judged], key_of: Callable[[Judged], str], order: Sequence[str] = ()
) -> Iterator[Rate]:
    n: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    for call in calls:
        n[key_of(call)] += 1
        agreed[key_of(call)] += call.agrees
    for key in order or _most_first(n):
        yield Rate(key, n[key], agreed[key])


# --- reading a view ----------------------------------------------------------------------------


def judged_calls(calls: Iterable[Call]) -> Iterator[Judged]:
    """The calls a person has judged, with both labels; the database is asked once per
    ``_CHUNK`` calls."""
    iterator = iter(calls)
    while chunk := list(islice(iterator, _CHUNK)):
        labels = reviewer_labels([call.id for call in chunk])
        for call in chunk:
            if call.id in labels:
                ai = outcome_key(call.outcome)
                corrected = labels[call.id]
                reviewer = ai if corrected is None else outcome_key(corrected)
                yield Judged(call.id, call.agent_id or "", ai, reviewer)


def reviewer_labels(call_ids: Sequence[str]) -> dict[str, str | None]:
    """For each of ``call_ids`` a person judged: its corrected outcome (the latest correction),
    or None for a call reviewed without one (the reviewer let the AI's label stand). A
    correction counts without a verdict too: it is a person's label all the same."""
    labels: dict[str, str | None] = dict.fromkeys(reviewed_ids(call_ids))
    labels.update(corrected_outcomes(call_ids))
    return labels


def for_filters(filters: CallFilters) -> Agreement:
    """The agreement over exactly the calls a list's filters select (its search included).

    Nothing is read while nobody has judged any call. A view Truedy has to list is read to its
    newest ``MAX_TRUEDY_CALLS`` calls, as the totals are (``capped`` says so); the archive is
    read to the end. Raises ``TruedyError`` when Truedy fails.
    """
    if not (Review.objects.exists() or OutcomeCorrection.objects.exists()):
        return EMPTY
    from_archive = reads_archive(filters, gateway.now())
    calls = every_matching_call(filters)
    try:
        if from_archive:
            return agreement(judged_calls(calls))
        read = list(islice(calls, MAX_TRUEDY_CALLS + 1))
    finally:
        # An abandoned read of Truedy stops fetching the pages it had asked for ahead.
        close = getattr(calls, "close", None)
        if close is not None:
            close()
    capped = len(read) > MAX_TRUEDY_CALLS
    return agreement(judged_calls(read[:MAX_TRUEDY_CALLS]), capped=capped)
