"""The simulator's own request and response, shared by the in-process transport and WSGI."""

import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the simulator saw it: tests count upstream calls with these."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass(frozen=True, slots=True)
class SimRequest:
    method: str
    path: str
    query: dict[str, str]  # first value of each parameter
    headers: dict[str, str]  # lower-case names
    origin: str  # scheme://host[:port], plus any WSGI mount point
    body: bytes = b""  # read for the control endpoint; the API itself takes no body


class ByteChunks(httpx.SyncByteStream):
    """A response body produced piece by piece; usable as an httpx stream and a WSGI iterable."""

    def __init__(self, chunks: Iterable[bytes], close: Callable[[], object] | None = None) -> None:
        self._chunks = chunks
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


@dataclass(slots=True)
class SimResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | ByteChunks = b""

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def dump_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    status: int,
    payload: Any,
    request_id: str,
    headers: Iterable[tuple[str, str]] = (),
) -> SimResponse:
    body = dump_json(payload)
    return SimResponse(
        status,
        [
            ("Content-Type", JSON_TYPE),
            ("Content-Length", str(len(body))),
            ("X-Request-Id", request_id),
            *headers,
        ],
        body,
    )


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    details: dict[str, Any] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> SimResponse:
    payload = {
        "error": {"code": code, "message": message, "details": details or {}},
        "meta": {"request_id": request_id},
    }
    return json_response(status, payload, request_id, headers)
