"""HTTP Range for one file of known size (RFC 9110, one range at most), as both the archive's
recording stream and the simulator's storage serve it. Stdlib only."""

# Bytes read and sent at a time when streaming a file.
CHUNK_BYTES = 64 * 1024
AUDIO_TYPE = "audio/mpeg"


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
