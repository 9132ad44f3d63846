"""A reviewer fills a scorecard on the call page by keyboard alone, in Chromium: arrows choose an
answer, Tab moves on, Enter saves; the panel swaps in place and its live region says the score.
The page with the panel is axe clean; a mandatory question left out is named, nothing saved."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from calls.models import CheckOverride, ScorecardScore
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 - axe is a fixture
from tests.e2e.test_review_queue import sign_in
from tests.reviews.conftest import role_group
from tests.scorecards.conftest import make_admin, make_scorecard, questions_of
from tests.views.test_call_detail import an_ended_call_with_turns

FOCUSED = "document.activeElement"


@pytest.fixture
def reviewer(transactional_db):
    user = get_user_model().objects.create_user(username="rita", password=PASSWORD, is_staff=True)
    user.groups.add(role_group("Reviewer"))
    return user


@pytest.fixture
def version(transactional_db):
    admin = get_user_model().objects.create_user(username="ada", password=PASSWORD, is_staff=True)
    return make_scorecard(make_admin(admin))


@pytest.fixture
def scoring(browser_context, page, reviewer, version, live_server, frozen_simulator):
    sign_in(browser_context, reviewer, live_server)
    call_id = an_ended_call_with_turns(frozen_simulator)
    page.goto(f"/calls/{call_id}/")
    expect(page.locator("#scorecards-panel")).to_be_visible()
    page.wait_for_function("() => Boolean(window.htmx)")
    return page, call_id


def focused_name(page) -> str:
    return page.evaluate(f"{FOCUSED}.name || {FOCUSED}.tagName")


def tab_to(page, name: str, *, most: int = 12) -> None:
    """Press Tab until the field named ``name`` has the focus (links between fields pass)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if focused_name(page) == name:
            return
    raise AssertionError(f"Tab never reached {name} (stopped at {focused_name(page)})")


def test_a_reviewer_fills_the_scorecard_by_keyboard(scoring, version):
    page, call_id = scoring
    ids = questions_of(version)
    first = page.locator(f"input[name='q{ids['Says it is an AI']}'][value='no']")
    expect(first).to_be_checked()  # pre-answered by its check
    expect(page.locator("#scorecards-panel .evidence").first).to_contain_text("Automatic: no")

    first.focus()
    page.keyboard.press("ArrowLeft")  # no → yes: an override of the check
    expect(page.locator(f"input[name='q{ids['Says it is an AI']}'][value='yes']")).to_be_checked()
    tab_to(page, f"q{ids['Short silences']}")  # checked already: keep the check's answer
    tab_to(page, f"q{ids['Handling']}")
    for _ in range(3):  # 0 → 3, by arrows (the first arrow lands on 1)
        page.keyboard.press("ArrowRight")
    expect(page.locator(f"input[name='q{ids['Handling']}'][value='3']")).to_be_checked()
    tab_to(page, f"q{ids['Resolved?']}")
    page.keyboard.press("ArrowRight")  # Tab lands on "Yes" (unchecked); the arrow picks "Partly"
    expect(page.locator(f"input[name='q{ids['Resolved?']}'][value='1']")).to_be_checked()
    tab_to(page, f"q{ids['Coaching note']}")
    page.keyboard.type("Keep the pace; say it is an AI.")
    page.keyboard.press("Tab")
    assert page.evaluate(f"{FOCUSED}.textContent") == "Save score"
    page.evaluate("window.stillThisPage = true")
    page.keyboard.press("Enter")

    status = page.locator("#scorecard-status")
    expect(status).to_have_text("Scorecard saved: 68.8 %")
    expect(page.locator("#scorecard-work")).to_contain_text("Latest score: 68.8 % by rita")
    assert page.evaluate("window.stillThisPage") is True, "the panel swapped, the page stayed"
    row = ScorecardScore.objects.get()
    # Yes (3) + no (1) + 3 of 4 (2) + "Partly" 50 % (2): (3 + 0 + 1.5 + 1) / 8 = 68.75.
    assert (row.call_id, row.reviewer.username) == (call_id, "rita")
    assert row.score == 68.8
    override = CheckOverride.objects.get()
    assert (override.automatic, override.answer) == ("no", "yes")


def test_a_missing_mandatory_answer_is_named_and_nothing_is_saved(scoring, version, console):
    page, _ = scoring
    console.expect("status of 400")  # the refusal, on purpose
    page.get_by_role("button", name="Save score").press("Enter")
    alert = page.locator("#scorecard-work [role=alert]")
    expect(alert).to_contain_text("Answer “Handling”: it is mandatory.")
    assert not ScorecardScore.objects.exists()
    handling = page.get_by_role("group", name="Handling")
    expect(handling).to_contain_text("it is mandatory")


def test_the_call_page_with_the_scorecard_is_axe_clean(scoring, axe, screenshots, console):  # noqa: F811
    page, _ = scoring
    console.expect("status of 400")  # the refusal, on purpose
    assert blocking(axe(page)) == []
    page.get_by_role("button", name="Save score").click()  # with its errors too
    expect(page.locator("#scorecard-work [role=alert]")).to_be_visible()
    assert blocking(axe(page)) == []
    page.screenshot(path=screenshots / "call-page-scorecard.png", full_page=True)
