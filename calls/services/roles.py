"""Who may do what: the one place that reads roles (README, "Roles"; migration 0005_roles).

Browsing needs a staff login (``calls.middleware.StaffRequiredMiddleware``). Writing review work
(verdicts, outcome corrections, notes) needs ``calls.review_calls``, which the Reviewer and Admin
groups grant and superusers hold anyway; a staff user in no group is a Viewer. Deny by default:
a user this module cannot place is a Viewer.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

REVIEW_PERMISSION = "calls.review_calls"
# Defining and changing scorecards (the Admin role; migration 0009_scorecards).
SCORECARD_PERMISSION = "calls.manage_scorecards"
_APP_LABEL, _CODENAME = REVIEW_PERMISSION.split(".")

VIEWER, REVIEWER, ADMIN = "Viewer", "Reviewer", "Admin"


def can_review(user: Any) -> bool:
    """Whether ``user`` may write review work: an active staff member with the permission."""
    if user is None or not user.is_authenticated:
        return False
    staff = bool(getattr(user, "is_staff", False)) and user.is_active
    return staff and user.has_perm(REVIEW_PERMISSION)


def can_manage_scorecards(user: Any) -> bool:
    """Whether ``user`` may define and change scorecards: an active staff Admin."""
    if user is None or not user.is_authenticated:
        return False
    staff = bool(getattr(user, "is_staff", False)) and user.is_active
    return staff and user.has_perm(SCORECARD_PERMISSION)


def can_download_recordings(user: Any) -> bool:
    """Whether ``user`` may download recordings (the list's ZIP): Reviewers and Admins always,
    a Viewer while VIEWERS_MAY_DOWNLOAD_RECORDINGS allows (it will govern playing too)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not getattr(user, "is_staff", False):
        return False
    return can_review(user) or bool(settings.VIEWERS_MAY_DOWNLOAD_RECORDINGS)


def role_name(user: Any) -> str:
    """The role a page names for ``user``: Admin, Reviewer or Viewer."""
    if not can_review(user):
        return VIEWER
    if getattr(user, "is_superuser", False) or _in_group(user, ADMIN):
        return ADMIN
    return REVIEWER


def reviewers() -> QuerySet[Any]:
    """Every active staff user who may review, by username: whom a follow-up can go to."""
    granted = (
        Q(is_superuser=True)
        | Q(
            user_permissions__content_type__app_label=_APP_LABEL,
            user_permissions__codename=_CODENAME,
        )
        | Q(
            groups__permissions__content_type__app_label=_APP_LABEL,
            groups__permissions__codename=_CODENAME,
        )
    )
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    ids = users.filter(granted).values("pk")
    return users.filter(pk__in=ids).order_by("username")


def _in_group(user: Any, name: str) -> bool:
    return bool(user.groups.filter(name=name).exists())
