"""Totals for exactly the calls a list's filters select: count, duration, cost, outcome mix and
calls per day (in the viewer's zone).

From the archive when it holds every call of the range (the database adds them up), or when the
list itself reads from it (a search; a range older than Truedy's retention). Otherwise from
Truedy, paging through the whole filtered list once and keeping only running sums; the result is
cached like a list page, so a busy team pages the API once, and kept (stale) for the cache's
stale window to stand in while Truedy fails. A set larger than ``MAX_TRUEDY_CALLS`` is not read
to the end: its count is still exact (Truedy's ``meta.total``), the other figures cover the
newest calls, and the page says so.

Review work is never cached: the outcome mix counts each call's effective outcome (a reviewer's
correction, else the AI's), and review coverage and verdicts are counted afresh from the
database on every request, so a verdict or a correction shows at once.
"""

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from calls.archive.search import matching_archived_calls
from calls.models import OutcomeCorrection, Review, Verdict
from calls.services import corrections, reviews
from calls.services.listing import every_matching_call, reads_archive, resolved
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, CallPage
from calls.upstream import cache, gateway, paging, reads

ARCHIVE, TRUEDY = "archive", "truedy"
# 10 pages of 100: a tenth of Truedy's ~100 requests a minute for one set of totals.
MAX_TRUEDY_CALLS = 1_000
# A sparkline longer than this shrinks to the days that have calls.
MAX_DAYS = 400
_MICROSECOND = timedelta(microseconds=1)


@dataclasses.dataclass(frozen=True, slots=True)
class Totals:
    count: int  # every call the filters select
    counted: int  # the calls the other figures are made of (fewer than count only when capped)
    timed: int  # calls with a duration
    total_duration: int  # seconds
    total_cost_cents: int
    outcomes: tuple[tuple[str, int], ...]  # ("" = no outcome), most frequent first
    per_day: tuple[tuple[date, int], ...]  # every day of the range, in the viewer's zone
    source: str  # ARCHIVE or TRUEDY
    # Review work, counted afresh on every request (``outcomes`` above is the effective mix).
    ai_outcomes: tuple[tuple[str, int], ...] = ()  # Truedy's own labels, most frequent first
    reviewed: int = 0  # counted calls with a verdict
    verdicts: tuple[tuple[str, int], ...] = ()  # (verdict, calls with it now), every verdict
    corrected: int = 0  # counted calls whose outcome a reviewer corrected
    # (call id, Truedy's outcome) of each call read from Truedy: what the review figures are
    # counted from; kept in the cache, emptied before the totals reach a page.
    call_outcomes: tuple[tuple[str, str], ...] = ()

    def __setstate__(self, state: list[Any]) -> None:
        # Totals cached before review work have fewer values: the new ones take their defaults.
        for index, field in enumerate(dataclasses.fields(self)):
            value = state[index] if index < len(state) else field.default
            object.__setattr__(self, field.name, value)

    @property
    def coverage_percent(self) -> int:
        """Counted calls with a verdict, in whole per cent (rounded down)."""
        return self.reviewed * 100 // self.counted if self.counted else 0

    @property
    def average_duration(self) -> float | None:
        """Seconds, over the calls that have a duration."""
        return self.total_duration / self.timed if self.timed else None

    @property
    def capped(self) -> bool:
        return self.counted < self.count


def for_filters(filters: CallFilters, *, zone: ZoneInfo) -> Totals:
    """Totals for the list's filters (its search included) in ``zone``.

    Raises ``TruedyError`` when Truedy has to be asked, fails, and nothing cached stands in.
    """
    now = gateway.now()
    today = now.astimezone(zone).date()
    if reads_archive(filters, now):
        return archive_totals(resolved(filters), zone=zone, today=today)
    if filters.campaign:  # its calls read one by one (calls.services.campaigns), as its list
        return with_review_work(calls_totals(every_matching_call(filters), filters, zone, today))
    api_filters = filters.without_search()
    # Cached like a list page, stale-if-error, one computation per key at a time; each page it
    # reads passes the breaker and the cool-down on its own.
    read = cache.read_through(
        cache.totals_key(api_filters.api_params(), zone.key),
        lambda: truedy_totals(api_filters, zone=zone, today=today),
        lambda totals: settings.CACHE_TTL_CALL_LIST,
        gated=False,
    )
    return with_review_work(read)


def with_review_work(totals: Totals) -> Totals:
    """Totals read from Truedy with the review figures of their calls, counted now."""
    ai_outcome = dict(totals.call_outcomes)
    corrected = corrections.corrected_outcomes(ai_outcome)
    effective = Counter(corrected.get(call_id, outcome) for call_id, outcome in ai_outcome.items())
    verdicts = reviews.verdict_counts(ai_outcome)
    return dataclasses.replace(
        totals,
        outcomes=_most_first(effective) if ai_outcome else totals.outcomes,
        ai_outcomes=totals.outcomes,
        reviewed=sum(verdicts.values()),
        verdicts=tuple(verdicts.items()),
        corrected=len(corrected),
        call_outcomes=(),
    )


