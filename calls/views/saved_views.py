"""Saved views: a user names the list's current filters and finds them again beside the filters.

A saved view is the list's canonical query (``CallFilterForm.query`` without a page number),
re-validated and rebuilt by the form before it is stored, so only a query the list accepts is
ever kept or linked to. Each user sees and deletes only their own.
"""

from typing import cast
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from calls.forms import CallFilterForm, describe_errors
from calls.models import SavedView
from calls.services import page_cache
from calls.views.rendering import DashboardRequest

# Both are CharFields, which always have a max_length.
MAX_NAME = cast(int, SavedView._meta.get_field("name").max_length)
MAX_QUERY = cast(int, SavedView._meta.get_field("query").max_length)
MAX_VIEWS_PER_USER = 100


def views_of(user: User | AnonymousUser) -> list[SavedView]:
    """The user's saved views for the menu, by name."""
    return page_cache.saved_views_of(user)


def canonical_query(text: str, request: DashboardRequest) -> str | None:
    """``text`` as the list's canonical query without a page, or None if the list refuses it."""
    form = CallFilterForm(QueryDict(text), default_zone=request.viewer_zone)
    return form.query(page=None) if form.is_valid() else None


@require_POST
def saved_view_create(request: DashboardRequest) -> HttpResponse:
    """Save the posted ``query`` as ``name``; an existing name is replaced only when the user
    confirmed it (``replace``), else they are asked (400)."""
    name = " ".join(request.POST.get("name", "").split())
    query = canonical_query(request.POST.get("query", ""), request)
    problem = _problem(name, query, request)
    if problem is not None:
        return _refused(request, name, query, problem=problem)
    assert query is not None  # _problem refuses a query the list does not accept
    exists = SavedView.objects.filter(user=request.user, name=name).exists()
    if exists and "replace" not in request.POST:
        return _refused(request, name, query, exists=True)
    try:
        with transaction.atomic():
            SavedView.objects.update_or_create(
                user=request.user, name=name, defaults={"query": query}
            )
    except IntegrityError:  # the same name saved twice at once: the other request won
        return _refused(request, name, query, exists=True)
    messages.success(request, f"{'Replaced' if exists else 'Saved'} view “{name}”.")
    return _to_list(query)


@require_POST
def saved_view_delete(request: DashboardRequest, view_id: int) -> HttpResponse:
    """Delete one of the user's own views (anyone else's is a 404), then back to the list the
    user was looking at: the filters of the page they came from, re-validated like any query."""
    saved = get_object_or_404(SavedView, pk=view_id, user=request.user)
    saved.delete()
    messages.success(request, f"Deleted view “{saved.name}”.")
    came_from = urlsplit(request.headers.get("Referer", ""))
    back = (
        canonical_query(came_from.query, request)
        if came_from.path == reverse("calls:call_list")
        else ""
    )
    return _to_list(back or "")


def _problem(name: str, query: str | None, request: DashboardRequest) -> str | None:
    if not name:
        return "Give the view a name."
    if len(name) > MAX_NAME:
        return f"A view's name has at most {MAX_NAME} characters (this one has {len(name)})."
    if not name.isprintable():
        return "A view's name cannot hold control characters."
    if query is None:
        return "These filters are not valid, so they cannot be saved."
    if len(query) > MAX_QUERY:
        return "These filters are too long to save: shorten the search."
    owned = SavedView.objects.filter(user=request.user).exclude(name=name).count()
    if owned >= MAX_VIEWS_PER_USER:
        return f"You have {owned} saved views, the most there can be: delete one first."
    return None


def _refused(
    request: DashboardRequest,
    name: str,
    query: str | None,
    *,
    problem: str | None = None,
    exists: bool = False,
) -> TemplateResponse:
    context = {
        "name": name,
        "query": query or "",
        "problem": problem,
        "exists": exists,
        "errors": describe_errors(
            CallFilterForm(
                QueryDict(request.POST.get("query", "")), default_zone=request.viewer_zone
            )
        )
        if query is None
        else [],
    }
    return TemplateResponse(request, "calls/saved_view_refused.html", context, status=400)


def _to_list(query: str) -> HttpResponseRedirect:
    url = reverse("calls:call_list") + (f"?{query}" if query else "")
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the list is fetched with GET
    return response
