"""Sorting the list by a column heading in Chromium, by keyboard, while the archive is current;
the controls disabled with the reason once it is behind; axe on both."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe: a fixture)

# The synced range (the frozen clock: 2026-11-24 12:00 UTC): the archive holds every call since.
SINCE = "2026-11-17T00:00:00Z"
LIST = "/calls/?created_after=2026-11-18&tz=UTC"


@pytest.fixture
def synced(frozen_simulator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("sync_calls", "--since", SINCE, stdout=StringIO(), stderr=StringIO())
    return frozen_simulator


def heading(page, name):
    return page.locator("table.calls thead th", has_text=name)


def durations(page) -> list[int]:
    """The Duration column's cells as seconds (a row without one: -1)."""
    cells = page.locator('table.calls tbody td[data-label="Duration"]').all_inner_texts()
    seconds = []
    for text in cells:
        parts = [p for p in text.strip().split(":") if p.isdigit()]
        value = -1
        if parts:
            value = 0
            for part in parts:
                value = value * 60 + int(part)
        seconds.append(value)
    return seconds


def test_a_heading_sorts_the_list_by_keyboard(signed_in, synced, axe):  # noqa: F811
    page = signed_in
    page.goto(LIST)
    expect(page.locator(".list-source")).to_contain_text("from the archive")
    link = heading(page, "Duration").get_by_role("link")

    link.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"[?&]sort=-duration(&|$)"))
    expect(heading(page, "Duration")).to_have_attribute("aria-sort", "descending")
    expect(heading(page, "Created")).not_to_have_attribute("aria-sort", "descending")
    values = [v for v in durations(page) if v >= 0]
    assert values == sorted(values, reverse=True)

    heading(page, "Duration").get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]sort=duration(&|$)"))
    expect(heading(page, "Duration")).to_have_attribute("aria-sort", "ascending")
    assert blocking(axe(page)) == []


def test_behind_the_controls_say_why_and_a_sorted_link_is_not_applied(signed_in, synced, axe):  # noqa: F811
    synced.clock.advance(10 * 60)  # ten minutes with no sync: the archive is behind
    page = signed_in
    page.goto(LIST + "&sort=-cost")

    expect(
        page.get_by_role("status").filter(has_text="Not applied: the sort order")
    ).to_be_visible()
    page.get_by_text("Sort and more filters", exact=True).click()
    expect(page.locator("#archive-filters-why")).to_contain_text(
        "need the archive to be current: it is 10 min behind Truedy"
    )
    expect(page.get_by_label("Sort by")).to_be_disabled()
    expect(heading(page, "Cost").get_by_role("link")).to_have_count(0)
    expect(heading(page, "Created")).to_have_attribute("aria-sort", "descending")
    assert blocking(axe(page)) == []
