"""The call list: one page of it, and every call of it, each from Truedy or the archive.

One place decides where a list is read from. A page comes from the archive when it must (a
search, which Truedy cannot do, or a range older than Truedy's retention), and while the
archive is *current* (its lag within ARCHIVE_FRESHNESS_BOUND, calls.archive.freshness): then the
archive answers exactly as Truedy would (its 12 months, its order, its totals, its filters), and
Truedy is not asked. A read of every matching call (the totals, the CSV export) also comes from
the archive when a sync has covered the range, sparing Truedy's rate limit. A campaign's list is
its calls picked by id (calls.services.campaigns): from the archive when it holds them all,
else partly from Truedy one call at a time.

Sorting and the filters Truedy lacks (``CallFilters.needs_current_archive``) apply to any list
read from the archive; on a list only Truedy can answer (the archive behind), they are left
out, and ``ListPage.ignored`` names them so the page says so.
"""

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime

from calls.archive.coverage import ArchiveReach, archive_covers, archive_reach
from calls.archive.freshness import Currency, archive_currency, archive_freshness
from calls.archive.search import (
    MatchingLine,
    archived_page,
    lists_from_archive,
    matching_archived_calls,
    matching_lines,
    truedy_window,
)
from calls.archive.store import LEAN_FIELDS, lean_record, to_record
from calls.services import campaigns
from calls.services.campaigns import CampaignSource
from calls.truedy.errors import TruedyError
from calls.truedy.filters import CURRENT_ONLY_NAMES, CallFilters
from calls.truedy.records import Call, CallPage
from calls.upstream import gateway, reads
from calls.upstream.paging import iter_matching_calls

ARCHIVE_CHUNK = 500  # archived rows read from the database at a time


@dataclasses.dataclass(frozen=True, slots=True)
class ListPage:
    page: CallPage
    from_archive: bool
    agent_names: dict[str, str]
    matches: dict[str, MatchingLine]  # call id -> the line a search matched
    reach: ArchiveReach | None = None  # for a search: what the archive can find at all
    covered: bool = False  # the archive holds every call the filters can select
    campaign: CampaignSource | None = None  # a campaign's list: where its calls came from
    # The archive answered for Truedy, being current; how far behind Truedy it is.
    as_truedy: bool = False
    currency: Currency | None = None
    # Sorts and filters asked for that only the archive answers, left out: it is behind.
    ignored: tuple[str, ...] = ()


def ignored_names(filters: CallFilters) -> tuple[str, ...]:
    """The current archive's own sorts and filters ``filters`` asks for."""
    return tuple(name for name in CURRENT_ONLY_NAMES if getattr(filters, name) is not None)


def stands_in_for_truedy(filters: CallFilters, now: datetime) -> Currency | None:
    """The archive's currency when it may answer this list for Truedy, else None."""
    currency = archive_currency(now)
    return currency if currency.answers(filters, now) else None


def pages_from_archive(filters: CallFilters) -> bool:
    """The list's pages are not Truedy's list pages: they come from the archive (a search, or
    older than Truedy keeps), or are a campaign's calls picked by id."""
    return lists_from_archive(filters, gateway.now())


def archive_page(filters: CallFilters, page: int, per_page: int) -> CallPage:
    """One page of a list ``pages_from_archive`` says is not Truedy's (without its matching
    lines): from the archive, or a campaign's."""
    if filters.campaign:
        return _campaign_page(filters, page=page, per_page=per_page).page
    return _archive_page(filters, page=page, per_page=per_page)[0]


def current_archive_page(filters: CallFilters, page: int, per_page: int) -> CallPage:
    """One page of Truedy's list as the current archive answers it, as a call page reads it to
    find the call's neighbours: lean records (calls.archive.store.lean_record), its ids in the
    list's order, and the list's total."""
    window = truedy_window(filters, gateway.now())
    offset = (page - 1) * per_page
    names = cached_agent_names() if window.sort in ("agent", "-agent") else None
    rows = matching_archived_calls(window, agent_names=names)
    chosen = rows.values_list(*LEAN_FIELDS)[offset : offset + per_page]
    return CallPage(tuple(lean_record(*row) for row in chosen), rows.count(), per_page, offset)


def page_reader(filters: CallFilters) -> Callable[[CallFilters, int, int], CallPage] | None:
    """How the call page reads the pages of the list it was opened from (for j/k), when not
    from Truedy (None)."""
    if pages_from_archive(filters):
        return archive_page
    if stands_in_for_truedy(filters, gateway.now()) is not None:
        return current_archive_page
    return None


def list_page(filters: CallFilters, *, page: int, per_page: int) -> ListPage:
    """Raises ``TruedyError`` when Truedy has to be asked, fails, and nothing cached stands in
    (``NotFound`` for a campaign Truedy does not have)."""
    if filters.campaign:
        return _campaign_page(filters, page=page, per_page=per_page)
    if pages_from_archive(filters):
        names = agent_names_if_possible()
        calls, matches = _archive_page(filters, page=page, per_page=per_page, names=names)
        reach = archive_reach() if filters.searches else None
        covered = filters.searches and archive_holds_everything(filters)
        return ListPage(calls, True, names, matches, reach, covered)
    now = gateway.now()
    currency = archive_currency(now)
    if currency.answers(filters, now):
        names = agent_names_if_possible()
        window = truedy_window(filters, now)
        calls, _ = _archive_page(window, page=page, per_page=per_page, names=names)
        return ListPage(calls, True, names, {}, as_truedy=True, currency=currency)
    names = reads.agent_names()
    truedys = filters.without_current_only()
    return ListPage(
        reads.filtered_page(truedys, page=page, per_page=per_page),
        False,
        names,
        {},
        currency=currency,
        ignored=ignored_names(filters),
    )


