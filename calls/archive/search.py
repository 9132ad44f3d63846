"""Searching the archive: the calls a list's filters and its `q` select, and the line that matched.

Truedy cannot search transcripts, so `q` is answered from our archive (``ArchivedCall``) alone,
in the call's ``search_text`` (the transcript and summary, lower-cased by the archive). The
syntax is web-search style (``parse_search``): every word must appear, in any order; ``"a
phrase"`` must appear as written; ``-word`` and ``-"a phrase"`` must not appear.

On PostgreSQL, full-text search answers: ``ArchivedCall.search_vector`` (a generated column
with a GIN index) against a ``tsquery`` in the "english" configuration, so a word matches in any
of its forms ("refunds" finds "refunded") and common words ("the", "and") are ignored; a search
of nothing but such words scans instead, as SQLite does. The line shown under a hit is
PostgreSQL's reading too: ``ts_rank`` picks the turn, ``ts_headline`` marks its words. On SQLite
(development, tests) ``icontains`` scans ``search_text``: a word matches wherever its letters
appear ("rout" finds "router"), with no stemming.
"""

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchQueryCombinable
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import Exact

from calls.archive.store import LIST_ROW_DEFERRED
from calls.archive.suspicious import suspicious_archived_calls
from calls.labels import speaker
from calls.lib.personal_data import mask_text, mask_turns
from calls.models import (
    SEARCH_AS_SPACES,
    SEARCH_CONFIG,
    AlertIssueCall,
    ArchivedCall,
    AutomaticScore,
    OutcomeCorrection,
    Review,
    ScorecardScore,
    TurnNote,
)
from calls.truedy.filters import DEFAULT_SORT, CallFilters
from calls.truedy.lifecycle import TRUEDY_KEEPS_CALLS

ONE_MICROSECOND = timedelta(microseconds=1)

# A matching line is shortened to about this many characters, the first match this far in.
LINE_CHARS = 160
CONTEXT_BEFORE = 50
ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def search_words(text: str | None) -> tuple[str, ...]:
    """The words of a search, lower-cased (as the archive's ``search_text`` is), each once."""
    return tuple(dict.fromkeys(word.lower() for word in (text or "").split()))


@dataclass(frozen=True, slots=True)
class TranscriptSearch:
    """What a search of words asks for: ``wanted`` words and phrases must all appear, no
    ``unwanted`` one may; each lower-cased, a phrase's words joined by single spaces."""

    wanted: tuple[str, ...] = ()
    unwanted: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.wanted or self.unwanted)


# A term: "a phrase" (its closing quote optional, as in a search engine) or a word, either one
# negated by a leading "-". A word never starts with a quote; a lone "-" is a word.
_TERM = re.compile(r'(-?)(?:"([^"]*)(?:"|$)|([^\s"]\S*))')


def parse_search(text: str | None) -> TranscriptSearch:
    """``text`` read as a web search: words, "phrases", -word, -"phrase"."""
    wanted: dict[str, None] = {}
    unwanted: dict[str, None] = {}
    for match in _TERM.finditer(text or ""):
        minus, phrase, word = match.groups()
        if word is not None and minus:  # "-" then a word: the word, unwanted
            term, chosen = word, unwanted
        elif word is not None:
            term, chosen = word, wanted
        else:
            term, chosen = phrase, unwanted if minus else wanted
        term = " ".join(term.lower().split())
        if term:
            chosen[term] = None
    return TranscriptSearch(tuple(wanted), tuple(unwanted))


def full_text_search() -> bool:
    """Whether the archive's database searches with full-text search (PostgreSQL)."""
    return connection.vendor == "postgresql"


