"""How current the archive is: what the last completed sync covered, the last webhook, and
whether the lag is within the stated bound (ARCHIVE_FRESHNESS_BOUND)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max

from calls.archive.recordings import recordings_not_archived
from calls.archive.sync import CURSOR_NAME
from calls.models import SyncCursor, WebhookEvent


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
