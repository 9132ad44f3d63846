"""Personal data in call text: where it is, and the text with it replaced by typed placeholders.

INTERIM SKELETON (the interface is fixed; the detection is being rewritten): e-mails and long
digit runs only.
"""

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass


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


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\d(?:[ -]?\d){8,}")


def find_personal_data(text: str) -> list[Found]:
    """Every piece of personal data in ``text``, in order, not overlapping."""
    found = [Found(Kind.EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += [Found(Kind.PHONE, m.start(), m.end()) for m in _DIGITS.finditer(text)]
    return sorted(found, key=lambda item: item.start)


def mask_text(text: str) -> str:
    """``text`` with each piece of personal data replaced by its placeholder."""
    return _replace(text, find_personal_data(text))


def mask_turns(texts: Sequence[str]) -> list[str]:
    """Each turn's text masked, also where a value is split across consecutive turns."""
    return [mask_text(text) for text in texts]


def mask_phone_number(number: str) -> str:
    """A contact number shown partly: ``+14155550162`` -> ``+1 415 ••• ••62``."""
    digits = [char for char in number if char.isdigit()]
    if len(digits) < 4:
        return "•" * len(digits)
    return "••• ••" + "".join(digits[-2:])


def _replace(text: str, found: Sequence[Found]) -> str:
    parts, at = [], 0
    for item in found:
        if item.start < at:
            continue
        parts += [text[at : item.start], item.kind.placeholder]
        at = item.end
    parts.append(text[at:])
    return "".join(parts)
