"""A supervisor reviews a call in Chromium: the player, the transcript in step with it, search,
dead air, links to a moment and a recording link that dies mid-listen."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.calls import recorded_call, recorded_calls

AUDIO = "document.querySelector('[data-player] audio')"


def audio(page, expression: str):
    return page.evaluate(f"(() => {{ const a = {AUDIO}; return {expression}; }})()")


def wait_audio(page, condition: str, timeout: float = 10_000):
    page.wait_for_function(
        f"() => {{ const a = {AUDIO}; return a && ({condition}); }}", timeout=timeout
    )


def open_call(page, call_id: str, query: str = ""):
    page.goto(f"/calls/{call_id}/{'?' + query if query else ''}")
    wait_audio(page, "a.readyState >= 1")


def test_the_recording_loads_plays_and_seeks_through_our_proxy(signed_in, frozen_simulator):
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    ranges: list[str] = []
    page.on(
        "request",
        lambda request: (
            request.url.endswith("/recording") and ranges.append(request.headers.get("range", ""))
        ),
    )
    open_call(page, call.id)
    src = audio(page, "a.currentSrc")
    assert src.endswith(f"/calls/{call.id}/recording"), "the browser only ever sees our URL"
    assert abs(audio(page, "a.duration") - call.recording.duration_seconds) < 1.0

    page.get_by_role("button", name="Forward 10 seconds").wait_for()
    audio(page, "a.play()")
    wait_audio(page, "a.readyState >= 3 && a.currentTime > 1.0")
    assert audio(page, "a.paused") is False

    audio(page, "(a.currentTime = 50, 0)")
    wait_audio(page, "!a.seeking && a.currentTime >= 50 && a.currentTime < 53")
    wait_audio(page, "a.currentTime > 50.3")  # and it plays on from there
    starts = [int(m.group(1)) for r in ranges if (m := re.match(r"bytes=(\d+)-", r))]
    assert starts and max(starts) > 150_000, (
        f"a seek far ahead asks our proxy for a range: {ranges}"
    )


def test_selecting_a_turn_plays_from_it_and_marks_it_current(signed_in, frozen_simulator):
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    turns = call.recording.turns
    open_call(page, call.id)

    page.locator("#turn-5 p").click()
    wait_audio(page, f"!a.paused && a.currentTime >= {turns[4]['timestamp']} - 0.1")
    expect(page.locator("#turn-5")).to_have_attribute("aria-current", "true")
    assert page.locator(".turns [aria-current]").count() == 1

    # The highlight follows playback into the next turn and the live region names it.
    audio(page, f"(a.currentTime = {turns[5]['timestamp']} - 0.3, 0)")
    expect(page.locator("#turn-6")).to_have_attribute("aria-current", "true")
    expect(page.locator("[data-now-speaking]")).to_have_text(
        re.compile(r"^(Agent|Contact) at 0:\d\d$")
    )
    assert page.locator("#turn-5").get_attribute("aria-current") is None

    # The timestamp is a link to the moment and plays from there too.
    page.locator("#turn-2 a.at").click()
    expect(page.locator("#turn-2")).to_have_attribute("aria-current", "true")
    assert audio(page, "a.currentTime") == pytest.approx(turns[1]["timestamp"], abs=1.0)
    assert page.url.endswith(f"/calls/{call.id}/"), "the click seeks; it does not load the link"


def test_the_current_turn_is_kept_in_view_unless_auto_scroll_is_off(
    browser_context, signed_in, frozen_simulator
):
    page = signed_in
    page.set_viewport_size({"width": 1000, "height": 520})
    call = recorded_call(frozen_simulator, "support_inbound")
    turns = call.recording.turns
    open_call(page, call.id)
    last = len(turns)

    def in_view(number: int) -> bool:
        return page.evaluate(
            f"(() => {{ const r = document.getElementById('turn-{number}').getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= innerHeight; })()"
        )

    assert not in_view(last)
    audio(page, f"(a.currentTime = {turns[-1]['timestamp']} - 0.5, a.play().catch(() => {{}}), 0)")
    expect(page.locator(f"#turn-{last}")).to_have_attribute("aria-current", "true")
    page.wait_for_function(
        f"() => {{ const r = document.getElementById('turn-{last}').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight; }"
    )

    # Auto-scroll off: playback moves to the first turn, the page stays where it is.
    page.get_by_label("Auto-scroll").uncheck()
    page.evaluate("scrollTo(0, document.body.scrollHeight)")
    scroll = page.evaluate("scrollY")
    audio(page, "(a.currentTime = 0.2, 0)")
    expect(page.locator("#turn-1")).to_have_attribute("aria-current", "true")
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") == scroll
    assert not in_view(1)

    # Back on, but the reader has just scrolled by hand: auto-scroll waits a moment, then resumes.
    page.get_by_label("Auto-scroll").check()
    page.evaluate("scrollTo(0, document.body.scrollHeight)")
    page.mouse.move(500, 300)
    page.mouse.wheel(0, -40)
    page.wait_for_timeout(200)
    scroll = page.evaluate("scrollY")
    audio(page, f"(a.currentTime = {turns[1]['timestamp']} + 0.1, 0)")
    expect(page.locator("#turn-2")).to_have_attribute("aria-current", "true")
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") == scroll, "a hand scroll pauses auto-scroll"
    page.wait_for_timeout(4000)
    audio(page, f"(a.currentTime = {turns[0]['timestamp']} + 0.1, 0)")
    expect(page.locator("#turn-1")).to_have_attribute("aria-current", "true")
    page.wait_for_function(
        "() => { const r = document.getElementById('turn-1').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight; }"
    )

    # The choice is remembered.
    page.get_by_label("Auto-scroll").uncheck()
    page.reload()
    expect(page.get_by_label("Auto-scroll")).not_to_be_checked()


def test_speed_and_skip_buttons_and_the_speed_is_remembered_across_calls(
    signed_in, frozen_simulator
):
    page = signed_in
    first, second = recorded_calls(frozen_simulator, 2)
    open_call(page, first.id)
    speed = page.get_by_label("Speed")
    assert [o for o in speed.locator("option").all_inner_texts()] == [
        "0.75×",
        "1×",
        "1.25×",
        "1.5×",
        "2×",
    ]
    speed.select_option("1.5")
    assert audio(page, "a.playbackRate") == 1.5

    audio(page, "(a.currentTime = 20, 0)")
    wait_audio(page, "!a.seeking")
    page.get_by_role("button", name="Forward 10 seconds").click()
    wait_audio(page, "Math.abs(a.currentTime - 30) < 0.5")
    page.get_by_role("button", name="Back 10 seconds").click()
    page.get_by_role("button", name="Back 10 seconds").click()
    wait_audio(page, "Math.abs(a.currentTime - 10) < 0.5")
    page.get_by_role("button", name="Back 10 seconds").click()
    page.get_by_role("button", name="Back 10 seconds").click()
    wait_audio(page, "a.currentTime === 0")

    open_call(page, second.id)
    expect(page.get_by_label("Speed")).to_have_value("1.5")
    assert audio(page, "a.playbackRate") == 1.5


def test_a_link_to_a_moment_cues_the_player_and_the_turn(
    browser_context, signed_in, frozen_simulator, live_server
):
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    turns = call.recording.turns
    # 0:41 falls inside a turn that starts before it.
    spoken = max(i for i, t in enumerate(turns) if t["timestamp"] <= 41) + 1
    open_call(page, call.id, "t=0:41")
    wait_audio(page, "Math.abs(a.currentTime - 41) < 0.3")
    expect(page.locator(f"#turn-{spoken}")).to_have_attribute("aria-current", "true")
    assert page.locator(".turns [aria-current]").count() == 1

    audio(page, "(a.currentTime = 23.6, 0)")
    wait_audio(page, "!a.seeking")
    page.get_by_role("button", name="Copy link to this moment").click()
    expect(page.locator("[data-player-status]")).to_have_text("Link to 0:23 copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server.url}/calls/{call.id}/?t=23"

    page.goto(copied)
    wait_audio(page, "Math.abs(a.currentTime - 23) < 0.3")


def test_a_moment_that_is_not_a_time_is_explained(signed_in, frozen_simulator, console):
    page = signed_in
    call = recorded_call(frozen_simulator)
    console.expect("400 (Bad Request)")
    response = page.goto(f"/calls/{call.id}/?t=soon")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("“soon” is not a time")
    wait_audio(page, "a.readyState >= 1 && a.currentTime === 0")


def test_search_marks_every_match_and_steps_through_them(signed_in, frozen_simulator):
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    texts = [t["text"].lower() for t in call.recording.turns]
    word = "you"
    expected = sum(text.count(word) for text in texts)
    assert expected >= 3
    open_call(page, call.id)

    box = page.get_by_role("searchbox", name="Find in transcript")
    box.fill("YOU")
    count = page.locator("[data-search-count]")
    expect(count).to_have_text(f"1 of {expected}")
    assert page.locator("mark[data-match]").count() == expected
    page.get_by_role("button", name="Next match").click()
    page.get_by_role("button", name="Next match").click()
    expect(count).to_have_text(f"3 of {expected}")
    assert page.locator("mark.current").count() == 1
    box.press("Enter")
    expect(count).to_have_text(f"4 of {expected}")
    box.press("Shift+Enter")
    page.get_by_role("button", name="Previous match").click()
    expect(count).to_have_text(f"2 of {expected}")

    box.fill("zebra crossing")
    expect(count).to_have_text("No matches")
    assert page.locator("mark[data-match]").count() == 0
    # Clearing the search leaves the transcript's text exactly as it was.
    box.fill("")
    expect(count).to_have_text("")
    rendered = page.locator(".turns .turn p").all_inner_texts()
    assert rendered == [t["text"] for t in call.recording.turns]


def test_dead_air_is_marked_and_summed_up_in_the_header(signed_in, frozen_simulator):
    page = signed_in
    call = recorded_call(frozen_simulator, "support_inbound")
    turns = call.recording.turns
    open_call(page, call.id)
    silence = page.locator(".turns .silence")
    expect(silence).to_have_count(1)
    expect(silence).to_have_text(re.compile(r"^\s*9 s silence\s*$"))
    # It sits right before the turn the agent "looked it up" for.
    after = silence.locator("xpath=following-sibling::li[1]")
    assert after.get_attribute("id") == "turn-6"
    gap_start = turns[5]["timestamp"]
    longest = page.locator(".facts div", has_text="Longest silence")
    expect(longest).to_contain_text(f"9 s before 0:{int(gap_start):02d}")
    talk = page.locator(".facts div", has_text="Talk time").inner_text()
    assert re.search(r"Agent ≈ \d:\d\d \(≈\d+%\) · Contact ≈ \d:\d\d \(≈\d+%\)", talk), talk

    longest.get_by_role("link").click()
    wait_audio(page, f"Math.abs(a.currentTime - {gap_start}) < 0.3 && !a.paused")


def test_a_recording_link_that_dies_mid_listen_is_fetched_again(
    signed_in, frozen_simulator, console
):
    """Storage refuses the signed link once (expired or withdrawn): our proxy answers 410, the
    player errors, and the page reloads the audio and resumes where it was, without a reload."""
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    statuses: list[int] = []
    page.on("response", lambda r: r.url.endswith("/recording") and statuses.append(r.status))
    console.expect("410 (Gone)")
    open_call(page, call.id)
    page.evaluate(
        "window.__sameDocument = true; window.__errors = 0;"
        f"{AUDIO}.addEventListener('error', () => window.__errors++)"
    )

    # Storage refuses every download until the player has seen the error: how many requests
    # Chromium makes before it reports one is its own business. The player waits a second
    # before it reloads, and by then storage answers again.
    frozen_simulator.switches.refuse_recordings_next(1_000)
    audio(page, "(a.currentTime = 48, a.play().catch(() => {}), 0)")
    page.wait_for_function("() => window.__errors > 0", timeout=20_000)
    frozen_simulator.switches.reset()
    wait_audio(page, "!a.paused && a.readyState >= 3 && a.currentTime > 48.3", timeout=15_000)
    assert 410 in statuses, f"the dead link reached the player: {statuses}"
    assert page.evaluate("window.__sameDocument") is True, "no page reload"
    expect(page.locator("[data-player-status]")).to_have_text("")


def test_a_recording_that_is_gone_for_good_says_so(signed_in, frozen_simulator, console):
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    console.expect("410 (Gone)")
    open_call(page, call.id)
    frozen_simulator.switches.refuse_recordings_next(50)
    audio(page, "(a.currentTime = 48, a.play().catch(() => {}), 0)")
    expect(page.locator("[data-player-status]")).to_have_text(
        "The recording has expired: Truedy keeps recordings for 24 hours after a call.",
        timeout=20_000,
    )
    frozen_simulator.switches.reset()
