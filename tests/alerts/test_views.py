"""The Alerts page and the rules over HTTP: roles enforced on the server (a Viewer reads, a
Reviewer also acknowledges and resolves, an Admin also defines rules), the form's messages,
no JavaScript needed (303 after each POST) and the htmx swap of one issue."""

import pytest

from calls.models import AlertIssue, AlertRule, AuditEvent
from calls.services import alerts
from calls.truedy.filters import CallFilters
from tests.alerts.conftest import NOW, archived, make_rule, saved_view

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]


@pytest.fixture
def issue():
    archived("call_1", minutes_ago=1)
    archived("call_2", minutes_ago=2)
    found = alerts.check_rule(
        make_rule(name="Busy line", threshold=1), filters=CallFilters(), now=NOW
    )
    assert found is not None
    return found


def rule_form(**changes) -> dict[str, str]:
    values = {
        "name": "Too many voicemails",
        "view": "",
        "metric": "outcome",
        "outcome": "voicemail",
        "measure": "share",
        "direction": "above",
        "threshold": "30",
        "window_minutes": "60",
        "cooldown_minutes": "30",
        "active": "on",
    }
    return values | changes


# --- issues -----------------------------------------------------------------------------------


def test_a_viewer_reads_the_alerts_without_buttons(viewer_client, issue):
    page = viewer_client.get("/alerts/").content.decode()
    assert f"Alert {issue.pk}: Busy line" in page and "2 calls in the last 60 min" in page
    assert f"/calls/review/start?alert={issue.pk}" in page
    assert "Acknowledge" not in page and "Resolve" not in page


def test_a_viewers_post_is_refused_and_writes_nothing(viewer_client, issue):
    for action in ("acknowledge", "resolve"):
        assert viewer_client.post(f"/alerts/{issue.pk}/{action}").status_code == 403
    issue.refresh_from_db()
    assert issue.state == "open" and issue.acknowledged_by is None


def test_a_reviewer_acknowledges_then_resolves(reviewer_client, reviewer, issue):
    response = reviewer_client.post(f"/alerts/{issue.pk}/acknowledge")
    assert response.status_code == 303
    assert response["Location"] == f"/alerts/#alert-{issue.pk}"
    issue.refresh_from_db()
    assert (issue.state, issue.acknowledged_by) == ("acknowledged", reviewer)
    assert issue.acknowledged_at is not None
    reviewer_client.post(f"/alerts/{issue.pk}/resolve")
    issue.refresh_from_db()
    assert (issue.state, issue.resolved_by) == ("resolved", reviewer)
    # Acknowledging a resolved alert changes nothing and says so.
    response = reviewer_client.post(f"/alerts/{issue.pk}/acknowledge", follow=True)
    assert "Already acknowledged or resolved" in response.content.decode()
    assert AlertIssue.objects.get(pk=issue.pk).state == "resolved"
    # Each change is in the audit log once, by whom; the refused one is not.
    events = AuditEvent.objects.filter(detail=f"alert {issue.pk}").order_by("pk")
    assert [(e.action, e.user) for e in events] == [
        ("acknowledge_alert", reviewer),
        ("resolve_alert", reviewer),
    ]


