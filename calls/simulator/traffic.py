"""New calls as time passes: a thread that places one on the simulator every so often."""

import logging
import threading
import time

from .app import Simulator
from .isotime import US

logger = logging.getLogger(__name__)

CHECK_SECONDS = 0.1


class CallPlacer:
    """Places a call (`Simulator.place_call`) every `every_seconds` of the simulator's clock,
    from a daemon thread, until `stop`.

    The first comes `every_seconds` after `start`. Paced on the simulator's clock, so a test
    moves it instead of waiting, and a frozen clock places nothing; after a jump forward one call
    is placed, not the backlog, and the next is due `every_seconds` later.
    """

    def __init__(
        self,
        simulator: Simulator,
        *,
        every_seconds: float,
        talk_seconds: float = 20,
        ring_seconds: float = 3,
    ) -> None:
        if every_seconds <= 0:
            raise ValueError("every_seconds must be positive")
        if talk_seconds < 0 or ring_seconds < 0:
            raise ValueError("talk_seconds and ring_seconds must not be negative")
        self._simulator = simulator
        self._every_us = round(every_seconds * US)
        self._talk_seconds = talk_seconds
        self._ring_seconds = ring_seconds
        self._check_seconds = min(CHECK_SECONDS, every_seconds)
        self._next_us = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.placed: list[str] = []  # ids, oldest first

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the placer is already started")
        self._next_us = self._simulator.clock.now_us() + self._every_us
        self._thread = threading.Thread(target=self._run, name="truedy-new-calls", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Place no more calls and wait for the thread to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def poll(self) -> str | None:
        """Place a call if one is due; its id, else None. The thread calls it."""
        now = self._simulator.clock.now_us()
        if now < self._next_us:
            return None
        call_id = self._simulator.place_call(
            talk_seconds=self._talk_seconds, ring_seconds=self._ring_seconds
        )
        self._next_us = now + self._every_us
        self.placed.append(call_id)
        return call_id

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
            except Exception:
                logger.exception("call placer: could not place a call; carrying on")
            # A sleep, not Event.wait(timeout): libfaketime hangs timed waits
            # (tests/shifted_clock/sitecustomize.py).
            time.sleep(self._check_seconds)
