"""Truedy's webhooks (issue 6): verify, store once, answer 204, then refresh the call.

Verification follows truedy-api.md "Webhooks" and S15: ``X-Truedy-Signature`` is the hex
HMAC-SHA256, keyed with the endpoint's secret as UTF-8, of ``<X-Truedy-Timestamp>.<raw body>``,
checked on the raw bytes before any JSON is parsed, in constant time, and only while the
timestamp is within five minutes of our clock (either way: a replay and a forged future
timestamp are refused alike). Decisions the contract leaves open:

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
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls import archive, services
from calls.client import deadline, is_valid_call_id
from calls.errors import NotFound, TruedyError
from calls.models import WebhookEvent
from calls.resilience import collecting_stale_reads, trouble

logger = logging.getLogger("calls.webhooks")

TIMESTAMP_HEADER = "X-Truedy-Timestamp"
SIGNATURE_HEADER = "X-Truedy-Signature"
TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1_000_000
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
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


# --- storing each event once ------------------------------------------------------------------


def event_key(parsed: ParsedEvent, body: bytes) -> str:
    """The event's own id; without one, the body's hash (a retry resends the same bytes)."""
    if parsed.event_id is None:
        return hashlib.sha256(body).hexdigest()
    if len(parsed.event_id) > WebhookEvent._meta.get_field("event_key").max_length:
        return hashlib.sha256(parsed.event_id.encode()).hexdigest()
    return parsed.event_id


def store_event(parsed: ParsedEvent, body: bytes) -> WebhookEvent | None:
    """The new row, or None when the event was stored before (a retry, or a copy delivered at
    the same moment: the unique index lets exactly one insert win)."""
    key = event_key(parsed, body)

    def insert() -> WebhookEvent:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                event_key=key,
                event=parsed.event[:64],
                call_id=(parsed.call_id or "")[:64],
                occurred_at=parsed.occurred_at,
                raw_body=body.decode("utf-8"),
            )

    try:
        # On SQLite a refresh writing the archive in the background can hold the database.
        return archive.retry_if_locked(insert)
    except IntegrityError:
        if WebhookEvent.objects.filter(event_key=key).exists():
            return None
        raise


# --- after the answer: refresh the call -------------------------------------------------------


def process_event(stored: WebhookEvent, parsed: ParsedEvent) -> None:
    """Refresh the call the event is about (cache and archive) and note the outcome on the row.

    Never raises: it runs after the response, where nobody could be told.
    """
    try:
        try:
            problem = _refresh_call(parsed)
        except Exception:
            logger.exception("webhook event %s: processing failed", stored.pk)
            problem = "processing failed (see the server log)"
        archive.retry_if_locked(
            lambda: WebhookEvent.objects.filter(pk=stored.pk).update(
                processed_at=timezone.now(), process_error=problem[:500]
            )
        )
    except Exception:
        logger.exception("webhook event %s: could not record its processing", stored.pk)


def _refresh_call(parsed: ParsedEvent) -> str:
    """What went wrong, or "" once the cache and the archive hold Truedy's current call."""
    if parsed.event not in CALL_EVENTS:
        return f"not acted on: unknown event {parsed.event[:64]!r}"
    if parsed.call_id is None:
        return "not acted on: the event names no call"
    if not is_valid_call_id(parsed.call_id):
        return "not acted on: not a valid call id"  # never sent upstream (S13)
    services.invalidate_call(parsed.call_id)
    # Outside any page, so its own budget: a slow Truedy holds a refresh thread no longer.
    with deadline(settings.TRUEDY_PAGE_DEADLINE), collecting_stale_reads() as stale:
        try:
            call = services.get_call(parsed.call_id, fresh=True)
        except NotFound:
            return "Truedy has no such call"
        except TruedyError as error:
            return f"call not refreshed: {trouble(error)}"
    if stale:
        # The answer is the cached copy Truedy's failure fell back to: nothing new to archive.
        return f"call not refreshed: {trouble(stale[0].error)}"
    archive.store_call(call, source="webhook")
    return ""


