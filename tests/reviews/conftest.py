"""People in each role, signed in, and calls of the frozen simulator to review."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

PASSWORD = "correct horse battery staple"
# The roles as migration 0005 makes them (a transactional test's flush empties the groups).
ROLES = importlib.import_module("calls.migrations.0005_roles").ROLES


def role_group(role: str) -> Group:
    group, made = Group.objects.get_or_create(name=role)
    if made:
        for app_label, codename in ROLES[role]:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


def person(django_user_model, username: str, role: str | None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, is_staff=True, **extra
    )
    if role is not None:
        user.groups.add(role_group(role))
    return user


@pytest.fixture
def reviewer(django_user_model):
    return person(django_user_model, "rita", "Reviewer")


@pytest.fixture
def teammate(django_user_model):
    return person(django_user_model, "tom", "Reviewer")


@pytest.fixture
def viewer(django_user_model):
    return person(django_user_model, "vic", "Viewer")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reviewer_client(reviewer):
    return signed_in(reviewer)


@pytest.fixture
def teammate_client(teammate):
    return signed_in(teammate)


@pytest.fixture
def viewer_client(viewer):
    return signed_in(viewer)


def ended_calls(sim, count: int, **where):
    """The newest ``count`` ended calls of the frozen simulator (as the list shows them)."""
    from calls.upstream import reads

    page = reads.list_calls(status="ended", limit=count, **where)
    assert len(page.calls) == count
    return list(page.calls)
