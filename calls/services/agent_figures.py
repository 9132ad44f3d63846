"""The agents page: each agent's figures over a range and the list's filters, from the archive.

Everything is added up by the database, in two grouped statements whatever the number of
calls: one row per agent, outcome, corrected outcome and verdict (``COUNT``/``SUM`` with
``FILTER``, the review work joined: ``_GROUPS_SQL`` says why in plain SQL), and calls per agent
and day (the ORM, ``TruncDate`` in the viewer's zone). Python only adds up the groups. The
archive answers alone: no Truedy request, so the page costs nothing of Truedy's rate limit,
and it says how far the archive reaches.

What each figure counts (the README, "The agents page", says the same):

- **calls**: every archived call the filters select.
- **connected**: status ``ended``: the call was answered and hung up normally. A call that
  failed after it was answered (a drop, which ``calls.truedy.lifecycle.talked`` also counts as
  talk) is not connected: the list's ``status=ended`` selects exactly the connected calls, so
  the figure links to them.
- **duration**: total and average over the calls that have one (Truedy's, answer to hang-up).
- **cost**: the sum of the calls' costs, in cents.
- **outcomes**: effective outcomes (a reviewer's latest correction, else the AI's label), as
  the totals count them (calls.services.totals).
- **dead air**: connected calls whose longest silence (``ArchivedCall.longest_silence``, before
  any turn, as the automatic check measures it) is ``DEAD_AIR_SECONDS`` or more, the call
  page's rule for dead air; the rate is over the connected calls with a transcript.
- **reviewed**: calls with a verdict (their latest review's); **pass rate**: reviewed calls
  whose verdict is pass.
- **reviewer score**: each scored call's latest scorecard score by a reviewer, averaged.
- **automatic score**: each call's current automatic scores (one per scorecard) averaged, then
  averaged over the calls that have one.
- **corrected**: calls whose outcome a reviewer corrected (rate over all calls).
"""

import csv
import dataclasses
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from calls.archive.coverage import ArchiveReach, archive_covers, archive_reach
from calls.archive.search import matching_archived_calls
from calls.models import (
    ArchivedCall,
    AutomaticScore,
    OutcomeCorrection,
    Review,
    ScorecardScore,
    ScorecardVersion,
    Verdict,
)
from calls.services.export import BOM, safe_cell
from calls.services.totals import day_series
from calls.truedy.filters import CallFilters

CONNECTED_STATUS = "ended"


@dataclasses.dataclass(frozen=True, slots=True)
class AgentFigures:
    """One agent's figures (``agent_id`` "" for calls without an agent; None for the total)."""

    agent_id: str | None
    calls: int = 0
    connected: int = 0
    timed: int = 0  # calls with a duration
    total_duration: int = 0  # seconds
    cost_cents: int = 0
    silence_known: int = 0  # connected calls with a transcript (a longest silence)
    dead_air: int = 0
    reviewed: int = 0
    verdicts: tuple[tuple[str, int], ...] = ()  # (verdict, calls), every verdict
    corrected: int = 0
    outcomes: tuple[tuple[str, int], ...] = ()  # effective, most frequent first ("" = none)
    review_scored: int = 0
    review_score_sum: float = 0.0
    auto_scored: int = 0
    auto_score_sum: float = 0.0
    per_day: tuple[tuple[date, int], ...] = ()  # calls per day, every day of the range

    @property
    def connect_rate(self) -> float | None:
        return _share(self.connected, self.calls)

    @property
    def average_duration(self) -> float | None:
        return self.total_duration / self.timed if self.timed else None

    @property
    def dead_air_rate(self) -> float | None:
        return _share(self.dead_air, self.silence_known)

    @property
    def reviewed_share(self) -> float | None:
        return _share(self.reviewed, self.calls)

    @property
    def passed(self) -> int:
        return dict(self.verdicts).get(Verdict.PASS.value, 0)

    @property
    def pass_rate(self) -> float | None:
        return _share(self.passed, self.reviewed)

    @property
    def review_score(self) -> float | None:
        return self.review_score_sum / self.review_scored if self.review_scored else None

    @property
    def auto_score(self) -> float | None:
        return self.auto_score_sum / self.auto_scored if self.auto_scored else None

    @property
    def corrected_share(self) -> float | None:
        return _share(self.corrected, self.calls)


@dataclasses.dataclass(frozen=True, slots=True)
class AgentTable:
    agents: tuple[AgentFigures, ...]  # most calls first
    total: AgentFigures
    dead_air_seconds: float
    reach: ArchiveReach  # how far the archive reaches at all
    covered: bool  # a finished sync holds every call the range can contain


