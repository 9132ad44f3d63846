"""Revealing one call's personal data for a while, with a reason (README, "Personal data")."""

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from calls.services import personal_data
from calls.truedy.client import is_valid_call_id
from calls.views.rendering import NO_STORE, DashboardRequest, plain_text, see_other


@require_POST
def call_reveal(request: DashboardRequest, call_id: str) -> HttpResponse:
    """A plain form's POST: the reveal is written (with its audit event), then 303 back to the
    call page, which shows the originals and until when. Refused: 403 or 400, nothing written."""
    if not is_valid_call_id(call_id):
        return plain_text(404, "No such call.")
    try:
        personal_data.reveal(request, call_id=call_id, reason=request.POST.get("reason", ""))
    except personal_data.RevealRefused as refused:
        context = {"message": str(refused), "call_id": call_id}
        response = TemplateResponse(
            request, "calls/personal_data/reveal_refused.html", context, status=refused.status
        )
        response["Cache-Control"] = NO_STORE
        return response
    return see_other(reverse("calls:call_detail", args=[call_id]))
