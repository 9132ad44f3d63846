"""The simulator's controllable clock."""

import threading
import time
from datetime import datetime

from .isotime import US, to_datetime, to_us, wall_us


class Clock:
    """Frozen at `now` when given one, else following real time from construction.

    `set` and `advance` move it by an offset, so a real-time clock keeps ticking from there.
    """

    def __init__(self, now: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._follows_real_time = now is None
        self._start_us = wall_us() if now is None else to_us(now)
        self._start_monotonic = time.monotonic()
        self._offset_us = 0
        self.anchor_us = self._start_us

    def now_us(self) -> int:
        with self._lock:
            return self._now_us_locked()

    def now(self) -> datetime:
        return to_datetime(self.now_us())

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset_us += round(seconds * US)

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._offset_us += to_us(moment) - self._now_us_locked()

    def _now_us_locked(self) -> int:
        elapsed = 0
        if self._follows_real_time:
            elapsed = round((time.monotonic() - self._start_monotonic) * US)
        return self._start_us + elapsed + self._offset_us
