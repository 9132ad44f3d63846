"""The call archive, totals, export and saved views in Chromium: totals load into the list by
themselves (SVG under the CSP), the export link follows the filters chosen with htmx, a search
reads the archive and marks the match, and a saved view comes back from the menu."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from calls.models import ArchivedCall
from tests.conftest import FROZEN_NOW


def test_totals_load_after_the_list_and_follow_the_filters(signed_in):
    page = signed_in
    page.goto("/calls/?status=failed")
    totals = page.locator("#totals")
    expect(totals.get_by_role("heading", name="Totals for these filters")).to_be_visible()
    expect(totals).to_contain_text("From Truedy")
    # A one-line strip above the calls; its charts open on demand.
    totals.get_by_role("button", name="Charts and details of the totals").click()
    expect(totals.locator("svg[role=img]").first).to_be_visible()
    count = totals.locator("dt:text-is('Calls') + dd").inner_text()
    summary = page.locator(".summary").inner_text()
    assert re.search(rf"of {re.escape(count)} calls", summary), (count, summary)

    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Direction").select_option("inbound")
    expect(page).to_have_url(re.compile(r"direction=inbound"))
    expect(page.locator("#totals")).to_contain_text("From Truedy")
    assert page.evaluate("window.__sameDocument") is True
    export = page.get_by_role("link", name="Export CSV")
    expect(export).to_have_attribute("href", re.compile(r"status=failed.*direction=inbound"))
    new_count = page.locator("#totals dt:text-is('Calls') + dd").inner_text()
    assert int(new_count.replace(",", "")) < int(count.replace(",", ""))


def test_a_search_reads_the_archive_and_marks_the_matching_line(signed_in):
    page = signed_in
    ArchivedCall.objects.create(
        id="call_archived_e2e",
        status="ended",
        direction="outbound",
        created_at=FROZEN_NOW - timedelta(days=4, hours=2, minutes=30),
        transcript=[{"speaker": "contact", "text": "Router blinks <b>amber</b>", "timestamp": 3}],
        search_text="contact: router blinks <b>amber</b>",
    )
    page.goto("/calls/")
    page.locator("#f-q").fill("amber router")
    page.locator("#f-q").press("Enter")
    expect(page).to_have_url(re.compile(r"q=amber"))
    expect(page.locator(".search-note")).to_contain_text("searched in the dashboard's archive")
    found = page.locator("tr.match")
    expect(found).to_have_count(1)
    expect(found.locator("mark")).to_have_text(["Router", "amber"])
    assert page.locator("tr.match b").count() == 0, "transcript markup stays text"
    # The totals come from the archive too (and are done loading before we leave the page).
    expect(page.locator("#totals .totals-source")).to_contain_text("From the archive")
    expect(page.locator("#totals dt:text-is('Calls') + dd")).to_have_text("1")
    page.locator("a.row-link").first.click()
    expect(page).to_have_url(re.compile(r"/calls/call_archived_e2e/"))
    expect(page.locator("main")).to_contain_text("From the dashboard's archive")


def test_a_saved_view_comes_back_from_the_menu(signed_in):
    page = signed_in
    page.goto("/calls/?status=ended&direction=inbound")
    page.locator("details.saved-views summary").click()
    page.get_by_label("Save these filters as").fill("Inbound, ended")
    page.get_by_role("button", name="Save view").click()
    page.goto("/calls/")
    page.locator("details.saved-views summary").click()
    page.get_by_role("link", name="Inbound, ended").click()
    expect(page).to_have_url(re.compile(r"status=ended"))
    expect(page).to_have_url(re.compile(r"direction=inbound"))
    statuses = set(page.locator("table.calls tbody td[data-label=Status]").all_inner_texts())
    assert statuses == {"Ended"}
