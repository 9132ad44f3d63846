"""``Server-Timing``: where a request's time went, shown in the browser's network panel.

``timed("cache")`` / ``timed("upstream")`` around the operations (calls/upstream/resilience.py, the
client's HTTP calls) add to the current request's totals; the middleware times template
rendering itself and writes the header with ``total``. Outside a request ``timed`` only runs
the block. Stdlib only: the Truedy client times itself with it and stays free of Django.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

HEADER = "Server-Timing"
# (metric, its description's noun), in header order.
METRICS = (("cache", "op"), ("upstream", "request"), ("render", "template"))


@dataclass
class _Metric:
    seconds: float = 0.0
    count: int = 0


@dataclass
class Timings:
    metrics: dict[str, _Metric] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        metric = self.metrics.setdefault(name, _Metric())
        metric.seconds += seconds
        metric.count += 1

    def header(self, total_seconds: float) -> str:
        """``cache;dur=0.4;desc="2 ops", upstream;dur=51.2;desc="1 request", total;dur=60.3``.

        Only what happened is listed, durations in milliseconds (the spec's unit)."""
        parts = []
        for name, noun in METRICS:
            metric = self.metrics.get(name)
            if metric is None:
                continue
            what = f"{metric.count} {noun}{'' if metric.count == 1 else 's'}"
            parts.append(f'{name};dur={metric.seconds * 1000:.1f};desc="{what}"')
        parts.append(f"total;dur={total_seconds * 1000:.1f}")
        return ", ".join(parts)


_timings: ContextVar[Timings | None] = ContextVar("server_timings", default=None)


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the block's duration to the current request's ``name`` metric (if in a request)."""
    timings = _timings.get()
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings.add(name, time.perf_counter() - start)


@contextmanager
def collecting_timings() -> Iterator[Timings]:
    """Timings of everything ``timed`` inside the block (one request)."""
    timings = Timings()
    token = _timings.set(timings)
    try:
        yield timings
    finally:
        _timings.reset(token)


def current_timings() -> Timings | None:
    return _timings.get()
