"""The call list as ops staff use it in Chromium: a date range typed key by key, presets, errors
that never replace the page (DEBUG on or off), paging and j / k that keep your place, the whole
row as a link, saved views, the time-zone picker, layout stability, axe and screenshots at three
sizes."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from calls.lib.timezones import CHOSEN_ZONE_COOKIE
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe: a fixture)

SIZES = ((1440, 900), (1280, 720), (375, 812))
LIST_REQUEST = re.compile(r"/calls/(\?|$)")
TODAY = "2026-11-24"  # the frozen clock: 2026-11-24 12:00 UTC, 13:00 in Berlin


def list_requests(page) -> list[dict[str, str]]:
    """The query of every request for the list (page or fragment) the page sends from now on."""
    sent: list[dict[str, str]] = []

    def record(request):
        url = urlsplit(request.url)
        if LIST_REQUEST.search(url.path + ("?" if url.query else "")):
            sent.append({k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()})

    page.on("request", record)
    return sent


def query_of(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def rows(page):
    return page.locator("table.calls tbody a.row-link")


# --- the date range ----------------------------------------------------------------------------


def test_typing_a_date_key_by_key_never_sends_a_half_typed_range(signed_in):
    page = signed_in
    page.goto("/calls/?status=ended")
    expect(rows(page)).to_have_count(25)
    page.evaluate("window.__sameDocument = true")
    sent = list_requests(page)
    first_row = rows(page).first.get_attribute("href")
    date_from, date_to = page.get_by_label("From", exact=True), page.get_by_label("To", exact=True)
    hint = page.locator("#range-hint")

    # A US-style date typed key by key: nothing is sent, the list stays, the hint says how.
    date_from.click()
    page.keyboard.type("11232026", delay=20)
    page.keyboard.press("Tab")
    expect(hint).to_contain_text("as YYYY-MM-DD, for example 2026-11-24")
    expect(date_from).to_have_attribute("aria-invalid", "true")
    # Enter in the field applies the range (or says why not): here it stays where it is.
    date_from.press("Enter")
    expect(rows(page)).to_have_count(25)
    assert rows(page).first.get_attribute("href") == first_row
    assert sent == [] and "created_after" not in page.url

    # Typed as the table shows dates, it applies once complete (on leaving the field).
    date_from.fill("")
    date_from.press_sequentially("2026-11-23", delay=20)
    assert sent == [], "nothing is sent while the date is typed"
    expect(hint).to_have_text("YYYY-MM-DD; a date alone means the whole day")
    page.keyboard.press("Tab")
    expect(page).to_have_url(re.compile(r"created_after=2026-11-23"))
    assert [q.get("created_after") for q in sent] == ["2026-11-23"]
    expect(date_from).not_to_have_attribute("aria-invalid", "true")

    # "To" before "From": not sent; the other filters still apply, with the dates shown.
    date_to.fill("2026-11-20")
    date_to.press("Tab")
    expect(hint).to_contain_text("“From” must be earlier than “To”.")
    expect(date_to).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Direction").select_option("inbound")
    expect(page).to_have_url(re.compile(r"direction=inbound"))
    assert "created_before" not in page.url
    assert all(q.get("created_before", "") == "" for q in sent)
    assert set(page.locator("td[data-label=Direction]").all_inner_texts()) == {"Inbound"}

    # Put right, the range applies.
    date_to.fill(TODAY)
    date_to.press("Enter")
    expect(page).to_have_url(re.compile(rf"created_after=2026-11-23&created_before={TODAY}"))
    expect(hint).not_to_have_class(re.compile("error"))
    assert page.evaluate("window.__sameDocument") is True, "no reload"
    assert all(not re.fullmatch(r"0\d{3}-.*", q.get(name, "")) for q in sent for name in q), (
        "no half-typed year ever left the page"
    )


def test_to_alone_applies_and_a_later_from_after_it_does_not(signed_in):
    page = signed_in
    page.goto("/calls/")
    sent = list_requests(page)
    page.get_by_label("To", exact=True).fill("2026-11-20")
    page.get_by_label("To", exact=True).press("Tab")
    expect(page).to_have_url(re.compile(r"created_before=2026-11-20"))
    page.get_by_label("From", exact=True).fill("2026-11-22")
    page.get_by_label("From", exact=True).press("Tab")
    expect(page.locator("#range-hint")).to_contain_text("“From” must be earlier than “To”.")
    assert [(q.get("created_after", ""), q["created_before"]) for q in sent] == [("", "2026-11-20")]


def test_presets_apply_without_a_reload_and_the_active_one_is_marked(signed_in):
    page = signed_in
    page.goto("/calls/?status=ended")
    page.evaluate("window.__sameDocument = true")
    presets = page.get_by_role("group", name="Date presets")
    expect(presets.get_by_role("link")).to_have_text(
        ["Today", "Yesterday", "Last 7 days", "Last 30 days"]
    )
    expect(presets.locator("[aria-current]")).to_have_count(0)

    presets.get_by_role("link", name="Yesterday").click()
    expect(page).to_have_url(
        re.compile(r"status=ended&created_after=2026-11-23&created_before=2026-11-23")
    )
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-23")
    expect(page.get_by_label("To", exact=True)).to_have_value("2026-11-23")
    expect(presets.locator("[aria-current=true]")).to_have_text("Yesterday")
    days = {t[:10] for t in page.locator("td[data-label=Created]").all_inner_texts()}
    assert days == {"2026-11-23"}

    presets.get_by_role("link", name="Last 30 days").click()
    expect(page).to_have_url(re.compile(r"created_after=2026-10-26&created_before=2026-11-24"))
    expect(presets.locator("[aria-current=true]")).to_have_text("Last 30 days")
    # A range typed by hand is no preset.
    page.get_by_label("From", exact=True).fill("2026-10-27")
    page.get_by_label("From", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"created_after=2026-10-27"))
    expect(presets.locator("[aria-current]")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True


def test_the_calendar_button_fills_the_date_as_the_table_shows_it(signed_in):
    page = signed_in
    page.goto("/calls/")
    button = page.get_by_role("button", name="Pick the “From” date on a calendar")
    expect(button).to_be_visible()
    button.click()  # the browser's own picker (headless: nothing to see, and no error)
    # What the picker does when a day is chosen: the hidden date input changes.
    page.locator(".date-entry", has=page.get_by_label("From", exact=True)).locator(
        "[data-calendar-input]"
    ).fill("2026-11-19")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-19")
    expect(page).to_have_url(re.compile(r"created_after=2026-11-19"))


def test_without_javascript_the_form_submits_and_the_server_checks_it(
    browser, live_server, frozen_simulator, e2e_user
):
    client = Client()
    client.force_login(e2e_user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    try:
        page = context.new_page()
        page.goto("/calls/?tz=UTC")
        page.get_by_label("From", exact=True).fill("2026-11-24")
        page.get_by_label("To", exact=True).fill("2026-11-20")
        with page.expect_navigation() as answer:
            page.get_by_role("button", name="Apply").click()
        assert answer.value.status == 400
        expect(page.locator("#filter-errors")).to_contain_text("“From” must be earlier than “To”.")
        expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-24")
        page.get_by_role("group", name="Date presets").get_by_role("link", name="Today").click()
        expect(page).to_have_url(re.compile(rf"created_after={TODAY}&created_before={TODAY}"))
        expect(rows(page).first).to_be_visible()
    finally:
        context.close()


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_error_never_replaces_the_page(signed_in, settings, console, debug):
    settings.DEBUG = debug
    page = signed_in
    console.expect("400")  # Chromium logs the refused request itself
    page.goto("/calls/?status=failed")
    assert page.locator("script[src*='django-htmx']").count() == 0, "no document-replacing handler"
    page.evaluate("window.__sameDocument = true")
    expect(rows(page).first).to_be_visible()
    count = rows(page).count()
    page.get_by_label("Times in").fill("Mars/Olympus")
    page.get_by_label("Times in").press("Tab")
    errors = page.locator("#filter-errors")
    expect(errors.get_by_role("alert")).to_contain_text("Unknown time zone “Mars/Olympus”")
    expect(errors).to_contain_text("The list below still shows the last filters that worked.")
    # The page is whole: header, filters, results as they were, the address bar unchanged.
    expect(page.get_by_role("heading", name="Calls", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Background work")).to_be_visible()
    expect(rows(page)).to_have_count(count)
    assert "Mars" not in page.url
    assert page.evaluate("window.__sameDocument") is True

    # A filter that works clears the message.
    page.get_by_label("Times in").fill("UTC")
    page.get_by_label("Times in").press("Tab")
    expect(page).to_have_url(re.compile(r"tz=UTC"))
    expect(errors.get_by_role("alert")).to_have_count(0)


# --- paging, j / k, the row as a link, Back ---------------------------------------------------


def test_paging_and_j_k_keep_your_place(signed_in):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/calls/?status=ended&per_page=25")
    bottom_next = page.locator("nav.pager:not(.pager-top) a[rel=next]")
    bottom_next.scroll_into_view_if_needed()
    assert page.evaluate("scrollY") > 300
    bottom_next.click()
    expect(page).to_have_url(re.compile(r"page=2"))
    first = rows(page).first
    expect(first).to_be_focused()
    expect(page.locator("table.calls tbody tr.selected")).to_have_count(1)
    top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
    assert -1 <= top <= 20, f"the results start at the top of the window ({top})"

    # k before the first row: the previous page, at its last row.
    page.keyboard.press("k")
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(rows(page).last).to_be_focused()
    expect(page.locator("table.calls tbody tr.selected a.row-link")).to_have_attribute(
        "href", rows(page).last.get_attribute("href")
    )
    # j past the last row: the next page, at its first row; j goes on from there.
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(rows(page).first).to_be_focused()
    page.keyboard.press("j")
    expect(rows(page).nth(1)).to_be_focused()

    # The pager above the list does the same.
    page.locator("nav.pager-top a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"page=3"))
    expect(rows(page).first).to_be_focused()


def test_back_to_calls_selects_the_row_you_opened(signed_in):
    page = signed_in
    page.goto("/calls/?status=ended&per_page=25")
    for _ in range(12):
        page.keyboard.press("j")
    expect(rows(page).nth(11)).to_be_focused()
    href = rows(page).nth(11).get_attribute("href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(href.split("?")[0])))
    page.get_by_role("link", name="← Back to calls").click()
    expect(page).to_have_url(re.compile(r"/calls/\?status=ended"))
    expect(rows(page).nth(11)).to_be_focused()
    expect(page.locator("table.calls tbody tr.selected a.row-link")).to_have_attribute("href", href)
    assert page.evaluate("scrollY") > 0, "scrolled to the row"

    # The browser's Back does the same.
    rows(page).nth(3).click()
    expect(page).to_have_url(re.compile(r"/calls/[\w-]+/\?"))
    page.go_back()
    expect(rows(page).nth(3)).to_be_focused()


def test_the_whole_row_opens_the_call_but_not_a_text_selection(signed_in):
    page = signed_in
    page.goto("/calls/?status=ended&per_page=10")
    # Count what would open, without leaving the page.
    page.evaluate(
        """() => { window.__opened = [];
        document.addEventListener('click', e => {
          const a = e.target.closest('a.row-link');
          if (a && window.__opened) {
            window.__opened.push(a.getAttribute('href'));
            e.preventDefault();
          }
        }); }"""
    )
    agent = page.locator("table.calls tbody tr").nth(2).locator("td[data-label=Agent]")
    page.wait_for_load_state("networkidle")  # the totals and the first live poll are in
    box = agent.bounding_box()
    # Selecting a name with the mouse ends in a click: it opens nothing.
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert page.evaluate("String(getSelection())").strip()
    assert page.evaluate("window.__opened") == []
    page.evaluate("getSelection().removeAllRanges()")
    # A plain click anywhere on the row opens its call.
    page.locator("table.calls tbody tr").nth(2).locator("td[data-label=Cost]").click()
    assert page.evaluate("window.__opened") == [rows(page).nth(2).get_attribute("href")]

    page.evaluate("window.__opened = null")  # now for real
    page.locator("table.calls tbody tr").nth(4).locator("td[data-label=Status]").click()
    expect(page).to_have_url(re.compile(r"/calls/[\w-]+/\?status=ended"))
    expect(page.get_by_role("heading", level=2, name="Transcript")).to_be_visible()


# --- saved views ------------------------------------------------------------------------------


def test_a_saved_view_is_confirmed_marked_and_one_click_away(signed_in):
    page = signed_in
    page.goto("/calls/?status=failed&direction=inbound")
    page.get_by_text("Save or delete views").click()
    page.get_by_label("Save these filters as").fill("Dropped inbound")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator(".messages")).to_have_text("Saved view “Dropped inbound”.")
    views = page.get_by_role("navigation", name="Saved views")
    chip = views.get_by_role("link", name="Dropped inbound")
    expect(chip).to_have_attribute("aria-current", "true")
    # htmx has set the reloaded page up once it has loaded the totals
    expect(page.locator("#totals")).not_to_have_class(re.compile(r"\bloading\b"))

    page.get_by_label("Status").select_option("ended")  # htmx: the mark follows
    expect(page).to_have_url(re.compile(r"status=ended"))
    expect(chip).not_to_have_attribute("aria-current", "true")

    page.goto("/calls/")
    expect(chip).to_be_visible()  # beside the filters, not in a closed menu
    chip.click()
    expect(page).to_have_url(re.compile(r"status=failed&direction=inbound"))
    expect(chip).to_have_attribute("aria-current", "true")
    assert set(page.locator("td[data-label=Status]").all_inner_texts()) == {"Failed"}


# --- the time-zone picker ---------------------------------------------------------------------


def test_the_time_zone_picker_searches_puts_yours_first_and_remembers(signed_in):
    page = signed_in
    page.goto("/calls/")
    html = page.content()
    assert "Africa/Abidjan" not in html, "the zone names are not in the page"
    options = page.locator("#f-tz-names option")
    expect(options).to_have_count(0)
    with page.expect_response(re.compile(r"/calls/time-zones/\w+\.json")) as names:
        page.get_by_label("Times in").focus()
    assert "immutable" in names.value.headers["cache-control"]
    expect(options.first).to_have_attribute("value", "Europe/Berlin")
    expect(options.first).to_have_attribute("label", "your browser's zone")
    values = options.evaluate_all("all => all.map(o => o.value)")
    assert "Asia/Kolkata" in values and "Asia/Calcutta" not in values, "no aliases"
    assert len(values) == len(set(values))

    # Part of a city's name picks its zone.
    page.get_by_label("Times in").fill("tokyo")
    page.get_by_label("Times in").press("Enter")
    expect(page).to_have_url(re.compile(r"tz=Asia/Tokyo"))
    expect(page.locator(".summary")).to_contain_text("times in Asia/Tokyo")
    expect(page.get_by_label("Times in")).to_have_value("Asia/Tokyo")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies[CHOSEN_ZONE_COOKIE] == "Asia/Tokyo"

    # Remembered: the list opens in it; recent zones come right after the browser's.
    page.goto("/calls/")
    expect(page.locator(".summary")).to_contain_text("times in Asia/Tokyo")
    page.get_by_label("Times in").focus()
    expect(options.nth(1)).to_have_attribute("value", "Asia/Tokyo")
    expect(options.nth(1)).to_have_attribute("label", "picked lately")

    # A suggestion picked from the list applies at once; the browser's zone forgets the choice.
    page.get_by_label("Times in").evaluate(
        """input => { input.value = 'Europe/Berlin';
        const picked = {bubbles: true, inputType: 'insertReplacementText'};
        input.dispatchEvent(new InputEvent('input', picked)); }"""
    )
    expect(page).to_have_url(re.compile(r"tz=Europe/Berlin"))
    assert CHOSEN_ZONE_COOKIE not in {c["name"] for c in page.context.cookies()}
    page.goto("/calls/")
    expect(page.locator(".summary")).to_contain_text("times in Europe/Berlin")


# --- layout, keyboard, axe, screenshots ---------------------------------------------------------

CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver(list => {
  for (const shift of list.getEntries()) if (!shift.hadRecentInput) window.__cls += shift.value;
}).observe({type: 'layout-shift', buffered: true});
"""


