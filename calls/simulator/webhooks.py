"""Webhook deliveries as Truedy sends them: signed events about the simulator's own calls.

For tests and demos (``manage.py send_webhooks``). Signed as Truedy's documentation
(https://docs.truedy.ai/guides/call-management, "Webhooks") says:
``X-Truedy-Timestamp`` is Unix seconds, ``X-Truedy-Signature`` the lower-case hex HMAC-SHA256,
keyed with the secret as UTF-8, of ``<timestamp>.<body>``. The options make the deliveries
Truedy's at-least-once, unordered transport can produce (duplicates, any order) and the ones
an attacker would try (a wrong key, a replayed old timestamp).
"""

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx

from .app import Simulator
from .isotime import format_us
from .render import View

TIMESTAMP_HEADER = "X-Truedy-Timestamp"
SIGNATURE_HEADER = "X-Truedy-Signature"
EVENTS = (
    "call.started",
    "call.joined",
    "call.ended",
    "call.completed",  # Truedy's alias of call.ended
    "call.failed",
    "call.billed",
    "call.analyzed",
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def call_event(
    simulator: Simulator,
    call_id: str,
    event: str,
    *,
    camel: bool = False,
    event_id: str | None = None,
    with_id: bool = True,
    at_us: int | None = None,
) -> dict[str, Any]:
    """The event ``{"id", "event", "timestamp", "data"}`` about a call as the simulator sees it
    now (or at ``at_us``, epoch microseconds: the moment the event happened); ``data`` flat
    snake_case, or with ``camel`` the voice engine's ``data.call.callId``.

    ``event_id`` defaults to a new one; ``with_id=False`` leaves it out (as some senders do).
    Raises KeyError for a call the simulator does not have.
    """
    skeleton = simulator.data.by_id[call_id]
    now = simulator.clock.now_us() if at_us is None else at_us
    # Package-internal: the renderer is what the API itself answers with.
    call = simulator._renderer.call(
        skeleton, View(now=now, variant="primary", origin=""), with_transcript=False
    )
    payload: dict[str, Any] = {
        "event": event,
        "timestamp": format_us(now, 3),
        "data": _camel(call) if camel else _flat(call),
    }
    if with_id:
        payload = {"id": event_id or f"evt_{uuid.uuid4().hex}", **payload}
    return payload


def _flat(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "call_id": call["id"],
        "agent_id": call["agent_id"],
        "status": call["status"],
        "direction": call["direction"],
        "created_at": call["created_at"],
        "started_at": call["started_at"],
        "ended_at": call["ended_at"],
        "duration_seconds": call["duration_seconds"],
        "cost_cents": call["cost_cents"],
        "outcome": call["outcome"],
    }


def _camel(call: dict[str, Any]) -> dict[str, Any]:
    cost = call["cost_cents"]
    return {
        "call": {
            "callId": call["id"],
            "agent": {"agentId": call["agent_id"]},
            "created": call["created_at"],
            "joined": call["started_at"],
            "ended": call["ended_at"],
            "endReason": call["outcome"] or call["status"],
            "costUsd": None if cost is None else cost / 100,
        }
    }


class WebhookSender:
    """Signs and POSTs events to one URL, as Truedy would."""

    def __init__(
        self,
        secret: str,
        url: str,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.url = url
        # Truedy signs with real time, whatever the simulator's own clock says.
        self._clock = clock
        self._client = client or httpx.Client(timeout=10.0)

    def build_request(
        self,
        payload: dict[str, Any] | bytes,
        *,
        age_seconds: float = 0,
        secret: str | None = None,
        extra_signatures: Sequence[str] = (),
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one delivery.

        ``age_seconds`` back-dates the timestamp (negative: from the future); ``secret`` signs
        with another key (a forgery); ``extra_signatures`` go first in the header, as during a
        secret rotation.
        """
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        timestamp = str(int(self._clock() - age_seconds))
        signature = sign(self.secret if secret is None else secret, timestamp, body)
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: ", ".join([*extra_signatures, signature]),
        }
        return body, headers

    def send(self, payload: dict[str, Any] | bytes, **options: Any) -> httpx.Response:
        body, headers = self.build_request(payload, **options)
        return self._client.post(self.url, content=body, headers=headers)

    def send_all(
        self, payloads: Iterable[dict[str, Any] | bytes], *, duplicate: bool = False, **options: Any
    ) -> list[httpx.Response]:
        """Each payload in the order given (to reorder, pass them reordered); with
        ``duplicate`` each is delivered twice, byte for byte, as a retry would be."""
        responses = []
        for payload in payloads:
            for _ in range(2 if duplicate else 1):
                responses.append(self.send(payload, **options))
        return responses

    def close(self) -> None:
        self._client.close()
