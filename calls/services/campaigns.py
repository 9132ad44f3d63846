"""Campaigns (Truedy's batch calls): their progress, and exactly the calls each one made.

Truedy joins a campaign to its calls through its contacts: each contact called carries its
call's id (``GET /batch-calls/{id}/contacts``). A campaign's calls are the call list with a
``campaign`` filter, resolved here into those ids (``reads.campaign_call_ids``, cached). The
calls then come from the archive when it holds every one of them, so the list pages, totals,
exports and review queues run in SQL like any archive list; otherwise from the archive where it
holds them and from Truedy one call at a time (``GET /calls/{id}``, cached like any call) for
the rest, the most recently called first and at most ``MAX_CALLS_FROM_TRUEDY`` for one list.
``CampaignSource`` says which, for the page to tell.
"""

import dataclasses
from datetime import UTC, datetime

from calls.archive.search import matching_archived_calls
from calls.archive.store import to_record
from calls.models import ArchivedCall
from calls.truedy.errors import NotFound
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, Campaign, CampaignPage
from calls.upstream import reads

# Calls the archive lacks that one list (or its totals, export or review queue) asks Truedy
# for, one request each: half of Truedy's ~100 requests a minute, once; cached afterwards.
MAX_CALLS_FROM_TRUEDY = 50
CAMPAIGNS_PER_PAGE = 25


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignSource:
    """Where a campaign's list found its calls: what the page says under the filters."""

    campaign: Campaign
    calls: int  # the calls its contacts got, as far as its contacts were read
    contacts_read: int
    total_contacts: int
    from_archive: int  # of those, held by the archive
    from_truedy: int  # asked of Truedy one by one for this list
    left_out: int  # neither: past MAX_CALLS_FROM_TRUEDY (or, for a search, not archived yet)
    gone: int = 0  # Truedy no longer has them and the archive never had them
    searched: bool = False  # a search: it looks in the archived calls only

    @property
    def asked_at_most(self) -> int:
        return MAX_CALLS_FROM_TRUEDY

    @property
    def contacts_capped(self) -> bool:
        return self.contacts_read < self.total_contacts

    @property
    def whole(self) -> bool:
        """Every call of the campaign is in the list (before the other filters)."""
        return not (self.left_out or self.gone or self.contacts_capped)


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignCalls:
    """A campaign's calls before any is read: their ids, and which the archive holds."""

    campaign: Campaign
    filters: CallFilters  # the list's filters, ``call_ids`` filled in
    found: reads.CampaignCallIds
    archived: frozenset[str]

    @property
    def all_archived(self) -> bool:
        return len(self.archived) == len(self.found.call_ids)

    def source(
        self, *, from_truedy: int = 0, left_out: int = 0, gone: int = 0, searched: bool = False
    ) -> CampaignSource:
        return CampaignSource(
            campaign=self.campaign,
            calls=len(self.found.call_ids),
            contacts_read=self.found.contacts_read,
            total_contacts=self.found.total_contacts,
            from_archive=len(self.archived),
            from_truedy=from_truedy,
            left_out=left_out,
            gone=gone,
            searched=searched,
        )


# --- the campaigns page ------------------------------------------------------------------------


def campaigns_page(page: int) -> CampaignPage:
    """Page ``page`` (1-based) of the campaigns, newest first. Raises ``TruedyError``."""
    return reads.list_campaigns(page=page, per_page=CAMPAIGNS_PER_PAGE)


def campaign(campaign_id: str) -> Campaign:
    """One campaign and its counters. Raises ``NotFound`` (no such campaign) or another
    ``TruedyError``."""
    return reads.get_campaign(campaign_id)


# --- a campaign's calls ------------------------------------------------------------------------


def with_call_ids(filters: CallFilters) -> CallFilters:
    """``filters`` with their campaign's call ids in ``call_ids``; as they are without a
    campaign, or once resolved. Raises ``TruedyError`` (``NotFound``: no such campaign)."""
    if not filters.campaign or filters.call_ids is not None:
        return filters
    found = reads.campaign_call_ids(filters.campaign)
    return dataclasses.replace(filters, call_ids=frozenset(found.call_ids))


def campaign_calls(filters: CallFilters) -> CampaignCalls:
    """The campaign of ``filters`` (which must name one), its call ids and which of them the
    archive holds (one query). Raises ``TruedyError``."""
    if not filters.campaign:
        raise ValueError("campaign_calls() needs filters that name a campaign")
    campaign = reads.get_campaign(filters.campaign)
    found = reads.campaign_call_ids(filters.campaign)
    archived = frozenset(
        ArchivedCall.objects.filter(id__in=found.call_ids).values_list("id", flat=True)
    )
    resolved = dataclasses.replace(filters, call_ids=frozenset(found.call_ids))
    return CampaignCalls(campaign, resolved, found, archived)


def read_calls(found: CampaignCalls) -> tuple[list[Call], CampaignSource]:
    """Every call of the campaign the filters select, newest first: the archive's copies where
    it has them (filtered by the database), the others asked of Truedy by id, the most recently
    called first, at most ``MAX_CALLS_FROM_TRUEDY``. Raises ``TruedyError`` when Truedy fails
    and nothing cached stands in."""
    filters = found.filters
    calls = [to_record(row) for row in matching_archived_calls(filters)]
    missing = [call_id for call_id in found.found.call_ids if call_id not in found.archived]
    asked = missing[:MAX_CALLS_FROM_TRUEDY]
    gone = 0
    truedy_filters = filters.without_search()
    for call_id in asked:
        try:
            call = reads.get_call(call_id)
        except NotFound:
            gone += 1  # deleted, or older than Truedy keeps: the list says how many
            continue
        if truedy_filters.admits(call):
            calls.append(call)
    calls.sort(key=_newest_first, reverse=True)
    source = found.source(
        from_truedy=len(asked) - gone, left_out=len(missing) - len(asked), gone=gone
    )
    return calls, source


def archived_source(found: CampaignCalls, *, searched: bool) -> CampaignSource:
    """What a list read from the archive alone says: any call it lacks is left out (a search
    of a campaign looks in the archive only, as every search does)."""
    left_out = len(found.found.call_ids) - len(found.archived)
    return found.source(left_out=left_out, searched=searched)


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _newest_first(call: Call) -> tuple[datetime, str]:
    # As the archive orders (reversed): created_at descending, calls without one last, then id.
    return (call.created_at or _EARLIEST, call.id)
