"""Download recordings (ZIP) in Chromium: the link follows the filters chosen with htmx, a
click downloads the ZIP named by its days, and it opens with its recordings and manifest."""

import csv
import io
import re
import zipfile

from playwright.sync_api import expect


def test_the_zip_link_follows_the_filters_and_downloads_the_view(signed_in, tmp_path):
    page = signed_in
    page.goto("/calls/?created_after=2026-11-23")
    link = page.get_by_role("link", name="Download recordings (ZIP)")
    expect(link).to_be_visible()
    page.get_by_label("Status").select_option("ended")
    expect(page).to_have_url(re.compile(r"status=ended"))
    expect(link).to_have_attribute("href", re.compile(r"recordings\.zip\?status=ended.*2026-11-23"))
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == "recordings-2026-11-23-to-2026-11-24.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        text = archive.read("manifest.csv").decode("utf-8-sig")
        _, *rows = csv.reader(io.StringIO(text))
        files = [row[-3] for row in rows if row[-3]]
        assert files and sorted(files) == sorted(
            n for n in archive.namelist() if n != "manifest.csv"
        )
        assert {row[6] for row in rows} == {"ended"}  # the Status column: the view's calls


def test_beyond_the_cap_the_link_says_so_and_opens_a_page_not_a_file(signed_in, settings, console):
    settings.RECORDINGS_ZIP_MAX_CALLS = 5
    console.expect("status of 400")  # the page's own status: too many calls
    page = signed_in
    page.goto("/calls/?created_after=2026-11-23&status=ended")
    expect(page.locator(".export").last).to_contain_text("at most 5 calls in one ZIP")
    page.get_by_role("link", name="Download recordings (ZIP)").click()
    expect(page.get_by_role("heading", name="Too many calls for one ZIP")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Narrow the filters")
    page.get_by_role("link", name="← Back to calls").click()
    expect(page).to_have_url(re.compile(r"/calls/\?status=ended&created_after=2026-11-23"))
