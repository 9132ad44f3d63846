"""Download recordings (ZIP): every recording of a list's calls, and a manifest, streamed."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from calls.forms import CallFilterForm
from calls.services import audit, export, personal_data, recording_bundle, roles
from calls.truedy.errors import TruedyError
from calls.views.call_list import call_list
from calls.views.downloads import STREAM_RETRY_AFTER, TOO_MANY_STREAMS
from calls.views.problems import upstream_error
from calls.views.rendering import NO_STORE, DashboardRequest

REFUSED = roles.RECORDINGS_REFUSED + " Ask an administrator for the Reviewer role."


@require_GET
def recordings_zip(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    """The MP3s of every call matching the list's query, and ``manifest.csv``, as one ZIP
    streamed while it is built (calls.services.recording_bundle)."""
    if not roles.can_download_recordings(request.user):
        return _problem(request, 403, "Downloading recordings needs another role", REFUSED)
    form = CallFilterForm(request.GET, default_zone=request.viewer_zone)
    if not form.is_valid():
        return call_list(request)  # the list's own 400 page; nothing asked of Truedy
    filters = personal_data.filters_for(request.user, form.list_filters())
    base_url = request.build_absolute_uri(reverse("calls:call_list"))
    try:
        total = recording_bundle.count_matching(filters, per_page=form.per_page)
        if recording_bundle.too_many(total):
            return _problem(request, 400, "Too many calls for one ZIP", _too_many(total), form)
        body = recording_bundle.open_zip(
            filters,
            owner=request.user.pk,
            zone=form.zone,
            link=export.call_link(base_url),
            viewer=request.user,
        )
    except TruedyError as error:
        return upstream_error(request, error)
    if body is None:
        response = _problem(request, 503, "Try again in a few seconds", TOO_MANY_STREAMS, form)
        response["Retry-After"] = str(STREAM_RETRY_AFTER)
        return response
    streamed = StreamingHttpResponse(body, content_type="application/zip")
    filename = recording_bundle.zip_filename(filters, form.zone)
    streamed["Content-Disposition"] = f'attachment; filename="{filename}"'
    streamed["Cache-Control"] = NO_STORE
    audit.record(
        request, "download_recordings", detail=form.query(page=None, per_page=None), status=200
    )
    return streamed


def _too_many(total: int) -> str:
    most = settings.RECORDINGS_ZIP_MAX_CALLS
    return (
        f"These filters match {total:,} calls; one ZIP holds the recordings of at most {most:,}. "
        "Nothing was downloaded. Narrow the filters (a shorter date range, one agent, a status "
        "or a direction) and download each part in turn."
    )


def _problem(
    request: DashboardRequest,
    status: int,
    title: str,
    message: str,
    form: CallFilterForm | None = None,
) -> TemplateResponse:
    back = reverse("calls:call_list")
    if form is not None:
        back += f"?{form.query(page=None)}"
    context = {"title": title, "message": message, "back": back}
    response = TemplateResponse(
        request, "calls/recordings_zip_problem.html", context, status=status
    )
    response["Cache-Control"] = NO_STORE
    return response


def recordings_zip_link(request: HttpRequest) -> dict[str, Any]:
    """Context processor: whether the list shows *Download recordings (ZIP)* (asked only by a
    template that uses it), and the most calls a ZIP holds."""
    return {
        "may_download_recordings": lambda: roles.can_download_recordings(request.user),
        "recordings_zip_max": settings.RECORDINGS_ZIP_MAX_CALLS,
    }
