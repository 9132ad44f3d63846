"""A labelled corpus of call text, with and without personal data, as speech-to-text writes it.

Written before the detector (``calls.lib.personal_data``) and not tuned to it: it measures the
detector (``scripts/personal_data_figures.py``, ``tests/privacy/test_corpus_figures.py``).

Each item is one utterance (a string) or a few consecutive turns (a tuple of strings). Personal
data is marked inline as ``{kind:the exact text}``, with kind one of ``card``, ``email``,
``phone``, ``dob``, ``ssn``; the marks are removed to get the text. A value split across turns is
marked in each turn, the continuing parts as ``{kind+:...}``: they belong to the value opened
before them. Text without marks has no personal data: the hard negatives (prices, times, counts,
order numbers that fail Luhn, dates that are not births, web addresses) are there on purpose.

The numbers are test numbers (the card networks' published test cards, 555-01xx and Ofcom's
drama ranges, SSNs from the never-issued 9xx and 000 areas), never anyone's.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from calls.lib.personal_data import Found, Kind, find_in_turns

KINDS = {
    "card": Kind.CARD,
    "email": Kind.EMAIL,
    "phone": Kind.PHONE,
    "dob": Kind.DATE_OF_BIRTH,
    "ssn": Kind.SSN,
}
_MARK = re.compile(r"\{(card|email|phone|dob|ssn)(\+?):([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class Part:
    turn: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Value:
    """One piece of personal data: where each of its parts is (a part per turn it spans)."""

    kind: Kind
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Utterance:
    turns: tuple[str, ...]
    values: tuple[Value, ...]

    def text(self, part: Part) -> str:
        return self.turns[part.turn][part.start : part.end]


def parse(item: str | tuple[str, ...]) -> Utterance:
    """The marked-up item as turns and the values' exact places in them."""
    marked = (item,) if isinstance(item, str) else item
    turns: list[str] = []
    values: list[tuple[Kind, list[Part]]] = []
    for index, source in enumerate(marked):
        text, at = [], 0
        length = 0
        for match in _MARK.finditer(source):
            before = source[at : match.start()]
            text.append(before)
            length += len(before)
            kind, continues, said = KINDS[match[1]], match[2] == "+", match[3]
            part = Part(index, length, length + len(said))
            if continues:
                opened = [value for value in values if value[0] is kind]
                if not opened:
                    raise ValueError(f"{source!r}: {match[0]!r} continues nothing")
                opened[-1][1].append(part)
            else:
                values.append((kind, [part]))
            text.append(said)
            length += len(said)
            at = match.end()
        text.append(source[at:])
        turns.append("".join(text))
    return Utterance(tuple(turns), tuple(Value(kind, tuple(parts)) for kind, parts in values))


def utterances() -> Iterator[Utterance]:
    for item in CORPUS:
        yield parse(item)


@dataclass(slots=True)
class Tally:
    values: int = 0  # labelled
    found: int = 0  # labelled and covered by a detected span of the kind
    detected: int = 0  # detected spans
    correct: int = 0  # detected spans that overlap a labelled value of their kind

    @property
    def recall(self) -> float:
        return self.found / self.values if self.values else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else 1.0


@dataclass(slots=True)
class Miss:
    """A labelled value not found, or a detected span that is not a labelled value."""

    kind: Kind
    utterance: Utterance
    said: str
    missed: bool  # True: not found; False: found where nothing was


def measure() -> tuple[dict[Kind | None, Tally], list[Miss]]:
    """Recall and precision per kind (and overall under ``None``) of the detector on the corpus.

    A value counts as found when detected spans of its kind cover every character of it (in
    every turn it spans); a detected span counts as correct when it overlaps a value of its kind.
    """
    tallies: dict[Kind | None, Tally] = {kind: Tally() for kind in Kind}
    tallies[None] = Tally()
    misses: list[Miss] = []
    for utterance in utterances():
        detected = find_in_turns(utterance.turns)
        for value in utterance.values:
            covered = all(_covered(part, detected[part.turn], value.kind) for part in value.parts)
            for key in (value.kind, None):
                tallies[key].values += 1
                tallies[key].found += covered
            if not covered:
                said = " / ".join(utterance.text(part) for part in value.parts)
                misses.append(Miss(value.kind, utterance, said, missed=True))
        for turn, spans in enumerate(detected):
            for span in spans:
                right = any(
                    value.kind is span.kind
                    and any(
                        part.turn == turn and part.start < span.end and span.start < part.end
                        for part in value.parts
                    )
                    for value in utterance.values
                )
                for key in (span.kind, None):
                    tallies[key].detected += 1
                    tallies[key].correct += right
                if not right:
                    said = utterance.turns[turn][span.start : span.end]
                    misses.append(Miss(span.kind, utterance, said, missed=False))
    return tallies, misses


