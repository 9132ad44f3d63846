"""Review work in Chromium, on the review pages of its own (the call page gets the panel when
it is wired in): verdicts by keyboard through a queue, the live region, claims between two
reviewers, a correction, and axe on the new pages."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from calls.models import OutcomeCorrection, Review
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 - axe is a fixture
from tests.reviews.conftest import role_group

QUEUE = "status=failed&direction=inbound&tz=Europe/Berlin"


@pytest.fixture
def reviewer(transactional_db):
    user = get_user_model().objects.create_user(username="rita", password=PASSWORD, is_staff=True)
    user.groups.add(role_group("Reviewer"))
    return user


def sign_in(context, user, live_server) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def reviewing(browser_context, page, reviewer, live_server):
    sign_in(browser_context, reviewer, live_server)
    return page


def review_page_of(url: str) -> str:
    """The review page of the call a queue step opened, with the same list and queue."""
    parts = urlsplit(url)
    return f"{parts.path}review?{parts.query}"


def test_a_reviewer_walks_a_queue_by_keyboard(reviewing):
    page = reviewing
    page.goto(f"/calls/review/start?{QUEUE}")
    seen = []
    for _ in range(5):
        expect(page).to_have_url(re.compile(r"/calls/[^/]+/\?.*queue=1"))
        seen.append(urlsplit(page.url).path)
        page.goto(review_page_of(page.url))
        expect(page.locator("#review-panel")).to_contain_text("reviewed")
        page.locator("h1").click()  # focus on the page, not in a field
        page.keyboard.press("p")
        page.wait_for_url(lambda url: urlsplit(url).path not in seen)
        expect(page.locator(".messages")).to_contain_text("Saved: pass")
    assert len(set(seen)) == 5
    assert Review.objects.filter(verdict="pass").count() == 5


def test_keys_do_nothing_while_typing_a_note(reviewing, frozen_simulator):
    page = reviewing
    page.goto(f"/calls/review/start?{QUEUE}")
    page.goto(review_page_of(page.url))
    note = page.get_by_label("Note (optional)")
    note.click()
    page.keyboard.type("pfu")
    expect(note).to_have_value("pfu")
    assert not Review.objects.exists()


def test_a_verdict_with_htmx_is_announced_and_keeps_focus(reviewing, frozen_simulator):
    page = reviewing
    page.goto(f"/calls/review/start?{QUEUE}")
    call_path = urlsplit(page.url).path
    page.goto(f"{call_path}review")  # outside the queue: the panel swaps itself
    page.evaluate("window.__samePage = true")
    page.get_by_label("Note (optional)").fill("Caller hung up: <b>not</b> the agent's fault")
    page.get_by_role("button", name="Fail").click()
    expect(page.locator("#review-status")).to_have_text("Saved: fail")
    expect(page.locator(".review-latest")).to_contain_text("Fail by rita")
    assert page.evaluate("window.__samePage") is True
    assert page.evaluate("document.activeElement.id") == "verdict-fail"
    expect(page.locator(".review-note").first).to_have_text(
        "Caller hung up: <b>not</b> the agent's fault"
    )


def test_a_correction_shows_both_outcomes(reviewing, frozen_simulator, console):
    page = reviewing
    console.expect("status of 400")  # the markup label, refused on purpose
    page.goto(f"/calls/review/start?{QUEUE}")
    page.goto(f"{urlsplit(page.url).path}review")
    page.get_by_text("Correct the outcome").click()
    page.get_by_label("Outcome", exact=True).fill("<script>")
    page.get_by_label("Reason").fill("Not a label")
    page.get_by_role("button", name="Set outcome").click()
    expect(page.locator("#review-work [role=alert]")).to_contain_text("only letters")
    page.get_by_label("Outcome", exact=True).fill("Callback requested")
    page.get_by_label("Reason").fill("The contact asked to be called on Monday.")
    page.get_by_role("button", name="Set outcome").click()
    expect(page.locator("#review-status")).to_have_text("Saved: outcome Callback requested")
    expect(page.locator(".review-outcome")).to_contain_text("supervisor set Callback requested")
    assert OutcomeCorrection.objects.get().outcome == "callback-requested"


def test_two_reviewers_on_one_queue_never_get_the_same_call(
    browser, live_server, frozen_simulator, reviewer, console
):
    teammate = get_user_model().objects.create_user(
        username="tom", password=PASSWORD, is_staff=True
    )
    teammate.groups.add(role_group("Reviewer"))
    pages = []
    for user in (reviewer, teammate):
        context = browser.new_context(base_url=live_server.url)
        sign_in(context, user, live_server)
        page = context.new_page()
        console.attach(page)
        pages.append((context, page))
    try:
        first, second = (page for _, page in pages)
        first.goto(f"/calls/review/start?{QUEUE}")
        second.goto(f"/calls/review/start?{QUEUE}")
        assert urlsplit(first.url).path != urlsplit(second.url).path
        # The first one's verdict takes them on, never to the call the second one holds.
        first.goto(review_page_of(first.url))
        first.get_by_role("button", name="Pass").click()
        first.wait_for_url(re.compile(r"queue=1"))
        assert urlsplit(first.url).path != urlsplit(second.url).path
    finally:
        for context, _ in pages:
            context.close()


def test_the_review_pages_have_no_serious_violations(reviewing, frozen_simulator, axe):  # noqa: F811
    page = reviewing
    page.goto(f"/calls/review/start?{QUEUE}")
    page.goto(review_page_of(page.url))
    page.get_by_text("Correct the outcome").click()
    assert blocking(axe(page)) == []
    page.goto(f"/calls/review/done?{QUEUE}&queue=1")
    expect(page.locator("h1")).to_be_visible()
    assert blocking(axe(page)) == []
