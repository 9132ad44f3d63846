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
# Seeing one call's personal data unmasked for a while, with a reason (the Admin role;
# migration 0010_personal_data).
REVEAL_PERMISSION = "calls.reveal_personal_data"
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


# Defining and changing alert rules, retrying their deliveries (the Admin role; migration
# 0011_alerts). Acknowledging and resolving an alert needs can_review.
ALERT_PERMISSION = "calls.manage_alerts"


def can_manage_alerts(user: Any) -> bool:
    """Whether ``user`` may define alert rules and retry deliveries: an active staff Admin."""
    if user is None or not user.is_authenticated:
        return False
    staff = bool(getattr(user, "is_staff", False)) and user.is_active
    return staff and user.has_perm(ALERT_PERMISSION)


def can_play_recordings(user: Any) -> bool:
    """Whether ``user`` may play and download recordings (the player, the recording endpoint,
    the list's ZIP): Reviewers and Admins always, a Viewer while VIEWERS_MAY_PLAY_RECORDINGS
    allows. Audio cannot be masked (Truedy gives turn starts, not word timings)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not getattr(user, "is_staff", False):
        return False
    return can_review(user) or bool(settings.VIEWERS_MAY_PLAY_RECORDINGS)


RECORDINGS_REFUSED = (
    "Your role may not play or download recordings: audio cannot be masked, and it holds "
    "the personal data the transcript masks for you."
)

# Downloading a recording is playing it elsewhere: one rule.
can_download_recordings = can_play_recordings


def sees_personal_data(user: Any) -> bool:
    """Whether ``user`` sees calls' personal data as said (not masked): Reviewers and Admins,
    unless PERSONAL_DATA_MASKED_FOR names their role; a Viewer never (deny by default)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not getattr(user, "is_staff", False) or not can_review(user):
        return False  # a Viewer
    masked = set(settings.PERSONAL_DATA_MASKED_FOR)
    if not masked & {REVIEWER, ADMIN}:
        return True  # (no group query for the usual setting)
    return role_name(user) not in masked


def can_reveal_personal_data(user: Any) -> bool:
    """Whether ``user`` may reveal one call's personal data for a while, giving a reason."""
    if user is None or not user.is_authenticated:
        return False
    staff = bool(getattr(user, "is_staff", False)) and user.is_active
    return staff and user.has_perm(REVEAL_PERMISSION)


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
