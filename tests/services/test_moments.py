"""Reading the moment a "link to this moment" carries (?t=)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.services.transcripts import LONGEST, parse_offset


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("83", 83.0),
        ("0", 0.0),
        ("83.5", 83.5),
        ("1:23", 83.0),
        ("01:23.25", 83.25),
        ("1:02:03", 3723.0),
        ("1m23s", 83.0),
        ("83s", 83.0),
        ("2m", 120.0),
        ("1h2m3s", 3723.0),
        (" 1:23 ", 83.0),
        ("1M23S", 83.0),
    ],
)
def test_moments_people_write(text, seconds):
    assert parse_offset(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "soon",
        "-5",
        "1:60",
        "1:2",
        "1:75:00",
        "nan",
        "inf",
        "1e3",
        "0x10",
        "1,5",
        "m",
        "99999999",
    ],
)
def test_anything_else_is_explained(text):
    with pytest.raises(ValueError, match="t=83, t=1:23 or t=1m23s"):
        parse_offset(text)


def test_nothing_longer_than_a_day():
    assert parse_offset("86400") == LONGEST
    with pytest.raises(ValueError, match="longer than any call"):
        parse_offset("86401")


@given(st.text(max_size=30))
def test_any_text_is_a_moment_or_a_clear_error(text):
    try:
        seconds = parse_offset(text)
    except ValueError as error:
        assert "t=1:23" in str(error)
    else:
        assert 0 <= seconds <= LONGEST


@given(st.integers(min_value=0, max_value=86_399))
def test_every_way_of_writing_a_second_agrees(total):
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    assert parse_offset(str(total)) == parse_offset(clock) == total
    assert parse_offset(f"{hours}h{minutes}m{seconds}s") == total
