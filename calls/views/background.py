"""The staff page of background work: how current the archive is, whether workers run, the
recordings that could not be archived, and failed tasks with a button to run each again."""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from calls.archive.freshness import archive_freshness
from calls.background import failures
from calls.background.status import worker_status
from calls.upstream import gateway
from calls.views.rendering import NO_STORE, DashboardRequest


@require_safe
def background_work(request: DashboardRequest) -> HttpResponse:
    failed, failed_count = failures.failed_tasks()
    response = TemplateResponse(
        request,
        "calls/background_work.html",
        {
            "freshness": archive_freshness(gateway.now()),
            "worker": worker_status(timezone.now()),
            "failed": failed,
            "failed_count": failed_count,
        },
    )
    response["Cache-Control"] = NO_STORE
    return response


@require_POST
def retry_failed_task(request: DashboardRequest, task_id: str) -> HttpResponse:
    if failures.retry(task_id):
        messages.success(request, "The task was sent again.")
    else:
        messages.error(request, "That failed task is no longer there (already sent again?).")
    return HttpResponseRedirect(reverse("calls:background_work"))
