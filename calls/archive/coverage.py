"""Which ranges of calls the archive holds completely, as the sync's finished windows show,
and how far it reaches at all."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min

from calls.archive.retention import retention_cutoff
from calls.models import ArchivedCall, SyncCursor, WebhookEvent
from calls.truedy.filters import CallFilters

_MICROSECOND = timedelta(microseconds=1)


def archive_covers(filters: CallFilters, now: datetime) -> bool:
    """The archive holds every call the range can contain: a finished sync window (any
    cursor's ``[synced_from, synced_until)``) spans it, and the archive's retention kept it."""
    after, before = filters.created_after, filters.created_before
    if before is None:
        return False  # up to now: calls keep arriving after any sync
    first = None if after is None else after + _MICROSECOND  # the earliest instant selected
    cutoff = retention_cutoff(now)
    if cutoff is not None and (first is None or first < cutoff):
        return False
    for synced_from, synced_until in SyncCursor.objects.exclude(synced_until=None).values_list(
        "synced_from", "synced_until"
    ):
        assert synced_until is not None  # excluded above
        starts = synced_from is None or (first is not None and first >= synced_from)
        if starts and before <= synced_until:
            return True
    return False


@dataclass(frozen=True, slots=True)
class ArchiveReach:
    """What a search of the archive can find: how many calls, created when, updated when."""

    calls: int
    first_created: datetime | None
    last_created: datetime | None
    updated_at: datetime | None  # the last finished sync or received webhook, the later


def archive_reach() -> ArchiveReach:
    held = ArchivedCall.objects.aggregate(
        calls=Count("pk"), first=Min("created_at"), last=Max("created_at")
    )
    synced = SyncCursor.objects.aggregate(at=Max("finished_at"))["at"]
    heard = WebhookEvent.objects.aggregate(at=Max("received_at"))["at"]
    updates = [moment for moment in (synced, heard) if moment is not None]
    return ArchiveReach(held["calls"], held["first"], held["last"], max(updates, default=None))
