"""Personal data by role (README, "Personal data"): what a user is shown of a call, and reveals.

A role that sees personal data masked (``roles.sees_personal_data``: a Viewer always; Reviewers
and Admins when PERSONAL_DATA_MASKED_FOR names their role) gets every ``Call`` record through
``call_for``/``calls_for`` before it is rendered or exported: contact numbers partly masked
(``+1 415 ••• ••62``), and personal data in the transcript turns, the summary and metadata
replaced by typed placeholders (``[card number]``), by calls.lib.personal_data. The originals
stay in the archive and in Truedy. A user allowed to (``roles.can_reveal_personal_data``) may
reveal one call's originals for PERSONAL_DATA_REVEAL_MINUTES, giving a reason: a
``PersonalDataReveal`` row and an audit event, written together. Audio cannot be masked
(Truedy gives turn starts, not word timings): ``roles.can_play_recordings`` decides instead.

Searching is the other way a masked value could leak: ``filters_for`` makes such a user's list
filters search the archive's masked copy (``masked_search``), so a card number or an e-mail
finds no call for them.
"""

import dataclasses
import hashlib
import inspect
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from calls.lib import personal_data as detector
from calls.lib.personal_data import find_personal_data, mask_phone_number, mask_text, mask_turns
from calls.models import AuditAction, PersonalDataReveal
from calls.services import audit, roles
from calls.services.listing import ListPage
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, Turn
from calls.truedy.timing import TimedTurn
from calls.upstream.keys import MASKED_TURNS_PREFIX
from calls.upstream.resilience import safe_get, safe_set

REASON_MAX_CHARS = 300
# Masking a 2,000-turn transcript takes the detector 85 ms or more (README, "Personal data"):
# a call's masked turns are kept this long, by a digest of its turns and of the detector's
# own source (a new detector never reads an old entry). They hold masked text only.
MASKED_TURNS_SECONDS = 3600
MASKED_TURNS_FROM = 50  # turns: shorter transcripts are masked each time
_DETECTOR = hashlib.blake2b(inspect.getsource(detector).encode(), digest_size=8).hexdigest()
# Metadata nested deeper than this is shown as a placeholder rather than walked.
METADATA_DEPTH = 8
# What a search notice calls a value that looks like personal data: a run of this many digits
# may be part of a card or phone number, masked in what the search looks in.
_DIGIT_RUN = re.compile(r"\d[\d\s().+-]{2,}\d")


class RevealRefused(Exception):
    """The user may not reveal personal data (403), or gave no usable reason (400)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


# --- what a user is shown ---------------------------------------------------------------------


def masks_for(user: Any) -> bool:
    """Whether ``user``'s role sees personal data masked (reveals aside)."""
    return not roles.sees_personal_data(user)