def _covered(part: Part, spans: list[Found], kind: Kind) -> bool:
    need = set(range(part.start, part.end))
    for span in spans:
        if span.kind is kind:
            need -= set(range(span.start, span.end))
    return not need


def table(tallies: dict[Kind | None, Tally]) -> str:
    """The figures as a plain-text table."""
    lines = [f"{'kind':<14}{'values':>7}{'found':>7}{'recall':>8}{'spans':>7}{'precision':>11}"]
    for key, tally in tallies.items():
        name = "overall" if key is None else str(key)
        lines.append(
            f"{name:<14}{tally.values:>7}{tally.found:>7}{tally.recall:>8.3f}"
            f"{tally.detected:>7}{tally.precision:>11.3f}"
        )
    return "\n".join(lines)


CORPUS: tuple[str | tuple[str, ...], ...] = (
    # ------------------------------------------------------------------ card numbers, typed
    "Sure, the card number is {card:4111 1111 1111 1111}.",
    "It's {card:5555-5555-5555-4444}, expiry oh four twenty-seven.",
    "Card: {card:4242424242424242}",
    "My Amex is {card:3782 822463 10005}.",
    "Use the Discover card, {card:6011 1111 1111 1117}, please.",
    "The number on the card is {card:5105 1051 0510 5100} and the name is Grace Walker.",
    "Okay so it's {card:4012 8888 8888 1881}",
    "Charge {card:3714 496353 98431} for the full amount.",
    "My Diners card is {card:3056 930902 5904}.",
    "Try the JCB one: {card:3530 1113 3330 0000}.",
    "Visa ending in 1111, full number {card:4000 0566 5566 5556}.",
    "It's a thirteen digit Visa, {card:4222 2222 22222}.",
    "The long card is {card:4917 6100 0000 0000 003}.",
    "Card {card:6011000990139424}, security code 123.",
    "New card: {card:5425 2334 3010 9903}, expires twelve twenty-eight.",
    "Here you go, {card:4571 0000 0000 0001}.",
    "It's a Mastercard, {card:2223 0031 2200 3222}.",
    "{card:4916 3385 0608 2832} is the card I want on file.",
    "Put it on {card:4539-5787-6362-1486}, thanks.",
    "card number {card:6200 0000 0000 0005} exp 09/27 cvv 456",
    # ------------------------------------------------------------------ card numbers, spoken
    "My card number is {card:four one one one one one one one one one one one one one one one}.",
    "It's {card:four two four two, four two four two, four two four two, four two four two}.",
    "Okay, {card:five five five five, five five five five, five five five five, "
    "four four four four}.",
    "The number is {card:four one one one, um, one one one one, uh, one one one one, "
    "one one one one}.",
    "Let me read it. {card:Four zero one two, eight eight eight eight, eight eight eight eight, "
    "one eight eight one}.",
    "It's {card:four oh one two, double eight double eight, double eight double eight, "
    "one double eight one}.",
    "Sure, {card:six oh one one, one one one one, one one one one, one one one seven}.",
    "The card is {card:forty-one eleven, eleven eleven, eleven eleven, eleven eleven}.",
    "It's {card:forty-two forty-two forty-two forty-two forty-two forty-two forty-two forty-two}.",
    "Um, {card:five one oh five, one oh five one, oh five one oh, five one oh oh}.",
    "My Amex is {card:three seven eight two, eight two two four six three, one double oh oh five}.",
    "Card number, {card:4111, 1111, uh, 1111, 1111}.",
    "It's {card:five four two five, two three three four, three oh one oh, nine nine oh three}"
    ", expiry December.",
    "Yeah it's {card:4000 0566 five five six six five five five six}.",
    "Let me see, {card:six two hundred, zero zero zero zero, zero zero zero zero, "
    "zero zero zero five}.",
    "Okay the card is {card:three five three oh, one one one three, let me see, three three "
    "three oh, oh oh oh oh}.",
    "Ready? {card:Four five three nine, five seven eight seven, six three six two, one four "
    "eight six}. Got it?",
    "{card:Four nine one six, three three eight five, uh, oh six oh eight, two eight three "
    "two}, that's the one.",
    "It's {card:triple five five, five five five five, five five five five, four four four four}.",
    "Sure thing. {card:4 5 7 1 0 0 0 0 0 0 0 0 0 0 0 1}.",
    "card is {card:two two two three, double oh three one, two two oh oh, three two two two}",
    "My card? {card:Four two two two, two two two two, two two two two two}.",
    "{card:Six oh one one, oh oh oh nine, nine oh one three, nine four two four}. And the "
    "expiry is oh eight twenty-nine.",
    # ------------------------------------------------------------------ cards across turns
    (
        "My card number is {card:four one one one, one one one one},",
        "Mm-hm.",
        "{card+:one one one one, one one one one}.",
    ),
    (
        "The card is {card:five five five five, five five five five}",
        "{card+:five five five five, four four four four}.",
    ),
    (
        "Okay, {card:four two four two, four two four two},",
        "Uh-huh, go on.",
        "{card+:four two four two},",
        "Mm-hm.",
        "{card+:four two four two}.",
    ),
    (
        "Can you read me the card number?",
        "{card:4012 8888}",
        "Okay.",
        "{card+:8888 1881}",
    ),
    (
        "It's {card:six oh one one, one one one one},",
        "Yes.",
        "{card+:one one one one, one one one seven}, and it expires in May.",
    ),
    (
        "{card:Three seven eight two, eight two two four six three},",
        "Mm-hm.",
        "{card+:one oh oh oh five}.",
    ),
    (
        "What's the long number on the front of the card?",
        "{card:5105 1051}",
        "Got it.",
        "{card+:0510 5100}",
    ),
    (
        "Sure, {card:four five three nine, five seven eight seven},",
        "Right.",
        "{card+:six three six two},",
        "{card+:one four eight six}.",
    ),
    # ------------------------------------------------------------------ e-mail addresses
    "My email is {email:john.smith@gmail.com}.",
    "Send it to {email:grace_walker85@yahoo.co.uk} please.",
    "It's {email:priya.patel+billing@outlook.com}.",
    "You can reach me at {email:m.okafor@brightline-solar.com}.",
    "My email is {email:john dot smith at gmail dot com}.",
    "It's {email:grace underscore walker at yahoo dot co dot uk}.",
    "Sure, {email:priya patel at outlook dot com}... no wait, it's {email:priya dot patel at "
    "outlook dot com}.",
    "The address is {email:j o h n dot smith at gmail dot com}.",
    "That's {email:m-o-k-a-f-o-r at hotmail dot com}.",
    "Email me at {email:wei chen eighty-eight at gmail dot com}, all lower case.",
    "It's {email:hannah at harbor mutual dot com}.",
    "You can email {email:jose dot garcia at protonmail dot com}.",
    "Write to {email:support at northwind dot io}, no, my own one, {email:liam dot johnson at "
    "icloud dot com}.",
    "my email is {email:emma.rossi at gmail dot com}",
    "It's {email:kenji yamamoto at gmail.com}.",
    "Uh, it's {email:d dot novak at seznam dot cz}.",
    "{email:Ola dot mensah at gmail dot com}, that's O L A.",
    "The email on file should be {email:fatima.haddad@example.org}.",
    "It's {email:lucas underscore silva ninety at hotmail dot com}.",
    "Please use {email:ingrid at lindqvist dot se}.",
    (
        "What's the best email for you?",
        "{email:amara dot mensah at gmail dot com}.",
    ),
    (
        "My email is {email:tomas dot hernandez}",
        "Mm-hm.",
        "{email+:at yahoo dot com}.",
    ),
    # ------------------------------------------------------------------ phone numbers
    "You can call me on {phone:415-555-0162}.",
    "My number is {phone:(212) 555-0147}.",
    "Call me back at {phone:+1 702 555 0151}.",
    "It's {phone:+44 20 7946 0958}.",
    "My mobile is {phone:07700 900123}.",
    "Reach me on {phone:+44 7700 900456} after six.",
    "The best number is {phone:four one five, five five five, oh one six two}.",
    "It's {phone:two one two, five five five, zero one four seven}.",
    "Call {phone:seven oh two five five five oh one five one}.",
    "My cell is {phone:six one seven, triple five, oh one two three}.",
    "Sure, {phone:eight hundred, five five five, oh one nine nine}.",
    "It's {phone:three one two, five five five, oh one, um, one oh}.",
    "My number's {phone:plus one, four one five, five five five, oh one six two}.",
    "Text me at {phone:415.555.0199}.",
    "My work number is {phone:6175550123}.",
    "Call me on {phone:oh seven seven double oh, nine double oh, four five six}.",
    "It's {phone:1 800 555 0142}.",
    "The number is {phone:three one two five five five oh one one oh}, or my wife's, "
    "{phone:three one two five five five oh one three three}.",
    (
        "What's a good number to reach you?",
        "{phone:Four one five, five five five}",
        "Mm-hm.",
        "{phone+:oh one six two}.",
    ),
    (
        "Can I get a callback number?",
        "{phone:2125550147}.",
    ),
    "Put down {phone:702-555-0151} and {phone:702-555-0188}.",
    "My daughter's number is {phone:(617) 555-0108}, she handles the bills.",
    # ------------------------------------------------------------------ SSNs
    "My social security number is {ssn:900-12-3456}.",
    "SSN {ssn:912-34-5678}.",
    "It's {ssn:987-65-4320}, that's my social.",
    "My social is {ssn:nine zero zero, one two, three four five six}.",
    "Social security number, {ssn:nine one two three four five six seven eight}.",
    "The SSN is {ssn:9 0 0 1 2 3 4 5 6}.",
    "My social? {ssn:Nine eight seven, six five, four three two oh}.",
    (
        "Can you confirm your social security number?",
        "{ssn:Nine double oh, one two, three four five six}.",
    ),
    (
        "For verification I'll need your Social Security number.",
        "Sure, it's {ssn:912 34 5678}.",
    ),
    "The last four of my social are {ssn:four three two one}.",
    "Last four of the SSN is {ssn:6789}.",
    (
        "What's your social?",
        "{ssn:Nine hundred, twelve},",
        "Okay.",
        "{ssn+:three four five six}.",
    ),
    # ------------------------------------------------------------------ dates of birth
    "My date of birth is {dob:March 3rd, 1985}.",
    "DOB {dob:03/03/1985}.",
    "I was born on {dob:July 14, 1962}.",
    "Date of birth, {dob:the third of March nineteen eighty-five}.",
    "I was born {dob:October twenty-first, nineteen seventy}.",
    "My birthday is {dob:12 July 1990}.",
    "Date of birth is {dob:1978-11-02}.",
    "Born {dob:5/9/71}.",
    "It's {dob:March 8, 2001}, that's my date of birth.",
    "My date of birth, um, {dob:July, uh, the ninth, nineteen fifty-five}.",
    "DOB is {dob:the twenty-second of October two thousand and three}.",
    "He was born on {dob:January 1st, 2004}.",
    "I'm born {dob:the fifth of May, nineteen oh eight}.",
    "Birth date {dob:14.07.1962}.",
    "My birthday's {dob:February twenty-ninth, nineteen eighty-eight}.",
    (
        "Can I have your full name and date of birth?",
        "Olivia Johnson, {dob:March 17, 1984}.",
    ),
    (
        "And your date of birth?",
        "{dob:October 2, 1959}.",
    ),
    (
        "To confirm your identity, what's your date of birth?",
        "Um, {dob:the first of July, nineteen sixty-six}.",
    ),
    (
        "When were you born?",
        "{dob:September 30th, 1993}.",
    ),
    (
        "Could you confirm your birthday, including the year?",
        "{dob:December twenty-fifth, two thousand one}.",
    ),
    "My husband's date of birth is {dob:April 4, 1949} and mine is {dob:June 6, 1951}.",
    "Date of birth: {dob:11/30/1975}.",
    # ------------------------------------------------------------------ several kinds at once
    "Name Marcus Brown, DOB {dob:04/22/1980}, phone {phone:(212) 555-0163}.",
    "My card is {card:4111 1111 1111 1111} and my email is {email:marcus.brown@gmail.com}.",
    "Call me at {phone:415 555 0171} or email {email:mei dot kim at gmail dot com}.",
    "SSN {ssn:900-55-1234}, born {dob:May 5, 1975}.",
    (
        "I'll need the card number and a phone number for the receipt.",
        "Card is {card:five five five five, five five five five, five five five five, four "
        "four four four}, phone is {phone:six one seven, five five five, oh one four four}.",
    ),
    "Email {email:ethan walker at outlook dot com}, card {card:4242 4242 4242 4242}.",
    # ------------------------------------------------------------------ no personal data
    "That'll be forty-nine ninety-nine a month.",
    "The plan is $49.99 a month, or $499 a year.",
    "Your balance is one hundred twenty-five dollars and forty cents.",
    "I'll call you back at three thirty.",
    "Can we do Tuesday at two forty-five?",
    "We open at nine on Saturdays.",
    "I have three kids and two dogs.",
    "Your order number is 4111 1111 1111 1112.",
    "The order number is 1234 5678 1234 5678.",
    "Reference 9781234567897.",
    "Your ticket is NW-482913.",
    "It's order four one one one, one one one one, one one one one, one one one two.",
    "Tracking number 1Z999AA10123456784.",
    "My policy renews on March 3rd, 2027.",
    "The payment was due on July 12, 2026.",
    "The appointment is on the third of March.",
    "I moved here in 1985.",
    "It was installed in nineteen ninety-nine.",
    "We've been customers since 2003.",
    "Your roof could fit about seven kilowatts of panels.",
    "That covers roughly eighty-five percent of your electricity.",
    "Visit us at brightline dot com for more details.",
    "Check out our website, harbor mutual dot com.",
    "You'll get an email confirming the change.",
    "The password reset email never arrives.",
    "Press one for billing, two for support.",
    "It takes about forty minutes.",
    "I'm on the fourth floor, apartment twelve B.",
    "My ZIP code is 94107.",
    "It's ninety-four one oh seven.",
    "The router model is AX3000.",
    "Please wait ten seconds and plug it back in.",
    "We found a plan that could save you about $240 a year.",
    "The invoice from 03/03/2025 shows two charges.",
    "Our hours are 9 to 5, Monday to Friday.",
    "Room 101, second door on the left.",
    "I paid 120 dollars on the 15th.",
    "The meeting is at 10:30 on 12/05.",
    "I've been waiting for twenty-five minutes.",
    "Version 2.4.1 of the app.",
    "Can you spell that for me?",
    "The account number ends in 4821.",
    "Our fax is not in use any more.",
    "Your confirmation code is 7 4 2 9 1 8.",
    "Ten, nine, eight, seven, six, five, four, three, two, one.",
    "One two three, testing, one two three.",
    "The model year is twenty twenty-two.",
    "That was back in two thousand and eight.",
    "My son turns six on Friday.",
    "My birthday is next week.",
    "Happy birthday to your daughter!",
    "I was born in Ohio but live in Texas now.",
    "The shop was established on May 5, 1975.",
    "It'll arrive between the 3rd and the 5th.",
    "The serial number is 5012 3344 8871 0092.",
    "I need 2 boxes of 12 and 3 boxes of 24.",
    "It's eleven forty-five now.",
    "Oh, one more thing: the light is orange.",
    "Oh oh, it just went off again.",
    "We're at 455 Market Street, suite 1200.",
    "Meet me at the cafe on 5th and Main.",
    "The social worker will call on Monday.",
    "I'm social, I like talking to people.",
    "The security code on the door is 4482.",
    "That's about 1.5 gigabytes of data.",
    "Flight UA 1549 lands at 3:45 PM.",
    "Your claim number is 2024-118-00394.",
    "The pin is four digits.",
    "The total with tax is seventy-two fifty.",
    "Our customer since nineteen eighty-five.",
    "That was on March the third, twenty twenty-four.",
    "Dial nine for an outside line.",
    "I'm looking at the email from support at two o'clock.",
    "I sent it at noon.",
    "I'm at work until six.",
    (
        "What's the best time to reach you?",
        "After five thirty, or any time on the weekend.",
    ),
    (
        "Can you read me the order number?",
        "It's 5500 0055 5555 5558.",
    ),
    (
        "How much was the charge?",
        "Forty-nine ninety-nine.",
        "Mm-hm.",
        "And then another nineteen ninety-nine.",
    ),
    (
        "When did the problem start?",
        "On March 3rd, 2024, I think.",
    ),
    (
        "What's your ZIP code?",
        "Nine four one oh seven.",
    ),
    (
        "And the ticket number?",
        "NW, four eight two, nine one three.",
    ),
    (
        "When is your appointment?",
        "The twelfth of July, two thousand twenty-six.",
    ),
    (
        "How many panels would that be?",
        "About twenty-four, give or take.",
    ),
    (
        "What's the meter reading?",
        "Four five six seven eight.",
        "Okay.",
        "Point three.",
    ),
    "The receipt says 12 items, total 143.27.",
    "I'll be there in 15, maybe 20 minutes.",
    "We have slots at 9:30, 11:15 and 2:30.",
    "The code was 0000, I changed it.",
    "My house number is 2210.",
    "Channel 104 has the game.",
    "It's 72 degrees inside.",
    "I was charged 19.99 twice.",
    "The date on the letter is June 6, 2025.",
    "Your renewal date is 11/30/2026.",
    "My membership number is 0044 1278 5531.",
    "The barcode reads 0 12345 67890 5.",
    "Bring the form dated the fifth of May.",
    "It's the 2019 model, the one with four ports.",
    # ------------------------------------------------------------------ held out
    # Written after the detector's first version and measured once before any change to it
    # (the figures at that point are in README "Personal data").
    "Yeah the card's {card:four, five, three, nine, five, seven, eight, seven, six, three, six, "
    "two, one, four, eight, six}.",
    "Card number's {card:5425-2334-3010-9903}; want the expiry too?",
    "Hmm, {card:three seven one four, four nine six three five three, nine eight four three "
    "one}, that's the Amex.",
    "The visa is {card:four oh oh oh, oh five six six, five five six six, five five five six}.",
    (
        "Go ahead with the card number whenever you're ready.",
        "Okay, {card:four nine one six},",
        "Yep.",
        "{card+:three three eight five},",
        "Mm-hm.",
        "{card+:oh six oh eight, two eight three two}.",
    ),
    "I wanna pay with {card:6011 1111 1111 1117} if that's ok.",
    "Order number forty-one eleven, eleven eleven, eleven eleven, eleven twelve.",
    "Your confirmation is 5105 1051 0510 5101.",
    "The gift card code is 6011 0009 9013 9425.",
    "Her e-mail's {email:sofia dot rossi at libero dot it}? No, {email:sofia dot rossi at "
    "gmail dot com}.",
    "Put {email:noah.kim@company.io} on the invoice.",
    "You can send it to {email:aisha underscore haddad at outlook dot com} or text me.",
    "Go to northwind dot io slash help for the guide.",
    "The email said to reply at noon.",
    "Reach me at {phone:seven one eight, five five five, oh one nine two} any time.",
    "My landline is {phone:020 7946 0018}.",
    "Call {phone:1-800-555-0175} for billing.",
    "Extension four five six, please.",
    "Our office line is 555-0100.",
    (
        "Is this still the best number?",
        "No, use {phone:three four seven},",
        "Okay.",
        "{phone+:five five five, oh one two one}.",
    ),
    "My SSN? {ssn:Nine one two, three four, five six seven eight}.",
    "Social is {ssn:900 88 7766}.",
    "Socials aside, the member ID is 412 55 8890.",
    "The case number is 900-12-34567.",
    (
        "I need the last four of your social.",
        "{ssn:Seven seven six six}.",
    ),
    "My date of birth is {dob:September the ninth, nineteen ninety}.",
    "Born {dob:Aug. 3, 1977} in Dublin.",
    "DOB: {dob:1/2/1999}.",
    "My kid's birthday is {dob:June 1st 2015}.",
    (
        "And what's your date of birth?",
        "It's, um, {dob:the thirtieth of November, nineteen seventy-two}.",
    ),
    "We were born to sell solar. Offer ends March 31, 2027.",
    "The birthday sale runs until May 5, 2026? Ask about it.",
    "The account was opened on 02/14/2019.",
    (
        "When did you last pay?",
        "October the ninth, twenty twenty-five.",
    ),
    "The charge was a hundred and twelve fifty on the twelfth.",
    "Two four six eight, who do we appreciate.",
    "Room four one five, five five five people max.",
    "It weighs forty-one point five kilos.",
)
