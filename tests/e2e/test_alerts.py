"""An alert leads to its queue, in Chromium: the Alerts page lists the open alert, a reviewer
acknowledges it by keyboard (the alert swaps in place and says so), its *Review these calls*
opens the first of exactly the calls that fired it as a review queue; the page is axe clean."""

import math

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from calls.archive.store import store_call
from calls.models import AlertIssue
from calls.services import alerts
from calls.truedy.filters import CallFilters
from calls.upstream import gateway, reads
from tests.alerts.conftest import make_rule
from tests.conftest import FROZEN_NOW
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 - axe is a fixture
from tests.e2e.test_review_queue import sign_in
from tests.reviews.conftest import role_group

FOCUSED = "document.activeElement"


@pytest.fixture
def reviewer(transactional_db):
    user = get_user_model().objects.create_user(username="rita", password=PASSWORD, is_staff=True)
    user.groups.add(role_group("Reviewer"))
    return user


@pytest.fixture
def issue(transactional_db, frozen_simulator):
    """An open alert over the frozen simulator's three latest ended calls, archived."""
    client = gateway.get_client()
    calls = [client.get_call(c.id) for c in reads.list_calls(status="ended", limit=3).calls]
    for call in calls:
        store_call(call, source="sync", copy=False)
    oldest = min(call.created_at for call in calls)
    minutes = math.ceil((FROZEN_NOW - oldest).total_seconds() / 60) + 1
    rule = make_rule(name="Busy hour", threshold=2, window_minutes=minutes)
    found = alerts.check_rule(rule, filters=CallFilters(), now=FROZEN_NOW)
    assert found is not None
    return found


@pytest.fixture
def alerts_page(browser_context, page, reviewer, issue, live_server):
    sign_in(browser_context, reviewer, live_server)
    page.goto("/alerts/")
    page.wait_for_function("() => Boolean(window.htmx)")
    return page


def test_an_alert_is_acknowledged_by_keyboard_and_leads_to_its_queue(
    alerts_page,
    issue,
    axe,  # noqa: F811
    screenshots,
):
    page = alerts_page
    article = page.locator(f"#alert-{issue.pk}")
    expect(article).to_contain_text("Open")
    assert blocking(axe(page)) == []
    for _ in range(40):  # Tab through the page to the button
        page.keyboard.press("Tab")
        if page.evaluate(f"{FOCUSED}.textContent").startswith("Acknowledge"):
            break
    else:
        raise AssertionError("Tab never reached Acknowledge")
    page.evaluate("window.stillThisPage = true")
    page.keyboard.press("Enter")
    expect(article).to_contain_text("acknowledged by rita")
    expect(article.get_by_role("status")).to_have_text("Acknowledged.")
    assert page.evaluate("window.stillThisPage") is True, "the alert swapped, the page stayed"
    assert AlertIssue.objects.get(pk=issue.pk).state == "acknowledged"
    assert blocking(axe(page)) == []
    page.screenshot(path=screenshots / "alerts.png", full_page=True)

    fired = alerts.issue_call_ids(issue)
    page.get_by_role("link", name=f"Review these {len(fired)} calls").click()
    page.wait_for_url(lambda url: "/calls/review/" not in url and f"alert={issue.pk}" in url)
    opened = page.url.split("/calls/", 1)[1].split("/", 1)[0]
    assert opened in fired


@pytest.fixture
def admin(transactional_db):
    from tests.alerts.conftest import make_alert_admin

    user = get_user_model().objects.create_user(username="ada", password=PASSWORD, is_staff=True)
    return make_alert_admin(user)


def test_the_rule_editor_names_each_mistake_and_is_axe_clean(
    browser_context,
    page,
    admin,
    live_server,
    frozen_simulator,
    axe,  # noqa: F811
    console,
    screenshots,
):
    console.expect("status of 400")  # the refusal, on purpose
    sign_in(browser_context, admin, live_server)
    page.goto("/alerts/rules/new")
    assert blocking(axe(page)) == []
    page.get_by_label("Name").fill("Voicemail spike")
    page.get_by_label("Metric").select_option("outcome")
    page.get_by_label("Threshold").fill("120")
    page.get_by_label("A share of the calls (%)").check()
    page.get_by_role("button", name="Save the rule").click()
    errors = page.locator("#editor-errors")
    expect(errors).to_contain_text("Outcome: Give the outcome to watch.")
    expect(errors).to_contain_text("Threshold: A share is at most 100 %.")
    assert blocking(axe(page)) == []
    page.screenshot(path=screenshots / "alert-rule-errors.png", full_page=True)
    page.get_by_label("Outcome").fill("voicemail")
    page.get_by_label("Threshold").fill("30")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".alert-rules")).to_contain_text(
        "Share of calls with outcome “voicemail” above 30 % over the last 60 min"
    )
    assert blocking(axe(page)) == []