# Call rows whose whole box is above the fold (the window's bottom edge) when the list opens.
ROWS_ABOVE_THE_FOLD = """() => [...document.querySelectorAll('table.calls tbody tr:not(.match)')]
  .filter(row => row.getBoundingClientRect().bottom <= innerHeight).length"""
# The least each size must show: 15 on a laptop's 1440x900 (issue 18); on a phone the first
# card whole (two show today, with room for nothing more above them).
LEAST_ROWS = {(1440, 900): 15, (1280, 720): 8, (375, 812): 1}


def totals_arrived(page):
    expect(page.locator("#totals .strip-figures")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=lambda v: str(v))
def test_the_list_does_not_shift_as_totals_arrive(signed_in, width, height):
    page = signed_in
    page.add_init_script(CLS_OBSERVER)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/calls/?status=ended")
    totals_arrived(page)
    page.wait_for_load_state("networkidle")
    cls = page.evaluate("window.__cls")
    assert cls <= 0.05, f"cumulative layout shift {cls:.3f} at {width}x{height}"


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (375, 812)], ids=lambda v: str(v))
def test_the_table_comes_first_with_the_default_filters(signed_in, width, height):
    page = signed_in
    page.add_init_script(CLS_OBSERVER)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/calls/")
    totals_arrived(page)
    page.wait_for_load_state("networkidle")
    shown = page.evaluate(ROWS_ABOVE_THE_FOLD)
    assert shown >= LEAST_ROWS[width, height], f"{shown} call rows above the fold"
    # Totals above the table, one strip, its charts folded; nothing moved when they came.
    assert page.evaluate("window.__cls") <= 0.05
    strip = page.locator("#totals").bounding_box()
    assert strip["y"] + strip["height"] <= page.locator("table.calls").bounding_box()["y"]
    assert strip["height"] <= (40 if width > 1060 else 90), "one line (three on a phone)"
    expect(page.locator("#totals-more")).to_be_hidden()
    filters = page.locator("form.filters")
    if width < 721:  # the filters fold under one line on a phone
        expect(filters).to_be_hidden()
        page.locator("details.filter-drawer > summary").click()
        expect(page.get_by_label("Agent")).to_be_visible()
    else:
        expect(page.locator("details.filter-drawer > summary")).to_be_hidden()
        expect(filters).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (375, 812)], ids=lambda v: str(v))