def matching_archived_calls(
    filters: CallFilters, *, agent_names: Mapping[str, str] | None = None
) -> QuerySet[ArchivedCall]:
    """Archived calls matching the list's filters (None or "" means no filter), in Truedy's
    order (newest first, ties by id) or the filters' ``sort`` (``agent_names``: what sorting by
    agent sorts on; an agent without a name sorts by its id).

    A campaign's filters must come resolved (``call_ids``: calls.services.campaigns)."""
    # Never read back, and on PostgreSQL larger than the text it is made of.
    calls = ArchivedCall.objects.defer("search_vector", "masked_search_vector")
    if filters.call_ids is not None:
        calls = calls.filter(id__in=filters.call_ids)
    elif filters.campaign:
        raise ValueError("a campaign's call ids must be resolved before the archive is read")
    if filters.alert is not None:  # the calls that fired an alert issue (calls.models)
        fired = AlertIssueCall.objects.filter(issue_id=filters.alert).values("call_id")
        calls = calls.filter(id__in=fired)
    for name in ("agent_id", "status", "direction"):
        if getattr(filters, name):
            calls = calls.filter(**{name: getattr(filters, name)})
    if filters.created_after is not None:
        calls = calls.filter(created_at__gt=filters.created_after)
    if filters.created_before is not None:
        calls = calls.filter(created_at__lt=filters.created_before)
    search = parse_search(filters.q)
    if search:
        # A role that sees personal data masked searches the masked copy: no masked value finds
        # a call for it (README, "Personal data").
        masked = filters.masked_search
        calls = calls.filter(
            _full_text_match(search, masked=masked)
            if full_text_search()
            else _scan(search, masked=masked)
        )
    if filters.contact and filters.masked_search:
        calls = calls.none()  # a contact number is personal data: masked, it finds nothing
    elif filters.contact:
        calls = calls.filter(Q(to_number=filters.contact) | Q(from_number=filters.contact))
    calls = _with_current_only(_with_review_work(calls, filters), filters)
    return ordered(calls, filters.sort, agent_names=agent_names)


def _scan(search: TranscriptSearch, *, masked: bool = False) -> Q:
    """``search`` as substrings of ``search_text`` (or its masked copy): a scan of every row."""
    lookup = f"{'masked_' if masked else ''}search_text__icontains"
    condition = Q()
    for term in search.wanted:
        condition &= Q(**{lookup: term})
    for term in search.unwanted:
        condition &= ~Q(**{lookup: term})
    return condition


def _full_text_match(search: TranscriptSearch, *, masked: bool = False) -> Q:
    """``search`` against ``search_vector``, by its GIN index; a search of only words PostgreSQL
    ignores ("the", "and") makes an empty query, which would find nothing, so it scans instead.
    The query is made of constants: PostgreSQL decides which when it plans, and keeps the index
    for every other search."""
    query = _tsquery(search.wanted, search.unwanted)
    empty = Exact(Func(query, function="numnode", output_field=IntegerField()), Value(0))
    vector = "masked_search_vector" if masked else "search_vector"
    return Q(**{vector: query}) | (Q(empty) & _scan(search, masked=masked))


def _as_read(text: str) -> str:
    """``text`` as the archive's vector reads search_text (calls.models.ArchiveSearchVector):
    each of SEARCH_AS_SPACES a space, so every character keeps its place."""
    for char in SEARCH_AS_SPACES:
        text = text.replace(char, " ")
    return text


def _tsquery(wanted: Iterable[str], unwanted: Iterable[str] = ()) -> SearchQueryCombinable:
    """Every ``wanted`` term and none of the ``unwanted`` ones (a word is a phrase of one)."""
    query: SearchQueryCombinable | None = None
    terms = [(term, False) for term in wanted] + [(term, True) for term in unwanted]
    for term, invert in terms:
        words = _as_read(term)
        part = SearchQuery(words, config=SEARCH_CONFIG, search_type="phrase", invert=invert)
        query = part if query is None else query & part
    if query is None:
        raise ValueError("a search needs at least one term")
    return query


