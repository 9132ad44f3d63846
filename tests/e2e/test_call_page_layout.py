"""The call page reshaped for review, in Chromium: the player beside the transcript on wide
screens, find and "jump to time" in the player bar, a docked mini-player on phones, a search
hit opened at its moment, details that arrive with the transcript, live calls' elapsed time;
axe, layout stability (CLS) and screenshots at 1440x900, 1280x720 and 375x812."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from calls.archive import store
from calls.services.transcripts import parse_offset
from calls.upstream import gateway
from tests.e2e.calls import recorded_call
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (the axe fixture, shared)

AUDIO = "document.querySelector('[data-player] audio')"
SIZES = {"1440x900": (1440, 900), "1280x720": (1280, 720), "375x812": (375, 812)}
LONG_CALL = "444d610b-3f87-4362-8f8d-446abc2cbb0d"  # 2,000 turns over 2:53:20, not recorded
ENDED_5S_AGO = "944528c0-0ef8-42d6-b7fd-564637bb3eec"  # its transcript is still being processed
QUEUED = "b7e99aca-a970-45e1-8e46-d534c88a618e"
RINGING = "6c4a37ea-4906-47f2-b47b-6dbac8fe3ccd"
IN_PROGRESS = "fc3d3348-008d-4127-a104-61e32a25a888"

# Cumulative Layout Shift of the page so far: every shift not caused by input, as Lighthouse
# adds them up (the buffered entries arrive in the observer's first callback).
CLS = """() => new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(total), 0)));
})"""


def box_of(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight"
        " && r.right <= innerWidth; }",
        selector,
    )


def wait_until_in_view(page, selector: str) -> None:
    page.wait_for_function(
        "s => { const e = document.querySelector(s); if (!e) return false;"
        " const r = e.getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; }",
        arg=selector,
    )


def open_recorded(page, call_id: str, query: str = "") -> None:
    page.goto(f"/calls/{call_id}/{'?' + query if query else ''}")
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1")


def test_at_1280x720_the_player_sits_beside_the_transcript_and_its_first_turn_is_in_view(
    signed_in, frozen_simulator
):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 720})
    open_recorded(page, recorded_call(frozen_simulator, "support_inbound").id)
    assert in_viewport(page, "#turn-1"), "the first turn is visible without scrolling"
    player, turn = box_of(page, "[data-player]"), box_of(page, "#turn-1")
    assert player["x"] + player["width"] <= turn["x"], "the player is beside the transcript"
    assert player["y"] < turn["y"] + turn["height"], "and level with it"
    # The details are in the player's column, under the place kept for the verdict (issue 17).
    side = page.locator(".call-side")
    expect(side.locator("[data-verdict-slot]")).to_have_count(1)
    expect(side.locator(".facts dt", has_text="Agent")).to_be_visible()
    assert box_of(page, ".call-details")["x"] < turn["x"]


def test_find_stays_in_the_player_bar_while_stepping_far_down_a_long_call(
    signed_in, frozen_simulator
):
    page = signed_in
    page.emulate_media(reduced_motion="reduce")  # each step jumps: nothing to wait for
    page.set_viewport_size({"width": 1280, "height": 720})
    texts = [turn.text.lower() for turn in gateway.get_client().get_call(LONG_CALL).transcript]
    word = "the"
    expected = sum(text.count(word) for text in texts)
    assert expected > 1000
    page.goto(f"/calls/{LONG_CALL}/")
    box = page.get_by_role("searchbox", name="Find in transcript")
    box.fill(word)
    count = page.locator("[data-search-count]")
    expect(count).to_have_text(f"1 of {expected:,}")  # "1 of 1,712", as the page's "2,000 turns"
    box.press("Shift+Enter")  # back round to the very last match, at the end of the call
    expect(count).to_have_text(f"{expected:,} of {expected:,}")
    wait_until_in_view(page, "mark.current")
    assert page.evaluate("scrollY") > 50_000, "the last match is far down the page"
    assert in_viewport(page, "#transcript-q"), "the find box is still in view"
    assert in_viewport(page, "[data-search-count]")
    box.press("Enter")  # and on to the first again
    expect(count).to_have_text(f"1 of {expected:,}")
    wait_until_in_view(page, "mark.current")
    assert in_viewport(page, "#transcript-q")


def test_on_a_phone_a_docked_mini_player_stays_at_hand_after_tapping_a_turn_far_down(
    browser_context, signed_in, frozen_simulator
):
    page = signed_in
    page.set_viewport_size({"width": 375, "height": 812})
    call = recorded_call(frozen_simulator, "support_inbound")
    open_recorded(page, call.id)
    mini = page.locator("[data-mini-player]")
    expect(mini).to_be_hidden()  # the player itself is on screen
    last = len(call.recording.turns)
    page.locator(f"#turn-{last} p").scroll_into_view_if_needed()
    page.locator(f"#turn-{last} p").click()
    page.wait_for_function(f"() => !{AUDIO}.paused")
    expect(mini).to_be_visible()
    assert in_viewport(page, "[data-mini-player]"), "docked within the screen"
    assert box_of(page, "[data-mini-player]")["y"] + box_of(page, "[data-mini-player]")[
        "height"
    ] == pytest.approx(812, abs=1), "at the bottom"
    expect(mini.get_by_role("button", name="Pause")).to_be_visible()
    mini.get_by_role("button", name="Pause").click()
    page.wait_for_function(f"() => {AUDIO}.paused")
    expect(mini.get_by_role("button", name="Play")).to_be_visible()
    at = page.evaluate(f"{AUDIO}.currentTime")
    mini.get_by_role("button", name="Back 10 seconds").click()
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {max(0, at - 10)}) < 0.5")
    expect(mini.locator("[data-mini-time]")).to_have_text(re.compile(r"^\d:\d\d / 1:06$"))
    # Back at the top the full player is there again, and the mini-player steps aside.
    page.evaluate("scrollTo(0, 0)")
    expect(mini).to_be_hidden()


def test_a_search_hit_opens_at_its_moment_and_back_to_calls_returns_to_the_hits(
    signed_in, frozen_simulator
):
    page = signed_in
    call = recorded_call(frozen_simulator, "support_inbound")
    store.store_call(gateway.get_client().get_call(call.id), source="sync")
    turns = call.recording.turns
    # "router" is said twice: turn 2 and turn 8. A link to turn 8's moment makes that match
    # the current one.
    page.goto("/calls/?q=router&tz=Europe/Berlin")
    row_link = page.locator(f"a.row-link[href*='/calls/{call.id}/']")
    expect(row_link).to_have_count(1)
    opened = f"{row_link.get_attribute('href')}&t={turns[7]['timestamp']:.2f}&find=router"
    page.goto(opened)
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {turns[7]['timestamp']}) < 0.3")
    expect(page.get_by_role("searchbox", name="Find in transcript")).to_have_value("router")
    expect(page.locator("[data-search-count]")).to_have_text("2 of 2")
    expect(page.locator("#turn-8 mark.current")).to_have_text(re.compile("router", re.I))
    expect(page.locator("#turn-8")).to_have_attribute("aria-current", "true")
    expect(page.locator(".hit-marks .hit")).to_have_count(2)  # on the scrubber too

    page.get_by_role("link", name="← Back to calls").click()
    expect(page).to_have_url(re.compile(r"/calls/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["router"], "the list it came from: the hits"
    assert "find" not in query and "t" not in query
    expect(page.locator(f"a.row-link[href*='/calls/{call.id}/']")).to_have_count(1)


def test_find_falls_back_to_each_word_when_the_phrase_is_nowhere(signed_in, frozen_simulator):
    page = signed_in
    open_recorded(page, recorded_call(frozen_simulator, "support_inbound").id, "find=cut+fiber")
    # "fiber cut" is said, "cut fiber" is not: each word is found, as the list's search does.
    expect(page.locator("[data-search-count]")).to_have_text("1 of 2 (words)")
    page.get_by_role("searchbox", name="Find in transcript").fill("fiber cut")
    expect(page.locator("[data-search-count]")).to_have_text("1 of 1")


def test_search_hit_markers_sit_on_the_scrubber_and_a_click_plays_from_there(
    signed_in, frozen_simulator
):
    page = signed_in
    call = recorded_call(frozen_simulator, "support_inbound")
    turns = call.recording.turns
    open_recorded(page, call.id)
    page.get_by_role("searchbox", name="Find in transcript").fill("router")
    marks = page.locator(".hit-marks .hit")
    expect(marks).to_have_count(2)
    strip = box_of(page, "[data-hit-marks]")
    duration = page.evaluate(f"{AUDIO}.duration")
    for mark, turn in zip(marks.all(), (turns[1], turns[7]), strict=True):
        where = mark.bounding_box()
        centre = where["x"] + where["width"] / 2 - strip["x"]
        assert centre / strip["width"] == pytest.approx(turn["timestamp"] / duration, abs=0.02)
    expect(marks.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    marks.nth(1).click()
    page.wait_for_function(
        f"() => !{AUDIO}.paused && {AUDIO}.currentTime >= {turns[7]['timestamp']} - 0.1"
    )
    expect(page.locator("#turn-8")).to_have_attribute("aria-current", "true")


def test_jump_to_time_seeks_and_shows_the_turn_and_explains_what_it_cannot_read(
    signed_in, frozen_simulator
):
    page = signed_in
    page.emulate_media(reduced_motion="reduce")
    call = recorded_call(frozen_simulator, "support_inbound")
    open_recorded(page, call.id)
    field = page.get_by_label("Jump to time")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for typed, number in (("0:44", 7), ("44.7", 8), ("0m51s", 9), ("1:00", 10)):
        field.fill(typed)
        field.press("Enter")
        at = parse_offset(typed)
        page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {at}) < 0.3")
        expect(page.locator(f"#turn-{number}")).to_have_attribute("aria-current", "true")
        wait_until_in_view(page, f"#turn-{number}")
    field.fill("1:00:99")
    page.get_by_role("button", name="Go").click()
    message = page.locator("[data-jump-message]")
    expect(message).to_have_text("“1:00:99” is not a time: like 1:23:00, 83:00, 4980 or 1h23m.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(rf"/calls/{call.id}/$"))
    assert [url for url in requests if "/calls/" in url and "recording" not in url] == []
    field.fill("0:5")  # typing again clears the complaint
    expect(field).not_to_have_attribute("aria-invalid", "true")


def test_jump_to_time_without_a_recording_brings_the_turn_into_view(signed_in, frozen_simulator):
    page = signed_in
    page.emulate_media(reduced_motion="reduce")
    page.set_viewport_size({"width": 1280, "height": 720})
    timed = gateway.get_client().get_call(LONG_CALL).transcript
    page.goto(f"/calls/{LONG_CALL}/")
    field = page.get_by_label("Jump to time")
    for typed in ("1:23:00", "83:00", "4980", "1h23m"):
        page.evaluate("scrollTo(0, 0)")
        field.fill(typed)
        field.press("Enter")
        number = max(i for i, turn in enumerate(timed) if turn.timestamp <= 4980) + 1
        expect(page.locator(f"#turn-{number}")).to_have_attribute("aria-current", "true")
        wait_until_in_view(page, f"#turn-{number}")
        assert page.locator(".turns [aria-current]").count() == 1
    expect(page).to_have_url(re.compile(rf"/calls/{LONG_CALL}/$"))


def test_the_jump_field_reads_times_as_the_servers_t_does(signed_in, frozen_simulator):
    page = signed_in
    open_recorded(page, recorded_call(frozen_simulator).id)
    cases = [
        "83", "83.5", "1:23", "1:23:00", "83:00", "1h23m", "1m23s", "23s", "2h", " 4980 ",
        "1:60", "1:60:00", "24:00:01", "86401", "abc", "", "1:2", "1h2x", "-5", "1e3", "٣",
    ]  # fmt: skip

    def server(text: str) -> float | None:
        try:
            return parse_offset(text)
        except ValueError:
            return None

    browser = page.evaluate("cases => cases.map(c => truedyPlayer.parseOffset(c))", cases)
    assert dict(zip(cases, browser, strict=True)) == {case: server(case) for case in cases}


def test_the_transcript_arriving_by_itself_brings_the_summary_and_timings(
    signed_in, frozen_simulator
):
    page = signed_in
    page.goto(f"/calls/{ENDED_5S_AGO}/")
    expect(page.locator("#transcript")).to_contain_text("Transcript is being processed")
    expect(page.locator("#call-summary")).to_be_empty()
    expect(page.locator("#call-timing")).to_be_empty()
    page.evaluate("window.__sameDocument = true")

    frozen_simulator.clock.advance(20)  # Truedy has finished transcribing
    cache.clear()  # as the pending call's 5 s lifetime would pass
    summary = gateway.get_client().get_call(ENDED_5S_AGO).summary
    expect(page.locator("#transcript-turns")).to_be_visible(timeout=15_000)
    expect(page.locator("#call-summary")).to_contain_text(summary)
    expect(page.locator("#call-timing")).to_contain_text("Talk time")
    expect(page.locator("#call-timing")).to_contain_text("Longest silence")
    assert page.evaluate("window.__sameDocument") is True, "swapped in, no reload"
    # The find box came with it, and works.
    page.get_by_role("searchbox", name="Find in transcript").fill("the")
    expect(page.locator("[data-search-count]")).to_have_text(re.compile(r"^1 of \d"))


@pytest.mark.parametrize(
    ("call_id", "status"), [(QUEUED, "queued"), (RINGING, "ringing"), (IN_PROGRESS, "in progress")]
)
def test_a_live_call_says_what_it_is_doing_and_counts_its_elapsed_time(
    signed_in, frozen_simulator, call_id, status
):
    page = signed_in
    page.goto(f"/calls/{call_id}/")
    expect(page.locator("#transcript")).to_contain_text(
        f"The call is {status}; its transcript appears when it ends."
    )
    if status != "in progress":
        expect(page.locator("main")).not_to_contain_text("in progress")
    expect(page.locator("[data-elapsed]")).to_have_text(re.compile(r"^\d+:\d\d$"))
    # It counts on by itself, each second, from what the server said.
    page.wait_for_function(
        "() => { const e = document.querySelector('[data-elapsed]');"
        " const [m, s] = e.textContent.split(':');"
        " return 60 * Number(m) + Number(s) > Number(e.dataset.elapsed); }"
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_call_page_is_axe_clean_stable_and_photographed(
    signed_in, frozen_simulator, screenshots, size, request
):
    check = request.getfixturevalue("axe")
    page = signed_in
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    call = recorded_call(frozen_simulator, "support_inbound")
    open_recorded(page, call.id, "t=31&find=router")
    expect(page.locator("[data-search-count]")).to_have_text("2 of 2")
    cls = page.evaluate(CLS)
    assert cls <= 0.05, f"layout shift {cls:.3f} at {size}"
    assert blocking(check(page)) == []
    page.evaluate("scrollTo(0, 0)")
    page.screenshot(path=screenshots / f"call-page-{size}.png")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"no sideways scrolling at {size} ({scroll_width})"
    assert (screenshots / f"call-page-{size}.png").stat().st_size > 10_000
