"""Signing in, throttled per client address as well as per username and address.

django-axes pauses one username from one address after AXES_FAILURE_LIMIT wrong passwords, so
nobody can lock a known staff name out everywhere. That alone lets one address try many names:
here every address gets LOGIN_FAILURES_PER_ADDRESS failures, whatever the names, per cool-off.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from calls.lib.client_address import client_ip
from calls.upstream.keys import SIGN_IN_FAILURES_PREFIX
from calls.upstream.resilience import safe_get, safe_incr

PREFIX = SIGN_IN_FAILURES_PREFIX


def _key(request: HttpRequest | None) -> str | None:
    address = client_ip(request) if request is not None else None
    return f"{PREFIX}:{address}" if address else None


def count_failure(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """``user_login_failed``: one more failure for the address (a fixed window from the first)."""
    key = _key(request)
    if key is not None:
        safe_incr(key, settings.AXES_COOLOFF_TIME.total_seconds())


def address_paused(request: HttpRequest) -> bool:
    key = _key(request)
    return key is not None and (safe_get(key) or 0) >= settings.LOGIN_FAILURES_PER_ADDRESS


class SignInView(LoginView):
    """Django's sign-in, answering the lockout page (429) while the address is paused."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if address_paused(request):
            context = {
                "failure_limit": settings.LOGIN_FAILURES_PER_ADDRESS,
                "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
            }
            return TemplateResponse(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
        return super().post(request, *args, **kwargs)