# How many hits a search has, and where the newest calls that should hold its page end (NULL:
# too rare a search for that to pay), in one statement. The hits are
# counted by the GIN index and their rows alone; the archive's size is PostgreSQL's estimate
# (-1: never made; autovacuum's ANALYZE makes it); the newest calls end at the one `cap` calls
# down Truedy's order, found by its index alone (archive_truedy_order, an index-only scan).
_HITS_AND_NEWEST = """
SELECT total.n, CASE WHEN total.n > {offset} AND calls.n >= 0
        AND {cap_times_total} < total.n * total.n::float8 THEN (
    SELECT created_at FROM calls_archivedcall WHERE created_at IS NOT NULL
    ORDER BY created_at DESC, id ASC OFFSET ({cap_times_total} / total.n)::bigint LIMIT 1
) END
FROM (SELECT count(*) AS n FROM ({hits}) AS hits) AS total,
    (SELECT reltuples AS n FROM pg_class WHERE oid = 'calls_archivedcall'::regclass) AS calls
"""
# Hits are looked for among this many times the newest calls expected to hold the page (were
# hits spread as evenly as calls): room for hits that come in bursts.
NEWEST_MARGIN = 3
# A rare search's page: its hits' ids and dates read once (MATERIALIZED: by the GIN index,
# whatever other index the planner might walk instead), ordered there.
_PAGE_OF_HITS = """
WITH hits (id, created_at) AS MATERIALIZED ({hits})
SELECT id FROM hits ORDER BY created_at DESC NULLS LAST, id ASC LIMIT %s OFFSET %s
"""


def archived_page(
    filters: CallFilters,
    *,
    offset: int,
    limit: int,
    agent_names: Mapping[str, str] | None = None,
    list_rows: bool = False,
) -> tuple[list[ArchivedCall], int]:
    """``limit`` calls of ``matching_archived_calls(filters)`` from ``offset``, and how many
    match in all. ``list_rows``: without what a list row never shows (``LIST_ROW_DEFERRED``;
    not for a search, whose matching lines are read from the transcripts).

    A full-text search on PostgreSQL (newest first) never ranks or sorts every hit for its
    page. The GIN index finds the hits, and PostgreSQL reads each one's row to count it (it
    rechecks a text-search match there): that count is the search's main cost. A common
    search then reads its page among the newest calls only: with ``total`` hits in about
    ``calls``, the page's last is expected ``(offset + limit) * calls / total`` calls down the
    list, and is looked for within NEWEST_MARGIN times that (PostgreSQL walks those calls, or
    reads the hits among them: never every hit). A rare search, or one whose newest calls held
    too few hits, orders its hits' ids and dates, read once, and reads the page's rows by id."""
    rows = matching_archived_calls(filters, agent_names=agent_names)
    if list_rows and not filters.q:
        rows = rows.defer(*LIST_ROW_DEFERRED)
    if not (full_text_search() and parse_search(filters.q)) or filters.sort:
        return list(rows[offset : offset + limit]), rows.count()
    hits, params = rows.order_by().values_list("pk", "created_at").query.sql_with_params()
    cap = NEWEST_MARGIN * (int(offset) + int(limit))
    sql = _HITS_AND_NEWEST.format(
        hits=hits, offset=int(offset), cap_times_total=f"{cap}::float8 * greatest(calls.n, total.n)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, oldest = cursor.fetchone()
    if offset >= total:  # no hits, or past the last one: no page to read
        return [], total
    limit = min(limit, total - offset)
    if oldest is not None:
        # The newest calls come first in the list's order (newest first, ties by id, calls
        # without a date last): a page wholly among them is the list's page.
        newest = rows.filter(created_at__gte=oldest).order_by(F("created_at").desc(), "id")
        page = list(newest[offset : offset + limit])
        if len(page) == limit:
            return page, total
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_OF_HITS.replace("{hits}", hits), (*params, limit, offset))
        found = [call_id for (call_id,) in cursor.fetchall()]
    by_id = ArchivedCall.objects.defer("search_vector", "masked_search_vector").in_bulk(found)
    return [by_id[call_id] for call_id in found if call_id in by_id], total


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
    if filters.auto_score is not None:
        scores = AutomaticScore.objects.within(*filters.auto_score)
        calls = calls.filter(Exists(scores.filter(call_id=OuterRef("id"))))
    if filters.only is not None:
        calls = calls.filter(only_figure(filters.only))
    return calls


