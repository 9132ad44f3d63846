"""How every view answers: the whole page or the htmx partial it targets, and plain text.

One URL serves both the full page and, for htmx, the named partial it targets (``results``,
``call``, ``transcript``, ``totals``); every response says it varies on ``HX-Request``.
"""

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from calls.middleware import PRIVATE_NO_STORE

# Transcripts and audio never sit in a browser or proxy cache; every other signed-in page gets
# the same by default (calls.middleware.PrivateByDefaultMiddleware).
NO_STORE = PRIVATE_NO_STORE


class DashboardRequest(HttpRequest):
    """A request as our middleware leaves it (for the type checker)."""

    htmx: HtmxDetails  # django_htmx.middleware.HtmxMiddleware
    viewer_zone: ZoneInfo  # calls.middleware.ViewerTimezoneMiddleware
    request_id: str  # calls.middleware.RequestIdMiddleware
    # Signed in, as staff: LoginRequiredMiddleware and calls.middleware.StaffRequiredMiddleware
    # (the views that take no login take a plain HttpRequest).
    user: User


# The partials each page template defines; an htmx request for any other target (a header
# anyone can send) gets the whole page.
PARTIALS = {
    "calls/call_list.html": frozenset({"results"}),
    "calls/call_detail.html": frozenset({"call", "transcript"}),
    "calls/call_totals.html": frozenset({"totals"}),
}
ANY_PAGE_PARTIAL = frozenset().union(*PARTIALS.values())


def render(
    request: DashboardRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    fragment: str | None = None,
) -> TemplateResponse:
    """The whole page, or only the partial an htmx request targets (``hx-target="#name"``).

    Error pages pass ``fragment``: the one partial they swap into whatever was targeted.
    """
    available = ANY_PAGE_PARTIAL if fragment else PARTIALS.get(template, frozenset())
    partial = requested_partial(request, available)
    name = f"{template}#{fragment or partial}" if partial else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def requested_partial(request: DashboardRequest, available: frozenset[str]) -> str | None:
    """The partial an htmx request targets, if it is one of ``available``."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return None
    return htmx.target if htmx.target in available else None


def plain_text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def see_other(url: str) -> HttpResponseRedirect:
    """Where a plain form goes after its POST: 303, so the browser fetches ``url`` with GET."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response
