"""How current the archive is: what the last completed sync covered, the last webhook, and
whether the lag is within the stated bound (ARCHIVE_FRESHNESS_BOUND)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max

from calls.archive.recordings import recordings_not_archived
from calls.archive.retention import retention_cutoff
from calls.archive.search import ONE_MICROSECOND, truedy_window
from calls.archive.sync import CURSOR_NAME
from calls.models import SyncCursor, WebhookEvent
from calls.truedy.filters import CallFilters


@dataclass(frozen=True, slots=True)
class Freshness:
    synced_until: datetime | None  # every call created before this is in the archive
    last_sync_at: datetime | None  # when the last completed sync finished
    last_webhook_at: datetime | None  # when the last webhook arrived
    lag_seconds: float | None  # how far behind Truedy the archive's coverage is
    bound_seconds: int
    events_waiting: int  # webhook follow-ups not yet done
    recordings_not_archived: dict[str, int]  # by reason

    @property
    def current(self) -> bool:
        """Within the bound: a page may answer from the archive and call it current."""
        return self.lag_seconds is not None and self.lag_seconds <= self.bound_seconds

    def as_json(self) -> dict[str, object]:
        def moment(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "current": self.current,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 1),
            "bound_seconds": self.bound_seconds,
            "synced_until": moment(self.synced_until),
            "last_sync_at": moment(self.last_sync_at),
            "last_webhook_at": moment(self.last_webhook_at),
            "webhook_follow_ups_waiting": self.events_waiting,
            "recordings_not_archived": sum(self.recordings_not_archived.values()),
        }


def archive_freshness(upstream_now: datetime) -> Freshness:
    """``upstream_now``: Truedy's clock (calls.upstream.gateway.now), which the sync's window
    is measured on."""
    cursor = SyncCursor.objects.filter(pk=CURSOR_NAME).first()
    synced_until = cursor.synced_until if cursor else None
    lag = None if synced_until is None else max((upstream_now - synced_until).total_seconds(), 0)
    return Freshness(
        synced_until=synced_until,
        last_sync_at=cursor.finished_at if cursor else None,
        last_webhook_at=WebhookEvent.objects.aggregate(last=Max("received_at"))["last"],
        lag_seconds=lag,
        bound_seconds=settings.ARCHIVE_FRESHNESS_BOUND,
        events_waiting=WebhookEvent.objects.filter(processed_at__isnull=True).count(),
        recordings_not_archived=recordings_not_archived(),
    )


@dataclass(frozen=True, slots=True)
class Currency:
    """How far behind Truedy the archive is, in one query: what a list page needs to decide
    whether the archive may answer for Truedy (``answers``) and to say so."""

    lag_seconds: float | None  # None: no sync has finished yet
    bound_seconds: int
    # The earliest call the archive holds every call since (None: since Truedy's first).
    holds_since: datetime | None = None

    @property
    def current(self) -> bool:
        return self.lag_seconds is not None and self.lag_seconds <= self.bound_seconds

    def answers(self, filters: CallFilters, now: datetime) -> bool:
        """The archive may answer this list for Truedy: current, and holding every call of
        the range Truedy would list (its 12 months, within the filters' range)."""
        if not self.current:
            return False
        first = truedy_window(filters, now).created_after
        assert first is not None  # truedy_window always bounds it
        return self.holds_since is None or first + ONE_MICROSECOND >= self.holds_since

    def why_not(self) -> str:
        """Why the archive cannot answer for Truedy (``answers`` False), in words."""
        if self.lag_seconds is None:
            return "no sync has finished yet"
        if not self.current:
            return f"it is {self.behind} behind Truedy"
        assert self.holds_since is not None
        return f"it holds every call only since {self.holds_since:%Y-%m-%d %H:%M} UTC"

    @property
    def behind(self) -> str:
        """The lag in words: "12 s", "4 min", "3 h"; "never synced" without a sync."""
        if self.lag_seconds is None:
            return "never synced"
        seconds = int(self.lag_seconds)
        if seconds < 120:
            return f"{seconds} s"
        if seconds < 2 * 3600:
            return f"{seconds // 60} min"
        if seconds < 2 * 86400:
            return f"{seconds // 3600} h"
        return f"{seconds // 86400} days"


def archive_currency(upstream_now: datetime) -> Currency:
    """``archive_freshness(upstream_now).current`` and its lag, without its other queries; and
    since when the archive holds every call (the sync's start, or its retention's cutoff)."""
    row = SyncCursor.objects.filter(pk=CURSOR_NAME).values_list("synced_from", "synced_until")
    synced_from, synced_until = row.first() or (None, None)
    lag = None if synced_until is None else max((upstream_now - synced_until).total_seconds(), 0)
    cutoff = retention_cutoff(upstream_now)
    since = max((m for m in (synced_from, cutoff) if m is not None), default=None)
    return Currency(
        lag_seconds=lag, bound_seconds=settings.ARCHIVE_FRESHNESS_BOUND, holds_since=since
    )