def only_figure(name: str) -> Q:
    """The calls behind one of the agents page's figures (calls.services.agent_figures counts
    them the same way): with a verdict, with a corrected outcome, whose latest reviewer score
    is a score, or connected (ended) with dead air (a longest silence of DEAD_AIR_SECONDS or
    more)."""
    if name == "reviewed":
        return Q(Exists(Review.objects.filter(call_id=OuterRef("id"))))
    if name == "corrected":
        return Q(Exists(OutcomeCorrection.objects.filter(call_id=OuterRef("id"))))
    if name == "scored":
        # The call's latest score (of its own call: the outer query's outer row).
        scores = ScorecardScore.objects.filter(call_id=OuterRef(OuterRef("id")))
        newest = scores.order_by("-at", "-id").values("pk")[:1]
        latest = ScorecardScore.objects.filter(pk=Subquery(newest), score__isnull=False)
        return Q(Exists(latest))
    if name == "dead-air":
        return Q(status="ended", longest_silence__gte=settings.DEAD_AIR_SECONDS)
    raise ValueError(f"no figure {name!r}")


# --- what only a current archive answers: sorts and more filters ------------------------------

# Agent names sorted on at most: a larger map is sorted by id (the SQL would grow too long).
MAX_SORTED_NAMES = 500


def effective_outcome() -> Coalesce:
    """A call's outcome after corrections (calls.services.corrections), in SQL: its latest
    correction's, else Truedy's; NULL when neither gives one."""
    latest = OutcomeCorrection.objects.filter(call_id=OuterRef("id")).order_by("-at", "-id")
    return Coalesce(
        Subquery(latest.values("outcome")[:1]),
        NullIf(F("outcome"), Value("")),
        output_field=CharField(),
    )


def _lowest_auto_score() -> Subquery:
    """The call's lowest current automatic scorecard score (None: no score)."""
    scores = AutomaticScore.objects.current().filter(call_id=OuterRef("id"), score__isnull=False)
    return Subquery(scores.order_by("score").values("score")[:1], output_field=FloatField())


def _with_current_only(
    calls: QuerySet[ArchivedCall], filters: CallFilters
) -> QuerySet[ArchivedCall]:
    """``outcome`` (effective), duration and cost ranges (inclusive), ``has_recording``."""
    if filters.outcome:
        calls = calls.annotate(effective_outcome=effective_outcome()).filter(
            effective_outcome=filters.outcome
        )
    for name, column in (("duration", "duration_seconds"), ("cost", "cost_cents")):
        low, high = getattr(filters, f"{name}_min"), getattr(filters, f"{name}_max")
        if low is not None:
            calls = calls.filter(**{f"{column}__gte": low})
        if high is not None:
            calls = calls.filter(**{f"{column}__lte": high})
    if filters.has_recording is not None:
        # Recorded: Truedy gave it a link (alive or dead), or the archive holds its copy.
        recorded = Q(has_recording=True) | ~Q(recording="")
        calls = calls.filter(recorded if filters.has_recording else ~recorded)
    return calls


def _agent_name(names: Mapping[str, str] | None) -> Case | F:
    if not names or len(names) > MAX_SORTED_NAMES:
        return F("agent_id")
    whens = [When(agent_id=agent, then=Value(name.casefold())) for agent, name in names.items()]
    return Case(*whens, default=F("agent_id"), output_field=CharField())


def ordered(
    calls: QuerySet[ArchivedCall],
    sort: str | None,
    *,
    agent_names: Mapping[str, str] | None = None,
) -> QuerySet[ArchivedCall]:
    """``calls`` in ``sort``'s order (calls.truedy.filters.SORTS; None: Truedy's, newest
    first); ties by id, as Truedy breaks them; calls without the value last either way."""
    if sort is None or sort == DEFAULT_SORT:
        return calls.order_by(F("created_at").desc(nulls_last=True), "id")
    column = sort.lstrip("-")
    if column == "created":
        value: Any = F("created_at")
    elif column == "duration":
        value = F("duration_seconds")
    elif column == "cost":
        value = F("cost_cents")
    elif column == "agent":
        value = NullIf(_agent_name(agent_names), Value(""))
    elif column == "outcome":
        value = effective_outcome()
    elif column == "auto_score":
        value = _lowest_auto_score()
    else:
        raise ValueError(f"unknown sort {sort!r}")
    calls = calls.annotate(sort_value=value)
    key = (
        F("sort_value").desc(nulls_last=True)
        if sort.startswith("-")
        else F("sort_value").asc(nulls_last=True)
    )
    return calls.order_by(key, "id")


