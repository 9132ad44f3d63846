"""The agents page in a real browser: agents compared over a range, a figure's link leading to
the list of exactly those calls, the table readable at 375 px (it scrolls in its own box, the
page does not), a bad date refused beside its field; axe clean."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from calls.models import ArchivedCall
from tests.e2e.test_accessibility import axe, blocking  # noqa: F401 (axe: a fixture)

# More than a year before the frozen clock: Truedy keeps no such calls, so the list itself
# reads them from the archive, and shows exactly the ones archived here.
QUERY = "created_after=2025-10-01&created_before=2025-10-10&tz=UTC"


def archive_calls():
    def call(call_id, agent, status, day, **fields):
        ArchivedCall.objects.create(
            id=call_id,
            agent_id=agent,
            status=status,
            created_at=datetime(2025, 10, day, 9, tzinfo=UTC),
            **fields,
        )

    for number in range(5):
        call(
            f"call_e2e_a{number}",
            "agent_ava",
            "ended",
            2 + number,
            duration_seconds=60,
            cost_cents=12,
            outcome="booked" if number < 3 else "voicemail",
            longest_silence=1.0 + number,
        )
    call("call_e2e_a5", "agent_ava", "failed", 3)
    call(
        "call_e2e_b0",
        "agent_ben",
        "ended",
        4,
        duration_seconds=30,
        cost_cents=5,
        outcome="voicemail",
        longest_silence=0.5,
    )


def test_agents_compared_and_a_figure_leads_to_its_calls(
    signed_in,
    frozen_simulator,
    screenshots,
    axe,  # noqa: F811 (the fixture imported above)
):
    archive_calls()
    page = signed_in
    page.goto("/calls/")
    page.get_by_role("link", name="Agents", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    page.goto(f"/agents/?{QUERY}")
    table = page.get_by_role("table", name=re.compile("Agents compared"))
    ava = table.get_by_role("row").filter(has_text="agent_ava")
    expect(ava).to_contain_text("6")  # calls
    expect(ava).to_contain_text("83 %")  # 5 of 6 connected
    expect(ava).to_contain_text("3 of 5")  # dead air: silences of 3, 4 and 5 s, of 5 measured
    expect(page.locator("#archive-reach")).to_contain_text("The archive holds 7 calls")
    expect(ava.locator("svg.agent-trend title")).to_contain_text("Calls per day, 2025-10-01")
    page.screenshot(path=screenshots / "agents.png", full_page=True)
    assert blocking(axe(page)) == []

    # The connect rate's link: the list of exactly Ava's five connected calls.
    ava.get_by_role("link", name="83 %").first.click()
    expect(page).to_have_url(
        re.compile(r"/calls/\?agent_id=agent_ava&status=ended&created_after=2025-10-01&")
    )
    expect(page.locator(".summary")).to_contain_text("of 5 calls")
    rows = page.locator("table.calls tbody tr")
    expect(rows).to_have_count(5)

    # The dead-air rate's link: exactly the three connected calls with a silence of 3 s or more.
    page.go_back()
    ava.get_by_role("link", name="60 %").click()
    expect(page).to_have_url(re.compile(r"only=dead-air"))
    expect(page.locator(".summary")).to_contain_text("of 3 calls")
    expect(page.locator("table.calls tbody tr")).to_have_count(3)
    assert blocking(axe(page)) == []


def test_the_table_scrolls_in_its_own_box_on_a_phone(
    signed_in,
    frozen_simulator,
    screenshots,
    axe,  # noqa: F811
):
    archive_calls()
    page = signed_in
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"/agents/?{QUERY}")
    box = page.locator(".agents-scroll")
    expect(box).to_be_visible()
    page.screenshot(path=screenshots / "agents-375.png", full_page=True)
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 375
    assert box.evaluate("element => element.scrollWidth > element.clientWidth")
    # By keyboard: the box takes focus, and the arrow keys scroll it.
    box.focus()
    page.keyboard.press("ArrowRight")
    for _ in range(50):  # scrolling is smooth in some builds: a moment to move
        if box.evaluate("element => element.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert box.evaluate("element => element.scrollLeft") > 0
    assert blocking(axe(page)) == []


def test_a_bad_date_is_refused_beside_its_field(
    signed_in,
    frozen_simulator,
    console,
    axe,  # noqa: F811
):
    page = signed_in
    console.expect("400 (Bad Request)")
    response = page.goto("/agents/?created_after=2025-13-01")
    assert response.status == 400
    field = page.get_by_label("From")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-after-error")).to_contain_text("is not a date or time")
    assert blocking(axe(page)) == []
