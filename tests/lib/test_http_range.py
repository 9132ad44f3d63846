"""HTTP Range for one file (RFC 9110, one range at most), as the archive and the simulator
serve it."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.lib.http_range import RangeNotSatisfiable, parse_range, read_range


@pytest.mark.parametrize(
    ("header", "size", "wanted"),
    [
        (None, 100, None),
        ("bytes=0-", 100, (0, 99)),
        ("bytes=10-19", 100, (10, 19)),
        ("bytes=90-500", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        (" BYTES = 5 - 6 ", 100, (5, 6)),
    ],
)
def test_ranges_people_send(header, size, wanted):
    assert parse_range(header, size) == wanted


@pytest.mark.parametrize(
    "header", ["items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=-", "bytes=a-b", "bytes=١-٢"]
)
def test_malformed_or_multiple_ranges_mean_the_whole_file(header):
    assert parse_range(header, 100) is None


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=-5", 0)]
)
def test_a_range_wholly_past_the_end_is_not_satisfiable(header, size):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)


@given(first=st.integers(0, 10_000), length=st.integers(0, 10_000), size=st.integers(1, 10_000))
def test_a_satisfiable_range_lies_inside_the_file(first, length, size):
    header = f"bytes={first}-{first + length}"
    try:
        wanted = parse_range(header, size)
    except RangeNotSatisfiable:
        assert first >= size
        return
    assert wanted is not None
    start, end = wanted
    assert 0 <= start <= end < size


def test_read_range_reads_exactly_the_range_in_chunks():
    handle = io.BytesIO(bytes(range(256)) * 4)
    chunks = list(read_range(handle, 10, 300, chunk_size=128))
    assert [len(chunk) for chunk in chunks] == [128, 128, 44]
    assert b"".join(chunks) == (bytes(range(256)) * 4)[10:310]


def test_read_range_stops_where_the_file_ends():
    assert b"".join(read_range(io.BytesIO(b"abcdef"), 4, 100)) == b"ef"
    assert list(read_range(io.BytesIO(b"abc"), 0, 0)) == []
