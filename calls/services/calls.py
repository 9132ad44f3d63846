"""A call for a page or a download: Truedy first, the archive where Truedy cannot answer.

The archive stands in for a call Truedy no longer has (older than its 12 months, or deleted)
and for one it cannot give right now (down, rate-limiting, refusing the key). A call page opened
from a list has one more stand-in while Truedy's trouble passes: the call's row in that cached
list, and the page fills itself in when Truedy answers again.
"""

import dataclasses

from calls.archive.store import get_archived, to_record
from calls.models import ArchivedCall
from calls.services import listing
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call
from calls.upstream import reads
from calls.upstream.problems import problem_of


@dataclasses.dataclass(frozen=True, slots=True)
class ListPlace:
    """Where in a list a call page was opened from: the list's filters and page."""

    filters: CallFilters
    page: int
    per_page: int


@dataclasses.dataclass(frozen=True, slots=True)
class PageCall:
    call: Call
    archived: ArchivedCall | None = None  # the archive's row, when its copy stands in
    # Why Truedy's own answer is missing: NotFound when the call is gone from Truedy.
    error: TruedyError | None = None
    waiting: bool = False  # only the list's row stands in, until Truedy answers again

    @property
    def gone(self) -> bool:
        return isinstance(self.error, NotFound)


def call_or_archived(call_id: str) -> PageCall:
    """Truedy's call, else the archive's copy; raises Truedy's error when there is none."""
    try:
        return PageCall(reads.get_call(call_id))
    except TruedyError as error:
        archived = get_archived(call_id)
        if archived is None:
            raise
        return PageCall(to_record(archived), archived, error)


def call_for_page(call_id: str, *, opened_from: ListPlace | None) -> PageCall:
    """The call a call page shows, and where it came from.

    Raises ``NotFound`` when neither Truedy nor the archive has it, and Truedy's error when
    nothing can stand in for its answer.
    """
    try:
        return call_or_archived(call_id)
    except NotFound:
        raise
    except TruedyError as error:
        row = None
        if opened_from is not None:
            row = reads.cached_list_row(
                call_id,
                page=opened_from.page,
                per_page=opened_from.per_page,
                filters=opened_from.filters,
            )
        if row is None or not problem_of(error).passes_by_itself:
            raise
        return PageCall(row, error=error, waiting=True)


def neighbours(call_id: str, opened_from: ListPlace) -> reads.Neighbours | None:
    """The calls before and after it in the list it was opened from; None when that cannot be
    told (the call page still works without its place in the list)."""
    try:
        return reads.find_neighbours(
            call_id,
            page=opened_from.page,
            per_page=opened_from.per_page,
            filters=opened_from.filters,
            read_page=listing.archive_page
            if listing.pages_from_archive(opened_from.filters)
            else None,
        )
    except TruedyError:
        return None
