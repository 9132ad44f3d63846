"""axe-core (from the npm registry, see tests/e2e/package.json) on the pages people use, plus
the live region and reduced motion."""

import pytest
from playwright.sync_api import expect

from tests.e2e.calls import recorded_call
from tests.e2e.conftest import AXE

AUDIO = "document.querySelector('[data-player] audio')"
BLOCKING = ("serious", "critical")


@pytest.fixture
def axe():
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `make test` (it runs npm ci in tests/e2e)")

    source = AXE.read_text()

    def check(page) -> list[dict]:
        # Evaluated over the DevTools protocol, which the page's CSP does not govern (a <script>
        # tag would be refused: no nonce). The UMD bundle sets window.axe when nothing else
        # claims it; the trailing expression keeps evaluate's return value serializable.
        page.evaluate(f"{source}\n;typeof window.axe")
        assert page.evaluate("typeof axe.run") == "function"
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "where": [node["target"] for node in v["nodes"]][:5],
            }
            for v in results["violations"]
        ]

    return check


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def test_login_page_has_no_serious_violations(page, axe):
    page.goto("/accounts/login/")
    assert blocking(axe(page)) == []


def test_list_page_has_no_serious_violations(signed_in, axe):
    signed_in.goto("/calls/?status=ended&direction=inbound")
    signed_in.keyboard.press("j")  # a selected row too
    assert blocking(axe(signed_in)) == []


def test_call_page_has_no_serious_violations(signed_in, frozen_simulator, axe):
    page = signed_in
    call = recorded_call(frozen_simulator, "support_inbound")
    page.goto(f"/calls/{call.id}/?t=31")
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1")
    page.get_by_role("searchbox", name="Find in transcript").fill("router")
    expect(page.locator("[data-search-count]")).to_have_text("1 of 2")
    assert blocking(axe(page)) == []
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert blocking(axe(page)) == []


def test_every_control_on_the_call_page_has_a_name(signed_in, frozen_simulator):
    page = signed_in
    page.goto(f"/calls/{recorded_call(frozen_simulator).id}/")
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1")
    controls = page.locator("main button, main a, main input, main select, main audio")
    unnamed = [
        controls.nth(i).evaluate("e => e.outerHTML.slice(0, 80)")
        for i in range(controls.count())
        if controls.nth(i).is_visible()
        and not controls.nth(i).evaluate(
            "e => (e.getAttribute('aria-label') || e.labels?.[0]?.textContent"
            " || e.textContent || '').trim()"
        )
    ]
    assert unnamed == []


def test_the_current_turn_is_announced_politely(signed_in, frozen_simulator):
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    page.goto(f"/calls/{call.id}/")
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1")
    live = page.locator("[data-now-speaking]")
    assert live.get_attribute("aria-live") == "polite"
    start = call.recording.turns[2]["timestamp"]
    page.evaluate(
        f"(a => {{ a.currentTime = {start} - 0.4; a.play().catch(() => {{}}); }})({AUDIO})"
    )
    expect(live).to_have_text("Agent at 0:07")  # as playback reaches turn 3


SEEK_AND_WATCH = """async (target) => {
  const a = document.querySelector('[data-player] audio');
  a.currentTime = target;
  await new Promise(done => a.addEventListener('seeked', done, {once: true}));
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const first = scrollY;
  await new Promise(done => setTimeout(done, 800));
  return [first, scrollY];
}"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_auto_scroll_jumps_when_motion_is_reduced_and_glides_otherwise(
    browser_context, signed_in, frozen_simulator, motion
):
    page = signed_in
    page.emulate_media(reduced_motion=motion)
    page.set_viewport_size({"width": 1000, "height": 520})
    call = recorded_call(frozen_simulator, "support_inbound")
    page.goto(f"/calls/{call.id}/")
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1")
    last = call.recording.turns[-1]["timestamp"]
    first, final = page.evaluate(SEEK_AND_WATCH, last + 0.1)
    assert final > 0, "the last turn was scrolled into view"
    if motion == "reduce":
        assert first == final, "no animation: the page is already where it ends up"
    else:
        assert first < final, "a smooth scroll is still under way after two frames"
    spinner = page.evaluate(
        "(() => { const s = document.createElement('span'); s.className = 'spinner';"
        " document.body.append(s); return getComputedStyle(s).animationName; })()"
    )
    assert spinner == ("none" if motion == "reduce" else "spin")
