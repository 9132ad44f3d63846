"""People in each role (Admins also define scorecards), a scorecard with every kind of question
and of automatic check, and calls of the frozen simulator to score."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory

from calls.models import ArchivedCall
from calls.services import scorecards
from calls.services.scorecards import Option, QuestionSpec, ScorecardSpec
from tests.reviews.conftest import (  # noqa: F401 - fixtures shared with the review tests
    person,
    reviewer,
    reviewer_client,
    role_group,
    signed_in,
    viewer,
    viewer_client,
)


def make_admin(user):
    """Put ``user`` in the Admin group, with ``calls.manage_scorecards`` (a flushed database
    lost what migration 0009 gave the group)."""
    group = role_group("Admin")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="calls", codename="manage_scorecards")
    )
    user.groups.add(group)
    return user


@pytest.fixture
def admin(django_user_model):
    return make_admin(person(django_user_model, "ada", None))


@pytest.fixture
def admin_client(admin) -> Client:
    return signed_in(admin)


def as_request(user, path: str = "/scorecards/new"):
    request = RequestFactory().post(path)
    request.user = user
    return request


def spec(name: str = "Quality", **changes) -> ScorecardSpec:
    """A scorecard with one question of each kind, two of them automatic."""
    questions = (
        QuestionSpec(
            "Says it is an AI",
            "yes_no",
            weight=3,
            mandatory=True,
            auto_check={
                "kind": "phrase",
                "speaker": "agent",
                "phrases": "AI assistant|automated assistant",
                "said": True,
            },
        ),
        QuestionSpec(
            "Short silences",
            "yes_no",
            weight=1,
            allow_na=True,
            auto_check={"kind": "longest_silence", "max_seconds": 5.0},
        ),
        QuestionSpec("Handling", "scale", weight=2, mandatory=True, scale_max=4),
        QuestionSpec(
            "Resolved?",
            "choice",
            weight=2,
            allow_na=True,
            options=(Option("Yes", 100), Option("Partly", 50), Option("No", 0)),
        ),
        QuestionSpec("Coaching note", "text", weight=0),
    )
    values = {"name": name, "questions": questions} | changes
    return ScorecardSpec(**values)


def make_scorecard(user, **changes):
    version = scorecards.save_scorecard(as_request(user), scorecard=None, spec=spec(**changes))
    assert version is not None
    return scorecards.version_with_questions(version.pk)


def questions_of(version) -> dict[str, int]:
    """Question text → id."""
    return {question.text: question.pk for question in version.questions.all()}


def archive(call) -> ArchivedCall:
    from calls.archive.store import store_call

    return store_call(call, source="sync", copy=False)
