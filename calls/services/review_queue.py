"""Any list view, or a sample of it, as a review queue: its unreviewed calls, in list order.

- The queue's calls are read once, when someone starts it (``calls.services.listing``: the
  archive where it can answer, else Truedy, 100 calls a request), and their ids kept in the
  cache for ``REVIEW_QUEUE_SECONDS``, shared by every reviewer on the same view. Each later
  step (the next call after a verdict, the progress figures) reads those ids and the database
  only: walking a queue asks Truedy for nothing beyond what opening each call page costs.
- Claims: the call a reviewer is given is theirs for ``REVIEW_CLAIM_SECONDS`` (``cache.add``,
  atomic on Redis and in local memory), released by their verdict; two reviewers on one queue
  never get the same call at the same time, and the holder gets their own call again. With the
  cache down claims cannot hold: the queue still works and two reviewers may meet on a call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from calls.models import ReviewSample
from calls.services import reviews, sampling
from calls.services.listing import every_matching_call
from calls.truedy.filters import CallFilters
from calls.upstream import gateway
from calls.upstream.keys import REVIEW_CLAIM_PREFIX, REVIEW_QUEUE_PREFIX
from calls.upstream.resilience import safe_add, safe_delete, safe_get, safe_get_many, safe_set

# A queue holds at most this many calls (ids only, a few hundred KB in the cache): from
# Truedy that is 100 requests, about a minute of its rate limit, once per start.
MAX_QUEUE_CALLS = 10_000
_SCAN_CHUNK = 100  # calls whose verdicts and claims are looked up at a time


@dataclasses.dataclass(frozen=True, slots=True)
class Queue:
    """Which calls a queue holds: a list view's filters, or a sample (or part of one) of it."""

    filters: CallFilters
    sample: ReviewSample | None = None
    part: sampling.Part | None = None

    @property
    def key(self) -> str:
        """The cache key of its call ids: the same for everyone on the same queue."""
        sample = "" if self.sample is None else f"{self.sample.pk}:{self.sample.seed}"
        identity = f"{self.filters!r}|{sample}|{self.part or ''}"
        return f"{REVIEW_QUEUE_PREFIX}:{hashlib.sha256(identity.encode()).hexdigest()}"


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """A queue's calls as read when it started, in list order."""

    call_ids: tuple[str, ...]
    # Each call's 0-based place in the whole list (its page, for the call page's neighbours).
    list_positions: tuple[int, ...]
    read_at: datetime
    truncated: bool = False  # the view had more than MAX_QUEUE_CALLS calls

    def position(self, call_id: str) -> int | None:
        """The call's 1-based place in the queue."""
        try:
            return self.call_ids.index(call_id) + 1
        except ValueError:
            return None

    def list_position(self, call_id: str) -> int | None:
        place = self.position(call_id)
        return None if place is None else self.list_positions[place - 1]


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    total: int  # calls in the queue
    reviewed: int  # of them with a verdict
    position: int | None = None  # the current call's 1-based place, when it is in the queue
    truncated: bool = False

    @property
    def percent(self) -> int:
        """Coverage in whole per cent, rounded down: 100 only when every call is reviewed."""
        return self.reviewed * 100 // self.total if self.total else 0

    @property
    def remaining(self) -> int:
        return self.total - self.reviewed


@dataclasses.dataclass(frozen=True, slots=True)
class Tally:
    """Where a queue stands when nobody can be given a call from it."""

    progress: Progress
    verdicts: dict[str, int]  # verdict -> calls with it now
    claimed_by_others: int  # unreviewed calls teammates are on right now

    @property
    def left_for_you(self) -> int:
        """Unreviewed calls nobody else is on: the queue is not done for this user."""
        return self.progress.remaining - self.claimed_by_others


# --- the queue's calls ----------------------------------------------------------------------


def snapshot(queue: Queue, *, refresh: bool = False) -> Snapshot:
    """The queue's calls: from the cache, or read now (``refresh``: read now in any case).

    Raises ``TruedyError`` when Truedy has to be asked and fails."""
    if not refresh:
        kept = safe_get(queue.key)
        if isinstance(kept, Snapshot):
            return kept
    taken = _read(queue)
    safe_set(queue.key, taken, settings.REVIEW_QUEUE_SECONDS)
    return taken