def _share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent (None when ``whole`` is 0)."""
    return 100.0 * part / whole if whole else None


def agent_figures(
    filters: CallFilters, *, zone: ZoneInfo, today: date, now: datetime
) -> AgentTable:
    """Every agent's figures for the archived calls ``filters`` select (a campaign's resolved:
    calls.services.listing.resolved), days in ``zone``."""
    threshold = float(settings.DEAD_AIR_SECONDS)
    calls = matching_archived_calls(filters).order_by()
    groups = grouped(calls, threshold)
    days = (
        calls.exclude(created_at=None)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("agent_id", "day")
        .annotate(n=Count("pk"))
    )
    per_agent_days: dict[str, dict[date, int]] = defaultdict(dict)
    all_days: dict[date, int] = defaultdict(int)
    for agent_id, day, count in days:
        per_agent_days[agent_id][day] = count
        all_days[day] += count
    agents = [
        _figures(
            agent_id, rows, day_series(per_agent_days[agent_id], filters, zone=zone, today=today)
        )
        for agent_id, rows in _by_agent(groups).items()
    ]
    agents.sort(key=lambda figures: (-figures.calls, figures.agent_id or ""))
    total = _figures(None, groups, day_series(all_days, filters, zone=zone, today=today))
    return AgentTable(
        agents=tuple(agents),
        total=total,
        dead_air_seconds=threshold,
        reach=archive_reach(),
        covered=archive_covers(filters, now),
    )


# The groups, added up by the database in one statement. The calls the filters select are read
# once (the list's own query, calls.archive.search.matching_archived_calls), and each call's
# review work is joined to them: its latest verdict, correction and reviewer score (the newest
# row per call, by ROW_NUMBER, each worked out once over its whole and much smaller table) and
# its current automatic scores averaged (of the picked calls only: PostgreSQL reads them by
# index for a short range). All hash-joined, not looked up call by call: a correlated subquery
# per call and figure took 4 s for 100,000 calls on PostgreSQL, this about 0.2 s of CPU
# (bench/agents_bench.py). ``picked`` is NOT MATERIALIZED so that the planner sees through it.
# Plain SQL that SQLite and PostgreSQL both read; every value is a parameter.
_GROUPS_SQL = """
WITH picked AS NOT MATERIALIZED ({calls}),
verdicts AS ({verdicts}),
corrections AS ({corrections}),
scores AS ({scores}),
automatic AS (
    SELECT call_id, AVG(score) AS score FROM {automatic_table}
    WHERE call_id IN (SELECT id FROM picked) AND score IS NOT NULL
        AND version_id IN ({current})
    GROUP BY call_id
)
SELECT p.agent_id, p.outcome, c.value, v.value,
    COUNT(*),
    COUNT(*) FILTER (WHERE p.status = %(connected)s),
    COUNT(p.duration_seconds),
    SUM(p.duration_seconds),
    SUM(p.cost_cents),
    COUNT(*) FILTER (WHERE p.status = %(connected)s AND p.longest_silence IS NOT NULL),
    COUNT(*) FILTER (WHERE p.status = %(connected)s AND p.longest_silence >= %(threshold)s),
    COUNT(s.value),
    SUM(s.value),
    COUNT(a.score),
    SUM(a.score)
