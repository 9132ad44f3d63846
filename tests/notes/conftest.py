"""Users in each role for the notes, For you and agreement tests."""

import pytest
from django.test import Client

from tests.notes.roles import make_reviewer

PASSWORD = "correct horse battery staple"


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user(username="rita", password=PASSWORD, is_staff=True)
    return make_reviewer(user)


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def viewer(django_user_model):
    """Staff in no group: a Viewer."""
    return django_user_model.objects.create_user(
        username="victor", password=PASSWORD, is_staff=True
    )


@pytest.fixture
def viewer_client(viewer):
    client = Client()
    client.force_login(viewer)
    return client
