"""Personal data found and masked in speech-to-text call text (calls/lib/personal_data.py)."""

import itertools
import re
import time

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from calls.lib.personal_data import (
    Found,
    Kind,
    find_in_turns,
    find_personal_data,
    mask_phone_number,
    mask_text,
    mask_turns,
)

# ---------------------------------------------------------------------- examples


def test_each_kind_has_its_typed_placeholder() -> None:
    assert [kind.placeholder for kind in Kind] == [
        "[card number]",
        "[email]",
        "[phone]",
        "[date of birth]",
        "[SSN]",
    ]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("My card is 4111 1111 1111 1111.", "My card is [card number]."),
        (
            "It's four one one one, um, one one one one, uh, one one one one, one one one one.",
            "It's [card number].",
        ),
        (
            "It's forty-one eleven, eleven eleven, eleven eleven, eleven eleven.",
            "It's [card number].",
        ),
        ("Triple five five, 5555, five five five five, double four double four.", None),
        ("Email john dot smith at gmail dot com, thanks.", "Email [email], thanks."),
        ("It's j o h n dot smith at gmail dot com.", "It's [email]."),
        ("Send it to grace_walker85@yahoo.co.uk please.", "Send it to [email] please."),
        ("Call me on (212) 555-0147.", "Call me on [phone]."),
        ("My number's plus one, four one five, five five five, oh one six two.", None),
        ("My mobile is 07700 900123.", "My mobile is [phone]."),
        ("SSN 900-12-3456.", "SSN [SSN]."),
        ("My social is nine zero zero, one two, three four five six.", "My social is [SSN]."),
        ("I was born on July 14, 1962.", "I was born on [date of birth]."),
        (
            "Date of birth, the third of March nineteen eighty-five.",
            "Date of birth, [date of birth].",
        ),
    ],
)
def test_personal_data_is_replaced_by_its_placeholder(text: str, masked: str | None) -> None:
    result = mask_text(text)
    if masked is not None:
        assert result == masked
    assert not re.search(r"\d", result)
    assert "[" in result


@pytest.mark.parametrize(
    "text",
    [
        "That'll be forty-nine ninety-nine a month, or $499.99 a year.",
        "I'll call you back at three thirty, or 4:45 at the latest.",
        "Your order number is 4111 1111 1111 1112.",
        "It's order four one one one, one one one one, one one one one, one one one two.",
        "My policy renews on March 3rd, 2027.",
        "The appointment is the third of March, twenty twenty-six.",
        "Visit us at brightline dot com for more details.",
        "I have three kids, two dogs and one cat.",
        "Ten, nine, eight, seven, six, five, four, three, two, one.",
        "The social worker will call on Monday at 10:30.",
        "Your ticket is NW-482913 and your ZIP is 94107.",
    ],
)
def test_ordinary_numbers_and_dates_stay(text: str) -> None:
    assert find_personal_data(text) == []
    assert mask_text(text) == text


def test_a_card_read_over_three_turns_is_masked_in_each_and_the_acknowledgements_stay() -> None:
    turns = ["My card is four one one one, one one one one,", "Mm-hm.", "1111, 1111. Okay?"]
    assert mask_turns(turns) == ["My card is [card number],", "Mm-hm.", "[card number]. Okay?"]
    found = find_in_turns(turns)
    assert [[item.kind for item in items] for items in found] == [[Kind.CARD], [], [Kind.CARD]]


def test_a_date_of_birth_is_masked_when_the_question_came_in_the_turn_before() -> None:
    turns = ["Can I have your name and date of birth?", "Olivia Johnson, March 17, 1984."]
    assert mask_turns(turns)[1] == "Olivia Johnson, [date of birth]."
    assert mask_text(turns[1]) == turns[1]  # alone, it is just a date


def test_a_nine_digit_number_is_an_ssn_only_after_a_cue() -> None:
    assert mask_text("My social is 900123456.") == "My social is [SSN]."
    assert mask_text("My account is 900123456.") == "My account is 900123456."


def test_found_spans_are_ordered_and_apart() -> None:
    text = "Card 4242 4242 4242 4242, email a.b@example.com, phone 415-555-0162."
    found = find_personal_data(text)
    assert [item.kind for item in found] == [Kind.CARD, Kind.EMAIL, Kind.PHONE]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert [text[item.start : item.end] for item in found] == [
        "4242 4242 4242 4242",
        "a.b@example.com",
        "415-555-0162",
    ]


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550162", "+1 415 ••• ••62"),
        ("+447700900123", "+44 7700 ••••23"),
        ("+442079460958", "+44 20 •••• ••58"),
        ("12345", "•••45"),
        ("not a number 9", "9"),
        ("", ""),
    ],
)
def test_a_contact_number_shows_its_country_area_and_last_two_digits(
    number: str, masked: str
) -> None:
    assert mask_phone_number(number) == masked


