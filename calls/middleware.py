"""Request-wide policy: the request's id and timings, who may see the dashboard, which time zone
they read it in, what a browser may keep, and how long a page may wait for Truedy."""

import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.template.response import TemplateResponse
from django.utils import timezone

from calls.lib.server_timing import HEADER as SERVER_TIMING_HEADER
from calls.lib.server_timing import collecting_timings, current_timings
from calls.lib.timezones import CHOSEN_ZONE_COOKIE, ZONE_COOKIE, zone_or_none
from calls.logs import HEADER as REQUEST_ID_HEADER
from calls.logs import accepted_or_new, request_id_bound
from calls.truedy.client import deadline
from calls.upstream.budget import Priority, priority
from calls.upstream.resilience import collecting_stale_reads

PRIVATE_NO_STORE = "private, no-store"


class RequestIdMiddleware:
    """First in the chain: every later middleware, view and log line sees the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted_or_new(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_id_bound(request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ServerTimingMiddleware:
    """Near the top of MIDDLEWARE: ``total`` covers the middleware below it and the view.

    A streaming response (a recording) gets the header with what was known before its first
    byte: the time to open the upstream stream, not the minutes it then plays for.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with collecting_timings() as timings:
            start = time.perf_counter()
            response = self.get_response(request)
        response[SERVER_TIMING_HEADER] = timings.header(time.perf_counter() - start)
        return response

    def process_template_response(
        self, request: HttpRequest, response: TemplateResponse
    ) -> TemplateResponse:
        # Template-response hooks run bottom-up, so this one (near the top) is the last before
        # Django renders: everything from here to the post-render callback is rendering.
        timings = current_timings()
        if timings is not None:
            start = time.perf_counter()
            response.add_post_render_callback(
                lambda rendered: timings.add("render", time.perf_counter() - start)
            )
        return response


class StaffRequiredMiddleware:
    """Signed in is not enough: every page that needs a login needs a staff login.

    Runs after ``LoginRequiredMiddleware``, so anonymous visitors have already been sent to the
    login page; views marked ``login_not_required`` (the login page itself) stay open.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not getattr(view_func, "login_required", True):
            return None
        user = request.user
        if user.is_authenticated and not (user.is_active and user.is_staff):
            response = TemplateResponse(request, "403_not_staff.html", status=403)
            return response.render()
        return None


class PrivateByDefaultMiddleware:
    """What a signed-in person sees (phone numbers, transcript snippets, totals) is kept by no
    browser or shared cache, unless the view said otherwise (static files never reach here)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = PRIVATE_NO_STORE
        return response


class ViewerTimezoneMiddleware:
    """Show times in the viewer's zone: a `tz` in the URL (a shared link means the same instants
    for everyone), else the zone they last picked in the list's picker (`tz_choice` cookie), else
    the zone their browser reported in the `tz` cookie, else TIME_ZONE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = (
            zone_or_none(request.GET.get("tz"))
            or zone_or_none(request.COOKIES.get(CHOSEN_ZONE_COOKIE))
            or zone_or_none(request.COOKIES.get(ZONE_COOKIE))
            or ZoneInfo(settings.TIME_ZONE)
        )
        request.viewer_zone = zone  # type: ignore[attr-defined]  # DashboardRequest declares it
        with timezone.override(zone):
            return self.get_response(request)


class UpstreamBudgetMiddleware:
    """One deadline for all of a page's upstream reads, retries and waits included, so a page
    ends well before the worker timeout; a fresh list of the stale answers the page shows, for
    its notice; and a person's priority on Truedy's request budget (a streamed export or ZIP,
    read after this returns, draws at background priority)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with (
            deadline(settings.TRUEDY_PAGE_DEADLINE),
            collecting_stale_reads(),
            priority(Priority.PAGE),
        ):
            return self.get_response(request)


class CompressPagesMiddleware(GZipMiddleware):
    """Gzip for the dashboard's own text: pages, fragments, JSON, CSV (a 2,000-turn call page
    goes from 511 KB to about 50 KB). Audio, archives and partial content pass untouched: a
    recording's byte ranges must stay the file's bytes. Static files come compressed already.

    BREACH, which reads a secret from the size of compressed pages that also reflect an
    attacker's input: the only secret in a page is the CSRF token, which Django masks afresh
    for every response, and Django's gzip adds 0-100 random bytes to every response (Heal the
    Breach), so sizes do not converge on a guess. Session cookies and the API key are never in a
    body."""

    COMPRESSIBLE = ("text/html", "text/plain", "text/csv", "application/json")

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        kind = response.get("Content-Type", "").split(";")[0].strip().lower()
        if response.status_code == 206 or kind not in self.COMPRESSIBLE:
            return response
        return super().process_response(request, response)
