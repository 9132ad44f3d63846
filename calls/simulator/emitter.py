"""Webhooks the simulator sends by itself, as Truedy does, when its calls change.

Truedy POSTs an event when a call is answered, when it ends and when its transcript is ready
(https://docs.truedy.ai/guides/call-management, "Webhooks"), delivered at least once: a failed
delivery is tried again later. The emitter does the same for the simulator's calls as its clock
reaches each moment, so the dashboard's webhook path can be measured against its polling.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx

from .app import Simulator
from .data import CallSkeleton
from .isotime import US
from .webhooks import WebhookSender, call_event

logger = logging.getLogger(__name__)
T = TypeVar("T", bound=tuple[Any, ...])

POLL_SECONDS = 0.2
RETRY_DELAYS = (1.0, 2.0, 4.0)  # before each new attempt: four attempts in all
# A final status's event. Truedy names none for a cancelled call; the voice engine it is built
# on ends every call with call.ended, whose status then says why.
FINAL_EVENTS = {"ended": "call.ended", "failed": "call.failed", "cancelled": "call.ended"}


def call_events(simulator: Simulator, call: CallSkeleton) -> list[tuple[int, str]]:
    """Every event a call sends, as (epoch microseconds, event), in time order."""
    events = []
    if call.started is not None:
        events.append((call.started, "call.started"))
    events.append((call.settled, FINAL_EVENTS[call.final]))
    # Package-internal: the renderer decides when the API shows the transcript.
    analysed = simulator._renderer.transcript_at(call)
    if analysed is not None:
        events.append((analysed, "call.analyzed"))
    return events


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


class WebhookEmitter:
    """Sends, through `sender`, each call event that happens on the simulator's clock after
    `start`, in time order: nothing from history, everything from calls live at the start and
    calls placed later.

    A daemon thread polls the clock every `poll_seconds`. A delivery that fails (no connection,
    a timeout, a 5xx, 408 or 429) is tried again after each of `retry_delays` seconds of real
    time, the same payload and event id each time, then dropped with a log line; another
    refusal (a 4xx) is dropped at once. Nothing stops the thread but `stop`.
    """

    def __init__(
        self,
        simulator: Simulator,
        sender: WebhookSender,
        *,
        poll_seconds: float = POLL_SECONDS,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._simulator = simulator
        self._sender = sender
        self._poll_seconds = poll_seconds
        self._retry_delays = tuple(retry_delays)
        self._lock = threading.Lock()
        # (moment on the simulator's clock, tie-break, call id, event)
        self._due: list[tuple[int, int, str, str]] = []
        # (time.monotonic() of the next attempt, tie-break, attempt number, payload)
        self._retries: list[tuple[float, int, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._scheduled: set[str] = set()
        self._since: int | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0  # deliveries the receiver accepted (2xx)
        self.dropped = 0  # events given up on

    @property
    def started_at(self) -> int | None:
        """The simulator's clock at `start` (epoch microseconds): earlier events are not sent."""
        return self._since

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the emitter is already started")
        with self._lock:
            self._since = self._simulator.clock.now_us()
            # Listen first, then look: a call placed meanwhile is seen twice, scheduled once.
            self._simulator.add_call_listener(self.schedule)
            delay_us = round(self._simulator.transcript_delay_seconds * US)
            for call in self._simulator.data.calls:
                # Nothing of a call happens later than its transcript: skip history quickly.
                if call.settled + delay_us > self._since:
                    self._schedule_locked(call)
        self._thread = threading.Thread(target=self._run, name="truedy-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending (events not yet sent are dropped) and wait for the thread to end."""
        self._stopping.set()
        self._simulator.remove_call_listener(self.schedule)
        if self._thread is not None:
            self._thread.join()

    def schedule(self, call: CallSkeleton) -> None:
        """Send `call`'s events still to come (a placed call's are picked up this way)."""
        with self._lock:
            self._schedule_locked(call)

    def poll(self) -> int:
        """Send what happened since the last poll, in time order, then the retries whose time
        has come; returns how many deliveries were attempted. The thread calls it."""
        now = self._simulator.clock.now_us()
        with self._lock:
            due = _pop_due(self._due, now)
            retries = _pop_due(self._retries, time.monotonic())
        attempts = 0
        for moment, _, call_id, event in due:
            if self._stopping.is_set():
                break
            try:
                payload = call_event(self._simulator, call_id, event, at_us=moment)
                self._deliver(payload, attempt=1)
            except Exception:
                logger.exception("webhook %s for call %s: not sent", event, call_id)
            attempts += 1
        for _, _, attempt, payload in retries:
            if self._stopping.is_set():
                break
            try:
                self._deliver(payload, attempt=attempt)
            except Exception:
                logger.exception("webhook %s: retry not sent", payload.get("id"))
            attempts += 1
        return attempts

    def _schedule_locked(self, call: CallSkeleton) -> None:
        if call.id in self._scheduled or self._since is None:
            return
        for moment, event in call_events(self._simulator, call):
            if moment > self._since:
                heapq.heappush(self._due, (moment, next(self._order), call.id, event))
                self._scheduled.add(call.id)

    def _deliver(self, payload: dict[str, Any], *, attempt: int) -> None:
        what = f"webhook {payload['event']} {payload.get('id', '')} (attempt {attempt})"
        try:
            response = self._sender.send(payload)
        except httpx.HTTPError as error:
            failure = f"{type(error).__name__}: {error}"
        else:
            status = response.status_code
            if 200 <= status < 300:
                self.delivered += 1
                return
            if not _retryable(status):
                logger.warning("%s refused with HTTP %s: dropped", what, status)
                self.dropped += 1
                return
            failure = f"HTTP {status}"
        if attempt > len(self._retry_delays):
            logger.warning("%s failed (%s): dropped after %s attempts", what, failure, attempt)
            self.dropped += 1
            return
        logger.info("%s failed (%s): will try again", what, failure)
        retry_at = time.monotonic() + self._retry_delays[attempt - 1]
        with self._lock:
            heapq.heappush(self._retries, (retry_at, next(self._order), attempt + 1, payload))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
            except Exception:
                logger.exception("webhook emitter: poll failed; carrying on")
            # A sleep, not Event.wait(timeout): libfaketime hangs timed waits
            # (tests/shifted_clock/sitecustomize.py).
            time.sleep(self._poll_seconds)


def _pop_due(heap: list[T], now: float) -> list[T]:
    """The entries of a heap whose moment (first item) is `now` or earlier, in order."""
    due = []
    while heap and heap[0][0] <= now:
        due.append(heapq.heappop(heap))
    return due
