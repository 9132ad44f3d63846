"""What the review views share: the list and the queue a request carries, where a queue's steps
lead, and how a write answers (a 303 a plain form follows, an HX-Redirect for htmx)."""

import dataclasses
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse

from calls.forms import QUERY_ORDER, CallFilterForm, describe_errors
from calls.review_forms import QueueForm
from calls.services import personal_data, review_queue
from calls.truedy.errors import TruedyError
from calls.upstream.problems import trouble
from calls.views.rendering import DashboardRequest

# --- which list, and which queue, a request carries ---------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Carried:
    """The list view a page was opened from (its query) and the queue it is a step of."""

    list_form: CallFilterForm
    queue_form: QueueForm
    from_list: bool  # the URL carries a list's query at all
    errors: tuple[str, ...]
    # Whose queue: a role that sees personal data masked searches the masked copy, as its list
    # does (a queue's first call must not point at a call found by a masked value).
    user: Any = None

    @property
    def queue(self) -> review_queue.Queue | None:
        if self.errors or not self.queue_form.in_queue:
            return None
        return self._queue()

    def _queue(self) -> review_queue.Queue:
        return review_queue.Queue(
            personal_data.filters_for(self.user, self.list_form.list_filters()),
            self.queue_form.drawn_sample,
            self.queue_form.sample_part,
        )

    def as_queue(self) -> review_queue.Queue:
        """The list (or sample) as a queue, whether or not the URL says ``queue=1``."""
        if self.errors:
            raise ValueError("no queue: the query is not valid")
        return self._queue()

    def list_query(self, **overrides: object) -> str:
        """The list's canonical query ("" when the page was not opened from a valid list)."""
        if not self.from_list or self.errors:
            return ""
        return self.list_form.query(**overrides)


def carried(request: DashboardRequest) -> Carried:
    """Read the list query and the queue from the URL (once a request: the call page's panels
    each ask). A sample's own filters stand for the list: the sample is of that view, whatever
    else the URL says."""
    found = getattr(request, "_carried", None)
    if isinstance(found, Carried) and found.user is request.user:
        return found
    request._carried = found = _read_carried(request)  # type: ignore[attr-defined]
    return found


def _read_carried(request: DashboardRequest) -> Carried:
    data = request.GET
    queue_form = QueueForm(data)
    list_data: QueryDict = data
    sample = queue_form.drawn_sample
    if sample is not None:
        from_sample = QueryDict(sample.query, mutable=True)
        for name in ("page", "per_page"):
            if name in data:
                from_sample[name] = str(data[name])
        list_data = from_sample
    list_form = CallFilterForm(list_data, default_zone=request.viewer_zone)
    errors = [*describe_errors(queue_form), *describe_errors(list_form)]
    from_list = sample is not None or any(name in data for name in QUERY_ORDER)
    return Carried(
        list_form, queue_form, from_list or queue_form.in_queue, tuple(errors), request.user
    )


def queue_call_url(call_id: str, where: Carried, taken: review_queue.Snapshot) -> str:
    """The call page of a queue's call: the list's query at the call's page, and the queue."""
    place = taken.list_position(call_id) or 0
    page = place // where.list_form.per_page + 1
    query = f"{where.list_form.query(page=page)}&{where.queue_form.queue_query()}"
    return f"{reverse('calls:call_detail', args=[call_id])}?{query}"


def done_url(where: Carried) -> str:
    query = f"{where.list_form.query(page=None)}&{where.queue_form.queue_query()}"
    return f"{reverse('calls:review_done')}?{query}"


def action_query(where: Carried) -> str:
    """What the panel's forms add to their URLs, so a write keeps the list and the queue."""
    parts = [where.list_query()] if where.list_query() else []
    if where.queue is not None:
        parts.append(where.queue_form.queue_query())
    return "?" + "&".join(parts) if parts else ""


def next_in_queue(
    request: DashboardRequest,
    where: Carried,
    queue: review_queue.Queue,
    *,
    after: str,
    saved: str,
) -> HttpResponse:
    """To the queue's next call for this user (claimed for them), or to its "done" page."""
    try:
        taken = review_queue.snapshot(queue)
        call_id = review_queue.next_call(queue, user_id=request.user.pk, after=after, taken=taken)
    except TruedyError as error:
        review_queue.release(after, request.user.pk)
        message = f"The queue's next call cannot be found: {trouble(error)}. Try again."
        messages.error(request, f"{saved}. {message}" if saved else message)
        return redirect_to(
            request, reverse("calls:call_detail", args=[after]) + action_query(where)
        )
    if saved:
        messages.success(request, saved)
    url = queue_call_url(call_id, where, taken) if call_id else done_url(where)
    return redirect_to(request, url)


# --- answers ----------------------------------------------------------------------------------


def see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the next page is fetched with GET
    return response


def redirect_to(request: DashboardRequest, url: str) -> HttpResponse:
    """A redirect a plain form follows (303) and htmx follows as a whole page (HX-Redirect)."""
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return see_other(url)


def problem(
    request: DashboardRequest, status: int, message: str, errors: list[str] | None = None
) -> TemplateResponse:
    name = "calls/review/problem.html"
    if request.htmx and not request.htmx.boosted:
        name += "#problem"
    context = {"message": message, "errors": errors or [], "status": status}
    return TemplateResponse(request, name, context, status=status)