# ---------------------------------------------------------------------- properties

_UNIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = (
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_NUMBER_WORDS = {
    *_UNIT_WORDS, *_TEENS, *_TENS, "oh", "double", "triple", "hundred", "thousand",
} - {""}  # fmt: skip
_FILLERS = (" ", " ", ", ", "-", ", um, ", " uh ", ", uh, ", ", let me see, ", "... ")
_BEFORE = (
    "My card number is ",
    "Sure, it's ",
    "Okay so the card is ",
    "Card: ",
    "",
    "Right, the long number on the front is ",
    "Let me get my wallet. It's ",
    "Yes, use the Visa: ",
)
_AFTER = (".", ", thanks.", " and it expires soon.", "?", "", ". Did you get that?")


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        number = body + check
        total = 0
        for index, char in enumerate(reversed(number)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    return _luhn_complete(body)


def _digit_words(draw: st.DrawFn, digits: str) -> str:
    words, i = [], 0
    while i < len(digits):
        run = len(digits[i:]) - len(digits[i:].lstrip(digits[i]))
        repeat = draw(st.sampled_from((1, 2, 3)))
        if repeat > 1 and run >= repeat:
            zero = draw(st.sampled_from(("oh", "zero")))
            unit = zero if digits[i] == "0" else _UNIT_WORDS[int(digits[i])]
            words.append(f"{'double' if repeat == 2 else 'triple'} {unit}")
            i += repeat
            continue
        if digits[i] == "0":
            words.append(draw(st.sampled_from(("oh", "zero", "o"))))
        else:
            words.append(_UNIT_WORDS[int(digits[i])])
        i += 1
    return " ".join(words)


def _pair_words(draw: st.DrawFn, digits: str) -> str:
    words = []
    for i in range(0, len(digits), 2):
        tens, unit = int(digits[i]), int(digits[i + 1])
        if tens == 0:
            words.append(f"{draw(st.sampled_from(('oh', 'zero')))} {_UNIT_WORDS[unit]}")
        elif tens == 1:
            words.append(_TEENS[unit])
        elif unit == 0:
            words.append(_TENS[tens])
        else:
            words.append(f"{_TENS[tens]}{draw(st.sampled_from(('-', ' ')))}{_UNIT_WORDS[unit]}")
    return " ".join(words)


@st.composite
def spoken(draw: st.DrawFn, number: str) -> str:
    """``number`` as people read it out: groups of digits, numerals or words, with fillers."""
    groups, i = [], 0
    while i < len(number):
        size = draw(st.integers(1, 5))
        groups.append(number[i : i + size])
        i += size
    said: list[str] = []
    for index, group in enumerate(groups):
        style = draw(st.sampled_from(("numerals", "words", "pairs")))
        if style == "pairs" and len(group) % 2 == 0:
            text = _pair_words(draw, group)
        elif style == "words" or style == "pairs":
            text = _digit_words(draw, group)
        else:
            text = group
        if index:
            previous_bare_tens = said[-1].split()[-1] in _TENS
            filler = draw(st.sampled_from(_FILLERS))
            # "forty one" would be 41: after a bare tens word people pause.
            said.append(", " if previous_bare_tens and filler in (" ", "-") else filler)
        said.append(text)
    return "".join(said)


@st.composite
def cards_in_sentences(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(card_numbers())
    return number, draw(st.sampled_from(_BEFORE)) + draw(spoken(number)) + draw(
        st.sampled_from(_AFTER)
    )


def _no_number_left(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    return not re.search(r"\d", text) and not _NUMBER_WORDS.intersection(words)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cards_in_sentences())
@example(("4111111111111111", "It's four one one one, um, one one one one 1111 eleven eleven."))
def test_a_card_number_however_it_is_read_is_masked_whole(case: tuple[str, str]) -> None:
    _number, text = case
    masked = mask_text(text)
    assert Kind.CARD.placeholder in masked
    assert _no_number_left(masked), masked


@settings(max_examples=150, deadline=None)
@given(card_numbers(), st.data())
def test_a_card_number_read_over_turns_with_acknowledgements_is_masked_in_every_turn(
    number: str, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(number) - 1), min_size=1, max_size=3)))
    pieces = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    turns = [data.draw(st.sampled_from(_BEFORE)) + data.draw(spoken(pieces[0])) + ","]
    for piece in pieces[1:]:
        if data.draw(st.booleans()):
            turns.append(data.draw(st.sampled_from(("Mm-hm.", "Okay.", "Uh-huh, go on.", "Yes."))))
        turns.append(data.draw(spoken(piece)) + data.draw(st.sampled_from((",", ".", ""))))
    masked = mask_turns(turns)
    assert all(_no_number_left(turn) for turn in masked), masked
    assert sum(turn.count(Kind.CARD.placeholder) for turn in masked) == len(pieces)


