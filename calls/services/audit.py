"""Writing the audit log: one row per thing a person did, never a reason for a page to fail.

Values go into the row as data and never into a log line (log injection, ASVS 16.4.1). Nothing
secret is ever passed in: no tokens, no signed recording links, no API key, no password.
"""

import ipaddress
import logging
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.http import HttpRequest

from calls.models import AuditAction, AuditEvent
from calls.upstream.keys import AUDIT_SEEN_PREFIX
from calls.upstream.resilience import safe_add

logger = logging.getLogger("calls.audit")

SEEN_PREFIX = AUDIT_SEEN_PREFIX
# The header the call page's own polls carry (hx-headers), with a token only we can sign.
POLL_HEADER = "X-Poll-Token"
_POLL_SALT = "calls.audit.poll"


def record(
    request: HttpRequest | None,
    action: AuditAction | str,
    *,
    call_id: str = "",
    detail: str = "",
    status: int | None = None,
) -> None:
    """Add an event by the request's user. A database failure is logged and swallowed: the
    page still works. An action that is not an ``AuditAction`` is a bug and raises."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        user = None
    _write(request, AuditAction(action), user=user, call_id=call_id, detail=detail, status=status)


def record_strict(
    request: HttpRequest, action: AuditAction | str, *, call_id: str = "", detail: str = ""
) -> None:
    """Add an event by the request's user, raising if the row cannot be written.

    For writes whose audit row is part of the write (a review, a correction, a note): call it
    inside the write's ``transaction.atomic()``, so a failed row undoes the write as well and
    no review ever exists without its audit row.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise ValueError("an audited write needs a signed-in user")
    _insert(request, AuditAction(action), user=user, call_id=call_id, detail=detail)


def record_access(
    request: HttpRequest, action: AuditAction | str, *, call_id: str, status: int, detail: str = ""
) -> None:
    """A response that carried a call's content (its page, a fragment of it, its audio) to
    the request's user: one row per user, action and call per AUDIT_DEDUPE_SECONDS, whatever
    headers the client sent (a player's dozens of range requests, a page left open). With the
    cache down every response is a row: more rows, never fewer."""
    user = getattr(request, "user", None)
    who = user.pk if user is not None and user.is_authenticated else "-"
    seen = f"{SEEN_PREFIX}:{who}:{AuditAction(action).value}:{call_id}"
    if safe_add(seen, 1, settings.AUDIT_DEDUPE_SECONDS):
        record(request, action, call_id=call_id, detail=detail, status=status)


def poll_token(request: HttpRequest, call_id: str) -> str:
    """What the call page's polls send back: it says "this user's page of this call, which was
    audited when it was served", and no client can make one up."""
    return signing.dumps({"u": request.user.pk, "c": call_id}, salt=_POLL_SALT, compress=True)


def is_own_poll(request: HttpRequest, call_id: str) -> bool:
    token = request.headers.get(POLL_HEADER)
    if not token:
        return False
    try:
        issued = signing.loads(token, salt=_POLL_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return False
    return isinstance(issued, dict) and issued == {"u": request.user.pk, "c": call_id}


def on_sign_in(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _write(request, AuditAction.SIGN_IN, user=user)


def on_sign_out(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # `user` is None when nobody was signed in.
    _write(request, AuditAction.SIGN_OUT, user=user)


def on_sign_in_failed(
    sender: str, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the name typed: Django has already masked the password, and it is not read here.
    field = get_user_model().USERNAME_FIELD
    typed = credentials.get(field, credentials.get("username", ""))
    _write(request, AuditAction.SIGN_IN_FAILED, user=None, username=str(typed or ""))


def _write(
    request: HttpRequest | None,
    action: AuditAction,
    *,
    user: Any,
    username: str = "",
    call_id: str = "",
    detail: str = "",
    status: int | None = None,
) -> None:
    try:
        # A savepoint: a failed insert inside a caller's transaction does not poison it.
        with transaction.atomic():
            _insert(
                request,
                action,
                user=user,
                username=username,
                call_id=call_id,
                detail=detail,
                status=status,
            )
    except Exception:
        # The action name is ours; the row's values stay out of the log line.
        logger.exception("Could not write the audit event %s", action.value)


def _insert(
    request: HttpRequest | None,
    action: AuditAction,
    *,
    user: Any,
    username: str = "",
    call_id: str = "",
    detail: str = "",
    status: int | None = None,
) -> None:
    meta = request.META if request is not None else {}
    AuditEvent.objects.create(
        user=user,
        username=(user.get_username() if user is not None else username)[:150],
        action=action,
        call_id=call_id[:64],
        detail=detail[:500],
        ip=_client_ip(request),
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:200],
        status=status,
    )


def _client_ip(request: HttpRequest | None) -> str | None:
    """The address django-axes locks out (its proxy settings apply), else the peer's."""
    if request is None:
        return None
    if apps.is_installed("axes"):
        from axes.helpers import get_client_ip_address

        value = get_client_ip_address(request)
    else:
        value = request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return None