FROM picked p
LEFT JOIN verdicts v ON v.call_id = p.id
LEFT JOIN corrections c ON c.call_id = p.id
LEFT JOIN scores s ON s.call_id = p.id
LEFT JOIN automatic a ON a.call_id = p.id
GROUP BY p.agent_id, p.outcome, c.value, v.value
"""
_LATEST_SQL = """
SELECT call_id, value FROM (
    SELECT call_id, {field} AS value,
        ROW_NUMBER() OVER (PARTITION BY call_id ORDER BY at DESC, id DESC) AS newest
    FROM {table}
) AS ranked WHERE newest = 1
"""
GROUP_NAMES = (
    "agent_id",
    "outcome",
    "corrected_to",
    "verdict",
    "calls",
    "connected",
    "timed",
    "duration",
    "cost",
    "silence_known",
    "dead_air",
    "review_scored",
    "review_score_sum",
    "auto_scored",
    "auto_score_sum",
)
_CALL_COLUMNS = (
    "id",
    "agent_id",
    "outcome",
    "status",
    "duration_seconds",
    "cost_cents",
    "longest_silence",
)


def _latest(model: Any, field: str) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    return _LATEST_SQL.format(field=connection.ops.quote_name(field), table=table)


def _named(inner: str, values: Any, prefix: str, params: dict[str, Any]) -> str:
    """An inner query's positional ``%s`` placeholders as named ones, its values in
    ``params`` (a literal ``%`` doubled)."""
    parts = inner.split("%s")
    named = parts[0].replace("%", "%%")
    for number, (value, part) in enumerate(zip(values, parts[1:], strict=True)):
        params[f"{prefix}{number}"] = value
        named += f"%({prefix}{number})s" + part.replace("%", "%%")
    return named


def groups_statement(calls: QuerySet[ArchivedCall], threshold: float) -> tuple[str, dict[str, Any]]:
    """The grouped statement and its parameters: one row per agent, AI outcome, corrected
    outcome and verdict, with the sums of its calls."""
    params: dict[str, Any] = {"connected": CONNECTED_STATUS, "threshold": threshold}
    picked, picked_params = calls.order_by().values(*_CALL_COLUMNS).query.sql_with_params()
    # The current versions' ids, a handful: parameters, so the database filters the scores
    # by a plain list.
    current = list(ScorecardVersion.objects.current().values_list("id", flat=True)) or [None]
    params |= {f"version{number}": pk for number, pk in enumerate(current)}
    statement = _GROUPS_SQL.format(
        calls=_named(picked, picked_params, "call", params),
        verdicts=_latest(Review, "verdict"),
        corrections=_latest(OutcomeCorrection, "outcome"),
        scores=_latest(ScorecardScore, "score"),
        automatic_table=connection.ops.quote_name(AutomaticScore._meta.db_table),
        current=", ".join(f"%(version{number})s" for number in range(len(current))),
    )
    return statement, params


def grouped(calls: QuerySet[ArchivedCall], threshold: float) -> list[dict[str, Any]]:
    statement, params = groups_statement(calls, threshold)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [dict(zip(GROUP_NAMES, row, strict=True)) for row in cursor.fetchall()]


def _by_agent(groups: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in groups:
        found[row["agent_id"] or ""].append(row)
    return found


def _figures(
    agent_id: str | None, rows: Iterable[dict[str, Any]], per_day: tuple[tuple[date, int], ...]
) -> AgentFigures:
    """The groups of one agent (or of all) added up."""
    sums: dict[str, Any] = defaultdict(int)
    outcomes: dict[str, int] = defaultdict(int)
    verdicts: dict[str, int] = defaultdict(int)
    reviewed = corrected = 0
    for row in rows:
        for name in ("calls", "connected", "timed", "silence_known", "dead_air"):
            sums[name] += row[name]
        for name in ("duration", "cost", "review_scored", "auto_scored"):
            sums[name] += row[name] or 0
        for name in ("review_score_sum", "auto_score_sum"):
            sums[name] += float(row[name] or 0)
        outcomes[row["corrected_to"] or row["outcome"] or ""] += row["calls"]
        if row["verdict"]:
            verdicts[row["verdict"]] += row["calls"]
            reviewed += row["calls"]
        if row["corrected_to"] is not None:
            corrected += row["calls"]
    return AgentFigures(
        agent_id=agent_id,
        calls=sums["calls"],
        connected=sums["connected"],
        timed=sums["timed"],
        total_duration=sums["duration"],
        cost_cents=sums["cost"],
        silence_known=sums["silence_known"],
        dead_air=sums["dead_air"],
        reviewed=reviewed,
        verdicts=tuple((verdict.value, verdicts.get(verdict.value, 0)) for verdict in Verdict),
        corrected=corrected,
        outcomes=_most_first(outcomes),
        review_scored=sums["review_scored"],
        review_score_sum=sums["review_score_sum"],
        auto_scored=sums["auto_scored"],
        auto_score_sum=sums["auto_score_sum"],
        per_day=per_day,
    )


def _most_first(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(((k, n) for k, n in counts.items() if n), key=lambda i: (-i[1], i[0])))


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = (
    "Agent ID",
    "Agent",
    "Calls",
    "Connected",
    "Connect rate (%)",
    "Calls with a duration",
    "Total duration (s)",
    "Average duration (s)",
    "Cost (cents)",
    "Connected calls with a transcript",
    "Dead air calls",
    "Dead air rate (%)",
    "Reviewed",
    "Reviewed (%)",
    *(f"Verdict {verdict.label}" for verdict in Verdict),
    "Pass rate (%)",
    "Reviewer score (avg %)",
    "Automatic score (avg %)",
    "Corrected",
    "Corrected (%)",
    "Outcomes (effective)",
)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def csv_rows(table: AgentTable, *, agent_names: Mapping[str, str]) -> list[list[str]]:
    """The table as the page shows it, one row per agent, then the total ("All agents")."""
    rows = [list(CSV_HEADER)]
    for figures in (*table.agents, table.total):
        agent_id = figures.agent_id
        if agent_id is None:
            name = "All agents"
        else:
            name = agent_names.get(agent_id, agent_id) if agent_id else "No agent"
        rows.append(
            [
                safe_cell(agent_id or ""),
                safe_cell(name),
                str(figures.calls),
                str(figures.connected),
                _number(figures.connect_rate),
                str(figures.timed),
                str(figures.total_duration),
                _number(figures.average_duration),
                str(figures.cost_cents),
                str(figures.silence_known),
                str(figures.dead_air),
                _number(figures.dead_air_rate),
                str(figures.reviewed),
                _number(figures.reviewed_share),
                *(str(count) for _, count in figures.verdicts),
                _number(figures.pass_rate),
                _number(figures.review_score),
                _number(figures.auto_score),
                str(figures.corrected),
                _number(figures.corrected_share),
                safe_cell(
                    "; ".join(f"{outcome or '(none)'}: {n}" for outcome, n in figures.outcomes)
                ),
            ]
        )
    return rows


def csv_text(table: AgentTable, *, agent_names: Mapping[str, str]) -> str:
    """The CSV file: UTF-8 with a byte-order mark, as the calls export writes it."""
    out = io.StringIO()
    out.write(BOM)
    csv.writer(out).writerows(csv_rows(table, agent_names=agent_names))
    return out.getvalue()
