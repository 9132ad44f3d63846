"""The call list: one page of it, and every call of it, each from Truedy or the archive.

One place decides where a list is read from. A page comes from the archive only when it must
(a search, which Truedy cannot do, or a range older than Truedy's retention); a read of every
matching call (the totals, the CSV export) also when a sync has covered the range, sparing
Truedy's rate limit.
"""

import dataclasses
from collections.abc import Iterator
from datetime import datetime

from calls.archive.coverage import ArchiveReach, archive_covers, archive_reach
from calls.archive.freshness import archive_freshness
from calls.archive.search import (
    MatchingLine,
    lists_from_archive,
    matching_archived_calls,
    matching_line,
)
from calls.archive.store import to_record
from calls.truedy.errors import TruedyError
from calls.truedy.filters import CallFilters
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


def pages_from_archive(filters: CallFilters) -> bool:
    """The list's pages come from the archive (a search, or older than Truedy keeps)."""
    return lists_from_archive(filters, gateway.now())


def archive_page(filters: CallFilters, page: int, per_page: int) -> CallPage:
    """One page of the list from the archive (without its matching lines)."""
    return _archive_page(filters, page=page, per_page=per_page)[0]


def list_page(filters: CallFilters, *, page: int, per_page: int) -> ListPage:
    """Raises ``TruedyError`` when Truedy has to be asked, fails, and nothing cached stands in."""
    if pages_from_archive(filters):
        calls, matches = _archive_page(filters, page=page, per_page=per_page)
        reach = archive_reach() if filters.searches else None
        covered = filters.searches and archive_holds_everything(filters)
        return ListPage(calls, True, agent_names_if_possible(), matches, reach, covered)
    names = reads.agent_names()
    return ListPage(reads.filtered_page(filters, page=page, per_page=per_page), False, names, {})


def _archive_page(
    filters: CallFilters, *, page: int, per_page: int
) -> tuple[CallPage, dict[str, MatchingLine]]:
    """One page of the list from the archive, with each row's matching line for a search."""
    rows = matching_archived_calls(filters)
    offset = (page - 1) * per_page
    chosen = list(rows[offset : offset + per_page])
    calls = CallPage(
        calls=tuple(to_record(row) for row in chosen),
        total=rows.count(),
        limit=per_page,
        offset=offset,
    )
    lines = {row.id: matching_line(row, filters.q) for row in chosen}
    return calls, {call_id: line for call_id, line in lines.items() if line is not None}


def archive_holds_everything(filters: CallFilters) -> bool:
    """A closed range a sync has finished, or an archive within its freshness bound."""
    now = gateway.now()
    return archive_covers(filters, now) or archive_freshness(now).current


def reads_archive(filters: CallFilters, now: datetime) -> bool:
    """Whether every call matching ``filters`` is better read from the archive than from Truedy:
    a search or a range Truedy no longer keeps (it has to be), or one a sync has covered."""
    return lists_from_archive(filters, now) or archive_covers(filters, now)


def every_matching_call(filters: CallFilters) -> Iterator[Call]:
    """Every call the filters select, newest first, from wherever ``reads_archive`` says."""
    if reads_archive(filters, gateway.now()):
        rows = matching_archived_calls(filters).defer("search_text")
        return (to_record(row) for row in rows.iterator(chunk_size=ARCHIVE_CHUNK))
    return iter_matching_calls(filters.without_search())


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
