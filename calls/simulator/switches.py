"""Fault-injection switches, shared by every thread serving the simulator."""

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

MalformedKind = Literal["truncated", "html", "wrong_shape"]
Variant = Literal["primary", "reference"]
MALFORMED_KINDS: tuple[str, ...] = ("truncated", "html", "wrong_shape")
VARIANTS: tuple[str, ...] = ("primary", "reference")


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected misbehaviour, consumed by one API request."""

    kind: Literal["fail", "timeout", "malformed", "rate_limit"]
    status: int = 500
    malformed: str = "truncated"
    retry_after: int | None = 30
    reset_at_only: bool = False


@dataclass(frozen=True, slots=True)
class WindowCount:
    limit: int
    used: int
    reset_at: int  # Unix seconds

    @property
    def allowed(self) -> bool:
        return self.used <= self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


class Switches:
    """All off by default. Faults queue up in the order they are armed; each API request takes
    at most one. Recording downloads (storage, not the API) have their own queue of refusals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._storage_refusals: deque[int] = deque()
        self._latency_seconds = 0.0
        self._timeout_sleep_seconds = 30.0
        self._rate_limit_per_minute: int | None = None
        self._variant: Variant = "primary"
        self._windows: dict[str, tuple[int, int]] = {}
        self._recording_drip: tuple[int, float] | None = None

    @property
    def latency_seconds(self) -> float:
        with self._lock:
            return self._latency_seconds

    @latency_seconds.setter
    def latency_seconds(self, value: float) -> None:
        if value < 0:
            raise ValueError("latency_seconds must be >= 0")
        with self._lock:
            self._latency_seconds = float(value)

    @property
    def timeout_sleep_seconds(self) -> float:
        with self._lock:
            return self._timeout_sleep_seconds

    @timeout_sleep_seconds.setter
    def timeout_sleep_seconds(self, value: float) -> None:
        with self._lock:
            self._timeout_sleep_seconds = float(value)

    @property
    def rate_limit_per_minute(self) -> int | None:
        with self._lock:
            return self._rate_limit_per_minute

    @rate_limit_per_minute.setter
    def rate_limit_per_minute(self, value: int | None) -> None:
        if value is not None and value < 1:
            raise ValueError("rate_limit_per_minute must be >= 1 or None")
        with self._lock:
            self._rate_limit_per_minute = value
            self._windows.clear()

    @property
    def variant(self) -> Variant:
        with self._lock:
            return self._variant

    @variant.setter
    def variant(self, value: Variant) -> None:
        if value not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {value!r}")
        with self._lock:
            self._variant = value

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        self._arm(n, Fault("fail", status=status))

    def timeout_next(self, n: int = 1) -> None:
        self._arm(n, Fault("timeout"))

    def malformed_next(self, n: int = 1, kind: MalformedKind = "truncated") -> None:
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"kind must be one of {MALFORMED_KINDS}, not {kind!r}")
        self._arm(n, Fault("malformed", malformed=kind))

    def rate_limit_next(
        self, n: int = 1, retry_after: int | None = 30, reset_at_only: bool = False
    ) -> None:
        self._arm(n, Fault("rate_limit", retry_after=retry_after, reset_at_only=reset_at_only))

    def refuse_recordings_next(self, n: int = 1, status: int = 403) -> None:
        """Storage refuses the next ``n`` recording downloads: 403 as for an expired or withdrawn
        link (the default), or any 4xx/5xx."""
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._storage_refusals.extend([status] * n)

    def drip_recordings(self, chunk_bytes: int = 16, every_seconds: float = 2.0) -> None:
        """Storage sends recordings ``chunk_bytes`` at a time, ``every_seconds`` apart: slow
        enough to hold a connection for ever, never silent long enough to time out a read."""
        if chunk_bytes < 1 or every_seconds < 0:
            raise ValueError("chunk_bytes must be >= 1 and every_seconds >= 0")
        with self._lock:
            self._recording_drip = (chunk_bytes, every_seconds)

    @property
    def recording_drip(self) -> tuple[int, float] | None:
        with self._lock:
            return self._recording_drip

    def take_storage_refusal(self) -> int | None:
        with self._lock:
            return self._storage_refusals.popleft() if self._storage_refusals else None

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def count_request(self, key: str, now_seconds: int) -> WindowCount | None:
        """Count one request against `key`'s fixed one-minute window; None when no limit is set."""
        with self._lock:
            limit = self._rate_limit_per_minute
            window_start = now_seconds - now_seconds % 60
            if limit is None:
                return None
            start, count = self._windows.get(key, (window_start, 0))
            if start != window_start:
                start, count = window_start, 0
            count += 1
            self._windows[key] = (start, count)
            return WindowCount(limit=limit, used=count, reset_at=start + 60)

    def reset(self) -> None:
        """Everything back off, as after construction."""
        with self._lock:
            self._faults.clear()
            self._storage_refusals.clear()
            self._latency_seconds = 0.0
            self._timeout_sleep_seconds = 30.0
            self._rate_limit_per_minute = None
            self._variant = "primary"
            self._windows.clear()
            self._recording_drip = None

    def _arm(self, n: int, fault: Fault) -> None:
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._faults.extend([fault] * n)