def active_reveal(user: Any, call_id: str) -> PersonalDataReveal | None:
    """``user``'s reveal of ``call_id`` still running, the latest-ending one; else None."""
    if user is None or not user.is_authenticated:
        return None
    return (
        PersonalDataReveal.objects.filter(user=user, call_id=call_id, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def shows_originals(user: Any, call_id: str) -> bool:
    """Whether ``user`` sees ``call_id``'s personal data as said: by role, or by a reveal."""
    return not masks_for(user) or active_reveal(user, call_id) is not None


def call_for(user: Any, call: Call) -> Call:
    """``call`` as ``user`` may see it: itself, or masked."""
    return call if shows_originals(user, call.id) else mask_call(call)


def calls_for(user: Any, calls: Iterable[Call]) -> list[Call]:
    """``call_for`` over many calls (a list page, an export): one query for the reveals."""
    calls = list(calls)
    if not masks_for(user):
        return calls
    revealed = _revealed_ids(user, {call.id for call in calls})
    return [call if call.id in revealed else mask_call(call) for call in calls]


def stream_for(user: Any, calls: Iterator[Call]) -> Iterator[Call]:
    """``calls_for`` over a stream (an export): the reveals are read once, up front."""
    if not masks_for(user):
        return calls
    revealed = _revealed_ids(user, None)
    return (call if call.id in revealed else mask_call(call) for call in calls)


def list_page_for(user: Any, found: ListPage) -> ListPage:
    """A page of the call list with its calls as ``user`` may see them (its matching lines
    come masked from a masked search already: ``filters_for``)."""
    if not masks_for(user):
        return found
    page = dataclasses.replace(found.page, calls=tuple(calls_for(user, found.page.calls)))
    return dataclasses.replace(found, page=page)


def mask_call(call: Call) -> Call:
    """``call`` with its contact numbers partly masked and personal data in its transcript,
    summary and metadata replaced by placeholders."""
    transcript = call.transcript
    if transcript:
        texts = masked_turns([turn.text for turn in transcript])
        transcript = tuple(
            turn if text == turn.text else Turn(turn.speaker, text, turn.timestamp)
            for turn, text in zip(transcript, texts, strict=True)
        )
    return dataclasses.replace(
        call,
        to_number=mask_phone_number(call.to_number) if call.to_number else call.to_number,
        from_number=mask_phone_number(call.from_number) if call.from_number else call.from_number,
        summary=mask_text(call.summary) if call.summary else call.summary,
        transcript=transcript,
        metadata=MappingProxyType(_masked_value(dict(call.metadata), 0)),
    )


def masked_turns(texts: list[str]) -> list[str]:
    """``mask_turns(texts)``, from the cache for a long transcript."""
    if len(texts) < MASKED_TURNS_FROM:
        return mask_turns(texts)
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x1e")
    key = f"{MASKED_TURNS_PREFIX}:{_DETECTOR}:{digest.hexdigest()}"
    cached = safe_get(key)
    if isinstance(cached, list) and len(cached) == len(texts):
        return cached
    masked = mask_turns(texts)
    safe_set(key, masked, MASKED_TURNS_SECONDS)
    return masked


def _masked_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if depth >= METADATA_DEPTH:
        return "[…]"
    if isinstance(value, Mapping):
        return {key: _masked_value(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked_value(item, depth + 1) for item in value]
    return value  # numbers, booleans, None


def _revealed_ids(user: Any, call_ids: set[str] | None) -> set[str]:
    """The calls of ``call_ids`` (None: any) ``user`` has a running reveal of."""
    if call_ids == set() or user is None or not user.is_authenticated:
        return set()
    running = PersonalDataReveal.objects.filter(user=user, expires_at__gt=timezone.now())
    if call_ids is not None:
        running = running.filter(call_id__in=call_ids)
    return set(running.values_list("call_id", flat=True))


# --- searching ---------------------------------------------------------------------------------


def filters_for(user: Any, filters: CallFilters) -> CallFilters:
    """The list's filters as ``user`` may search: in the masked copy for a masked role."""
    if not masks_for(user):
        return filters
    return dataclasses.replace(filters, masked_search=True)


def search_refusal(filters: CallFilters) -> str:
    """What a masked role's search page says when its search holds what looks like personal
    data (it is looked for in masked text, so it finds nothing); "" otherwise."""
    if not filters.masked_search:
        return ""
    asked = filters.q or ""
    if filters.contact or find_personal_data(asked) or _DIGIT_RUN.search(asked):
        return (
            "Phone numbers, card numbers, e-mail addresses, dates of birth and SSNs are masked "
            "for your role, so they cannot be searched: calls are not found by them."
        )
    return ""


# --- revealing ---------------------------------------------------------------------------------


def reveal(request: HttpRequest, *, call_id: str, reason: str) -> PersonalDataReveal:
    """Show ``call_id``'s originals to the request's user for PERSONAL_DATA_REVEAL_MINUTES.

    The reveal and its audit event (who, when, which call, why) are written in one
    transaction: neither exists without the other. Raises ``RevealRefused``."""
    user: Any = request.user  # signed in: can_reveal_personal_data says so
    if not roles.can_reveal_personal_data(user):
        raise RevealRefused("Your role may not reveal personal data.", status=403)
    reason = " ".join((reason or "").split())
    if not reason:
        raise RevealRefused(
            "Give a reason: why you need to see this call's personal data.", status=400
        )
    if len(reason) > REASON_MAX_CHARS:
        raise RevealRefused(
            f"The reason is too long: at most {REASON_MAX_CHARS} characters.", status=400
        )
    now = timezone.now()
    with transaction.atomic():
        made = PersonalDataReveal.objects.create(
            user=user,
            call_id=call_id,
            reason=reason,
            revealed_at=now,
            expires_at=now + timedelta(minutes=settings.PERSONAL_DATA_REVEAL_MINUTES),
        )
        audit.record_strict(
            request,
            AuditAction.REVEAL_PERSONAL_DATA,
            call_id=call_id,
            detail=f"until {made.expires_at:%Y-%m-%d %H:%M} UTC; reason: {reason}",
        )
    return made


def for_call_page(user: Any, call: Call) -> tuple[Call, dict[str, Any]]:
    """The call as ``user`` may see it, and what its page says about personal data: masked or
    not, a reveal running (until when, why), whether the user may reveal."""
    masked_role = masks_for(user)
    running = active_reveal(user, call.id) if masked_role else None
    masked = masked_role and running is None
    return mask_call(call) if masked else call, {
        "personal_data_masked": masked,
        "personal_data_reveal": running,
        "can_reveal_personal_data": masked_role and roles.can_reveal_personal_data(user),
        "reveal_reason_max": REASON_MAX_CHARS,
    }


def page_turns(call: Call, timing: Any, turn_page: Any) -> dict[str, Any]:
    """The call page's ``call``, ``timing`` and ``turn_page`` with ``call``'s turns (masked or
    not) in place of the ones they were timed on: a masked transcript is timed as it was said,
    so its silences and talk time are everyone's."""
    turns = call.transcript or ()

    def said(timed: TimedTurn) -> TimedTurn:
        index = timed.number - 1
        return dataclasses.replace(timed, turn=turns[index]) if index < len(turns) else timed

    parts: dict[str, Any] = {"call": call}
    if timing is not None:
        longest = timing.longest_silence
        parts["timing"] = dataclasses.replace(
            timing,
            turns=tuple(said(timed) for timed in timing.turns),
            longest_silence=said(longest) if longest is not None else None,
        )
    if turn_page is not None:
        parts["turn_page"] = dataclasses.replace(
            turn_page, turns=tuple(said(timed) for timed in turn_page.turns)
        )
    return parts


def recording_state_for(user: Any, state: str) -> str:
    """The call page's recording state for ``user``: "refused" in place of a playable one when
    the role may not play recordings (audio cannot be masked)."""
    if state in ("available", "archived") and not roles.can_play_recordings(user):
        return "refused"
    return state
