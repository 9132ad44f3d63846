"""Campaigns in a real browser: the Campaigns page, one campaign, and exactly its calls in the
list (which keeps the campaign while other filters change, and drops it from its chip); axe
clean on each page."""

import re

from playwright.sync_api import expect

from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe: a fixture)

ACTIVE = "cmp_brightline_sales_202611"
NAME = "Brightline Solar – November 2026 outreach"


def test_from_the_campaigns_page_to_a_campaign_and_its_calls(
    signed_in,
    frozen_simulator,
    axe,  # noqa: F811 (the fixture imported above)
):
    page = signed_in
    page.goto("/calls/")
    page.get_by_role("link", name="Campaigns", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")
    row = page.get_by_role("row").filter(has_text=NAME)
    expect(row).to_contain_text("41 of 81 called · 29 completed · 10 failed · 2 under way")
    expect(row).to_contain_text("Active")
    assert blocking(axe(page)) == []

    row.get_by_role("link", name=NAME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.locator(".counters")).to_contain_text("Still to call")
    assert blocking(axe(page)) == []

    page.get_by_role("link", name="See its 41 calls").click()
    expect(page.locator(".summary")).to_contain_text("of 41 calls")
    expect(page).to_have_url(re.compile(rf"/calls/\?campaign={ACTIVE}&tz=Europe%2FBerlin$"))
    expect(page.locator(".campaign-note")).to_contain_text("asked of Truedy one by one")
    assert blocking(axe(page)) == []

    # Another filter applies within the campaign, without a reload, and the link keeps both.
    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(re.compile(rf"/calls/\?status=failed&campaign={ACTIVE}&tz=Europe/"))
    expect(page.locator(".summary")).to_contain_text("of 6 calls")
    rows = page.locator("table.calls tbody tr")
    expect(rows.first).to_contain_text("Failed")

    # The chip removes the campaign, and only the campaign.
    page.get_by_role("link", name=f"{NAME} (remove this filter)").click()
    expect(page).to_have_url(re.compile(r"/calls/\?status=failed&tz=Europe(/|%2F)Berlin$"))
    expect(page.locator(".campaign-note")).to_have_count(0)
    expect(page.locator(".campaign-filter")).to_have_count(0)