def _archive_page(
    filters: CallFilters, *, page: int, per_page: int, names: dict[str, str] | None = None
) -> tuple[CallPage, dict[str, MatchingLine]]:
    """One page of the list from the archive, with each row's matching line for a search
    (``names``: the agents' names, which sorting by agent sorts on)."""
    offset = (page - 1) * per_page
    if filters.sort in ("agent", "-agent") and names is None:
        names = cached_agent_names()
    # A list row has no transcript (as Truedy's has none), except a search's, whose matching
    # lines are read from it.
    lean = not filters.q
    chosen, total = archived_page(
        filters, offset=offset, limit=per_page, agent_names=names, list_rows=lean
    )
    calls = CallPage(
        calls=tuple(to_record(row, with_transcript=not lean) for row in chosen),
        total=total,
        limit=per_page,
        offset=offset,
    )
    return calls, matching_lines(chosen, filters.q, masked=filters.masked_search)


def _campaign_page(filters: CallFilters, *, page: int, per_page: int) -> ListPage:
    """A page of a campaign's calls: in SQL when the archive holds them all (or for a search,
    which looks in the archive only), else from the calls read one by one."""
    found = campaigns.campaign_calls(filters)
    searching = filters.archive_only
    from_archive = searching or found.all_archived
    if from_archive:
        calls, matches = _archive_page(found.filters, page=page, per_page=per_page)
        source = campaigns.archived_source(found, searched=searching)
    else:
        every, source = campaigns.read_calls(found)
        offset = (page - 1) * per_page
        calls = CallPage(tuple(every[offset : offset + per_page]), len(every), per_page, offset)
        matches = {}
    reach = archive_reach() if searching else None
    covered = searching and archive_holds_everything(filters)
    names = agent_names_if_possible()
    ignored = () if from_archive else ignored_names(filters)  # read one by one, in Truedy's order
    return ListPage(
        calls, from_archive, names, matches, reach, covered, campaign=source, ignored=ignored
    )


def archive_holds_everything(filters: CallFilters) -> bool:
    """A closed range a sync has finished, or an archive within its freshness bound."""
    now = gateway.now()
    return archive_covers(filters, now) or archive_freshness(now).current


def reads_archive(filters: CallFilters, now: datetime) -> bool:
    """Whether every call matching ``filters`` is better read from the archive than from Truedy:
    a search or a range Truedy no longer keeps (it has to be), or one a sync has covered, or
    any while the archive is current; a campaign when the archive holds all its calls (or for a
    search)."""
    if filters.campaign:
        return filters.archive_only or campaigns.campaign_calls(filters).all_archived
    return (
        lists_from_archive(filters, now)
        or archive_covers(filters, now)
        or stands_in_for_truedy(filters, now) is not None
    )


def resolved(filters: CallFilters) -> CallFilters:
    """``filters`` ready for the archive: a campaign's call ids filled in; a list Truedy could
    answer bounded to what Truedy keeps (``truedy_window``), so the archive answers as it."""
    filters = campaigns.with_call_ids(filters)
    now = gateway.now()
    if filters.campaign or lists_from_archive(filters, now):
        return filters
    return truedy_window(filters, now)


def ignored_by(filters: CallFilters) -> tuple[str, ...]:
    """The current archive's own sorts and filters a read of every matching call would leave
    out (it would come from Truedy): a CSV export refuses rather than ignoring them."""
    if not filters.needs_current_archive or reads_archive(filters, gateway.now()):
        return ()
    return ignored_names(filters)


def every_matching_call(filters: CallFilters) -> Iterator[Call]:
    """Every call the filters select, newest first, from wherever ``reads_archive`` says (the
    calls of a campaign the archive lacks: read one by one, as its list is)."""
    if filters.campaign:
        found = campaigns.campaign_calls(filters)
        if filters.archive_only or found.all_archived:
            return _archived_calls(found.filters)
        return iter(campaigns.read_calls(found)[0])
    if reads_archive(filters, gateway.now()):
        return _archived_calls(resolved(filters))
    return iter_matching_calls(filters.without_search())


def _archived_calls(filters: CallFilters) -> Iterator[Call]:
    names = cached_agent_names() if filters.sort in ("agent", "-agent") else None
    rows = matching_archived_calls(filters, agent_names=names).defer(
        "search_text", "masked_search_text"
    )
    return (to_record(row) for row in rows.iterator(chunk_size=ARCHIVE_CHUNK))


def agent_names_if_possible() -> dict[str, str]:
    """Agent names where the page can do without them: the cached ones if Truedy fails (the ids
    still say who)."""
    try:
        return reads.agent_names()
    except TruedyError:
        return reads.agent_names(cached_only=True)


def cached_agent_names() -> dict[str, str]:
    """The agent names the cache holds, without asking Truedy (for a page that must not)."""
    return reads.agent_names(cached_only=True)
