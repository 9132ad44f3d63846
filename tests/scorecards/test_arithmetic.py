"""The score: a weighted percentage in which "not applicable" (and an unknown automatic answer)
drops out of the denominator; what each kind of answer earns (calls/services/scorecards.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.services.scorecards import (
    NOT_APPLICABLE,
    Option,
    QuestionSpec,
    credit,
    shown_score,
    weighted_percentage,
)

WEIGHT = st.integers(min_value=0, max_value=100)
CREDIT = st.one_of(st.none(), st.floats(min_value=0, max_value=1))
ITEMS = st.lists(st.tuples(WEIGHT, CREDIT), max_size=12)


def counted(items):
    return [(weight, share) for weight, share in items if share is not None and weight > 0]


@given(items=ITEMS)
def test_a_score_is_a_percentage_or_none_when_nothing_counts(items):
    score = weighted_percentage(items)
    if not counted(items):
        assert score is None
    else:
        assert 0 <= score <= 100


@given(items=ITEMS, na=st.lists(st.tuples(WEIGHT, st.none()), max_size=6))
def test_not_applicable_answers_drop_out_of_the_denominator(items, na):
    assert weighted_percentage(items + na) == weighted_percentage(items)
    assert weighted_percentage(na + items) == weighted_percentage(items)


@given(items=ITEMS, zero=st.lists(st.tuples(st.just(0), CREDIT), max_size=6))
def test_unweighted_questions_do_not_count(items, zero):
    assert weighted_percentage(items + zero) == weighted_percentage(items)


@given(items=ITEMS, factor=st.integers(min_value=1, max_value=20))
def test_only_the_ratio_of_the_weights_matters(items, factor):
    scaled = [(weight * factor, share) for weight, share in items]
    one, other = weighted_percentage(items), weighted_percentage(scaled)
    assert (one is None) == (other is None)
    if one is not None:
        assert other == pytest.approx(one, abs=0.1)


@given(items=ITEMS)
def test_the_score_is_the_weighted_mean_of_the_credits(items):
    kept = counted(items)
    if not kept:
        return
    expected = 100 * sum(w * c for w, c in kept) / sum(w for w, _ in kept)
    assert weighted_percentage(items) == pytest.approx(expected, abs=0.05)


def test_a_worked_example():
    # Yes (3), no (1), N/A (5), scale 3 of 4 (2), "Partly" = 50 % (2): (3 + 0 + 1.5 + 1) / 8.
    items = [(3, 1.0), (1, 0.0), (5, None), (2, 0.75), (2, 0.5)]
    assert weighted_percentage(items) == 68.8
    assert weighted_percentage([(1, 1.0), (1, 1.0)]) == 100
    assert weighted_percentage([(2, None)]) is None


YES_NO = QuestionSpec("q", "yes_no", weight=1)
SCALE = QuestionSpec("q", "scale", weight=1, scale_max=4)
CHOICE = QuestionSpec("q", "choice", options=(Option("Yes", 100), Option("Partly", 50)))
TEXT = QuestionSpec("q", "text", weight=0)


@pytest.mark.parametrize(
    ("question", "answer", "earned"),
    [
        (YES_NO, "yes", 1.0),
        (YES_NO, "no", 0.0),
        (YES_NO, NOT_APPLICABLE, None),
        (YES_NO, None, None),
        (YES_NO, "maybe", None),
        (SCALE, 0, 0.0),
        (SCALE, 3, 0.75),
        (SCALE, 4, 1.0),
        (SCALE, 5, None),
        (SCALE, True, None),
        (CHOICE, 0, 1.0),
        (CHOICE, 1, 0.5),
        (CHOICE, 2, None),
        (CHOICE, -1, None),
        (TEXT, "fine", None),
    ],
)
def test_what_each_answer_earns(question, answer, earned):
    assert credit(question, answer) == earned


@given(steps=st.integers(min_value=1, max_value=10), data=st.data())
def test_a_scale_earns_its_step_over_its_top(steps, data):
    step = data.draw(st.integers(min_value=0, max_value=steps))
    assert credit(QuestionSpec("q", "scale", scale_max=steps), step) == step / steps


@pytest.mark.parametrize(
    ("score", "shown"), [(None, "no score"), (85.0, "85 %"), (79.5, "79.5 %"), (0.0, "0 %")]
)
def test_a_score_in_words(score, shown):
    assert shown_score(score) == shown
