"""HTTP Range for one file of known size (RFC 9110, one range at most), as both the archive's
recording stream and the simulator's storage serve it. Stdlib only."""

from collections.abc import Generator
from typing import Protocol

# Bytes read and sent at a time when streaming a file.
CHUNK_BYTES = 64 * 1024
AUDIO_TYPE = "audio/mpeg"


class SeekableReader(Protocol):
    """An open binary file: on disk, or from a Django storage."""

    def seek(self, offset: int, /) -> object: ...

    def read(self, size: int, /) -> bytes: ...


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte positions asked for, or None for the whole file.

    Malformed and multi-range headers are ignored, as RFC 9110 allows; raises
    RangeNotSatisfiable when the one range lies wholly past the end.
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not all(t.isascii() and t.isdigit() for t in (first_text, last_text) if t):
        return None
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def read_range(
    handle: SeekableReader, first: int, length: int, chunk_size: int = CHUNK_BYTES
) -> Generator[bytes, None, None]:
    """``length`` bytes of an open file from ``first``, a chunk at a time; fewer if it ends."""
    handle.seek(first)
    remaining = length
    while remaining > 0:
        block = handle.read(min(chunk_size, remaining))
        if not block:
            return
        remaining -= len(block)
        yield block