_PRICES = st.builds(
    lambda dollars, cents: f"${dollars}.{cents:02d}", st.integers(1, 9999), st.integers(0, 99)
)
_SPOKEN_PRICES = st.builds(
    lambda a, b: f"{_TENS[a]}-{_UNIT_WORDS[b]} ninety-nine",
    st.integers(2, 9),
    st.integers(1, 9),
)
_TIMES = st.one_of(
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(1, 12), st.integers(0, 59)),
    st.builds(lambda h, m: f"{_UNIT_WORDS[h]} {_TENS[m]}", st.integers(1, 9), st.integers(2, 5)),
)
_COUNTS = st.integers(0, 5000).map(str)
_MONTHS = ("January", "March", "May", "July", "October", "December")
_DATES = st.builds(
    lambda month, day, year: f"{month} {day}, {year}",
    st.sampled_from(_MONTHS),
    st.integers(1, 28),
    st.integers(1950, 2030),
)


@st.composite
def order_numbers(draw: st.DrawFn) -> str:
    number = draw(st.text("0123456789", min_size=16, max_size=16))
    assume(_luhn_complete(number[:-1]) != number)
    groups = [number[i : i + 4] for i in range(0, 16, 4)]
    return draw(st.sampled_from((" ", "-", ""))).join(groups)


_SENTENCES = st.one_of(
    _PRICES.map(lambda price: f"That comes to {price} a month"),
    _SPOKEN_PRICES.map(lambda price: f"It's only {price}"),
    _TIMES.map(lambda time: f"We can call you back at {time}"),
    _COUNTS.map(lambda count: f"We sold {count} units"),
    order_numbers().map(lambda number: f"Your order number is {number}"),
    _DATES.map(lambda date: f"Your policy renews on {date}"),
    _DATES.map(lambda date: f"The appointment is on {date}"),
    st.sampled_from(
        (
            "Visit us at brightline dot com",
            "Press one for billing and two for support",
            "You'll get an email confirming the change",
            "The social worker is at work until six",
            "My son was born in Ohio",
        )
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SENTENCES, min_size=1, max_size=4))
def test_text_without_personal_data_is_left_alone(sentences: list[str]) -> None:
    text = ". ".join(sentences) + "."
    assert find_personal_data(text) == []
    assert mask_text(text) == text


_ANY_TEXT = st.one_of(
    st.lists(_SENTENCES, min_size=1, max_size=3).map(". ".join),
    cards_in_sentences().map(lambda case: case[1]),
    st.text(alphabet="0123456789 ,.-+()@[]abcdefghijklmnopqrstuvwxyz", max_size=80),
    st.lists(
        st.sampled_from(
            (
                "four", "one", "oh", "double", "um", ",", "at", "dot", "com", "gmail", "john",
                "born", "March", "3rd", "1985", "social", "4111", "1111", "555", "0162",
                "415", "[card number]", "[date of birth]", "[SSN]", "[email]", "[phone]", "+1",
            )
        ),
        max_size=25,
    ).map(" ".join),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT)
def test_masking_twice_changes_nothing_more(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [kind.placeholder for kind in Kind]
            + ["My card is", "and my date of birth is", "social", "at", "dot com", ",", "."]
        ),
        max_size=12,
    ).map(" ".join)
)
def test_placeholders_are_never_found(text: str) -> None:
    # ("social at social dot com" may well be an address; a placeholder never is, nor part of one.)
    placeholders = re.compile("|".join(re.escape(kind.placeholder) for kind in Kind))
    for item in find_personal_data(text):
        assert not any(
            item.start < match.end() and match.start() < item.end
            for match in placeholders.finditer(text)
        ), text
    assert find_personal_data(placeholders.sub("", text).replace("at", "")) == []


@settings(max_examples=200, deadline=None)
@given(_ANY_TEXT)
def test_found_spans_are_in_order_inside_the_text_and_never_overlap(text: str) -> None:
    found = find_personal_data(text)
    assert all(0 <= item.start < item.end <= len(text) for item in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert all(isinstance(item, Found) for item in found)


@pytest.mark.parametrize(
    "text",
    [
        "a" + " " * 20_000 + "@b.com",
        "x" * 20_000,
        "1" * 20_000,
        "a." * 10_000,
        "oh, " * 5_000,
        "4, " * 7_000,
        "4111 um, " * 2_500,
        "born March 3, 1985 " * 1_000,
        "a@b.com " * 2_500,
    ],
    ids=[
        "spaces",
        "letters",
        "digits",
        "dots",
        "ohs",
        "digits-commas",
        "fillers",
        "dates",
        "emails",
    ],
)
def test_long_hostile_text_is_searched_in_linear_time(text: str) -> None:
    # Each of these took seconds to minutes when a pattern could restart at every character.
    started = time.perf_counter()
    mask_turns([text, text[:100]])
    assert time.perf_counter() - started < 3.0
