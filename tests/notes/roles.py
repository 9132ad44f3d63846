"""Roles for tests: the groups migration 0005 makes, again where a flushed database lost them."""

from django.contrib.auth.models import Group, Permission

from calls.services.roles import REVIEWER


def make_reviewer(user):
    """Put ``user`` in the Reviewer group (made here if a transactional test flushed it)."""
    group, _ = Group.objects.get_or_create(name=REVIEWER)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="calls", codename="review_calls")
    )
    user.groups.add(group)
    return user
