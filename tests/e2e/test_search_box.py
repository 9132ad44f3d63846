"""The list's one search box in Chromium: a phone number typed any way lists that contact's
calls, a call id opens the call, and a transcript hit opens at its moment with the words in
the find box; Back returns to the hits."""

import re

import pytest
from playwright.sync_api import expect

from calls.archive import store
from calls.upstream import gateway
from tests.notes.roles import make_reviewer


@pytest.fixture
def archived(frozen_simulator):
    """A few ended calls with transcripts and US contact numbers, archived as a sync would."""
    client = gateway.get_client()
    now = frozen_simulator.clock.now_us()
    rows = []
    for skeleton in frozen_simulator.data.calls:
        if skeleton.status_at(now) == "ended":
            call = client.get_call(skeleton.id)
            number = call.contact_number or ""
            if call.transcript and len(call.transcript) >= 6 and number.startswith("+1"):
                rows.append(store.store_call(call, source="sync"))
        if len(rows) == 6:
            break
    frozen_simulator.reset_requests()
    return rows


def test_a_phone_number_typed_any_way_lists_that_contacts_calls(signed_in, e2e_user, archived):
    make_reviewer(e2e_user)  # a Viewer finds no call by a contact number (README, Personal data)
    page = signed_in
    number = store.to_record(archived[0]).contact_number
    page.goto("/calls/")
    box = page.locator("#f-q")
    box.fill(f"({number[2:5]}) {number[5:8]}-{number[8:]}")
    box.press("Enter")
    expect(page.locator(".search-note")).to_contain_text(f"contact number {number}")
    expect(page.locator(".search-note")).to_contain_text("The archive holds 6 calls")
    expect(page.locator("table.calls tbody tr:not(.match)").first).to_contain_text(number)


def test_a_call_id_in_the_search_box_opens_the_call(signed_in, archived):
    page = signed_in
    call_id = archived[2].id
    page.goto("/calls/")
    page.locator("#f-q").fill(call_id)
    page.locator("#f-q").press("Enter")
    expect(page).to_have_url(re.compile(rf"/calls/{re.escape(call_id)}/$"))
    expect(page.locator("h1")).to_be_visible()


def test_a_hit_opens_at_its_moment_and_back_returns_to_the_hits(signed_in, archived):
    page = signed_in
    row = archived[0]
    late = [t for t in row.transcript[3:] if len(t["text"].split()) > 3]
    turn = late[0] if late else row.transcript[-1]
    word = max(turn["text"].split(), key=len).strip(".,!?;:'\"").lower()
    page.goto("/calls/?tz=Europe/Berlin")
    page.locator("#f-q").fill(word)
    page.locator("#f-q").press("Enter")
    expect(page).to_have_url(re.compile(rf"q={re.escape(word)}"))
    hit = page.locator(f"a.hit-link[href*='/calls/{row.id}/']")
    expect(hit).to_have_count(1)
    hit.click()
    expect(page).to_have_url(re.compile(rf"/calls/{re.escape(row.id)}/\?.*t=.*find="))
    find = page.locator("#transcript-q")
    expect(find).to_have_value(word)
    expect(page.locator("#transcript-turns mark").first).to_be_visible()
    # The moment's turn is the current one and carries a match.
    current = page.locator("#transcript-turns li.current, #transcript-turns li[aria-current]")
    expect(current.first).to_contain_text(re.compile(re.escape(word), re.IGNORECASE))
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/calls/\?.*q={re.escape(word)}"))
    expect(page.locator("a.hit-link").first).to_be_visible()
