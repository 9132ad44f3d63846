"""Review queues over HTTP: *Review these calls* (any list view or a sample of it), the next
call after a skip, where a queue ends, and drawing a sample."""

from django.http import HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from calls.forms import CallFilterForm, describe_errors
from calls.models import ReviewSample, Verdict
from calls.review_forms import SampleForm
from calls.services import listing, review_queue, roles, sampling
from calls.truedy.client import is_valid_call_id
from calls.truedy.errors import TruedyError
from calls.upstream import gateway
from calls.views.problems import upstream_error
from calls.views.rendering import DashboardRequest
from calls.views.review_steps import (
    carried,
    done_url,
    next_in_queue,
    problem,
    queue_call_url,
    see_other,
)
from calls.views.roles import review_permission_required

# --- queues -----------------------------------------------------------------------------------


@require_GET
def review_start(request: DashboardRequest) -> HttpResponse:
    """*Review these calls*: the first unreviewed call of the list (or sample) nobody else is
    on, opened as the queue's first step. A viewer is shown it without claiming it."""
    where = carried(request)
    if where.errors:
        return problem(request, 400, "These filters cannot be reviewed:", list(where.errors))
    queue = where.as_queue()
    ignored = listing.ignored_by(queue.filters)
    if ignored:  # never a queue of other calls than the list's
        return problem(
            request,
            409,
            "These filters need the dashboard's archive to be current, and it is not right now:",
            list(ignored),
        )
    try:
        # A sample is fixed when drawn: its calls are read again only once their copy expired.
        taken = review_queue.snapshot(queue, refresh=queue.sample is None)
    except TruedyError as error:
        return upstream_error(request, error)
    user_id = request.user.pk
    call_id = review_queue.next_call(
        queue, user_id=user_id, taken=taken, claiming=roles.can_review(request.user)
    )
    if call_id is None:
        return see_other(done_url(where))
    return see_other(queue_call_url(call_id, where, taken))


@review_permission_required
@require_POST
def review_skip(request: DashboardRequest, call_id: str) -> HttpResponse:
    """Leave this call to someone else and go on to the queue's next one."""
    where = carried(request)
    if not is_valid_call_id(call_id):
        return problem(request, 404, "There is no such call.")
    if where.errors or where.queue is None:
        errors = list(where.errors) or ["This page is not part of a review queue."]
        return problem(request, 400, "There is no queue to go on with:", errors)
    return next_in_queue(request, where, where.queue, after=call_id, saved="")


@require_GET
def review_done(request: DashboardRequest) -> HttpResponse:
    """Where a queue ends: its figures, and whether teammates still hold some of its calls."""
    where = carried(request)
    if where.errors:
        return problem(request, 400, "These filters cannot be reviewed:", list(where.errors))
    queue = where.as_queue()
    try:
        tally = review_queue.tally(queue, user_id=request.user.pk)
    except TruedyError as error:
        return upstream_error(request, error)
    context = {
        "tally": tally,
        "verdicts": [
            (value, name, tally.verdicts.get(value, 0)) for value, name in Verdict.choices
        ],
        "list_query": where.list_form.query(page=None),
        "start_query": f"{where.list_form.query(page=None)}&{where.queue_form.queue_query()}",
        "sample": queue.sample,
        "part": queue.part,
    }
    return TemplateResponse(request, "calls/review/queue_done.html", context)


# --- samples ----------------------------------------------------------------------------------


@review_permission_required
@require_POST
def review_sample(request: DashboardRequest) -> HttpResponse:
    """Draw a sample of a list view (N % or N calls, fixed now) and start reviewing it."""
    form = SampleForm(request.POST)
    list_form = CallFilterForm(
        QueryDict(request.POST.get("query", "")), default_zone=request.viewer_zone
    )
    if not form.is_valid() or not list_form.is_valid():
        errors = [*describe_errors(form), *describe_errors(list_form)]
        return problem(request, 400, "This sample cannot be drawn:", errors)
    sample = ReviewSample.objects.create(
        query=list_form.query(page=None),
        seed=sampling.new_seed(),
        percent=form.cleaned_data["percent"],
        size=form.cleaned_data["count"],
        cutoff=gateway.now(),
        created_by=request.user,
    )
    return see_other(f"{reverse('calls:review_start')}?{sample.query}&sample={sample.pk}")