def truedy_window(filters: CallFilters, now: datetime) -> CallFilters:
    """``filters`` bounded as ``GET /calls`` bounds every list: calls created from 12 months
    before ``now`` (Truedy's clock) up to ``now``, both inclusive. For the archive standing in
    for Truedy's list, which keeps calls longer."""
    oldest = now - TRUEDY_KEEPS_CALLS - ONE_MICROSECOND  # exclusive, as the filters' bounds
    newest = now + ONE_MICROSECOND
    after, before = filters.created_after, filters.created_before
    return dataclasses.replace(
        filters,
        created_after=oldest if after is None else max(after, oldest),
        created_before=newest if before is None else min(before, newest),
    )


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


def matching_line(
    call: ArchivedCall, q: str | None, *, masked: bool = False
) -> MatchingLine | None:
    """``matching_lines`` for one call."""
    return matching_lines([call], q, masked=masked).get(call.id)


def matching_lines(
    calls: Iterable[ArchivedCall], q: str | None, *, masked: bool = False
) -> dict[str, MatchingLine]:
    """For each of ``calls`` (a page of hits) that has one, the transcript turn or summary
    sentence holding the most of the search's wanted words and phrases (on PostgreSQL, of
    those the one ``ts_rank`` ranks first; else the first), shortened around its first match.
    ``masked``: the lines are looked for in, and shown from, the text with personal data
    masked. One query for the page on PostgreSQL."""
    wanted = parse_search(q).wanted
    if not wanted:
        return {}
    calls = list(calls)
    found = _lines_by_full_text(calls, wanted, masked) if full_text_search() else {}
    for call in calls:  # SQLite; on PostgreSQL, a search of only words it ignores
        if call.id not in found and (line := _line_by_scan(call, wanted, masked)) is not None:
            found[call.id] = line
    return found


def _line_by_scan(call: ArchivedCall, wanted: tuple[str, ...], masked: bool) -> MatchingLine | None:
    best: tuple[int, str, str, float | None] | None = None
    for source, text, seconds in _candidates(call, masked):
        lowered = text.lower()
        score = sum(1 for term in wanted if term in lowered)
        if score and (best is None or score > best[0]):
            best = (score, source, text, seconds)
            if score == len(wanted):
                break
    if best is None:
        return None
    _, source, text, seconds = best
    spans = [match.span() for match in _pattern(wanted).finditer(text)]
    return MatchingLine(source, _shown(text, spans), seconds)


# ts_headline marks the words it matched with these (characters of Unicode's private use area,
# taken out of the text first, so they cannot be in it).
_START, _STOP = "\ue000", "\ue001"
_MARKED = re.compile(f"{_START}([^{_STOP}]*){_STOP}")
# The best candidate of each call: most terms matched, then ts_rank, then the first; headlined.
_LINES_SQL = """
SELECT best.i, ts_headline(%(config)s::regconfig, best.t, {any}, %(options)s)
FROM (
    SELECT DISTINCT ON (u.n) u.n, u.i, u.t
    FROM unnest(%(numbers)s::int[], %(texts)s::text[]) WITH ORDINALITY AS u(n, t, i),
        LATERAL to_tsvector(%(config)s::regconfig, u.t) AS v
    WHERE v @@ ({any})
    ORDER BY u.n, {score} DESC, ts_rank(v, {any}) DESC, u.i
) AS best
"""