class Refreshes:
    """A few threads that refresh calls after the answer, so neither the worker thread nor the
    connection a webhook came in on waits for Truedy: a load balancer reuses its connections to
    gunicorn for other people's requests, which would queue behind a slow refresh.

    Bounded: at most ``limit`` refreshes waiting or running; past that one runs in the request's
    own thread (back-pressure instead of an unbounded queue). A process that stops first loses
    what was waiting; those rows keep ``processed_at`` empty and ``sync_calls`` catches the calls
    up. The pool starts on first use, so a gunicorn ``--preload`` fork never inherits it.
    """

    def __init__(self, *, workers: int, limit: int) -> None:
        self._workers = workers
        self._limit = limit
        self._pending = 0
        self._done = threading.Condition()
        self._pool: ThreadPoolExecutor | None = None

    def run(self, task: Callable[[], None]) -> None:
        if settings.TRUEDY_WEBHOOK_REFRESH_INLINE or not self._reserve():
            task()
            return
        try:
            self._get_pool().submit(self._run_pooled, task)
        except RuntimeError:  # the interpreter is shutting down: no new threads
            self._release()
            task()

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is waiting or running (tests; a graceful stop)."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def _reserve(self) -> bool:
        with self._done:
            if self._pending >= self._limit:
                return False
            self._pending += 1
            return True

    def _release(self) -> None:
        with self._done:
            self._pending -= 1
            self._done.notify_all()

    def _get_pool(self) -> ThreadPoolExecutor:
        with self._done:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="webhook")
            return self._pool

    def _run_pooled(self, task: Callable[[], None]) -> None:
        try:
            task()
        finally:
            connections.close_all()  # this thread's own; the next task opens a fresh one
            self._release()


refreshes = Refreshes(workers=2, limit=200)


class AcknowledgedThen(HttpResponse):
    """A 204 that starts ``then`` once the server has sent it.

    WSGI servers call ``close()`` after writing the last byte (PEP 3333): gunicorn's gthread
    workers, runserver and Django's test client alike.
    """

    def __init__(self, then: Callable[[], None]) -> None:
        super().__init__(status=204)
        self._then: Callable[[], None] | None = then

    def close(self) -> None:
        then, self._then = self._then, None
        try:
            if then is not None:
                refreshes.run(then)
        finally:
            super().close()


# --- the endpoint -----------------------------------------------------------------------------

_warned_unconfigured = False


@login_not_required  # Truedy signs in with the signature, not a session
@csrf_exempt
@require_POST
def truedy_webhook(request: HttpRequest) -> HttpResponse:
    if _declared_length(request) > MAX_BODY_BYTES:
        return _refusal(413, f"The body is larger than {MAX_BODY_BYTES:,} bytes.")
    body = request.body  # the raw bytes: the signature covers exactly these
    if len(body) > MAX_BODY_BYTES:
        return _refusal(413, f"The body is larger than {MAX_BODY_BYTES:,} bytes.")
    secrets = configured_secrets(settings.TRUEDY_WEBHOOK_SECRET)
    try:
        verify_signature(
            body=body,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
            secrets=secrets,
            now=time.time(),
        )
    except SignatureError as error:
        _log_refusal(error, configured=bool(secrets))
        return _refusal(401, f"Webhook refused: {error.reason}.")
    try:
        parsed = parse_event(body)
    except BadPayload as error:
        logger.warning("webhook refused: signed, but %s", error)
        return _refusal(400, f"Webhook refused: {error}.")
    stored = store_event(parsed, body)
    if stored is None:
        logger.info("webhook %s for call %s: already stored", parsed.event, parsed.call_id)
        return HttpResponse(status=204)
    logger.info("webhook %s for call %s stored as %s", parsed.event, parsed.call_id, stored.pk)
    return AcknowledgedThen(lambda: process_event(stored, parsed))


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refusal(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _log_refusal(error: SignatureError, *, configured: bool) -> None:
    global _warned_unconfigured
    if not configured and not _warned_unconfigured:
        _warned_unconfigured = True
        logger.error("webhook refused: TRUEDY_WEBHOOK_SECRET is empty, so none can be verified")
        return
    logger.warning("webhook refused: %s", error.reason)
