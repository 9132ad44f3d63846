"""The audit log counts listens, not requests: in Chromium one play with seeks and a pause is one
``play_recording`` row, however many ranges the player fetched through our proxy."""

import time

from calls.models import AuditEvent
from tests.e2e.calls import recorded_call

AUDIO = "document.querySelector('[data-player] audio')"


def audio(page, expression: str):
    return page.evaluate(f"(() => {{ const a = {AUDIO}; return {expression}; }})()")


def wait_audio(page, condition: str, timeout: float = 10.0):
    # Polled from here: wait_for_function compiles its predicate in the page, which a CSP
    # without 'unsafe-eval' forbids.
    give_up = time.monotonic() + timeout
    while not audio(page, f"!!a && ({condition})"):
        assert time.monotonic() < give_up, f"the player never reached: {condition}"
        page.wait_for_timeout(50)


def test_one_play_with_seeks_and_a_pause_is_one_audit_row(signed_in, frozen_simulator, e2e_user):
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    notes: list[int] = []
    ranges: list[str] = []
    page.on("response", lambda r: r.url.endswith("/played") and notes.append(r.status))
    page.on(
        "request",
        lambda r: r.url.endswith("/recording") and ranges.append(r.headers.get("range", "")),
    )
    page.goto(f"/calls/{call.id}/")
    wait_audio(page, "a.readyState >= 1")

    with page.expect_response(lambda r: r.url.endswith(f"/calls/{call.id}/played")) as note:
        audio(page, "a.play()")
    assert note.value.status == 204
    wait_audio(page, "!a.paused && a.currentTime > 0.5")
    for second in (40, 10, 55):
        audio(page, f"(a.currentTime = {second}, 0)")
        wait_audio(page, f"!a.seeking && a.currentTime >= {second} && !a.paused")
    audio(page, "a.pause()")
    wait_audio(page, "a.paused")
    audio(page, "a.play()")
    wait_audio(page, "!a.paused && a.currentTime > 55.3")
    page.wait_for_timeout(500)  # time enough for a second note, were one sent

    assert notes == [204], "the page notes a play once per load"
    assert len(ranges) > 1 and all(ranges), f"the player fetched ranges only: {ranges}"
    # The page's note and the audio that left are one access: whichever came first wrote it.
    plays = AuditEvent.objects.filter(action="play_recording", user=e2e_user, call_id=call.id)
    assert [(event.detail, event.status) for event in plays] in ([("", 204)], [("stream", 206)])


def test_a_player_that_reconnects_after_a_dead_link_is_still_one_play(
    signed_in, frozen_simulator, e2e_user, console
):
    """recover() reloads the element and plays on: the same listen, not a second one."""
    page = signed_in
    call = recorded_call(frozen_simulator, "sales_interested")
    notes: list[int] = []
    page.on("response", lambda r: r.url.endswith("/played") and notes.append(r.status))
    console.expect("410 (Gone)")
    page.goto(f"/calls/{call.id}/")
    wait_audio(page, "a.readyState >= 1")
    page.evaluate(f"window.__errors = 0; {AUDIO}.onerror = () => window.__errors++")

    # Refused until the player reports the error (Chromium decides how many requests that
    # takes); recover() waits a second before reloading, by when storage answers again.
    frozen_simulator.switches.refuse_recordings_next(1_000)
    audio(page, "(a.currentTime = 48, a.play().catch(() => {}), 0)")
    wait_audio(page, "window.__errors > 0", timeout=20)
    frozen_simulator.switches.reset()
    wait_audio(page, "!a.paused && a.readyState >= 3 && a.currentTime > 48.3", timeout=15)
    page.wait_for_timeout(500)

    assert notes == [204]
    plays = AuditEvent.objects.filter(action="play_recording", user=e2e_user, call_id=call.id)
    assert plays.count() == 1
