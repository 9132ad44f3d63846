"""Whether background work runs: the age of the last heartbeat a worker ran (the scheduler
sends one every WORKER_HEARTBEAT_INTERVAL seconds through the queue, so a dead worker, a
stuck queue and a missing scheduler all show as a stale heartbeat)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from calls.background.tasks import HEARTBEAT
from calls.models import WorkerHeartbeat


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    last_heartbeat: datetime | None
    age_seconds: float | None
    stale_after: int

    @property
    def state(self) -> str:
        """ok, stale (none for a while) or never (no heartbeat yet: workers never started)."""
        if self.age_seconds is None:
            return "never"
        return "ok" if self.age_seconds <= self.stale_after else "stale"

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.state,
            "last_heartbeat": None
            if self.last_heartbeat is None
            else self.last_heartbeat.isoformat(),
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 1),
            "stale_after_seconds": self.stale_after,
        }


def worker_status(now: datetime) -> WorkerStatus:
    beat = WorkerHeartbeat.objects.filter(pk=HEARTBEAT).first()
    age = None if beat is None else max((now - beat.beat_at).total_seconds(), 0.0)
    return WorkerStatus(
        last_heartbeat=None if beat is None else beat.beat_at,
        age_seconds=age,
        stale_after=settings.WORKER_STALE_AFTER,
    )
