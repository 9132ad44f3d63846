import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache

from calls.services import recording_streams
from calls.simulator import Simulator
from calls.upstream import gateway


def _unreachable_backends() -> list[str]:
    """The PostgreSQL or Redis this run is configured for, if it does not answer."""
    database = settings.DATABASES["default"]
    wanted = []
    if "postgresql" in database["ENGINE"]:
        wanted.append(("PostgreSQL", database.get("HOST") or "127.0.0.1", database.get("PORT")))
    location = settings.CACHES["default"].get("LOCATION", "")
    if "Redis" in settings.CACHES["default"]["BACKEND"]:
        url = urlsplit(location if isinstance(location, str) else location[0])
        wanted.append(("Redis", url.hostname, url.port or 6379))
    missing = []
    for name, host, port in wanted:
        try:
            socket.create_connection((host, int(port or 5432)), timeout=1).close()
        except OSError:
            missing.append(f"{name} at {host}:{port}")
    return missing


def pytest_report_header(config: pytest.Config) -> str:
    database = settings.DATABASES["default"]
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"backends: database {database['ENGINE'].rsplit('.', 1)[-1]}, cache {cache_backend}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the shared-backends run (`make test-shared-backends`), a PostgreSQL or Redis that is
    not running skips the run, saying which, instead of failing every test."""
    missing = _unreachable_backends()
    if missing:
        skip = pytest.mark.skip(
            reason=f"{' and '.join(missing)} not reachable: start it to run these"
        )
        for item in items:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is for production; here it would only slow every login."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: cached upstream data never leaks between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_stream_slots(monkeypatch):
    """Recording stream slots are per process: a WSGI server closes every response and so gives
    each slot back, Django's test client only the responses a test reads to the end."""
    monkeypatch.setattr(recording_streams, "SLOTS", recording_streams.StreamSlots())


@pytest.fixture
def simulator():
    """The process-wide embedded simulator the dashboard talks to, with its request log emptied."""
    sim = gateway.get_simulator()
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


# The moment the frozen simulator stands still at: a Tuesday, so "yesterday" is a weekday.
FROZEN_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _wall_clock_at_frozen_now(request):
    """A test of the frozen simulator runs with the whole process's wall clock moved to
    FROZEN_NOW too, ticking from there, so nothing compares FROZEN_NOW with the real date.

    The dashboard's own readings (links judged in real-key mode, rate-limit resets, cache,
    session and lockout lifetimes, audit times) then start where the simulator's do, on whatever
    date the suite runs. time-machine moves every wall-clock reading of the process, threads
    included (the live server, a simulator served over HTTP); monotonic clocks and timed waits
    are untouched. Autouse, so it is in place before any other fixture (a signed-in client's
    session) reads the clock.
    """
    if "frozen_simulator" not in request.fixturenames:
        yield
        return
    with time_machine.travel(FROZEN_NOW, tick=True):
        yield


@pytest.fixture
def frozen_simulator(monkeypatch):
    """A fresh embedded simulator whose clock stands still at FROZEN_NOW (tests move it).

    Seed 42, so the same calls as the default backend; the dashboard's client is rebuilt on it
    and both are put back afterwards.
    """
    sim = Simulator(seed=42, call_count=2000, now=FROZEN_NOW)
    monkeypatch.setattr(gateway, "_simulator", sim)
    monkeypatch.setattr(gateway, "_client", None)
    yield sim
    client = gateway._client
    if client is not None:
        client.close()


def as_worker(task, *args, retries: int = 0):
    """Run a Celery task's body as a worker would: a retry is sent (and raised as Retry), not
    run at once as it is where tasks run eagerly (the tests' setting)."""
    task.push_request(
        called_directly=False, is_eager=False, retries=retries, id="task-1", args=args, kwargs={}
    )
    try:
        return task.run(*args)
    finally:
        task.pop_request()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """A STATIC_ROOT filled by production's `collectstatic` (the admin's files left out), for
    tests that start the dashboard with DEBUG off in a process of its own: without one it
    refuses to start (calls/checks.py)."""
    root = tmp_path_factory.mktemp("collected-static")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--ignore", "admin", "-v0"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": "k" * 50, "STATIC_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return root


def upstream_paths(sim: Simulator) -> list[str]:
    """The API paths the dashboard requested, in order (recording fetches included)."""
    return [request.path for request in sim.requests]
