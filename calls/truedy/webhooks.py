"""Truedy's webhook deliveries as Python: the signature check and the event payload.

Verification follows https://docs.truedy.ai/guides/call-management ("Webhooks"):
``X-Truedy-Signature`` is the hex HMAC-SHA256, keyed with the endpoint's secret as UTF-8, of
``<X-Truedy-Timestamp>.<raw body>``, checked on the raw bytes before any JSON is parsed, in
constant time, and only while the timestamp is within five minutes of our clock (either way: a
replay and a forged future timestamp are refused alike). Decisions the contract leaves open:

- Rotation: ``TRUEDY_WEBHOOK_SECRET`` may hold several secrets separated by commas, and the
  signature header several signatures separated by commas or spaces; a delivery is accepted
  when any signature matches any secret, so no delivery is lost while Truedy and we switch.
- Upper-case hex is accepted: it spells the same MAC, so nothing is weakened.
- With no secret configured every delivery gets 401, not 503. We cannot tell Truedy's
  deliveries from anyone's, which is exactly the contract's "any failure" case; Truedy retries
  any non-2xx (at-least-once) either way, so nothing it sends meanwhile is lost once the
  secret is set, and ``sync_calls`` fills any gap. A 503 would also tell the load balancer and
  the monitoring that the site is down. The first refusal for this reason is logged at ERROR.
"""

import dataclasses
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

TIMESTAMP_HEADER = "X-Truedy-Timestamp"
SIGNATURE_HEADER = "X-Truedy-Signature"
TOLERANCE_SECONDS = 300
# More signatures than this in one header is not a rotation: the rest are ignored.
MAX_SIGNATURES = 8

CALL_EVENTS = frozenset(
    {"call.started", "call.joined", "call.ended", "call.failed", "call.billed", "call.analyzed"}
)
EVENT_ALIASES = {"call.completed": "call.ended"}

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


# --- the signature ----------------------------------------------------------------------------


class SignatureError(Exception):
    """The delivery cannot be shown to come from Truedy; ``reason`` says why (never a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def configured_secrets(setting: str) -> tuple[str, ...]:
    """The secrets in ``TRUEDY_WEBHOOK_SECRET``: one, or several while rotating (commas)."""
    return tuple(part.strip() for part in setting.split(",") if part.strip())


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    *,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    secrets: Sequence[str],
    now: float,
) -> None:
    """Return if the delivery was signed by one of ``secrets`` within the tolerance; else raise
    ``SignatureError``."""
    if not secrets:
        raise SignatureError("webhooks are not configured on this dashboard")
    if not timestamp or not timestamp.strip():
        raise SignatureError(f"the {TIMESTAMP_HEADER} header is missing")
    if not signature or not signature.strip():
        raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
    timestamp = timestamp.strip()
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise SignatureError(f"{TIMESTAMP_HEADER} must be a Unix time in whole seconds")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS // 60} minutes away from "
            "this server's clock"
        )
    candidates = [
        part.lower() for part in re.split(r"[\s,]+", signature) if _HEX_SHA256.fullmatch(part)
    ][:MAX_SIGNATURES]
    if not candidates:
        raise SignatureError(f"{SIGNATURE_HEADER} holds no hex HMAC-SHA256")
    matched = False
    for secret in secrets:
        expected = sign(secret, timestamp, body)
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("the signature does not match the body and timestamp")


# --- the payload ------------------------------------------------------------------------------


class BadPayload(Exception):
    """An authentic delivery whose body cannot be read as an event."""


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedEvent:
    event: str  # canonical: "call.completed" arrives as "call.ended"
    event_id: str | None
    occurred_at: datetime | None
    call_id: str | None  # as sent: check it with is_valid_call_id before any use upstream


def parse_event(body: bytes) -> ParsedEvent:
    """``{"event", "timestamp", "data", "id"?}`` with ``data`` flat snake_case or camelCase."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadPayload("the body is not UTF-8 text") from None
    except ValueError as error:
        raise BadPayload(f"the body is not JSON ({error})") from None
    except RecursionError:
        raise BadPayload("the body's JSON is nested too deeply") from None
    if not isinstance(payload, dict):
        raise BadPayload("the body must be a JSON object")
    event = payload.get("event")
    if not isinstance(event, str) or not event.strip():
        raise BadPayload('"event" must be a non-empty string, e.g. "call.ended"')
    data = payload.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadPayload('"data" must be a JSON object')
    event = event.strip()
    return ParsedEvent(
        event=EVENT_ALIASES.get(event, event),
        event_id=_event_id(payload.get("id")),
        occurred_at=_instant(payload.get("timestamp")),
        call_id=extract_call_id(data),
    )


def extract_call_id(data: dict[str, Any]) -> str | None:
    """The call an event is about: ``call_id`` (flat), ``call.callId`` (the voice engine's
    camelCase), or the variants between, and last ``id`` for a ``data`` that is the call."""
    call = data.get("call")
    call = call if isinstance(call, dict) else {}
    for value in (
        data.get("call_id"),
        data.get("callId"),
        call.get("callId"),
        call.get("call_id"),
        call.get("id"),
        data.get("id"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _event_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
