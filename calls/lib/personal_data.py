"""Personal data in call text: where it is, and the text with it replaced by typed placeholders.

Call text is speech-to-text output, so a card number is as likely to be "four one one one, um,
one one one one ..." as "4111 1111 ...", and may be read over several turns. What is found:

- **card numbers**: 13 to 19 digits that pass the Luhn check, typed or spoken;
- **phone numbers**: 10 or 11 digits (or ``+`` and a country code) that ``phonenumbers`` reads
  as a valid number (North America, or the UK including Ofcom's 07700 900xxx drama range);
- **e-mail addresses**: typed, or spoken (``john dot smith at gmail dot com``, letters spelled
  out), the domain ending in a known top-level domain;
- **SSNs**: ``###-##-####`` anywhere; nine digits (or "the last four") when a cue ("social
  security", "social", "SSN") comes just before;
- **dates of birth**: a full date (day, month, year; written, numeric or spoken, "the third of
  March nineteen eighty-five") next to a cue ("born", "birthday", "date of birth", "DOB").

Spoken digits: zero/oh/o, one to nine, ten to nineteen, the tens ("forty-one eleven" is 4111),
"double"/"triple" and "hundred" ("eight hundred" is 800). Between the digits of one number may come
spaces, hyphens, dots, brackets, commas and fillers ("um", "uh", "let me see", "and then"); a
number stops at any other word. Ordinary numbers stay: prices ($49.99, "forty-nine ninety-nine"),
times (3:30), counts, order numbers that fail Luhn and are not phone numbers, dates with no birth
cue.

Across turns (``find_in_turns``/``mask_turns``): the turns are read as one text, a turn break
counting as a pause, and a turn that only acknowledges ("Mm-hm.", "Okay.", "Uh-huh, go on.") is
stepped over, so a card number read in three turns with the other speaker's "mm-hm" between is
one value; each turn's share of it is masked in that turn and the acknowledgement stays. The
cues reach back across turns, so "And your date of birth?" covers the answer in the next turn.
"""

import enum
import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import phonenumbers


class Kind(enum.StrEnum):
    CARD = "card number"
    EMAIL = "email"
    PHONE = "phone"
    DATE_OF_BIRTH = "date of birth"
    SSN = "SSN"

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


@dataclass(frozen=True, slots=True)
class Found:
    kind: Kind
    start: int  # offsets into the text searched, end exclusive
    end: int


def find_personal_data(text: str) -> list[Found]:
    """Every piece of personal data in ``text``, in order, not overlapping."""
    return _find(text)


def find_in_turns(texts: Sequence[str]) -> list[list[Found]]:
    """What ``find_personal_data`` finds in each turn, reading consecutive turns as one text.

    A value read over several turns gives a ``Found`` in each turn that holds part of it.
    """
    joined: list[str] = []
    starts: list[int] = []
    at = 0
    for text in texts:
        if _is_acknowledgement(text):
            starts.append(-1)
            continue
        if joined:
            joined.append(_TURN_BREAK)
            at += len(_TURN_BREAK)
        starts.append(at)
        joined.append(text)
        at += len(text)
    found = _find("".join(joined))
    ends = [item.end for item in found]  # ascending: the finds are in order and apart
    per_turn: list[list[Found]] = [[] for _ in texts]
    for index, (text, start) in enumerate(zip(texts, starts, strict=True)):
        if start < 0:
            continue
        end = start + len(text)
        for item in found[bisect_right(ends, start) :]:
            if item.start >= end:
                break
            lo, hi = max(item.start, start) - start, min(item.end, end) - start
            # A value cut at a turn break: this turn's share, without the edge's punctuation.
            while item.start < start and lo < hi and not text[lo].isalnum():
                lo += 1
            while item.end > end and hi > lo and not text[hi - 1].isalnum():
                hi -= 1
            if lo < hi:
                per_turn[index].append(Found(item.kind, lo, hi))
    return per_turn


# Pure, and asked again for the same texts by every view of the same page (50 rows, each with
# its summary, numbers and metadata): remembered, a masked list page costs about half as much
# (issue 19, "Faster cached pages"). Bounded, per process.
@functools.lru_cache(maxsize=8192)
def mask_text(text: str) -> str:
    """``text`` with each piece of personal data replaced by its placeholder."""
    return _replace(text, find_personal_data(text))


def mask_turns(texts: Sequence[str]) -> list[str]:
    """Each turn's text masked, also where a value is split across consecutive turns."""
    return [_replace(text, found) for text, found in zip(texts, find_in_turns(texts), strict=True)]


