"""A call for a page or a download: Truedy first, the archive where Truedy cannot answer.

A settled call (calls.archive.settled) is the exception: the archive's copy is as good as
Truedy's answer, so it is read from the archive and Truedy is not asked at all. So is a call
that is not settled yet while webhooks keep the archive current (``followed``): its copy is as
new as Truedy's last change to it, as the live updates show it (calls.services.live).

The archive stands in for a call Truedy no longer has (older than its 12 months, or deleted)
and for one it cannot give right now (down, rate-limiting, refusing the key). A call page opened
from a list has one more stand-in while Truedy's trouble passes: the call's row in that cached
list, and the page fills itself in when Truedy answers again.
"""

import dataclasses

from calls.archive.settled import archived_follows_truedy, archived_is_settled
from calls.archive.store import get_archived, to_record
from calls.models import ArchivedCall
from calls.services import listing, live
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call
from calls.upstream import gateway, reads
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
    # Settled (calls.archive.settled): read from the archive alone, Truedy not asked.
    settled: bool = False
    # Not settled, read from the archive that webhooks keep current: Truedy not asked.
    followed: bool = False

    @property
    def gone(self) -> bool:
        return isinstance(self.error, NotFound)


def call_or_archived(call_id: str) -> PageCall:
    """A settled call from the archive alone, and an unsettled one while webhooks keep the
    archive current; else Truedy's call, else the archive's copy; raises Truedy's error when
    there is none."""
    now = gateway.now()
    archived = get_archived(call_id)
    if archived is not None:
        if archived_is_settled(archived, now):
            return PageCall(to_record(archived), archived, settled=True)
        if live.archive_follows_truedy() and archived_follows_truedy(archived, now):
            return PageCall(to_record(archived), archived, followed=True)
    try:
        return PageCall(reads.get_call(call_id))
    except TruedyError as error:
        archived = get_archived(call_id)  # a webhook's follow-up may have stored it meanwhile
        if archived is None:
            raise
        return PageCall(to_record(archived), archived, error)


def call_for_page(call_id: str, *, opened_from: ListPlace | None) -> PageCall:
    """The call a call page shows, and where it came from.

    Raises ``NotFound`` when neither Truedy nor the archive has it, and Truedy's error when
    nothing can stand in for its answer.
    """
    try:
        with reads.list_row_standing_in(opened_from is not None):
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
    filters = opened_from.filters
    read_page = listing.page_reader(filters)
    if read_page is None:  # Truedy's list, as the page showed it: without what it cannot do
        filters = filters.without_current_only()
    try:
        return reads.find_neighbours(
            call_id,
            page=opened_from.page,
            per_page=opened_from.per_page,
            filters=filters,
            read_page=read_page,
        )
    except TruedyError:
        return None
