"""Samples of a view (calls/services/sampling.py): fair-ish, repeatable, stable, splittable."""

import math
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.services import sampling
from calls.services.sampling import Part, choose, draw, parse_part, slice_of

CALL_IDS = st.lists(
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=24),
    unique=True,
    max_size=300,
)
SEEDS = st.text(string.hexdigits, min_size=1, max_size=32)


def ids(count: int, prefix: str = "call_") -> list[str]:
    return [f"{prefix}{number:06d}" for number in range(count)]


# --- the keyed hash ----------------------------------------------------------------------------


def test_a_calls_number_depends_on_the_seed_and_its_id_only():
    assert draw("seed-a", "call_1") == draw("seed-a", "call_1")
    assert draw("seed-a", "call_1") != draw("seed-b", "call_1")
    assert 0 <= draw("seed-a", "call_1") < 1


def test_new_seeds_differ():
    assert len({sampling.new_seed() for _ in range(50)}) == 50


# --- parts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "part"), [("1/1", Part(1, 1)), ("2/3", Part(2, 3)), (" 3/3 ", Part(3, 3))]
)
def test_parts_are_read(text, part):
    assert parse_part(text) == part
    assert str(parse_part(text)) == text.strip()


@pytest.mark.parametrize(
    "text", ["", "0/3", "4/3", "1/0", "1/101", "a/b", "1/2/3", "½", "-1/2", "1 / 2"]
)
def test_bad_parts_say_how_to_write_one(text):
    with pytest.raises(ValueError, match="k/m"):
        parse_part(text)


def test_slices_cover_the_range():
    assert slice_of(0.0, 0.5, 4) == 0
    assert slice_of(0.49, 0.5, 4) == 3
    assert slice_of(0.5, 0.5, 4) == 3  # the bound itself (a count sample's largest) is in
    assert slice_of(0.3, 0.0, 4) == 0


# --- choosing -----------------------------------------------------------------------------------


def test_exactly_one_of_percent_and_size():
    with pytest.raises(ValueError):
        choose(ids(5), seed="s")
    with pytest.raises(ValueError):
        choose(ids(5), seed="s", percent=10, size=3)
    with pytest.raises(ValueError):
        choose(ids(5), seed="s", percent=0)
    with pytest.raises(ValueError):
        choose(ids(5), seed="s", size=10_001)


def test_members_keep_the_list_order():
    listed = ids(200)
    chosen = choose(listed, seed="order", percent=30)
    assert chosen == [call_id for call_id in listed if call_id in set(chosen)]


def test_a_count_larger_than_the_view_is_the_whole_view():
    assert choose(ids(7), seed="s", size=50) == ids(7)


def test_a_hundred_percent_is_the_whole_view():
    assert choose(ids(50), seed="s", percent=100) == ids(50)


@given(CALL_IDS, SEEDS, st.integers(1, 100))
def test_percent_membership_depends_on_the_call_alone(call_ids, seed, percent):
    """Stable: calls arriving (or leaving) never change whether another call is in."""
    chosen = set(choose(call_ids, seed=seed, percent=percent))
    for call_id in call_ids:
        assert (call_id in chosen) == (choose([call_id], seed=seed, percent=percent) == [call_id])


@given(CALL_IDS, SEEDS, st.integers(1, 400), st.randoms(use_true_random=False))
def test_a_count_sample_does_not_depend_on_the_order_it_is_read_in(call_ids, seed, size, rng):
    shuffled = list(call_ids)
    rng.shuffle(shuffled)
    assert set(choose(call_ids, seed=seed, size=size)) == set(
        choose(shuffled, seed=seed, size=size)
    )
    assert len(choose(call_ids, seed=seed, size=size)) == min(size, len(call_ids))


@given(CALL_IDS, SEEDS, st.integers(1, 100), st.integers(1, 12))
def test_parts_split_a_percent_sample_exactly(call_ids, seed, percent, parts):
    whole = choose(call_ids, seed=seed, percent=percent)
    split = [
        choose(call_ids, seed=seed, percent=percent, part=Part(k, parts))
        for k in range(1, parts + 1)
    ]
    assert sorted(call_id for part in split for call_id in part) == sorted(whole)


@given(CALL_IDS, SEEDS, st.integers(1, 400), st.integers(1, 12))
def test_parts_split_a_count_sample_exactly(call_ids, seed, size, parts):
    whole = choose(call_ids, seed=seed, size=size)
    split = [
        choose(call_ids, seed=seed, size=size, part=Part(k, parts)) for k in range(1, parts + 1)
    ]
    assert sorted(call_id for part in split for call_id in part) == sorted(whole)


def _within(observed: float, expected: float, spread: float) -> bool:
    return abs(observed - expected) <= spread


@settings(max_examples=30, deadline=None)
@given(SEEDS, st.integers(1, 99))
def test_a_percent_sample_has_about_that_share(seed, percent):
    listed = ids(2000)
    n, p = len(listed), percent / 100
    spread = 5 * math.sqrt(n * p * (1 - p)) + 1  # five standard deviations
    assert _within(len(choose(listed, seed=seed, percent=percent)), n * p, spread)


def test_every_call_is_as_likely_to_be_chosen():
    """Over many seeds, the newest calls are chosen no more often than the oldest."""
    listed = ids(400)
    newest = set(listed[:200])
    counts = {"newest": 0, "oldest": 0}
    for seed in range(300):
        for call_id in choose(listed, seed=str(seed), size=20):
            counts["newest" if call_id in newest else "oldest"] += 1
    total = counts["newest"] + counts["oldest"]  # 6,000 picks
    assert _within(counts["newest"], total / 2, 5 * math.sqrt(total / 4))


@settings(max_examples=30, deadline=None)
@given(SEEDS, st.integers(2, 8))
def test_parts_are_about_equal(seed, parts):
    listed = ids(3000)
    sizes = [
        len(choose(listed, seed=seed, percent=50, part=Part(k, parts))) for k in range(1, parts + 1)
    ]
    expected = 1500 / parts
    for size in sizes:
        assert _within(size, expected, 5 * math.sqrt(expected) + 1)
