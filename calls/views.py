from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from calls import services
from calls.errors import TruedyError

PER_PAGE = 25


@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    page_number = _positive_int(request.GET.get("page"), default=1)
    try:
        page = services.list_calls(limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)
        agent_names = services.agent_names()
    except TruedyError as error:
        return upstream_error(request, error)
    context = {
        "calls": page.calls,
        "agent_names": agent_names,
        "total": page.total,
        "first_row": page.offset + 1,
        "last_row": page.offset + len(page.calls),
        "page_number": page_number,
        "num_pages": max(1, -(-page.total // PER_PAGE)),
    }
    return TemplateResponse(request, "calls/call_list.html", context)


def upstream_error(request: HttpRequest, error: TruedyError) -> HttpResponse:
    context = {"message": error.message, "request_id": error.request_id}
    return TemplateResponse(request, "calls/upstream_error.html", context, status=502)


def _positive_int(value: str | None, *, default: int) -> int:
    if value is None or not value.isdigit() or int(value) < 1:
        return default
    return int(value)
