"""Review work on the call page itself, in Chromium: a sample walked by keyboard alone (p, f, u
take the reviewer straight on to the next call), a correction that the list row and the totals
then show, a note that appears beside its turn, and the page with the review panel at three
sizes (axe, layout shift, no sideways scrolling).

The walk times itself and writes ``test-artifacts/review-walk.json``: `make review-figures`
runs it over 40 calls (REVIEW_WALK_CALLS=40) for the figure the issue asks for; `make test`
walks 5.
"""

import json
import os
import re
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from calls.models import OutcomeCorrection, Review, ReviewSample, TurnNote
from tests.e2e.conftest import ARTIFACTS, PASSWORD
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 - axe is a fixture
from tests.e2e.test_call_page_layout import CLS, SIZES
from tests.e2e.test_review_queue import sign_in
from tests.reviews.conftest import role_group
from tests.views.test_call_detail import an_ended_call_with_turns

WALK_CALLS = int(os.environ.get("REVIEW_WALK_CALLS", "5"))
KEYS = ("p", "f", "u")  # pass, fail, follow-up, in turn
VIEW = "status=ended&direction=inbound&tz=Europe/Berlin"


@pytest.fixture
def reviewer(transactional_db):
    user = get_user_model().objects.create_user(username="rita", password=PASSWORD, is_staff=True)
    user.groups.add(role_group("Reviewer"))
    return user


@pytest.fixture
def reviewing(browser_context, page, reviewer, live_server):
    sign_in(browser_context, reviewer, live_server)
    return page


def call_path(url: str) -> str:
    return urlsplit(url).path


def panel_ready(page) -> None:
    """The call page of a queue step has its panel, with the queue's progress, and its keys."""
    expect(page).to_have_url(re.compile(r"/calls/[^/]+/\?.*queue=1"))
    expect(page.locator("#review-panel .review-progress")).to_contain_text(
        f"of {WALK_CALLS} reviewed"
    )
    page.wait_for_function("() => Boolean(window.truedyReview)")


def test_a_sample_is_reviewed_on_the_call_page_by_keyboard_alone(reviewing):
    page = reviewing
    page.goto(f"/calls/?{VIEW}")
    page.get_by_text("Review a sample").click()
    page.get_by_label("or number of calls").fill(str(WALK_CALLS))
    page.get_by_label("or number of calls").press("Enter")

    seen: list[str] = []
    seconds: list[float] = []
    panel_ready(page)
    started = time.perf_counter()
    for step in range(WALK_CALLS):
        here = call_path(page.url)
        assert here not in seen, "the queue never gives a call twice"
        seen.append(here)
        expect(page.locator("#review-panel .review-progress")).to_contain_text(
            f"{step} of {WALK_CALLS} reviewed"
        )
        shown = time.perf_counter()
        page.keyboard.press(KEYS[step % len(KEYS)])  # focus is on the page, in no field
        if step + 1 < WALK_CALLS:
            page.wait_for_url(lambda url, here=here: call_path(url) != here)
            panel_ready(page)
            expect(page.locator(".messages")).to_contain_text("Saved: ")
        else:
            page.wait_for_url(re.compile(r"/calls/review/done"))
        seconds.append(time.perf_counter() - shown)
    total = time.perf_counter() - started

    expect(page.locator("main")).to_contain_text(f"{WALK_CALLS} of {WALK_CALLS} reviewed")
    sample = ReviewSample.objects.get()
    assert sample.size == WALK_CALLS
    verdicts = list(Review.objects.order_by("at").values_list("verdict", flat=True))
    expected = ["pass", "fail", "follow-up"] * WALK_CALLS
    assert verdicts == expected[:WALK_CALLS]
    assert set(Review.objects.values_list("call_id", flat=True)) == {
        path.strip("/").split("/")[-1] for path in seen
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "review-walk.json").write_text(
        json.dumps(
            {
                "calls": WALK_CALLS,
                "total_seconds": round(total, 2),
                "per_call_seconds": round(total / WALK_CALLS, 3),
                "key_to_next_call_p50": round(statistics.median(seconds), 3),
                "key_to_next_call_max": round(max(seconds), 3),
            },
            indent=2,
        )
    )


