"""Fair, repeatable samples of a list view: N % of its calls, or N of them.

A call's place in a sample is decided by a keyed hash of (the sample's seed, the call's id): a
number in [0, 1) that nobody can steer and everyone computes alike, so every reviewer who opens
the sample gets the same calls, on any instance, without storing them.

- Percent p: the calls whose number is below p / 100.
- Count N: the N calls with the smallest numbers, among the calls created before the sample's
  cutoff (the moment it was drawn), so calls arriving later never push one out.
- Part k/m: the members whose number falls in the k-th of m equal slices of the sample's range
  ([0, p / 100) or [0, the largest member's number]), so a team can split one sample.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

MAX_PERCENT = 100
MAX_SIZE = 10_000
MAX_PARTS = 100
_PART_RE = re.compile(r"([0-9]{1,3})/([0-9]{1,3})")
_SCALE = float(2**64)


@dataclasses.dataclass(frozen=True, slots=True)
class Part:
    """The ``index``-th (1-based) of ``of`` slices of a sample."""

    index: int
    of: int

    def __str__(self) -> str:
        return f"{self.index}/{self.of}"


def parse_part(text: str) -> Part:
    """``"2/3"`` -> ``Part(2, 3)``; ``ValueError`` saying why for anything else."""
    match = _PART_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError("A part is written k/m, e.g. 2/3 for the second of three.")
    index, of = int(match[1]), int(match[2])
    if not 1 <= of <= MAX_PARTS or not 1 <= index <= of:
        raise ValueError(f"A part k/m needs 1 ≤ k ≤ m ≤ {MAX_PARTS}.")
    return Part(index, of)


def new_seed() -> str:
    return secrets.token_hex(16)


def draw(seed: str, call_id: str) -> float:
    """The call's number in [0, 1) for this seed: HMAC-SHA256, keyed by the seed."""
    digest = hmac.new(seed.encode(), call_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def choose(
    call_ids: Sequence[str],
    *,
    seed: str,
    percent: int | None = None,
    size: int | None = None,
    part: Part | None = None,
) -> list[str]:
    """The sample's members among ``call_ids`` (or one part of it), in the order given.

    Exactly one of ``percent`` (1-100) and ``size`` (1-10,000). For ``size``, ``call_ids`` must
    be every call created before the sample's cutoff.
    """
    if (percent is None) == (size is None):
        raise ValueError("give a percent or a size, not both")
    numbers = {call_id: draw(seed, call_id) for call_id in call_ids}
    if percent is not None:
        if not 1 <= percent <= MAX_PERCENT:
            raise ValueError(f"percent must be 1-{MAX_PERCENT}")
        bound = percent / 100
        members = {call_id for call_id, number in numbers.items() if number < bound}
    else:
        assert size is not None
        if not 1 <= size <= MAX_SIZE:
            raise ValueError(f"size must be 1-{MAX_SIZE:,}")
        smallest = sorted(numbers, key=lambda call_id: (numbers[call_id], call_id))[:size]
        members = set(smallest)
        bound = max((numbers[call_id] for call_id in smallest), default=0.0)
    if part is not None:
        members = {
            call_id
            for call_id in members
            if slice_of(numbers[call_id], bound, part.of) == part.index - 1
        }
    return [call_id for call_id in dict.fromkeys(call_ids) if call_id in members]


def slice_of(number: float, bound: float, parts: int) -> int:
    """Which of ``parts`` equal slices of [0, ``bound``] ``number`` falls in (0-based)."""
    if bound <= 0:
        return 0
    return min(parts - 1, int(number / bound * parts))
