"""People in each role (Admins also define alert rules), hand-made archived calls around the
frozen simulator's clock, rules, and a webhook receiver on 127.0.0.1."""

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from calls.archive.store import stored_longest_silence
from calls.models import AlertRule, ArchivedCall, SavedView
from tests.conftest import FROZEN_NOW
from tests.reviews.conftest import person, role_group, signed_in
from tests.scorecards.conftest import make_admin

NOW = FROZEN_NOW
SECRET = "a-signing-secret-for-tests"


def make_alert_admin(user):
    """An Admin who defines scorecards and alert rules (a flushed database lost what migration
    0011 gave the group)."""
    make_admin(user)
    role_group("Admin").permissions.add(
        Permission.objects.get(content_type__app_label="calls", codename="manage_alerts")
    )
    return user


@pytest.fixture
def admin(django_user_model):
    return make_alert_admin(person(django_user_model, "ada", None))


@pytest.fixture
def admin_client(admin) -> Client:
    return signed_in(admin)


@pytest.fixture
def reviewer(django_user_model):
    return person(django_user_model, "rita", "Reviewer")


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    return signed_in(reviewer)


@pytest.fixture
def viewer(django_user_model):
    return person(django_user_model, "vic", "Viewer")


@pytest.fixture
def viewer_client(viewer) -> Client:
    return signed_in(viewer)


def turns(*pairs):
    """Transcript turns as Truedy sends them: (seconds, text) alternating agent and contact."""
    speakers = ("agent", "contact")
    return [
        {"speaker": speakers[index % 2], "text": text, "timestamp": seconds}
        for index, (seconds, text) in enumerate(pairs)
    ]


QUIET = turns((0, "Hello."), (2, "Hi."), (4, "Bye."))  # no silence over a few seconds
GAPPY = turns((0, "Hello."), (60, "Hi, sorry."), (62, "Bye."))  # about a minute's silence


def archived(call_id: str, *, minutes_ago: float, outcome: str = "", transcript=QUIET, **extra):
    """An ended call in the archive, created ``minutes_ago`` before the frozen now."""
    created = NOW - timedelta(minutes=minutes_ago)
    values = {
        "agent_id": "agent_a",
        "status": "ended",
        "direction": "outbound",
        "created_at": created,
        "started_at": created,
        "ended_at": created + timedelta(seconds=70),
        "duration_seconds": 70,
        "outcome": outcome,
        "transcript": transcript,
        # what the archive's writes store beside the transcript (calls.archive.store)
        "longest_silence": stored_longest_silence(transcript, 70),
    } | extra
    return ArchivedCall.objects.create(id=call_id, **values)


def make_rule(**values) -> AlertRule:
    fields = {
        "name": "Rule",
        "metric": "calls",
        "direction": "above",
        "threshold": 0,
        "window_minutes": 60,
        "cooldown_minutes": 30,
    } | values
    return AlertRule.objects.create(**fields)


def saved_view(user, name: str, query: str) -> SavedView:
    return SavedView.objects.create(user=user, name=name, query=query)


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each request and answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 204
        self.got = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.got.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def refusing_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/alerts"
