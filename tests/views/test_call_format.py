import pytest

from calls.templatetags import call_format
from calls.templatetags.call_format import agent_name, dollars, duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (0, "0:00"),
        (5, "0:05"),
        (65, "1:05"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (7384.9, "2:03:04"),
    ],
)
def test_duration_is_m_ss(seconds, shown):
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (None, ""),
        (0, "$0.00"),
        (7, "$0.07"),
        (1234, "$12.34"),
        (123456, "$1,234.56"),
        (-250, "-$2.50"),
    ],
)
def test_dollars(cents, shown):
    assert dollars(cents) == shown


def test_unknown_agent_shows_its_raw_id():
    assert agent_name("agt_gone", {"agt_a": "Ava"}) == "agt_gone"
    assert agent_name("agt_a", {"agt_a": "Ava"}) == "Ava"
    assert agent_name(None, {}) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("callback-requested", "Callback requested"),
        ("in-progress", "In progress"),
        ("webrtc", "WebRTC"),
        ("left_voicemail", "Left voicemail"),
        (None, ""),
    ],
)
def test_labels_read_as_words(value, expected):
    assert call_format.label(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("in-progress", "in-progress"),
        ('x" onmouseover="alert(1)', "x--onmouseover--alert-1-"),
        ("Résolu", "r-solu"),
        ("", "none"),
        ("a" * 100, "a" * 40),
    ],
)
def test_badge_kinds_are_safe_css_class_suffixes(value, expected):
    assert call_format.badge_kind(value) == expected


def test_speakers_are_labelled_and_unknown_ones_kept():
    assert call_format.speaker("agent") == "Agent"
    assert call_format.speaker("contact") == "Contact"
    assert call_format.speaker("supervisor") == "Supervisor"
    assert call_format.speaker_kind("supervisor") == "other"


def test_transcript_turns_escape_everything_from_truedy():
    from calls.services.transcripts import time_transcript
    from calls.templatetags.call_format import transcript_turns
    from calls.truedy.records import Turn

    turns = [
        Turn(speaker='x" onmouseover="alert(1)', text="<script>alert(1)</script>", timestamp=0),
        Turn(speaker="agent", text='Tom & Jerry\'s "show"', timestamp=9),
    ]
    html = transcript_turns(time_transcript(turns, 12, threshold=3).turns, 2, "status=ended&")
    assert "<script>" not in html and 'onmouseover="' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Tom &amp; Jerry&#x27;s &quot;show&quot;" in html
    assert 'class="turn turn-other"' in html
    assert '<li class="silence"><span>7 s silence</span></li>' in html
    assert 'id="turn-2" data-start="9.00" aria-current="true"' in html
    assert 'href="?status=ended&amp;t=9.00"' in html


def test_list_rows_escape_what_truedy_sends_and_quote_odd_ids():
    from datetime import UTC, datetime

    from django.utils import timezone

    from calls.archive.search import MatchingLine
    from calls.truedy.records import Call

    hostile = "<script>alert(1)</script>"
    call = Call(
        id="a/b?c",
        agent_id="agt_1",
        status=hostile,
        direction="inbound",
        created_at=datetime(2026, 11, 24, 11, 5, tzinfo=UTC),
        started_at=None,
        ended_at=None,
        updated_at=None,
        to_number=None,
        from_number='"+1<b>',
        duration_seconds=65,
        cost_cents=1234,
        outcome=hostile,
        summary=None,
        transcript=None,
        recording_url=None,
    )
    line = MatchingLine(source="Agent", parts=((hostile, False), ("<i>hit</i>", True)))
    with timezone.override("Europe/Berlin"):
        html = call_format.call_table_rows([(call, line)], "status=x&tz=UTC&", {"agt_1": hostile})
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert 'href="/calls/a%2Fb%3Fc/?status=x&amp;tz=UTC&amp;"' in html
    assert '<time datetime="2026-11-24T12:05:00+01:00">2026-11-24 12:05</time>' in html
    assert "<mark>&lt;i&gt;hit&lt;/i&gt;</mark>" in html
    assert ">1:05<" in html and ">$12.34<" in html and "&quot;+1&lt;b&gt;" in html