def _read(queue: Queue) -> Snapshot:
    sample = queue.sample
    calls = every_matching_call(queue.filters)
    try:
        listed = [
            (call.id, call.created_at) for call in itertools.islice(calls, MAX_QUEUE_CALLS + 1)
        ]
    finally:
        close = getattr(calls, "close", None)
        if close is not None:
            close()  # a Truedy read stops fetching pages ahead
    truncated = len(listed) > MAX_QUEUE_CALLS
    listed = listed[:MAX_QUEUE_CALLS]
    place = {call_id: index for index, (call_id, _) in enumerate(listed)}
    chosen = list(place)
    if sample is not None:
        # Only calls created before the cutoff count: later ones never change the sample. The
        # later ones are still read, so each call's place is its place in today's list.
        eligible = [call_id for call_id, created in listed if created and created < sample.cutoff]
        chosen = sampling.choose(
            eligible, seed=sample.seed, percent=sample.percent, size=sample.size, part=queue.part
        )
    return Snapshot(
        call_ids=tuple(chosen),
        list_positions=tuple(place[call_id] for call_id in chosen),
        read_at=gateway.now(),
        truncated=truncated,
    )


# --- claims ----------------------------------------------------------------------------------


def claim_key(call_id: str) -> str:
    return f"{REVIEW_CLAIM_PREFIX}:{call_id}"


def claim(call_id: str, user_id: int) -> bool:
    """Make ``call_id`` the user's for ``REVIEW_CLAIM_SECONDS``; True if it is now theirs
    (also when it already was: their claim starts again)."""
    key, seconds = claim_key(call_id), settings.REVIEW_CLAIM_SECONDS
    if safe_add(key, user_id, seconds):
        return True
    holder = safe_get(key)
    if holder == user_id:
        _extend(key, seconds)
        return True
    # The other claim ran out between the two reads: try once more.
    return holder is None and safe_add(key, user_id, seconds)


def release(call_id: str, user_id: int) -> None:
    """Give the call back, if the user holds it (a teammate's claim is left alone)."""
    key = claim_key(call_id)
    if safe_get(key) == user_id:
        safe_delete(key)


def holder(call_id: str) -> Any:
    """The id of the user who holds the call now, or None."""
    return safe_get(claim_key(call_id))


def _extend(key: str, seconds: int) -> None:
    with contextlib.suppress(Exception):  # the cache is down: an unextended claim ends sooner
        cache.touch(key, seconds)


# --- walking it ------------------------------------------------------------------------------


def next_call(
    queue: Queue,
    *,
    user_id: int,
    after: str | None = None,
    taken: Snapshot | None = None,
    claiming: bool = True,
) -> str | None:
    """Claim and return the queue's next call for the user, None when there is none left.

    Without ``after`` (starting): the call the user already holds, else the first unreviewed
    call nobody holds. With ``after`` (a verdict or a skip): the first such call after it in
    list order, wrapping round to the start; ``after`` itself is released and never chosen.
    ``claiming=False`` (someone who only looks): the same call, claimed by nobody.
    """

    def take(call_id: str) -> bool:
        return claim(call_id, user_id) if claiming else True

    taken = taken or snapshot(queue)
    order = list(taken.call_ids)
    if after is not None:
        release(after, user_id)
        if after in order:
            at = order.index(after)
            order = order[at + 1 :] + order[:at]
    free: list[str] = []
    for call_id, held in _unreviewed_with_holders(order):
        if held == user_id or (held is None and after is not None):
            if take(call_id):
                return call_id
        elif held is None:
            free.append(call_id)  # starting: the user's own claim, further on, comes first
    # A call a teammate claimed between the look-up and our claim is passed over.
    return next((call_id for call_id in free if take(call_id)), None)


def _unreviewed_with_holders(order: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(call id, who holds it or None) of each unreviewed call, in order."""
    for chunk in _chunks(order, _SCAN_CHUNK):
        done = reviews.reviewed_ids(chunk)
        waiting = [call_id for call_id in chunk if call_id not in done]
        holders = safe_get_many([claim_key(call_id) for call_id in waiting])
        for call_id in waiting:
            yield call_id, holders.get(claim_key(call_id))


def progress(
    queue: Queue, *, current: str | None = None, taken: Snapshot | None = None
) -> Progress:
    """How far the queue is: calls, of them reviewed, and the current call's place."""
    taken = taken or snapshot(queue)
    return Progress(
        total=len(taken.call_ids),
        reviewed=len(reviews.reviewed_ids(taken.call_ids)),
        position=taken.position(current) if current else None,
        truncated=taken.truncated,
    )


def tally(queue: Queue, *, user_id: int, taken: Snapshot | None = None) -> Tally:
    """The queue's figures for its "done" page."""
    taken = taken or snapshot(queue)
    others = sum(
        1
        for _, held in _unreviewed_with_holders(taken.call_ids)
        if held is not None and held != user_id
    )
    return Tally(
        progress=progress(queue, taken=taken),
        verdicts=reviews.verdict_counts(taken.call_ids),
        claimed_by_others=others,
    )


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
