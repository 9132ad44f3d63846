import pytest
from django.core.cache import cache

from calls import backend


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: cached upstream data never leaks between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def simulator():
    """The process-wide embedded simulator the dashboard talks to, with its request log emptied."""
    sim = backend.get_simulator()
    sim.reset_requests()
    yield sim
    sim.reset_requests()


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="ops", password="correct horse battery staple", is_staff=True
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