def _lines_by_full_text(
    calls: list[ArchivedCall], wanted: tuple[str, ...], masked: bool
) -> dict[str, MatchingLine]:
    """The lines PostgreSQL finds: stemmed as the search was, each turn read as a document."""
    numbers: list[int] = []
    texts: list[str] = []  # as the vector reads them: the same length as shown
    where: list[tuple[str, str, str, float | None]] = []
    for number, call in enumerate(calls):
        for source, text, seconds in _candidates(call, masked):
            shown = text.replace(_START, "").replace(_STOP, "").replace("\x00", "")
            numbers.append(number)
            texts.append(_as_read(shown))
            where.append((call.id, source, shown, seconds))
    if not texts:
        return {}
    term = [f"phraseto_tsquery(%(config)s::regconfig, %(term{k})s)" for k in range(len(wanted))]
    sql = _LINES_SQL.format(
        any=" || ".join(term), score=" + ".join(f"(v @@ {one})::int" for one in term)
    )
    params: dict[str, Any] = {
        "config": SEARCH_CONFIG,
        "options": f'HighlightAll=true, StartSel="{_START}", StopSel="{_STOP}"',
        "numbers": numbers,
        "texts": texts,
        **{f"term{k}": _as_read(term) for k, term in enumerate(wanted)},
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = {}
    for index, headline in rows:
        call_id, source, shown, seconds = where[index - 1]  # WITH ORDINALITY counts from 1
        spans, at = [], 0
        for number, piece in enumerate(_MARKED.split(headline)):  # text, match, ..., text
            if number % 2:
                spans.append((at, at + len(piece)))
            at += len(piece)
        found[call_id] = MatchingLine(source, _shown(shown, spans), seconds)
    return found


def _candidates(call: ArchivedCall, masked: bool) -> Iterator[tuple[str, str, float | None]]:
    """Each turn and summary sentence: (source, text with its spaces made single, seconds);
    ``masked``: with personal data masked (the turns together, as a value may span them)."""
    turns = call.transcript if isinstance(call.transcript, list) else ()
    # stored as Truedy sent them: checked, not trusted
    usable = [
        turn for turn in turns if isinstance(turn, dict) and isinstance(turn.get("text"), str)
    ]
    texts = [turn["text"] for turn in usable]
    if masked:
        texts = mask_turns(texts)
    for turn, said in zip(usable, texts, strict=True):
        who = turn.get("speaker")
        text = " ".join(said.split())
        yield speaker(who if isinstance(who, str) else ""), text, _start(turn)
    summary = call.summary or ""
    for sentence in _SENTENCE_END.split(mask_text(summary) if masked and summary else summary):
        if sentence:
            yield "Summary", " ".join(sentence.split()), None


def _start(turn: dict[str, object]) -> float | None:
    """The turn's start in seconds, when Truedy gave a usable one."""
    value = turn.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < 10**7 else None


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "call" does not cut "callback" short.
    alternatives = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in alternatives), re.IGNORECASE)


def _shown(text: str, spans: list[tuple[int, int]]) -> tuple[tuple[str, bool], ...]:
    """``text`` as ``(text, is_match)`` parts, cut to about LINE_CHARS around its first match
    (``spans``: where the matches are) at spaces where there are any; a match the cut would
    split is shown unmarked."""
    start, end = 0, len(text)
    if len(text) > LINE_CHARS:
        first = spans[0][0] if spans else 0
        start = max(0, first - CONTEXT_BEFORE)
        if start:
            space = text.find(" ", start, first if spans else None)
            start = space + 1 if space != -1 else start
        end = min(len(text), start + LINE_CHARS)
        if end < len(text):
            space = text.rfind(" ", start + LINE_CHARS // 2, end)
            end = space if space != -1 else end
    parts: list[tuple[str, bool]] = [(ELLIPSIS, False)] if start else []
    at = start
    for begin, finish in spans:
        if begin < at or finish > end or begin == finish:
            continue
        if begin > at:
            parts.append((text[at:begin], False))
        parts.append((text[begin:finish], True))
        at = finish
    if at < end:
        parts.append((text[at:end], False))
    if end < len(text):
        parts.append((ELLIPSIS, False))
    merged: list[tuple[str, bool]] = []
    for part in parts:
        if merged and not part[1] and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + part[0], False)
        else:
            merged.append(part)
    return tuple(merged)