def archive_totals(filters: CallFilters, *, zone: ZoneInfo, today: date) -> Totals:
    """Added up by the database, per day in ``zone``."""
    calls = matching_archived_calls(filters).order_by()
    sums = calls.aggregate(
        count=Count("pk"),
        timed=Count("duration_seconds"),
        duration=Sum("duration_seconds"),
        cost=Sum("cost_cents"),
    )
    outcomes = calls.values_list("outcome").annotate(n=Count("pk"))
    judged = _with_review_work(calls)
    effective = judged.values_list("effective").annotate(n=Count("pk"))
    verdicts = dict(judged.exclude(verdict=None).values_list("verdict").annotate(n=Count("pk")))
    days = (
        calls.exclude(created_at=None)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    return Totals(
        count=sums["count"],
        counted=sums["count"],
        timed=sums["timed"],
        total_duration=sums["duration"] or 0,
        total_cost_cents=sums["cost"] or 0,
        outcomes=_most_first(Counter(dict(effective))),
        per_day=day_series(dict(days), filters, zone=zone, today=today),
        source=ARCHIVE,
        ai_outcomes=_most_first(Counter(dict(outcomes))),
        reviewed=sum(verdicts.values()),
        verdicts=tuple((verdict.value, verdicts.get(verdict.value, 0)) for verdict in Verdict),
        corrected=judged.exclude(corrected_to=None).count(),
    )


def _with_review_work(calls: Any) -> Any:
    """Archived calls with their verdict and corrected outcome (each the latest, or None) and
    their effective outcome, worked out by the database."""

    def latest(model: Any, field: str) -> Subquery:
        rows = model.objects.filter(call_id=OuterRef("pk")).order_by("-at", "-id")
        return Subquery(rows.values(field)[:1])

    return calls.annotate(
        verdict=latest(Review, "verdict"), corrected_to=latest(OutcomeCorrection, "outcome")
    ).annotate(effective=Coalesce("corrected_to", "outcome"))


def truedy_totals(filters: CallFilters, *, zone: ZoneInfo, today: date) -> Totals:
    """Read from Truedy page by page, keeping only sums (never the calls), up to
    ``MAX_TRUEDY_CALLS``."""
    limit = MAX_TRUEDY_CALLS
    listed: list[int] = []

    def fetch_page(**params: Any) -> CallPage:
        page = reads.read_list_page_once(**params)  # a pinned read: never asked again
        listed.append(page.total)
        return page

    running = _Running(zone)
    # Closed on leaving, so pages still being prefetched past the cap are dropped at once.
    with closing(paging.iter_matching_calls(filters, fetch_page=fetch_page)) as calls:
        for call in calls:
            if running.counted == limit:
                break
            running.add(call)
    count = max(listed[0] if listed else 0, running.counted)
    if running.counted < limit:
        count = running.counted  # read to the end: what was counted is exact
    return running.totals(count, filters, today)


def calls_totals(
    calls: Iterable[Call], filters: CallFilters, zone: ZoneInfo, today: date
) -> Totals:
    """Totals of calls already read (every one counted)."""
    running = _Running(zone)
    for call in calls:
        running.add(call)
    return running.totals(running.counted, filters, today)


class _Running:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.counted = self.timed = self.duration = self.cost = 0
        self.outcomes: Counter[str] = Counter()
        self.days: Counter[date] = Counter()
        self.call_outcomes: list[tuple[str, str]] = []

    def add(self, call: Call) -> None:
        self.counted += 1
        if call.duration_seconds is not None:
            self.timed += 1
            self.duration += call.duration_seconds
        self.cost += call.cost_cents or 0
        self.outcomes[call.outcome or ""] += 1
        self.call_outcomes.append((call.id, call.outcome or ""))
        if call.created_at is not None:
            self.days[call.created_at.astimezone(self.zone).date()] += 1

    def totals(self, count: int, filters: CallFilters, today: date) -> Totals:
        return Totals(
            count=count,
            counted=self.counted,
            timed=self.timed,
            total_duration=self.duration,
            total_cost_cents=self.cost,
            outcomes=_most_first(self.outcomes),
            per_day=day_series(self.days, filters, zone=self.zone, today=today),
            source=TRUEDY,
            call_outcomes=tuple(self.call_outcomes),
        )


def _most_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(
        sorted(((k or "", n) for k, n in counts.items() if n), key=lambda i: (-i[1], i[0]))
    )


def day_series(
    counts: Mapping[date, int], filters: CallFilters, *, zone: ZoneInfo, today: date
) -> tuple[tuple[date, int], ...]:
    """Calls per day for every day of the range (zeros included): the filter's From/To days in
    ``zone`` where given (To no later than today), else the first/last day with calls."""
    after, before = filters.created_after, filters.created_before
    first = (after + _MICROSECOND).astimezone(zone).date() if after is not None else None
    last = (before - _MICROSECOND).astimezone(zone).date() if before is not None else None
    if last is not None:
        last = min(last, max(today, max(counts, default=today)))
    first = first if first is not None else min(counts, default=None)
    last = last if last is not None else max(counts, default=None)
    if first is None or last is None or first > last:
        return ()
    if (last - first).days >= MAX_DAYS and counts:
        first, last = max(first, min(counts)), min(last, max(counts))
    return tuple(
        (day, counts.get(day, 0))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    )
