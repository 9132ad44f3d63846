"""An alert fired end to end: calls in the archive, the scheduled task (as the scheduler sends
it: CELERY_BEAT_SCHEDULE names it), an issue, the webhook received on 127.0.0.1 and the e-mail
sent, and the issue's links: the list and a review queue of exactly the calls that fired it."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.http import QueryDict

from calls.background import alerts as alert_tasks
from calls.forms import CallFilterForm
from calls.models import AlertIssue
from calls.services import review_queue
from tests.alerts.conftest import SECRET, archived, make_rule, saved_view

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

FAILING = [{"speaker": "agent", "text": "Hello.", "timestamp": 0}]


def test_the_check_is_on_the_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["check-alerts"]
    assert entry["task"] == alert_tasks.check_alerts.name
    assert entry["schedule"] == settings.ALERT_CHECK_INTERVAL


def test_an_alert_fired_end_to_end(
    frozen_simulator, receiver, admin, reviewer_client, django_capture_on_commit_callbacks
):
    # Agent B's calls of the last hour: three voicemails of four, plus calls the rule ignores.
    for index, outcome in enumerate(("voicemail", "voicemail", "success", "voicemail")):
        archived(f"call_b_{index}", minutes_ago=5 + index, outcome=outcome, agent_id="agent_b")
    archived("call_a_0", minutes_ago=5, outcome="voicemail", agent_id="agent_a")
    archived("call_b_old", minutes_ago=90, outcome="voicemail", agent_id="agent_b")
    view = saved_view(admin, "Agent B", "agent_id=agent_b&tz=Europe%2FBerlin")
    make_rule(
        name="Voicemail spike",
        saved_view=view,
        view_name=view.name,
        query=view.query,
        metric="outcome",
        outcome="voicemail",
        as_share=True,
        threshold=50,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        email_to="ops@example.com",
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = alert_tasks.check_alerts.delay()  # eager in tests, as a worker runs it
    assert result.get() == 1

    issue = AlertIssue.objects.get()
    fired = ["call_b_0", "call_b_1", "call_b_3"]
    assert (
        issue.summary
        == "75 % calls with outcome “voicemail” (3 of 4) in the last 60 min: above 50 %"
    )
    (payload,) = receiver.payloads()
    assert payload["issue"]["call_ids"] == fired
    (message,) = mail.outbox
    assert "Voicemail spike" in message.subject
    assert all(delivery.delivered_at for delivery in issue.deliveries.all())

    page = reviewer_client.get("/alerts/").content.decode()
    assert "Webhook\n        delivered" in page and "E-mail\n        delivered" in page
    queue_link = re.search(r'href="(/calls/review/start\?alert=\d+)"', page).group(1)
    list_link = re.search(r'href="(/calls/\?alert=\d+)"', page).group(1)

    # The list shows exactly those calls (from the archive: no Truedy request for them).
    frozen_simulator.reset_requests()
    listing = reviewer_client.get(list_link)
    assert listing.status_code == 200
    shown = re.findall(r'href="/calls/(call_[a-z0-9_]+)/', listing.content.decode())
    assert sorted(set(shown)) == fired
    assert not [r for r in frozen_simulator.requests if r.path.startswith("/calls")]

    # The queue link opens the first of exactly those calls, as a review queue.
    started = reviewer_client.get(queue_link)
    assert started.status_code == 303
    assert started["Location"].startswith("/calls/call_b_0/?")
    assert f"alert={issue.pk}" in started["Location"]
    form = CallFilterForm(QueryDict(queue_link.split("?", 1)[1]), default_zone=ZoneInfo("UTC"))
    assert form.is_valid()
    queue = review_queue.Queue(form.list_filters())
    assert list(review_queue.snapshot(queue).call_ids) == fired

    # A second check inside the cool-down opens nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_tasks.check_alerts.delay().get() == 0
    assert AlertIssue.objects.count() == 1


def test_the_command_checks_the_rules_by_hand(frozen_simulator, capsys):
    archived("call_1", minutes_ago=1)
    make_rule(threshold=0)
    call_command("check_alerts")
    assert "1 alert opened." in capsys.readouterr().out
    assert AlertIssue.objects.count() == 1


def test_a_rule_whose_view_no_longer_reads_says_why(frozen_simulator):
    rule = make_rule(query="status=nonsense")
    assert alert_tasks.check_alerts() == 0
    rule.refresh_from_db()
    assert "no longer read" in rule.last_problem
