"""The endpoint Truedy delivers webhooks to: verify, store once with its follow-up enqueued in
the same transaction, answer 204. A worker refreshes the call (calls/background/tasks.py)."""

import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.archive.webhook_events import store_event
from calls.background.tasks import enqueue_follow_up
from calls.truedy.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BadPayload,
    SignatureError,
    configured_secrets,
    parse_event,
    verify_signature,
)
from calls.views.rendering import plain_text

logger = logging.getLogger("calls.webhooks")

MAX_BODY_BYTES = 1_000_000


# --- the endpoint -----------------------------------------------------------------------------

_warned_unconfigured = False


@login_not_required  # Truedy signs in with the signature, not a session
@csrf_exempt
@require_POST
def truedy_webhook(request: HttpRequest) -> HttpResponse:
    if _declared_length(request) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return plain_text(413, f"The body is larger than {MAX_BODY_BYTES:,} bytes.")
    body = request.body  # the raw bytes: the signature covers exactly these
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
        _logplain_text(error, configured=bool(secrets))
        return plain_text(401, f"Webhook refused: {error.reason}.")
    try:
        parsed = parse_event(body)
    except BadPayload as error:
        logger.warning("webhook refused: signed, but %s", error)
        return plain_text(400, f"Webhook refused: {error}.")
    stored = store_event(parsed, body, then=lambda row: enqueue_follow_up(row.pk))
    if stored is None:
        logger.info("webhook %s for call %s: already stored", parsed.event, parsed.call_id)
        return HttpResponse(status=204)
    logger.info("webhook %s for call %s stored as %s", parsed.event, parsed.call_id, stored.pk)
    return HttpResponse(status=204)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _logplain_text(error: SignatureError, *, configured: bool) -> None:
    global _warned_unconfigured
    if not configured and not _warned_unconfigured:
        _warned_unconfigured = True
        logger.error("webhook refused: TRUEDY_WEBHOOK_SECRET is empty, so none can be verified")
        return
    logger.warning("webhook refused: %s", error.reason)
