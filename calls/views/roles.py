"""Roles, enforced on the server: the one check every URL that writes review work passes.

Reading stays open to every staff member (the middleware's check); a write (any method but GET,
HEAD or OPTIONS) needs ``calls.services.roles.can_review``, else 403 and nothing is written.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.template.response import TemplateResponse

from calls.services import roles
from calls.views.rendering import DashboardRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set on every guarded view: the URL walk (tests/test_url_walk.py) finds them by it.
GUARD_MARK = "writes_review_work"

View = Callable[..., HttpResponse]


def review_permission_required(view: View) -> View:
    """Let only reviewers write through ``view``; anybody on staff may read it."""

    @functools.wraps(view)
    def guarded(request: DashboardRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS and not roles.can_review(request.user):
            return refused(request)
        return view(request, *args, **kwargs)

    setattr(guarded, GUARD_MARK, True)
    return guarded


def refused(request: DashboardRequest) -> TemplateResponse:
    """403: the user's role cannot write review work (a fragment for htmx)."""
    name = "calls/review/refused.html"
    if request.htmx and not request.htmx.boosted:
        name += "#refusal"
    context = {"role": roles.role_name(request.user)}
    return TemplateResponse(request, name, context, status=403)
