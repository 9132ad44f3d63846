"""The table comes first: the totals as a one-line strip above the calls whose charts open on
demand (remembered in a cookie the server reads), each row's recording and transcript icons,
the filters folded on a phone. Through Django's test client; the browser side (rows above the
fold, layout shift) is tests/e2e/test_list_page.py."""

import re
from datetime import timedelta

import pytest

from calls.models import ArchivedCall
from calls.templatetags.call_format import TABLE_COLUMNS
from calls.templatetags.charts import NONE_RECORDED, outcome_mix
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.django_db

TOTALS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "totals"}
OPEN = "totals_open"


def test_the_totals_strip_stands_above_the_calls_with_its_room_reserved(
    staff_client, frozen_simulator
):
    html = staff_client.get("/calls/?status=ended&tz=UTC").content.decode()
    strip = html.index('<section id="totals" class="totals loading"')
    assert strip < html.index('<table class="calls">')
    assert 'hx-trigger="load"' in html[strip : html.index("</section>", strip)]
    assert "is-open" not in html[strip : html.index(">", strip)]
    # Left open last time: the list reserves the open panel's room as well.
    staff_client.cookies[OPEN] = "1"
    html = staff_client.get("/calls/?status=ended&tz=UTC").content.decode()
    assert '<section id="totals" class="totals loading is-open"' in html


def test_the_strip_has_the_figures_in_one_line_and_the_charts_folded(
    staff_client, frozen_simulator
):
    response = staff_client.get("/calls/totals/?status=ended&tz=UTC", **TOTALS)
    html = response.content.decode()
    totals = response.context_data["totals"]
    strip = html[html.index('<div class="totals-strip">') : html.index('id="totals-more"')]
    assert f"<dt>Calls</dt><dd>{totals.count:,}</dd>" in strip
    for name in ("Duration", "Cost", "Reviewed"):
        assert f"<dt>{name}</dt>" in strip
    assert 'class="chart outcome-mix" role="img"' in strip
    assert 'aria-controls="totals-more" aria-expanded="false"' in strip
    assert '<div id="totals-more" class="totals-more" hidden>' in html
    # Today's charts and review coverage are all there, folded.
    panel = html[html.index('id="totals-more"') :]
    assert "outcome-chart" in panel and "Calls per day" in panel
    assert "% of these calls reviewed" in panel
    assert 'Totals<span class="visually-hidden"> for these filters</span>' in html


def test_charts_left_open_arrive_open(staff_client, frozen_simulator):
    staff_client.cookies[OPEN] = "1"
    html = staff_client.get("/calls/totals/?status=ended&tz=UTC", **TOTALS).content.decode()
    assert '<section id="totals" class="totals is-open"' in html
    assert 'aria-expanded="true"' in html
    assert '<div id="totals-more" class="totals-more">' in html
    staff_client.cookies[OPEN] = "0"
    html = staff_client.get("/calls/totals/?status=ended&tz=UTC", **TOTALS).content.decode()
    assert 'aria-expanded="false"' in html and 'totals-more" hidden' in html


def test_the_totals_page_without_javascript_shows_its_charts(staff_client, frozen_simulator):
    html = staff_client.get("/calls/totals/?status=ended&tz=UTC").content.decode()
    assert '<div id="totals-more" class="totals-more">' in html
    assert "js/totals-strip.js" in html


def test_a_failure_takes_the_strip_and_leaves_no_button(staff_client, frozen_simulator):
    staff_client.cookies[OPEN] = "1"  # nothing to open: no room kept for charts either
    frozen_simulator.switches.fail_next(50, status=500)
    html = staff_client.get("/calls/totals/?status=failed", **TOTALS).content.decode()
    strip = html[html.index('<div class="totals-strip">') :]
    assert "Totals are not available: Truedy is unreachable" in strip
    assert "data-totals-toggle" not in html and "totals-more" not in html
    assert '<section id="totals" class="totals" ' in html


