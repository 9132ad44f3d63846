"""Campaigns: Truedy's batch calls with their progress, and one campaign's counters and calls.

A campaign's calls are the call list filtered by ``campaign=<id>`` (calls.services.campaigns):
the campaign's page links there, so its calls get the list's columns, review and export.
"""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from calls.forms import CampaignPageForm, describe_errors
from calls.services import campaigns
from calls.services.listing import agent_names_if_possible
from calls.truedy.client import is_valid_call_id
from calls.truedy.errors import NotFound, TruedyError
from calls.truedy.records import Campaign
from calls.views.problems import upstream_error
from calls.views.rendering import DashboardRequest, render

LIST_TEMPLATE = "calls/campaigns/campaign_list.html"


@require_GET
def campaign_list(request: DashboardRequest) -> HttpResponse:
    """Every campaign, newest first, with its progress (``?page=`` for more than a page)."""
    form = CampaignPageForm(request.GET)
    if not form.is_valid():
        return render(request, LIST_TEMPLATE, {"errors": describe_errors(form)}, status=400)
    try:
        found = campaigns.campaigns_page(form.number)
    except TruedyError as error:
        return upstream_error(request, error)
    per_page = campaigns.CAMPAIGNS_PER_PAGE
    num_pages = max(1, -(-found.total // per_page))
    page = form.number
    context = {
        "campaigns": [(campaign, calls_link(request, campaign)) for campaign in found.campaigns],
        "agent_names": agent_names_if_possible(),
        "total": found.total,
        "page_number": page,
        "num_pages": num_pages,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < num_pages else None,
        "past_the_end": page > num_pages,
    }
    return render(request, LIST_TEMPLATE, context, status=404 if page > num_pages else 200)


@require_GET
def campaign_detail(request: DashboardRequest, campaign_id: str) -> HttpResponse:
    """One campaign's counters and settings, and the link to exactly its calls."""
    if not is_valid_call_id(campaign_id):
        return campaign_not_found(request)  # an odd id is never sent upstream
    try:
        campaign = campaigns.campaign(campaign_id)
    except NotFound:
        return campaign_not_found(request)
    except TruedyError as error:
        return upstream_error(request, error)
    context: dict[str, Any] = {
        "campaign": campaign,
        "calls_link": calls_link(request, campaign),
        "agent_names": agent_names_if_possible(),
    }
    return render(request, "calls/campaigns/campaign_detail.html", context)


def campaign_not_found(request: DashboardRequest) -> HttpResponse:
    return render(
        request, "calls/campaigns/campaign_not_found.html", {}, status=404, fragment="problem"
    )


def calls_link(request: DashboardRequest, campaign: Campaign) -> str:
    """The call list showing exactly the campaign's calls, in the viewer's zone."""
    query = urlencode({"campaign": campaign.id, "tz": request.viewer_zone.key})
    return f"{reverse('calls:call_list')}?{query}"
