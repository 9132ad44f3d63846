"""Detection measured on the simulator's labelled corpus (calls/simulator/personal_data_corpus.py).

``make privacy-figures`` prints the same table.
"""

import re

import pytest

from calls.lib.personal_data import Kind
from calls.simulator.personal_data_corpus import CORPUS, Tally, measure, parse, table, utterances


@pytest.fixture(scope="module")
def tallies() -> dict[Kind | None, Tally]:
    return measure()[0]


def test_the_corpus_has_at_least_200_utterances_with_and_without_personal_data() -> None:
    items = list(utterances())
    assert len(items) >= 200
    with_data = [item for item in items if item.values]
    assert 100 <= len(with_data) <= len(items) - 60
    assert {value.kind for item in items for value in item.values} == set(Kind)
    # Hard cases: values read over several turns, spoken digits, fillers inside a value.
    assert sum(any(len(value.parts) > 1 for value in item.values) for item in items) >= 10
    spoken = [
        item.text(value.parts[0])
        for item in items
        for value in item.values
        if value.kind is Kind.CARD
        and re.search(r"\b(one|two|four|five|oh)\b", item.text(value.parts[0]), re.I)
    ]
    assert len(spoken) >= 15
    assert any(re.search(r"\b(um|uh|let me see)\b", said) for said in spoken)


def test_every_labelled_card_number_passes_luhn_and_every_mark_is_well_formed() -> None:
    for marked in CORPUS:
        assert all("{" not in turn and "}" not in turn for turn in parse(marked).turns), marked
    for item in utterances():
        for value in item.values:
            assert all(item.text(part).strip() == item.text(part) for part in value.parts)
            if value.kind is Kind.CARD and all(
                item.text(part).replace(" ", "").replace("-", "").isdigit() for part in value.parts
            ):
                digits = "".join(
                    char for part in value.parts for char in item.text(part) if char.isdigit()
                )
                total = sum(
                    (int(c) * 2 - 9 if int(c) > 4 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(digits))
                )
                assert total % 10 == 0, digits


def test_card_numbers_are_found_with_recall_of_at_least_98_percent(
    tallies: dict[Kind | None, Tally],
) -> None:
    assert tallies[Kind.CARD].recall >= 0.98, table(tallies)


def test_overall_recall_is_at_least_95_percent(tallies: dict[Kind | None, Tally]) -> None:
    assert tallies[None].recall >= 0.95, table(tallies)


@pytest.mark.parametrize("kind", list(Kind))
def test_precision_of_each_kind_is_at_least_90_percent(
    tallies: dict[Kind | None, Tally], kind: Kind
) -> None:
    assert tallies[kind].detected > 0
    assert tallies[kind].precision >= 0.9, table(tallies)
