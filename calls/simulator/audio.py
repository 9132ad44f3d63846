"""Serving a recording's MP3 bytes with HTTP Range support (RFC 9110, one range at most)."""

import hashlib
import threading
from collections.abc import Generator
from email.utils import formatdate
from pathlib import Path

from calls.lib.http_range import (
    AUDIO_TYPE,
    CHUNK_BYTES,
    RangeNotSatisfiable,
    parse_range,
    read_range,
)

from .messages import ByteChunks, SimResponse, error_response


def http_date(unix_seconds: float) -> str:
    return formatdate(unix_seconds, usegmt=True)


class AudioFiles:
    """Recording files on disk, with a content ETag computed once per file version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._etags: dict[tuple[Path, int, int], str] = {}

    def etag(self, path: Path) -> str:
        stat = path.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._etags.get(key)
        if cached is None:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while block := handle.read(CHUNK_BYTES):
                    digest.update(block)
            cached = f'"{digest.hexdigest()[:32]}"'
            with self._lock:
                self._etags[key] = cached
        return cached

    def response(
        self,
        path: Path,
        *,
        request_id: str,
        last_modified: str,
        range_header: str | None,
        if_range: str | None,
        head: bool,
    ) -> SimResponse:
        size = path.stat().st_size
        etag = self.etag(path)
        headers = [
            ("Accept-Ranges", "bytes"),
            ("ETag", etag),
            ("Last-Modified", last_modified),
            ("Cache-Control", "private, max-age=3600"),
            ("X-Request-Id", request_id),
        ]
        if if_range is not None and if_range.strip() not in (etag, last_modified):
            range_header = None  # the client's copy is stale: send it all
        try:
            wanted = parse_range(range_header, size)
        except RangeNotSatisfiable:
            response = error_response(
                416,
                "range_not_satisfiable",
                "The requested range is past the end of the recording.",
                request_id,
                {"size": size},
            )
            response.headers += [("Content-Range", f"bytes */{size}"), ("Accept-Ranges", "bytes")]
            return response
        if wanted is None:
            status, first, last = 200, 0, size - 1
        else:
            status, (first, last) = 206, wanted
            headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        length = max(last - first + 1, 0)
        headers = [("Content-Type", AUDIO_TYPE), ("Content-Length", str(length)), *headers]
        if head or length == 0:
            return SimResponse(status, headers, b"")
        chunks = _read(path, first, length)
        return SimResponse(status, headers, ByteChunks(chunks, close=chunks.close))


def _read(path: Path, start: int, length: int) -> Generator[bytes, None, None]:
    with path.open("rb") as handle:
        yield from read_range(handle, start, length)
