"""Suspicious labels: decisive AI outcomes that the call itself cannot support.

Truedy's AI labels calls "interested" or "booked" that the transcript shows could not have been
(an 8-second "Hello." came back as a booked demo). A decisive outcome is flagged when the contact
said fewer than ``SUSPICIOUS_MIN_CONTACT_WORDS`` words, or the call lasted less than
``SUSPICIOUS_MIN_SECONDS``. Here the rule is over one ``Call``, with its reasons as sentences;
calls.archive.suspicious has the outcomes, the word count and the same rule in SQL.
"""

from django.conf import settings

from calls.archive.suspicious import contact_words, is_decisive
from calls.labels import label
from calls.truedy.records import Call


def suspicion_reasons(call: Call, *, min_contact_words: int, min_seconds: int) -> tuple[str, ...]:
    """Why ``call``'s outcome looks unsupported, as sentences; empty when it does not.

    A transcript not known (not transcribed yet, or a list row) says nothing about words; an
    empty one means nobody spoke. A call without a duration says nothing about its length.
    """
    if not is_decisive(call.outcome):
        return ()
    said = f"AI said {label(call.outcome)}"
    reasons = []
    if call.transcript is not None:
        words = contact_words(call.transcript)
        if words < min_contact_words:
            spoken = "nothing" if words == 0 else f"{words} word{'' if words == 1 else 's'}"
            reasons.append(f"{said}, but the contact said {spoken}.")
    if call.duration_seconds is not None and call.duration_seconds < min_seconds:
        reasons.append(f"{said}, but the call lasted {call.duration_seconds} s.")
    return tuple(reasons)


def reasons_for(call: Call) -> tuple[str, ...]:
    """``suspicion_reasons`` at the configured thresholds (for the call page)."""
    return suspicion_reasons(
        call,
        min_contact_words=settings.SUSPICIOUS_MIN_CONTACT_WORDS,
        min_seconds=settings.SUSPICIOUS_MIN_SECONDS,
    )