def test_with_htmx_the_issue_swaps_itself(reviewer_client, issue):
    response = reviewer_client.post(
        f"/alerts/{issue.pk}/acknowledge",
        headers={"HX-Request": "true", "HX-Target": f"alert-{issue.pk}"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(
        f'<article class="alert-issue state-acknowledged" id="alert-{issue.pk}"'
    )
    assert "acknowledged by rita" in body and "Acknowledged." in body


def test_an_unknown_alert_is_a_404(reviewer_client):
    assert reviewer_client.post("/alerts/999/acknowledge").status_code == 404


def test_open_alerts_come_first_and_are_counted_in_the_header(reviewer_client, issue):
    archived("call_3", minutes_ago=3)
    later = alerts.check_rule(make_rule(name="Second", threshold=0), filters=CallFilters(), now=NOW)
    alerts.resolve(later, by=None)
    page = reviewer_client.get("/calls/agreement/").content.decode()
    assert 'Alerts <span class="count-badge">1<span class="visually-hidden"> open</span>' in page
    listing = reviewer_client.get("/alerts/").content.decode()
    assert listing.index("Busy line") < listing.index("Second")


# --- rules ------------------------------------------------------------------------------------


def test_only_an_admin_defines_rules(reviewer_client, viewer_client):
    for client in (reviewer_client, viewer_client):
        assert client.get("/alerts/rules/new").status_code == 403
        assert client.post("/alerts/rules/new", rule_form()).status_code == 403
    assert not AlertRule.objects.exists()
    assert reviewer_client.get("/alerts/rules/").status_code == 200  # reading is open


def test_an_admin_defines_a_rule_on_a_saved_view(admin_client, admin):
    view = saved_view(admin, "Agent B", "agent_id=agent_b&tz=UTC")
    response = admin_client.post(
        "/alerts/rules/new",
        rule_form(
            view=str(view.pk), webhook_url="https://hooks.example.com/a", webhook_secret="s" * 20
        ),
    )
    assert response.status_code == 303
    rule = AlertRule.objects.get()
    assert (rule.query, rule.view_name, rule.saved_view) == (view.query, "Agent B", view)
    assert (rule.metric, rule.outcome, rule.as_share, rule.threshold) == (
        "outcome",
        "voicemail",
        True,
        30,
    )
    event = AuditEvent.objects.get(action="change_alert_rule")
    assert (event.user, event.detail) == (admin, f"defined rule {rule.pk}: {rule.name}")
    view.delete()  # the rule keeps what it watches
    rule.refresh_from_db()
    assert rule.query == "agent_id=agent_b&tz=UTC"
    page = admin_client.get("/alerts/rules/").content.decode()
    assert "Share of calls with outcome “voicemail” above 30 % over the last 60 min" in page


def test_editing_keeps_the_secret_left_empty(admin_client):
    rule = make_rule(webhook_url="https://hooks.example.com/a", webhook_secret="k" * 20)
    response = admin_client.post(
        f"/alerts/rules/{rule.pk}/edit",
        rule_form(
            view="keep",
            metric="calls",
            measure="count",
            threshold="5",
            webhook_url="https://hooks.example.com/a",
        ),
    )
    assert response.status_code == 303
    rule.refresh_from_db()
    assert (rule.webhook_secret, rule.threshold, rule.outcome) == ("k" * 20, 5, "")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "Give the rule a name."),
        ({"outcome": ""}, "Give the outcome to watch."),
        ({"threshold": "120"}, "A share is at most 100 %."),
        ({"threshold": "many"}, "The threshold is a number, such as 10 or 2.5."),
        ({"window_minutes": "0"}, "The window is 1 to 10,080 minutes (7 days)."),
        ({"metric": "failed_check"}, "Choose the automatic check to watch."),
        ({"metric": "long_silence"}, "Give the silence, in seconds."),
        ({"metric": "bogus"}, "“bogus” is not a metric."),
        ({"email_to": "ops@example.com, nobody"}, "“nobody” is not an e-mail address."),
        ({"webhook_url": "ftp://example.com/x"}, "must be an http:// or https:// address"),
        ({"webhook_url": "https://hooks.example.com/a"}, "Give a signing secret"),
        ({"view": "12345"}, "Choose one of your saved views."),
    ],
)
def test_the_form_says_what_is_wrong(admin_client, settings, changes, message):
    settings.ALERT_WEBHOOK_SECRET = ""
    response = admin_client.post("/alerts/rules/new", rule_form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_view_of_a_campaign_cannot_be_watched(admin_client, admin):
    view = saved_view(admin, "Campaign", "campaign=cmp_1&tz=UTC")
    response = admin_client.post("/alerts/rules/new", rule_form(view=str(view.pk)))
    assert response.status_code == 400
    assert "only Truedy can list: an alert reads the archive only" in response.content.decode()


def test_another_users_saved_view_is_not_offered(admin_client, reviewer):
    theirs = saved_view(reviewer, "Rita's", "agent_id=agent_b&tz=UTC")
    page = admin_client.get("/alerts/rules/new").content.decode()
    assert "Rita&#x27;s" not in page and "Rita's" not in page
    response = admin_client.post("/alerts/rules/new", rule_form(view=str(theirs.pk)))
    assert response.status_code == 400


# --- the list filter --------------------------------------------------------------------------


def test_the_list_refuses_an_alert_that_is_not_there(reviewer_client):
    for value, message in (
        ("abc", "“abc” is not an alert number."),
        ("999", "There is no alert 999."),
    ):
        response = reviewer_client.get(f"/calls/?alert={value}")
        assert response.status_code == 400
        assert message in response.content.decode()


def test_the_totals_and_the_export_count_exactly_the_alerts_calls(reviewer_client, issue):
    archived("call_other", minutes_ago=3)  # not in the alert
    totals = reviewer_client.get(f"/calls/totals/?alert={issue.pk}")
    assert totals.status_code == 200
    assert "<dt>Calls</dt><dd>2</dd>" in totals.content.decode()
    export = reviewer_client.get(f"/calls/export.csv?alert={issue.pk}")
    assert export.status_code == 200
    rows = b"".join(export.streaming_content).decode().splitlines()
    assert len(rows) == 1 + 2
    assert "call_1" in rows[1] + rows[2] and "call_other" not in "".join(rows)