# --- the outcome mix as one stacked bar ---------------------------------------------------------


def test_the_outcome_mix_is_one_bar_in_proportion_with_its_words():
    bar = str(outcome_mix((("interested", 3), ("no_answer", 1)), 4))
    assert 'role="img"' in bar and "style=" not in bar
    assert "Outcomes: Interested 3 (75%); " in bar
    assert 'class="mix mix-interested" x="0.0" y="0" width="104.0"' in bar  # 140 × 3/4, less a gap
    assert 'class="mix mix-no-answer" x="105.0"' in bar


def test_the_outcome_mix_escapes_what_truedy_sends_and_says_when_there_is_none():
    bar = str(outcome_mix((('<b>"x"</b>', 1),), 1))
    assert "<b>" not in bar and "&lt;b&gt;" in bar
    assert re.search(r'class="mix mix-[a-z0-9-]+"', bar)
    assert NONE_RECORDED in str(outcome_mix((("", 5),), 5))
    assert str(outcome_mix((), 0)) == ""


# --- each row's recording and transcript --------------------------------------------------------


def test_every_row_says_whether_it_has_a_recording_and_a_transcript(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?status=ended&tz=UTC").content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert head.count("<th ") == TABLE_COLUMNS
    assert 'Media<span class="visually-hidden">: recording and transcript</span>' in head
    cells = re.findall(r'<td data-label="Media" class="media">(.*?)</td>', html)
    assert len(cells) == 25
    for cell in cells:
        words = re.findall(r'<span class="visually-hidden">([^<]+)</span>', cell)
        assert len(words) == 2, cell
        assert words[0].lower().count("recording") == 1
        assert words[1] in {"Transcript unknown", "No transcript"}, "the list does not say"
    assert 'href="#icon-recording"' in html and '<symbol id="icon-recording"' in html


def test_the_archive_tells_the_row_what_truedys_list_cannot(staff_client, frozen_simulator):
    first = staff_client.get("/calls/?status=ended&tz=UTC").context_data["calls"][0]
    ArchivedCall.objects.create(
        id=first.id,
        status="ended",
        created_at=first.created_at,
        started_at=first.started_at,
        ended_at=first.ended_at or FROZEN_NOW - timedelta(hours=1),
        transcript=[{"speaker": "agent", "text": "Hello", "timestamp": 0.4}],
    )
    html = staff_client.get("/calls/?status=ended&tz=UTC").content.decode()
    row = html[html.index(f"/calls/{first.id}/") :]
    row = row[: row.index("</tr>")]
    assert '<span class="visually-hidden">Transcript</span>' in row


def test_a_search_hit_spans_every_column(staff_client, frozen_simulator):
    ArchivedCall.objects.create(
        id="call_hit",
        status="ended",
        created_at=FROZEN_NOW - timedelta(days=1),
        transcript=[{"speaker": "contact", "text": "router blinks amber", "timestamp": 3}],
        search_text="contact: router blinks amber",
    )
    html = staff_client.get("/calls/?q=amber&tz=UTC").content.decode()
    assert f'<tr class="match"><td colspan="{TABLE_COLUMNS}"' in html
    row = html[html.index("/calls/call_hit/") :]
    assert '<span class="visually-hidden">Transcript</span>' in row[: row.index("</tr>")]


# --- the filters fold on a phone ----------------------------------------------------------------


def test_the_filters_fold_on_a_phone_and_open_when_refused(staff_client, frozen_simulator):
    html = staff_client.get("/calls/?tz=UTC").content.decode()
    assert '<details class="filter-drawer">' in html
    assert html.index('<details class="filter-drawer">') < html.index('<form class="filters"')
    refused = staff_client.get("/calls/?created_after=2026-11-24&created_before=2026-11-20")
    assert '<details class="filter-drawer" open>' in refused.content.decode()
    filtered = staff_client.get("/calls/?status=failed&tz=UTC").content.decode()
    assert 'Filters and search <span class="muted">· some set</span>' in filtered
