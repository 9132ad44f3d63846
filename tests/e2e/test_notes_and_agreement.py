"""Notes, For you and the agreement table in Chromium: a mention reaches a teammate's For you,
htmx keeps the focus and announces what happened, JavaScript off still works, axe is clean."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from calls.models import OutcomeCorrection, Review, TurnNote
from calls.truedy.filters import CallFilters
from calls.upstream import reads
from tests.e2e.conftest import DESKTOP, PASSWORD, ZONE
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe is a fixture)
from tests.notes.roles import make_reviewer
from tests.views.test_call_detail import an_ended_call_with_turns

ANNOUNCER = "#notes-announcer"


@pytest.fixture
def people(transactional_db):
    make = get_user_model().objects.create_user
    return {
        "rita": make_reviewer(make(username="rita", password=PASSWORD, is_staff=True)),
        "ravi": make_reviewer(make(username="ravi", password=PASSWORD, is_staff=True)),
        "victor": make(username="victor", password=PASSWORD, is_staff=True),  # a Viewer
    }


@pytest.fixture
def open_as(browser, live_server, frozen_simulator, console):
    """``open_as(user)``: a page in a fresh context signed in as ``user`` (contexts closed after;
    the console watched in each)."""
    contexts = []

    def open_page(user, *, javascript: bool = True):
        context = browser.new_context(
            base_url=live_server.url,
            viewport=DESKTOP,
            timezone_id=ZONE,
            locale="en-GB",
            java_script_enabled=javascript,
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
        contexts.append(context)
        page = context.new_page()
        console.attach(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert console.errors == [], "the browser console reported errors"


def test_a_mention_reaches_the_teammates_for_you(open_as, people, frozen_simulator, axe):  # noqa: F811
    call_id = an_ended_call_with_turns(frozen_simulator)
    rita = open_as(people["rita"])
    rita.goto(f"/calls/{call_id}/notes/")
    rita.evaluate("window.stillThisPage = true")
    rita.get_by_label("Turn").fill("2")
    note = rita.get_by_label("Note", exact=True)
    note.fill("@Victor can you listen to turn 2? <b>not bold</b>\nThanks, @nobody")
    note.press("Control+Enter")

    expect(rita.locator(ANNOUNCER)).to_have_text(
        "Note added on turn 2. Nobody here is called @nobody, so nobody was told."
    )
    added = TurnNote.objects.get()
    shown = rita.locator(f"#turn-notes-2 #note-{added.pk}")
    expect(shown).to_contain_text("can you listen to turn 2? <b>not bold</b>")
    expect(rita.locator("#note-text")).to_be_focused()
    expect(rita.locator("#note-text")).to_have_value("")
    assert rita.evaluate("window.stillThisPage") is True, "the page was not reloaded"
    assert blocking(axe(rita)) == []

    victor = open_as(people["victor"])
    victor.goto("/for-you/")
    mention = victor.locator(f"#note-{added.pk}")
    expect(mention).to_contain_text("can you listen to turn 2?")
    expect(mention.get_by_role("button", name="Resolve")).to_have_count(0)  # a Viewer
    assert blocking(axe(victor)) == []
    mention.get_by_role("link", name=f"Call {call_id}, turn 2").click()
    victor.wait_for_url(f"**/calls/{call_id}/#note-{added.pk}")


def test_resolving_from_for_you_keeps_the_place_and_says_so(open_as, people, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    note = TurnNote.objects.create(
        call_id=call_id, turn=3, text="@ravi over to you", author=people["rita"]
    )
    note.mentions.add(people["ravi"])
    ravi = open_as(people["ravi"])
    ravi.goto("/for-you/")
    ravi.get_by_role("button", name="Resolve the note by rita").click()
    resolved = ravi.locator(f"#note-{note.pk}")
    expect(resolved).to_contain_text("Resolved by ravi")
    expect(resolved).to_be_focused()
    expect(ravi.locator(ANNOUNCER)).to_have_text("Note resolved.")
    note.refresh_from_db()
    assert note.resolved_by == people["ravi"]


def test_without_javascript_a_bad_note_says_why_and_a_good_one_lands_on_the_call(
    open_as, people, frozen_simulator, console
):
    call_id = an_ended_call_with_turns(frozen_simulator)
    console.expect("status of 400")  # the refused note, on purpose
    page = open_as(people["rita"], javascript=False)
    page.goto(f"/calls/{call_id}/notes/")
    page.get_by_label("Turn").fill("999")
    page.get_by_label("Note", exact=True).fill("Keep this text")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("alert")).to_contain_text("pick one from 1 to")
    expect(page.get_by_label("Note", exact=True)).to_have_value("Keep this text")
    page.get_by_label("Turn").fill("1")
    page.get_by_role("button", name="Add note").click()
    note = TurnNote.objects.get()
    page.wait_for_url(f"**/calls/{call_id}/#note-{note.pk}")
    expect(page.get_by_text("Note added on turn 1.")).to_be_visible()


def test_the_agreement_table_for_a_view(open_as, people, frozen_simulator, axe):  # noqa: F811
    filters = CallFilters(status="ended", direction="inbound")
    calls = [c for c in reads.filtered_page(filters, page=1, per_page=50).calls if c.outcome][:4]
    for call in calls:
        Review.objects.create(call_id=call.id, verdict="pass", reviewer=people["rita"])
    OutcomeCorrection.objects.create(
        call_id=calls[0].id,
        ai_outcome=calls[0].outcome or "",
        outcome="demo-booked",
        reason="They booked a demo.",
        corrected_by=people["rita"],
    )
    page = open_as(people["victor"])
    page.goto("/calls/agreement/?status=ended&direction=inbound")
    expect(page.locator(".agreement-summary")).to_contain_text("3 of 4")
    table = page.get_by_role("table", name="Calls by the AI's outcome")
    expect(table.get_by_role("columnheader", name="Demo booked")).to_be_visible()
    assert blocking(axe(page)) == []
    page.goto("/calls/agreement/?status=failed")
    expect(page.get_by_text("No call of this view has been reviewed yet.")).to_be_visible()
    assert blocking(axe(page)) == []