@functools.lru_cache(maxsize=4096)  # pure, as mask_text
def mask_phone_number(number: str) -> str:
    """A contact number shown partly: ``+14155550162`` -> ``+1 415 ••• ••62``.

    The country code and the area code (or first group) stay, then every digit but the last two
    is a dot, in the number's own grouping. A number ``phonenumbers`` cannot read keeps only its
    last two digits.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        groups = re.findall(r"\d+", shown)
        if len(groups) >= 3:
            rest = "".join(groups[2:])
            masked = "•" * (len(rest) - 2) + rest[-2:]
            parts, at = [], 0
            for group in groups[2:]:
                parts.append(masked[at : at + len(group)])
                at += len(group)
            return " ".join([f"+{groups[0]}", groups[1], *parts])
    digits = [char for char in number if char.isdigit()]
    return "•" * max(len(digits) - 2, 0) + "".join(digits[-2:])


# ---------------------------------------------------------------------- the search

_TURN_BREAK = "\n"
_PLACEHOLDERS = re.compile("|".join(re.escape(kind.placeholder) for kind in Kind))
# Which of two overlapping finds of different kinds wins: the more specific pattern.
_PRIORITY = {Kind.EMAIL: 0, Kind.SSN: 1, Kind.DATE_OF_BIRTH: 2, Kind.CARD: 3, Kind.PHONE: 4}


def _find(text: str) -> list[Found]:
    # Placeholders are blanked first, so masked text is never found again ("[date of birth]"
    # would otherwise be a birth cue) and masking is idempotent.
    scan = _PLACEHOLDERS.sub(lambda match: "[" + "#" * (len(match[0]) - 2) + "]", text)
    found = [*_emails(scan), *_ssns_typed(scan), *_dates_of_birth(scan), *_numbers(scan)]
    found.sort(key=lambda item: (item.start, _PRIORITY[item.kind], -item.end))
    kept: list[Found] = []
    for item in found:
        if kept and item.start < kept[-1].end:
            last = kept[-1]
            if item.kind is last.kind:
                kept[-1] = Found(last.kind, last.start, max(last.end, item.end))
            elif _PRIORITY[item.kind] < _PRIORITY[last.kind]:
                kept[-1] = item
            continue
        kept.append(item)
    return kept


def _replace(text: str, found: Sequence[Found]) -> str:
    parts, at = [], 0
    for item in found:
        if item.start < at:
            continue
        parts += [text[at : item.start], item.kind.placeholder]
        at = item.end
    parts.append(text[at:])
    return "".join(parts)


_ACKNOWLEDGEMENTS = (
    "mm hm mhm mmhm mm-hm uh-huh uh huh okay ok yes yeah yep yup right got it go on sure "
    "alright all i see sorry"
)
_ACKNOWLEDGEMENT_WORDS = frozenset(_ACKNOWLEDGEMENTS.split())


def _is_acknowledgement(text: str) -> bool:
    words = re.findall(r"[\w'-]+", text.lower())
    return 0 < len(words) <= 4 and all(word in _ACKNOWLEDGEMENT_WORDS for word in words)


# ---------------------------------------------------------------------- e-mail addresses

_TLDS = "com|net|org|edu|gov|io|co|uk|ca|de|fr|it|info|biz|ie|au|se|cz|nl|es|ch|at|be|dk|no|pl"
# The look-behinds let a match start only where a word or a space run starts: without them a
# long run of letters or spaces is re-read from each of its characters (quadratic time).
_TYPED_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "@" or " at ", then the domain: one or two words, dots (typed or spoken), a known TLD.
_AT_DOMAIN = re.compile(
    r"(?:(?<=\S)\s+at\s+|(?<=\S)@\s*|(?<=\S)\s+@\s*)"
    r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\s+(?!dot\b|at\b)[a-z0-9]+)?"
    r"(?:(?:\s+dot\s+|\.)[a-z0-9]+(?:-[a-z0-9]+)*)*"
    rf"(?:\s+dot\s+|\.)(?:{_TLDS})\b",
    re.IGNORECASE,
)
_LOCAL_WORD = re.compile(r"[\w]+(?:['\u2019-][\w]+)*")
_LOCAL_JOINERS = frozenset({"dot", "underscore", "dash", "hyphen", "period", "plus"})
_NOT_LOCAL_WORDS = """is it's its it\u2019s email e-mail emails mail address me my at to the that's
    thats that it sure okay ok um uh use please send write reach you can on file be should no wait
    and or of
    for from with us website site online visit find here there home also try his her their our
    your was are i i'm so yes yeah just out look check contact email's is: then a an by via
    in up call text spell spelled"""
_NOT_LOCAL = frozenset(_NOT_LOCAL_WORDS.split())


def _emails(text: str) -> Iterator[Found]:
    typed = (
        [Found(Kind.EMAIL, match.start(), match.end()) for match in _TYPED_EMAIL.finditer(text)]
        if "@" in text
        else []
    )
    yield from typed
    typed_ends = [item.end for item in typed]
    for match in _AT_DOMAIN.finditer(text):
        index = bisect_right(typed_ends, match.start())
        if index < len(typed) and typed[index].start <= match.start():
            continue  # the "@" of a typed address
        start = _local_part_start(text, match.start())
        if start is not None:
            yield Found(Kind.EMAIL, start, match.end())


def _local_part_start(text: str, end: int) -> int | None:
    """Where the spoken local part before ``end`` starts: words back to a word that is not one."""
    words = list(_LOCAL_WORD.finditer(text, max(0, end - 80), end))
    start: int | None = None
    count = 0
    for word in reversed(words):
        gap = text[word.end() : start if start is not None else end]
        if gap.strip(" \t\n._+-") or "\n\n" in gap:
            break  # other punctuation between: the address started after it
        lowered = word[0].lower()
        if lowered in _LOCAL_JOINERS and start is not None:
            start = word.start()
            continue
        if lowered in _NOT_LOCAL or count == 6:
            break
        start, count = word.start(), count + 1
    if start is not None and text[start:end].lower().split()[0] in _LOCAL_JOINERS:
        return None
    return start


# ---------------------------------------------------------------------- SSNs, typed

_TYPED_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")


def _ssns_typed(text: str) -> Iterator[Found]:
    for match in _TYPED_SSN.finditer(text):
        yield Found(Kind.SSN, match.start(), match.end())


# ---------------------------------------------------------------------- dates of birth

_UNIT_WORDS = "one|two|three|four|five|six|seven|eight|nine"
_TEEN_WORDS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS_WORDS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_ORDINAL_UNITS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_ORDINALS = (
    rf"(?:(?:twenty|thirty)[\s-]*(?:{_ORDINAL_UNITS})|{_ORDINAL_UNITS}|tenth|eleventh|twelfth|"
    r"(?:thir|four|fif|six|seven|eigh|nine)teenth|twentieth|thirtieth)"
)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_DAY = (
    rf"(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINALS}|"
    rf"(?:twenty|thirty)[\s-]*(?:{_UNIT_WORDS})|{_TEEN_WORDS}|twenty|thirty|{_UNIT_WORDS})"
)
_SPOKEN_YEAR = (
    rf"(?:(?:nineteen|eighteen)[\s-]+(?:(?:{_TENS_WORDS})(?:[\s-]+(?:{_UNIT_WORDS}))?|"
    rf"{_TEEN_WORDS}|(?:oh|o)[\s-]+(?:{_UNIT_WORDS})|hundred)"
    rf"|two\s+thousand(?:\s+and)?(?:[\s-]+(?:(?:{_TENS_WORDS})(?:[\s-]+(?:{_UNIT_WORDS}))?|"
    rf"{_TEEN_WORDS}|{_UNIT_WORDS}))?"
    rf"|twenty[\s-]+(?:(?:oh|o)[\s-]+(?:{_UNIT_WORDS})|{_TEEN_WORDS}|"
    rf"(?:{_TENS_WORDS})(?:[\s-]+(?:{_UNIT_WORDS}))?))"
)
_YEAR = rf"(?:\d{{4}}|'\d{{2}}|{_SPOKEN_YEAR})"
_GAP = r"(?:[\s,]+(?:(?:um|uh|erm|er)[\s,]+)?)"
_DATE = re.compile(
    rf"\b(?:{_MONTH}{_GAP}{_DAY}{_GAP}{_YEAR}"
    rf"|{_DAY}{_GAP}(?:of{_GAP})?{_MONTH}{_GAP}{_YEAR}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{2}-\d{2})(?![\w/.-]\d)\b",
    re.IGNORECASE,
)
_BIRTH_CUE = re.compile(
    r"\b(?:born|birth|birthday|birthday's|b-day|dob|d\.o\.b\.?|d o b)\b"
    r"(?!\s+(?:sale|party|parties|card|cards|present|gift|offer|discount|deal)s?\b)",
    re.IGNORECASE,
)
_CUE_BEFORE, _CUE_AFTER, _LISTED = 80, 40, 15  # characters


def _dates_of_birth(text: str) -> Iterator[Found]:
    cues = [(match.start(), match.end()) for match in _BIRTH_CUE.finditer(text)]
    if not cues:
        return
    cue_ends = [cue_end for _cue_start, cue_end in cues]
    previous: Found | None = None
    for match in _DATE.finditer(text):
        start, end = match.start(), match.end()
        # Only the nearest cue on each side can qualify: a farther one has more text between.
        before = bisect_right(cue_ends, start) - 1
        after = bisect_left(cue_ends, end + 1)
        birth = (
            before >= 0
            and start - cue_ends[before] <= _CUE_BEFORE
            and _clear(text[cue_ends[before] : start], sentence=True)
        ) or (
            after < len(cues)
            and 0 <= cues[after][0] - end <= _CUE_AFTER
            and _clear(text[end : cues[after][0]], sentence=True)
        )
        # "... date of birth is April 4, 1949 and mine is June 6, 1951": listed together.
        if not birth and previous is not None:
            birth = start - previous.end <= _LISTED and _clear(text[previous.end : start])
        if birth:
            previous = Found(Kind.DATE_OF_BIRTH, start, end)
            yield previous


_SENTENCE_END = re.compile(r"[.!](?:\s|$)")


def _clear(between: str, *, sentence: bool = False) -> bool:
    """Nothing between a cue and a value that could be the value the cue was about.

    With ``sentence``, no full stop either: "My son was born in Ohio. The policy renews on
    January 1, 1950." (A question mark and a turn break may come between: "And your date of
    birth?" is answered in the next turn.)
    """
    if sentence and _SENTENCE_END.search(between):
        return False
    return not any(char.isdigit() or char == "[" for char in between)


# ---------------------------------------------------------------------- numbers

_UNITS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "naught": "0", "one": "1", "two": "2",
    "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_TEENS = {word: str(10 + n) for n, word in enumerate(_TEEN_WORDS.split("|"))}
_TENS = {word: str(20 + 10 * n) for n, word in enumerate(_TENS_WORDS.split("|"))}
_NUMBER_WORDS = frozenset([*_UNITS, *_TEENS, *_TENS, "double", "triple"])
_FILLER_WORDS = "um uh er erm uhm hmm ah and then so sorry wait"
_FILLERS = frozenset(_FILLER_WORDS.split())
_FILLER_PHRASES = re.compile(
    r"\b(?:let\s+me\s+(?:see|check|think)|hold\s+on|hang\s+on|one\s+sec(?:ond)?|i\s+mean)\b",
    re.IGNORECASE,
)
# Tokens: amounts, times and decimals are whole words (never part of a number); then words,
# then single characters.
_TOKEN = re.compile(
    r"(?:\$\s?\d[\d,]*(?:\.\d+)?|\d{1,2}:\d{2}|(?<![\d.])\d+\.\d{1,2})(?![^\W_]|\.\d)"
    r"|[^\W_]+(?:['\u2019][^\W_]+)*|\S"
)
_JOINERS = frozenset("-\u2013()+")
_PAUSES = frozenset(",;:.…")
# Where a number may start: a digit that starts a token, "$" (an amount, read whole), "+", a
# number word or "plus" (each a whole token, as _TOKEN reads them).
_WORD_EDGE = r"(?<![^\W_])(?:{})(?![^\W_]|['\u2019][^\W_])"
_ANCHOR = re.compile(
    r"(?<![^\W_])\d|\$\s?\d|\+|"
    + _WORD_EDGE.format("|".join(sorted([*_NUMBER_WORDS, "plus"], key=len, reverse=True))),
    re.IGNORECASE,
)
_FULL_STOPS = frozenset(";:.…")  # a number may be cut there, as at a filler; not at a comma
_PREFIX = re.compile(r"(?:\bplus\b|[+(])[\s,]*$", re.IGNORECASE)


@dataclass(slots=True)
class _Digits:
    start: int
    end: int
    digits: str
    weak: bool = False  # "oh" / "o": a zero only inside a number


@dataclass(slots=True)
class _Group:
    """Digits read without a pause; a number is one or more groups in a row."""

    items: list[_Digits]
    pause_before: str = ""  # "," / "filler" / "turn": what separated it from the group before
    plus: bool = False


def _numbers(text: str) -> Iterator[Found]:
    for run in _runs(text):
        yield from _classify_run(text, run)


def _runs(text: str) -> Iterator[list[_Group]]:
    """Runs of digit groups: digits with only joiners, pauses and fillers between them.

    Only the stretches that start with a digit, a number word or a plus sign are read token by
    token (most of a call is words): from there to the first token that cannot be in a number.
    """
    scan = _FILLER_PHRASES.sub(lambda match: "~" * len(match[0]), text)
    at = 0
    while (anchor := _ANCHOR.search(scan, at)) is not None:
        tokens = []
        for match in _TOKEN.finditer(scan, anchor.start()):
            tokens.append((match.start(), match.end(), match[0]))
            if not _in_number(match[0]):
                break
        yield from _runs_in(text, tokens)
        at = tokens[-1][1]


def _in_number(said: str) -> bool:
    """Whether a token may be part of a number (or come between the digits of one)."""
    lowered = said.lower()
    return (
        (said.isdigit() and said.isascii())
        or lowered in _NUMBER_WORDS
        or lowered in ("hundred", "plus")
        or said in _JOINERS
        or said in _PAUSES
        or lowered in _FILLERS
        or said == "~"
    )


def _runs_in(text: str, tokens: list[tuple[int, int, str]]) -> Iterator[list[_Group]]:
    run: list[_Group] = []
    pause = ""
    plus = False
    i = 0
    while i < len(tokens):
        start, _end, said = tokens[i]
        lowered = said.lower()
        if run and i and "\n" in text[tokens[i - 1][1] : start]:
            pause = "turn"
        if said.isdigit() or lowered in _NUMBER_WORDS:
            digits, used = _read_number(text, tokens, i)
        else:
            digits, used = [], 0
        if digits:
            if not run or pause:
                run.append(_Group([], pause_before=pause, plus=plus))
                pause, plus = "", False
            run[-1].items.extend(digits)
            i += used
            continue
        if said in _JOINERS:
            if said == "+":
                plus = True
        elif said in _PAUSES or lowered in _FILLERS or said == "~":
            if run:
                stop = lowered in _FILLERS or said == "~" or said in _FULL_STOPS
                pause = pause or ("filler" if stop else ",")
        elif lowered == "plus":
            plus = True
        else:
            if run:
                yield run
            run, pause, plus = [], "", False
        i += 1
    if run:
        yield run


def _read_number(
    text: str, tokens: list[tuple[int, int, str]], i: int
) -> tuple[list[_Digits], int]:
    """The digits that the number word(s) or numeral at ``tokens[i]`` say, and tokens used."""
    start, end, token = tokens[i]
    if token.isdigit() and token.isascii():
        return [_Digits(start, end, token)], 1
    word = token.lower()
    after = tokens[i + 1][2].lower() if i + 1 < len(tokens) else ""
    if word in ("double", "triple") and after in _UNITS and after not in ("o",):
        times = 2 if word == "double" else 3
        return [_Digits(start, tokens[i + 1][1], _UNITS[after] * times)], 2
    if word in _UNITS:
        if after == "hundred":
            # "eight hundred" is 800; "four hundred fifteen" is 415
            rest, used = _read_number(text, tokens, i + 2) if i + 2 < len(tokens) else ([], 0)
            if rest and len(rest[0].digits) == 2 and not rest[0].weak:
                tail = rest[0]
                return [_Digits(start, tail.end, _UNITS[word] + tail.digits)], 2 + used
            return [_Digits(start, tokens[i + 1][1], _UNITS[word] + "00")], 2
        return [_Digits(start, end, _UNITS[word], weak=word in ("oh", "o"))], 1
    if word in _TEENS:
        return [_Digits(start, end, _TEENS[word])], 1
    if word in _TENS:
        # "forty-one" / "forty one": two digits; "forty" alone: 40
        j = i + 1
        if j < len(tokens) and tokens[j][2] in ("-", "\u2013"):
            j += 1
        # ... but not across a turn break: "twenty" / "eight" are two answers
        if j < len(tokens) and "\n" not in text[end : tokens[j][0]]:
            unit = tokens[j][2].lower()
            if unit in _UNITS and unit not in ("zero", "oh", "o", "nought", "naught"):
                return [_Digits(start, tokens[j][1], _TENS[word][0] + _UNITS[unit])], j + 1 - i
        return [_Digits(start, end, _TENS[word])], 1
    return [], 0


def _classify_run(text: str, run: list[_Group]) -> Iterator[Found]:
    """The personal data in one run: the whole run if it is one value, else its pieces."""
    whole = _classify(text, run)
    if whole is not None:
        yield whole
        return
    total = sum(len(item.digits) for group in run for item in group.items)
    # Where the run may be cut: at any pause when it is too long to be one value; else only at
    # turn breaks and fillers (cutting a 16-digit order number at its commas would find a
    # Luhn-valid 13-digit piece one time in ten).
    cuts = [
        index
        for index, group in enumerate(run)
        if index and (total > 19 or group.pause_before in ("turn", "filler"))
    ]
    if not cuts:
        return
    bounds = [0, *cuts, len(run)]
    sizes = [sum(len(item.digits) for item in group.items) for group in run]
    # best[k]: the most digits covered by values within run[bounds[k]:], the value that starts
    # there (if any) and where the rest starts. No value is longer than 19 digits, so each k
    # looks only that far ahead: linear in the run's length.
    best: list[tuple[int, Found | None, int]] = [(0, None, len(bounds) - 1)] * len(bounds)
    for k in range(len(bounds) - 2, -1, -1):
        best[k] = (best[k + 1][0], None, k + 1)
        covered = 0
        for m in range(k + 1, len(bounds)):
            covered += sum(sizes[bounds[m - 1] : bounds[m]])
            if covered > 19:
                break
            found = _classify(text, run[bounds[k] : bounds[m]])
            if found is not None and covered + best[m][0] > best[k][0]:
                best[k] = (covered + best[m][0], found, m)
    k = 0
    while k < len(bounds) - 1:
        _score, found, k = best[k]
        if found is not None:
            yield found


def _classify(text: str, groups: list[_Group]) -> Found | None:
    items = [item for group in groups for item in group.items]
    found = _classify_digits(text, items, groups[0].plus)
    if found is None and items[0].weak and len(items) > 1:
        found = _classify_digits(text, items[1:], False)  # "Oh, four one one one ...": a word
    return found


def _classify_digits(text: str, items: list[_Digits], plus: bool) -> Found | None:
    digits = "".join(item.digits for item in items)
    start, end = items[0].start, items[-1].end
    prefix = _PREFIX.search(text, max(0, start - 10), start)
    if prefix is not None:
        start = prefix.start()  # "+1 ...", "(212) ...", "plus one, ...": masked with the number
    if not plus and 13 <= len(digits) <= 19 and _luhn(digits):
        return Found(Kind.CARD, start, end)
    if len(digits) == 9 and _ssn_cue(text, start):
        return Found(Kind.SSN, start, end)
    if len(digits) == 4 and _last_four_cue(text, start):
        return Found(Kind.SSN, start, end)
    if _is_phone(digits, plus):
        return Found(Kind.PHONE, start, end)
    return None


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_SSN_CUE = re.compile(r"\b(?:social(?:\s+security)?|ssn|s\.?\s?s\.?\s?n\.?)\b", re.IGNORECASE)
_LAST_FOUR_CUE = re.compile(r"\blast\s+(?:four|4)\b", re.IGNORECASE)


def _ssn_cue(text: str, start: int) -> bool:
    return any(
        _clear(text[match.end() : start])
        for match in _SSN_CUE.finditer(text, max(0, start - 60), start)
    )


def _last_four_cue(text: str, start: int) -> bool:
    before = text[max(0, start - 60) : start]
    return bool(_LAST_FOUR_CUE.search(before)) and _ssn_cue(text, start)


_NANP = re.compile(r"1?[2-9]\d\d[2-9]\d{6}")  # area code and exchange never start with 0 or 1


@functools.lru_cache(maxsize=1024)
def _is_phone(digits: str, plus: bool) -> bool:
    candidates: list[tuple[str, str | None]]
    if plus:
        candidates = [("+" + digits, None)]
    elif len(digits) == 10 or (len(digits) == 11 and digits[0] == "1"):
        if not _NANP.fullmatch(digits):
            return False  # cheaply, before phonenumbers (a long run asks about many pieces)
        candidates = [(digits, "US")]
    elif len(digits) == 11 and digits[0] == "0":
        candidates = [(digits, "GB")]
    else:
        return False
    for number, region in candidates:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
        # Ofcom's drama range (07700 900xxx) is not "valid", yet it is what UK callers say.
        national = str(parsed.national_number)
        if parsed.country_code == 44 and national.startswith("7700900") and len(national) == 10:
            return True
    return False
