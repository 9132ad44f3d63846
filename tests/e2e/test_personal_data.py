"""A Viewer and a Reviewer open the same call side by side (two browser contexts): the Viewer
sees placeholders and a partly masked number, the Reviewer the originals; both pages are axe
clean. Then a Viewer allowed to reveal gives a reason and sees the originals, with the notice."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, ZONE
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe: a fixture)
from tests.privacy.test_masking import CARD, CONTACT, EMAIL, PII_CALL_ID, SECRETS, archive_pii
from tests.reviews.conftest import person


def context_as(browser, live_server, user):
    context = browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, timezone_id=ZONE, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [
            {"name": cookie.key, "value": cookie.value, "url": live_server.url},
            {"name": "tz", "value": ZONE, "url": live_server.url},
        ]
    )
    return context


@pytest.fixture
def two_people(browser, live_server, frozen_simulator, transactional_db, django_user_model):
    archive_pii()
    viewer = person(django_user_model, "vic", "Viewer")
    reviewer = person(django_user_model, "rita", "Reviewer")
    contexts = [context_as(browser, live_server, user) for user in (viewer, reviewer)]
    yield viewer, *contexts
    for context in contexts:
        context.close()


def test_a_viewer_and_a_reviewer_see_the_same_call_side_by_side(two_people, axe):  # noqa: F811
    _, as_viewer, as_reviewer = two_people
    masked, plain = as_viewer.new_page(), as_reviewer.new_page()
    errors: list[str] = []
    for page in (masked, plain):
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"/calls/{PII_CALL_ID}/")
    expect(masked.locator(".turns")).to_contain_text("[email]")
    expect(masked.locator(".personal-data.masked")).to_contain_text("masked for your role")
    expect(masked.locator("h1")).to_contain_text("••")
    expect(plain.locator(".turns")).to_contain_text(EMAIL)
    expect(plain.locator(".turns")).to_contain_text(CARD)
    expect(plain.locator("h1")).to_contain_text(CONTACT)
    seen = masked.content()
    assert [secret for secret in SECRETS if secret in seen] == []
    assert masked.locator("form.reveal").count() == 0  # a Viewer may not reveal
    assert blocking(axe(masked)) == []
    assert blocking(axe(plain)) == []
    assert errors == []


def test_a_viewer_allowed_to_reveal_sees_the_originals_with_the_reason(two_people, axe):  # noqa: F811
    viewer, as_viewer, _ = two_people
    viewer.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    page = as_viewer.new_page()
    page.goto(f"/calls/{PII_CALL_ID}/")
    assert blocking(axe(page)) == []
    page.get_by_label("Reason to see the originals").fill("Refund to this card, ticket 8812")
    page.get_by_role("button", name="Reveal for this call").click()
    expect(page.locator(".personal-data.revealed")).to_contain_text(
        "(reason: Refund to this card, ticket 8812)"
    )
    expect(page.locator(".turns")).to_contain_text(EMAIL)
    assert page.url.endswith(f"/calls/{PII_CALL_ID}/")