def test_j_and_k_still_move_between_the_calls_of_the_list(reviewing):
    page = reviewing
    page.goto(f"/calls/review/start?{VIEW}")
    expect(page.locator("#review-panel")).to_be_visible()
    first = call_path(page.url)
    page.keyboard.press("j")
    page.wait_for_url(lambda url: call_path(url) != first)
    page.keyboard.press("k")
    page.wait_for_url(lambda url: call_path(url) == first)
    assert not Review.objects.exists(), "moving is not reviewing"


def test_a_correction_on_the_call_page_shows_in_the_list_row_and_the_totals(reviewing):
    page = reviewing
    page.goto(f"/calls/?{VIEW}")
    link = page.locator("tbody tr a[href*='/calls/']").first
    call_id = call_path(link.get_attribute("href") or "").strip("/").split("/")[-1]
    link.click()
    expect(page).to_have_url(re.compile(rf"/calls/{call_id}/"))
    ai_said = page.locator(".review-outcome strong").first.inner_text()

    page.get_by_text("Correct the outcome").click()
    page.get_by_label("Outcome", exact=True).fill("Wrong number")
    page.get_by_label("Reason").fill("The contact said it was a wrong number.")
    page.get_by_role("button", name="Set outcome").click()
    expect(page.locator("#review-status")).to_have_text("Saved: outcome Wrong number")
    expect(page.locator(".review-outcome")).to_contain_text(
        f"AI said {ai_said} · supervisor set Wrong number"
    )
    assert OutcomeCorrection.objects.get().call_id == call_id

    page.get_by_role("link", name="← Back to calls").click()
    row = page.locator("tbody tr").filter(has=page.locator(f"a[href*='/calls/{call_id}/']"))
    expect(row).to_contain_text("Wrong number")
    both = f"AI said {ai_said} · supervisor set Wrong number"
    expect(row.locator(".corrected")).to_have_text(both)
    totals = page.locator("#totals")
    expect(totals).to_contain_text("1 outcome corrected by a reviewer")
    expect(totals).to_contain_text("Wrong number")


def test_a_note_added_on_the_call_page_appears_beside_its_turn(reviewing, frozen_simulator):
    page = reviewing
    call_id = an_ended_call_with_turns(frozen_simulator)
    page.goto(f"/calls/{call_id}/")
    page.evaluate("window.stillThisPage = true")
    page.get_by_label("Turn").fill("2")
    page.get_by_label("Note", exact=True).fill("Listen from here: the agent talks over them.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".note-added")).to_contain_text("Note added on turn 2")
    note = TurnNote.objects.get()
    beside = page.locator(f"#turn-2 #note-{note.pk}, #turn-notes-2 #note-{note.pk}").first
    expect(beside).to_contain_text("Listen from here: the agent talks over them.")
    expect(beside).to_contain_text("rita")
    turn, shown = page.locator("#turn-2").bounding_box(), beside.bounding_box()
    assert turn and shown and shown["y"] >= turn["y"], "the note sits with its turn"
    assert page.evaluate("window.stillThisPage") is True, "no reload"


@pytest.mark.parametrize("size", SIZES)
def test_the_call_page_with_the_review_panel_is_stable_axe_clean_and_fits(
    reviewing, screenshots, size, request
):
    check = request.getfixturevalue("axe")
    page = reviewing
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/calls/review/start?{VIEW}")
    expect(page.locator("#review-panel .review-progress")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query).get("queue") == ["1"]
    cls = page.evaluate(CLS)
    assert cls <= 0.05, f"layout shift {cls:.3f} at {size}"
    page.get_by_text("Correct the outcome").click()
    assert blocking(check(page)) == []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"no sideways scrolling at {size} ({scroll_width})"
    # The verdict buttons are on screen at once on wide screens; on a phone, one scroll away.
    buttons = page.locator(".verdict-buttons").bounding_box()
    assert buttons is not None
    if width >= 1280:
        assert buttons["y"] + buttons["height"] <= height, "the verdicts are above the fold"
    page.evaluate("scrollTo(0, 0)")
    page.screenshot(path=screenshots / f"call-page-review-{size}.png")
