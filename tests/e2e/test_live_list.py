"""Live calls in Chromium: an open list follows a call from queued to ended without a reload,
counts its running time, offers a new call behind "Show 1 new call" (announced politely) and
puts it at the top when asked; the page stays axe-clean and in one document. The simulator's
clock and the wall clock move together (the live snapshot lives 5 s on the wall clock)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe: a fixture)

QUEUED = "b7e99aca-a970-45e1-8e46-d534c88a618e"  # dialled at +60 s, answered at +68 s, ends +110 s
ENDED_5S_AGO = "944528c0-0ef8-42d6-b7fd-564637bb3eec"  # its transcript arrives at +10 s
UPDATE_MS = 8_000  # a poll every 2 s, and a moment to render


@pytest.fixture
def clock(frozen_simulator):
    traveller = time_machine.travel(timezone.now(), tick=True)
    shifter = traveller.start()

    def move(seconds: float) -> None:
        frozen_simulator.clock.advance(seconds)
        shifter.shift(timedelta(seconds=seconds))

    yield move
    traveller.stop()


def row(page, call_id: str):
    return page.locator(f'#results tbody tr[data-call-id="{call_id}"]')


def status_of(page, call_id: str):
    return row(page, call_id).locator('td[data-label="Status"]')


def test_a_call_goes_from_queued_to_ended_in_the_open_list_and_a_new_call_arrives(
    signed_in, frozen_simulator, clock, request
):
    check = request.getfixturevalue("axe")
    page = signed_in
    page.goto("/calls/")
    page.evaluate("window.__sameDocument = true")
    expect(status_of(page, QUEUED)).to_have_text("Queued")
    strip = page.locator("[data-live-list]")
    expect(strip.locator("[data-live-now]")).to_have_text(re.compile(r"Live now: 5"))
    # Its running time counts on by itself, on the server's clock (the browser's is another).
    duration = row(page, QUEUED).locator('td[data-label="Duration"]')
    expect(duration).to_have_text(re.compile(r"^0:0\d$"))

    clock(63)  # dialled: ringing
    expect(status_of(page, QUEUED)).to_have_text("Ringing", timeout=UPDATE_MS)
    clock(10)  # answered
    expect(status_of(page, QUEUED)).to_have_text("In progress", timeout=UPDATE_MS)
    expect(duration).to_have_text(re.compile(r"^0:\d\d$"))  # since it was answered
    clock(40)  # hung up
    expect(status_of(page, QUEUED)).to_have_text("Ended", timeout=UPDATE_MS)
    expect(row(page, QUEUED).locator('td[data-label="Outcome"]')).to_have_text("Not interested")
    expect(duration).to_have_text(re.compile(r"^0:[1-5]\d$"))  # the call's own duration now
    expect(strip.locator("[data-live-now]")).to_have_text(re.compile(r"Live now: [0-4]\b"))

    # A new call: announced, and shown at the top only when asked.
    first_before = row(page, QUEUED).page.locator("#results tbody tr").first
    top_before = first_before.get_attribute("data-call-id")
    placed = frozen_simulator.place_call(talk_seconds=60)
    clock(6)
    show = strip.get_by_role("button", name="Show 1 new call")
    expect(show).to_be_visible(timeout=UPDATE_MS)
    expect(strip.locator("[data-live-announce]")).to_have_text("1 new call")
    assert page.locator("#results tbody tr").first.get_attribute("data-call-id") == top_before
    show.click()
    first = page.locator("#results tbody tr").first
    expect(first).to_have_attribute("data-call-id", placed)
    expect(first).to_have_class(re.compile(r"\blive-arrived\b"))
    expect(first.locator("a.row-link")).to_be_focused()
    expect(strip.get_by_role("button", name=re.compile("new call"))).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True, "no reload at any point"
    assert blocking(check(page)) == []


def test_updates_pause_with_a_notice_while_truedy_fails_and_resume(
    signed_in, frozen_simulator, clock, settings
):
    page = signed_in
    page.goto("/calls/")
    note = page.locator("[data-live-list] [data-live-note]")
    expect(page.locator("[data-live-now]")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the totals are in: only the live updates fail
    frozen_simulator.switches.fail_next(1000, 503)
    clock(6)
    expect(note).to_have_text("Truedy is unreachable: live updates are paused", timeout=UPDATE_MS)
    frozen_simulator.switches.reset()
    clock(settings.TRUEDY_BREAKER_RESET + 1)
    clock(63)  # and the queued call was answered meanwhile
    expect(note).to_have_text("", timeout=15_000)
    expect(status_of(page, QUEUED)).to_have_text("In progress", timeout=UPDATE_MS)


def test_a_call_page_follows_its_call_to_the_end_and_its_transcript(
    signed_in, frozen_simulator, clock
):
    page = signed_in
    page.goto(f"/calls/{QUEUED}/")
    page.evaluate("window.__sameDocument = true")
    badge = page.locator(".call-head .badge").first
    expect(badge).to_have_text(re.compile("Queued"))
    clock(73)  # answered
    expect(badge).to_have_text(re.compile("In progress"), timeout=UPDATE_MS)
    clock(40)  # ended: its transcript is being processed
    expect(page.locator("#transcript")).to_contain_text(
        "Transcript is being processed", timeout=UPDATE_MS
    )
    clock(20)  # transcribed
    expect(page.locator("#transcript-turns")).to_be_visible(timeout=UPDATE_MS)
    assert page.evaluate("window.__sameDocument") is True
