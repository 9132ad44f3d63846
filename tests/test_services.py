"""The service layer caches upstream reads under namespaced keys."""

import pytest

from calls import services

pytestmark = pytest.mark.django_db


def test_a_cached_list_makes_one_upstream_request(simulator):
    first = services.list_calls(status="ended", limit=25)
    second = services.list_calls(status="ended", limit=25)
    assert first == second
    assert len(simulator.requests) == 1


def test_different_filters_are_different_cache_entries(simulator):
    services.list_calls(status="ended", limit=25)
    services.list_calls(status="failed", limit=25)
    assert len(simulator.requests) == 2


def test_a_cached_call_makes_one_upstream_request(simulator):
    call_id = services.list_calls(limit=1).calls[0].id
    simulator.reset_requests()
    assert services.get_call(call_id) == services.get_call(call_id)
    assert len(simulator.requests) == 1


def test_agent_names_are_cached(simulator):
    names = services.agent_names()
    assert names
    requests_after_first = len(simulator.requests)
    services.agent_names()
    assert len(simulator.requests) == requests_after_first


def test_cache_keys_are_namespaced_and_canonical():
    key_a = services._cache_key("calls", {"status": "ended", "limit": 25})
    key_b = services._cache_key("calls", {"limit": 25, "status": "ended"})
    assert key_a == key_b
    assert key_a.startswith("truedy:v1:calls:")
