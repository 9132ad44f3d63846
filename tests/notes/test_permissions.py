"""Deny by default: any role, any notes URL, any method is let through iff the role allows it,
and a refused write writes nothing (property-based)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import AuditEvent, TurnNote
from calls.services.roles import ADMIN
from tests.notes.roles import make_reviewer
from tests.views.test_call_detail import an_ended_call_with_turns

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "reviewer", "admin", "superuser", "reviewer-not-staff", "inactive-reviewer")
MAY_READ = {"viewer", "reviewer", "admin", "superuser"}
MAY_WRITE = {"reviewer", "admin", "superuser"}
# (URL kind, method) -> what it does: read, write, or not this method at all (405 for staff).
ROUTES = {
    ("notes", "GET"): "read",
    ("notes", "POST"): "write",
    ("note", "GET"): "read",
    ("note", "POST"): "wrong-method",
    ("resolve", "GET"): "wrong-method",
    ("resolve", "POST"): "write",
    ("for-you", "GET"): "read",
    ("for-you", "POST"): "wrong-method",
    ("agreement", "GET"): "read",
    ("agreement", "POST"): "wrong-method",
}


@pytest.fixture
def clients(django_user_model, frozen_simulator):
    make = django_user_model.objects.create_user
    users = {
        "viewer": make(username="viewer", is_staff=True),
        "reviewer": make_reviewer(make(username="reviewer", is_staff=True)),
        "admin": make(username="admin", is_staff=True),
        "superuser": django_user_model.objects.create_superuser(username="root", password="x"),
        "reviewer-not-staff": make_reviewer(make(username="outsider", is_staff=False)),
        "inactive-reviewer": make_reviewer(make(username="left", is_staff=True, is_active=False)),
    }
    admins, _ = Group.objects.get_or_create(name=ADMIN)
    admins.permissions.add(Permission.objects.get(codename="review_calls"))
    users["admin"].groups.add(admins)
    signed_in = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        signed_in[role] = client
    return signed_in, users, an_ended_call_with_turns(frozen_simulator)


def url_of(kind: str, call_id: str, note_id: int) -> str:
    return {
        "notes": f"/calls/{call_id}/notes/",
        "note": f"/calls/notes/{note_id}/",
        "resolve": f"/calls/notes/{note_id}/resolve",
        "for-you": "/for-you/",
        "agreement": "/calls/agreement/?status=failed",
    }[kind]


def writes() -> tuple[int, int, int]:
    return (
        TurnNote.objects.count(),
        TurnNote.objects.filter(resolved_at__isnull=False).count(),
        AuditEvent.objects.filter(action__in=("add_note", "resolve_note")).count(),
    )


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(role=st.sampled_from(ROLES), route=st.sampled_from(sorted(ROUTES)))
def test_a_role_is_let_through_iff_it_may(clients, role, route):
    signed_in, users, call_id = clients
    kind, method = route
    note = TurnNote.objects.create(call_id=call_id, turn=1, text="x", author=users["superuser"])
    before = writes()
    client = signed_in[role]
    url = url_of(kind, call_id, note.pk)
    data = {"turn": "1", "text": "A note"} if method == "POST" else None
    response = client.post(url, data) if method == "POST" else client.get(url)
    status = response.status_code
    what = ROUTES[route]
    if role == "inactive-reviewer":
        assert status == 302  # signed out by Django: back to sign in
    elif role not in MAY_READ:
        assert status == 403
    elif what == "wrong-method":
        assert status == 405
    elif what == "read" or role in MAY_WRITE:
        assert status in (200, 302, 303), (role, route, status)
    else:
        assert status == 403, (role, route, status)
    wrote = writes() != before
    assert wrote == (what == "write" and role in MAY_WRITE), (role, route)
