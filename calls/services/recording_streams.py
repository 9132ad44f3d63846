"""How many recordings stream through one dashboard process at once, for how long, how slowly.

A recording being streamed holds a server thread for as long as it lasts. Storage that drips
(16 bytes every 2 s, never silent long enough for a read timeout) held one for ever, and eight
of them took a 1 x 8 instance down, so:

- slots: at most RECORDING_STREAMS_MAX streams per process and RECORDING_STREAMS_PER_USER per
  person at once; beyond that the proxy answers 503 with Retry-After at once;
- pace: a stream whose storage delivers less than RECORDING_MIN_BYTES_PER_SECOND on average,
  once it has waited RECORDING_THROUGHPUT_WINDOW seconds for it, is ended;
- a deadline: no stream lasts longer than RECORDING_STREAM_DEADLINE seconds (the player asks
  again, with a Range, for what it has not got); a stream ended early closes its connection;
- bytes are passed on as they arrive, not gathered into large chunks first, so a client that
  left is noticed at the next write.

A client that stops reading blocks the server's write, where no code of ours runs: the server
bounds that (truedy_dashboard/gunicorn_worker.py). Counts are per process, as threads are.
"""

import errno
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Hashable, Iterator
from typing import Protocol

from django.conf import settings

logger = logging.getLogger("calls.recording_streams")


class Stream(Protocol):
    status_code: int
    headers: dict[str, str]

    def iter_bytes(self) -> Generator[bytes, None, None]: ...

    def close(self) -> None: ...


class StreamCut(ConnectionResetError):
    """A stream ended before its Content-Length: raised, not a quiet end, so that the server
    closes the connection (a short body on a kept-alive connection would leave the client
    waiting for the rest). As a connection reset, gunicorn closes it without a traceback."""


class StreamSlots:
    """Counts of the streams under way in this process, in all and per owner."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: Counter[Hashable] = Counter()

    def take(self, owner: Hashable) -> bool:
        """A slot for ``owner``, or False when the process or the owner has no more."""
        with self._lock:
            if sum(self._owners.values()) >= settings.RECORDING_STREAMS_MAX:
                return False
            if self._owners[owner] >= settings.RECORDING_STREAMS_PER_USER:
                return False
            self._owners[owner] += 1
            return True

    def give_back(self, owner: Hashable) -> None:
        with self._lock:
            self._owners[owner] -= 1
            if self._owners[owner] <= 0:
                del self._owners[owner]

    def in_use(self) -> int:
        with self._lock:
            return sum(self._owners.values())


SLOTS = StreamSlots()


def open_in_slot(owner: Hashable, open_stream: Callable[[], Stream]) -> "PacedStream | None":
    """The stream ``open_stream`` opens, in a slot of ``owner``'s, paced; None when no slot is
    free (nothing is opened then). A stream that fails to open gives its slot back."""
    if not SLOTS.take(owner):
        return None
    try:
        stream = open_stream()
    except BaseException:
        SLOTS.give_back(owner)
        raise
    return PacedStream(stream, release=lambda: SLOTS.give_back(owner))


class PacedStream:
    """A recording's bytes, ended early when storage is too slow or the deadline passes; its
    slot is given back exactly once, when it ends or is closed (even never started)."""

    def __init__(
        self,
        stream: Stream,
        release: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self.status_code = stream.status_code
        self.headers = stream.headers
        self._chunks = stream.iter_bytes()
        self._release: Callable[[], None] | None = release
        self._clock = clock
        self._started = clock()
        self._waited = 0.0  # seconds spent waiting for storage, not for the client
        self._received = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._release is None:
            raise StopIteration
        before = self._clock()
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        now = self._clock()
        self._waited += now - before
        self._received += len(chunk)
        if self._too_slow() or self._past_deadline(now):
            self.close()
            raise StreamCut(errno.ECONNRESET, "recording stream cut short")
        return chunk

    def _past_deadline(self, now: float) -> bool:
        if now - self._started <= settings.RECORDING_STREAM_DEADLINE:
            return False
        logger.info("recording stream ended at its deadline after %d bytes", self._received)
        return True

    def _too_slow(self) -> bool:
        if self._waited < settings.RECORDING_THROUGHPUT_WINDOW:
            return False
        if self._received >= settings.RECORDING_MIN_BYTES_PER_SECOND * self._waited:
            return False
        logger.warning(
            "recording stream ended: storage sent %d bytes in %.0f s of waiting",
            self._received,
            self._waited,
        )
        return True

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            self._chunks.close()
            self._stream.close()
        finally:
            release()
