"""Roles, enforced on the server: for any role, any review URL and any method, a request is let
through iff the role may review; a refused one writes nothing (calls/views/roles.py)."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import AuditEvent, OutcomeCorrection, Review, ReviewSample
from calls.services import roles
from tests.reviews.conftest import ended_calls, role_group

pytestmark = pytest.mark.django_db

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ROLES = ("viewer", "staff in no group", "reviewer", "admin", "superuser")


@pytest.fixture
def people(django_user_model):
    def staff(username, group=None, **extra):
        user = django_user_model.objects.create_user(
            username=username, password="x" * 20, is_staff=True, **extra
        )
        if group:
            user.groups.add(role_group(group))
        return user

    return {
        "viewer": staff("v", "Viewer"),
        "staff in no group": staff("n"),
        "reviewer": staff("r", "Reviewer"),
        "admin": staff("a", "Admin"),
        "superuser": staff("s", is_superuser=True),
    }


@pytest.fixture
def review_urls(frozen_simulator):
    call_id = ended_calls(frozen_simulator, 1)[0].id
    data = {"verdict": "pass", "outcome": "voicemail", "reason": "r", "percent": "10"}
    return [
        (f"/calls/{call_id}/review", data),
        (f"/calls/{call_id}/outcome", data),
        (f"/calls/{call_id}/review/skip?status=ended&queue=1", {}),
        ("/calls/review/sample", data | {"query": "status=failed"}),
    ]


def written() -> tuple[int, ...]:
    return (
        Review.objects.count(),
        OutcomeCorrection.objects.count(),
        ReviewSample.objects.count(),
        AuditEvent.objects.filter(action__in=["review_call", "correct_outcome"]).count(),
    )


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(role=st.sampled_from(ROLES), index=st.integers(0, 3), method=st.sampled_from(METHODS))
def test_a_review_url_lets_through_exactly_the_roles_that_may_review(
    people, review_urls, role, index, method
):
    user = people[role]
    client = Client()
    client.force_login(user)
    url, data = review_urls[index]
    before = written()
    response = client.generic(
        method,
        url,
        data="&".join(f"{key}={value}" for key, value in data.items()),
        content_type="application/x-www-form-urlencoded",
    )
    allowed = roles.can_review(user)
    unsafe = method not in ("GET", "HEAD")
    assert (response.status_code == 403) == (unsafe and not allowed), (role, method, url)
    assert response.status_code < 500
    if response.status_code == 403 or not unsafe:
        assert written() == before, "a refused request (or a read) wrote something"
