"""/healthz: open to the load balancer, checks the database and the cache, never Truedy."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.utils import OperationalError
from django.test import override_settings

from calls.upstream import resilience

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]


def test_healthy_instance_answers_ok_without_signing_in(client, simulator):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"
    assert all(check["duration_ms"] >= 0 for check in body["checks"].values())
    assert body["truedy"] == {"breaker": "closed", "cooldown_seconds": 0}
    assert simulator.requests == [], "the health check never asks Truedy"


def test_head_works_and_post_is_refused(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_database_down_is_503_and_names_the_check(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.5 failed: secret-host")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "error"
    assert body["checks"]["database"] == {
        "status": "error",
        "error": "OperationalError",
        "duration_ms": body["checks"]["database"]["duration_ms"],
    }
    assert body["checks"]["cache"]["status"] == "ok"
    assert "secret-host" not in response.content.decode(), "no driver message, no host names"


DEAD_REDIS = {
    "default": {
        "BACKEND": "calls.upstream.redis_cache.SharedClientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


def test_cache_down_is_degraded_but_still_200(client):
    """Pages work without the cache, and every instance shares it: pulling them all out of
    the load balancer would turn a slower site into no site."""
    with override_settings(CACHES=DEAD_REDIS):
        caches["default"]  # the dead cache, for the duration
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert "truedy" not in body, "the breaker lives in the cache: unknown while it is down"


def test_an_open_breaker_is_reported_but_the_instance_stays_healthy(client, settings):
    settings.TRUEDY_BREAKER_RESET = 30
    resilience.safe_set(resilience.OPEN_KEY, resilience.time.time() + 30, 300)
    resilience.safe_set(resilience.COOLDOWN_KEY, resilience.time.time() + 20, 30)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["truedy"]["breaker"] == "open"
    assert 19 <= body["truedy"]["cooldown_seconds"] <= 20


def test_the_breaker_past_its_reset_is_half_open(client):
    resilience.safe_set(resilience.OPEN_KEY, resilience.time.time() - 1, 300)
    assert client.get("/healthz").json()["truedy"]["breaker"] == "half-open"


def test_plain_http_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