def test_the_charts_open_on_demand_and_stay_open_without_a_jump(
    signed_in,
    axe,  # noqa: F811 (the fixture imported above)
    width,
    height,
):
    page = signed_in
    page.add_init_script(CLS_OBSERVER)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/calls/?status=ended")
    totals_arrived(page)
    toggle = page.get_by_role("button", name="Charts and details of the totals")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#totals-more")
    expect(panel.get_by_role("img", name=re.compile(r"^Outcomes: "))).to_be_visible()
    expect(panel.get_by_role("img", name=re.compile(r"^Calls per day"))).to_be_visible()
    expect(panel).to_contain_text("% of these calls reviewed")
    assert blocking(axe(page)) == []
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["totals_open"] == "1"

    # Remembered: the next list arrives with them open, its room reserved before they came.
    page.goto("/calls/?status=ended")
    totals_arrived(page)
    expect(page.locator("#totals-more")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.wait_for_load_state("networkidle")
    cls = page.evaluate("window.__cls")
    assert cls <= 0.05, f"cumulative layout shift {cls:.3f} with the charts left open"

    # An htmx swap of the results keeps them open; closing them is remembered too.
    page.get_by_role("navigation", name="Pages, above the list").get_by_role(
        "link", name="Next ›"
    ).click()
    expect(page).to_have_url(re.compile(r"page=2"))
    totals_arrived(page)
    expect(page.locator("#totals-more")).to_be_visible()
    toggle.click()
    expect(page.locator("#totals-more")).to_be_hidden()
    assert {c["name"]: c["value"] for c in page.context.cookies()}["totals_open"] == "0"
    page.reload()
    totals_arrived(page)
    expect(page.locator("#totals-more")).to_be_hidden()


def test_each_row_says_whether_it_has_a_recording_and_a_transcript(signed_in):
    page = signed_in
    page.goto("/calls/")
    first = page.locator("table.calls tbody tr").first  # the newest call: queued, so not yet
    cell = first.locator("td[data-label=Media]")
    expect(cell).to_have_text(re.compile(r"Recording not ready yet\s*Transcript not ready yet"))
    assert cell.locator("svg[aria-hidden=true]").count() == 2
    ended = page.locator("table.calls tbody tr", has=page.get_by_text("Ended", exact=True))
    texts = ended.locator("td[data-label=Media]").all_inner_texts()
    assert any("Recording" in t and "No recording" not in t for t in texts), texts
    assert all(re.search(r"(No transcript|Transcript unknown)", t) for t in texts), texts
    # The words are the tooltip, too.
    assert first.locator(".media-icon").first.get_attribute("title") == "Recording not ready yet"


def test_slash_goes_to_the_search_box(signed_in):
    page = signed_in
    page.goto("/calls/")
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#f-q")).to_be_focused()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=lambda v: str(v))
def test_axe_clean_no_sideways_scroll_and_a_screenshot(
    signed_in,
    axe,  # noqa: F811 (the fixture imported above)
    screenshots,
    width,
    height,
):
    page = signed_in
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/calls/?status=ended&created_after=2026-11-18&created_before=2026-11-24")
    totals_arrived(page)
    page.keyboard.press("j")  # a selected row too
    expect(page.locator("table.calls tbody tr.selected")).to_have_count(1)
    page.evaluate("scrollTo(0, 0)")
    shown = page.evaluate(ROWS_ABOVE_THE_FOLD)
    assert shown >= LEAST_ROWS[width, height], f"{shown} call rows above the fold"
    assert blocking(axe(page)) == []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"no sideways scrolling at {width}px ({scroll_width})"
    path = screenshots / f"list-{width}x{height}.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 10_000
