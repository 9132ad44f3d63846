"""Phone numbers as people type them, read into E.164 (the form Truedy's calls carry).

``(702) 555-0151``, ``702.555.0151``, ``1 702 555 0151`` and ``+1 702-555-0151`` are one number;
a number without a country code is read in ``region``. Google's libphonenumber (the
``phonenumbers`` port) does the reading; this module only decides what looks like a number.
"""

import re

import phonenumbers

# Digits with the punctuation people put between them, and an optional leading + or 00.
_PHONE_SHAPE = re.compile(r"\+?\(?[0-9][0-9 ()./\-\u00a0]*[0-9]")
MIN_DIGITS, MAX_DIGITS = 7, 15  # E.164 allows at most 15; fewer than 7 is an extension or a PIN


def looks_like_phone_number(text: str) -> bool:
    """Digits and phone punctuation only, with 7 to 15 digits: someone typed a number."""
    text = text.strip()
    digits = sum(char.isascii() and char.isdigit() for char in text)
    return _PHONE_SHAPE.fullmatch(text) is not None and MIN_DIGITS <= digits <= MAX_DIGITS


def to_e164(text: str, region: str) -> str | None:
    """The number in E.164 (``+17025550151``), or None when it cannot be a phone number."""
    text = text.strip()
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix most of the world dials
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
