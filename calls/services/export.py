"""Calls as CSV for a spreadsheet, streamed row by row with flat memory.

- Times are in the viewer's time zone, named in the header ("Created (Europe/Berlin)"), as
  ``YYYY-MM-DD HH:MM:SS``, which Excel, LibreOffice and pandas read as a date and time.
- Formula injection (ASVS 1.2.10): any text from Truedy or a user that starts with ``=``, ``+``,
  ``-``, ``@``, a tab, NUL or CR gets a leading ``'`` so a spreadsheet shows it as text. Phone
  numbers in E.164 (``+4930…``) are such text. Numbers this module writes itself (duration, cost)
  are left alone, a negative cost included: a number is not a formula, and a ``'`` would turn it
  into text.
- UTF-8 with a byte-order mark: without it Excel reads the file as the local ANSI code page and
  garbles names, emoji and right-to-left text; every other reader skips the mark.
- A failure of Truedy after rows have gone out cannot change the status line any more: the
  stream ends with a row saying the export is incomplete, and why, and the failure is logged.
- Review work: "Outcome" is the effective outcome (a reviewer's correction, else the AI's),
  beside the AI's own and who corrected it, then each call's verdict, reviewer and time. They are
  looked up ``REVIEW_BATCH`` calls at a time (two queries each), so memory stays flat.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from calls.labels import dollars
from calls.services import corrections, notes, reviews
from calls.truedy.client import format_timestamp
from calls.truedy.errors import TruedyError
from calls.truedy.records import Call

logger = logging.getLogger("calls.export")

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\0", "\r")
# Rows are sent in chunks of about this many characters: few enough writes to the socket, and
# memory that does not grow with the export.
CHUNK_CHARS = 32 * 1024
INCOMPLETE_MARK = "EXPORT INCOMPLETE"
REVIEW_BATCH = 100  # calls whose review work is looked up at once (a Truedy page)


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewColumns:
    """What the review columns of one call's row say."""

    outcome: corrections.EffectiveOutcome | None = None
    review: reviews.ReviewFacts | None = None


ReviewLookup = Callable[[Sequence[Call]], Mapping[str, ReviewColumns]]


def review_columns(calls: Sequence[Call]) -> dict[str, ReviewColumns]:
    """The review columns of each of ``calls``, in two queries (a ``ReviewLookup``)."""
    outcomes = corrections.effective_outcomes({call.id: call.outcome for call in calls})
    facts = reviews.review_facts(call.id for call in calls)
    return {call.id: ReviewColumns(outcomes.get(call.id), facts.get(call.id)) for call in calls}


def safe_cell(value: str | None) -> str:
    """Text as a spreadsheet will show it, never run it: a formula-like start gets a ``'``."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def header(zone: ZoneInfo) -> list[str]:
    where = zone.key
    return [
        "Call ID",
        f"Created ({where})",
        f"Started ({where})",
        f"Ended ({where})",
        "Agent ID",
        "Agent",
        "Status",
        "Direction",
        "From",
        "To",
        "Duration (s)",
        "Cost (USD)",
        "Cost (cents)",
        "AI outcome",
        "Outcome",
        "Outcome corrected by",
        "Verdict",
        "Reviewer",
        f"Reviewed ({where})",
        "Summary",
        "Link",
    ]


def call_row(
    call: Call,
    *,
    zone: ZoneInfo,
    agent_names: dict[str, str],
    link: str,
    review: ReviewColumns | None = None,
) -> list[str]:
    agent = agent_names.get(call.agent_id or "", "")
    outcome = review.outcome if review and review.outcome else None
    verdict = review.review if review else None
    return [
        safe_cell(call.id),
        local_time(call.created_at, zone),
        local_time(call.started_at, zone),
        local_time(call.ended_at, zone),
        safe_cell(call.agent_id),
        safe_cell(agent),
        safe_cell(call.status),
        safe_cell(call.direction),
        safe_cell(call.from_number),
        safe_cell(call.to_number),
        "" if call.duration_seconds is None else str(call.duration_seconds),
        dollars(call.cost_cents, plain=True),
        "" if call.cost_cents is None else str(call.cost_cents),
        safe_cell(call.outcome),
        safe_cell(outcome.outcome if outcome else call.outcome),
        safe_cell(outcome.corrected_by if outcome else None),
        safe_cell(verdict.verdict if verdict else None),
        safe_cell(verdict.reviewer if verdict else None),
        local_time(verdict.at if verdict else None, zone),
        safe_cell(call.summary),
        safe_cell(link),
    ]


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def call_link(base_url: str) -> Callable[[Call], str]:
    """``base_url`` is the absolute URL of the list ("https://host/calls/")."""
    return lambda call: f"{base_url}{quote(call.id, safe='')}/"


class _Echo:
    """A file-like object that hands back what is written: csv.writer renders one row into it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    calls: Iterable[Call],
    *,
    zone: ZoneInfo,
    agent_names: dict[str, str],
    link: Callable[[Call], str],
    review_work: ReviewLookup | None = None,
) -> Iterator[str]:
    """The BOM and header, then one CSV line per call, then, if Truedy failed midway, a last
    line saying the export is incomplete. ``review_work`` fills the review columns (left
    empty without it)."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header(zone))

    def rows(batch: list[Call]) -> Iterator[str]:
        found = review_work(batch) if review_work is not None and batch else {}
        for call in batch:
            yield writer.writerow(
                call_row(
                    call,
                    zone=zone,
                    agent_names=agent_names,
                    link=link(call),
                    review=found.get(call.id),
                )
            )

    size = REVIEW_BATCH if review_work is not None else 1
    written = 0
    batch: list[Call] = []
    try:
        for call in calls:
            batch.append(call)
            if len(batch) >= size:
                yield from rows(batch)
                written += len(batch)
                batch = []
    except TruedyError as error:
        yield from rows(batch)  # the calls read before the failure
        written += len(batch)
        logger.error(
            "CSV export stopped after %d rows: %s request_id=%s",
            written,
            type(error).__name__,
            error.request_id,
        )
        yield writer.writerow([incomplete_notice(written, error)])
        return
    yield from rows(batch)


def incomplete_notice(written: int, error: TruedyError) -> str:
    request = f" (Truedy request id {error.request_id})" if error.request_id else ""
    return (
        f"{INCOMPLETE_MARK}: Truedy failed after {written:,} rows{request}: {error.message}. "
        "The rows above are correct but calls are missing; download the export again."
    )


def chunked(lines: Iterable[str], *, size: int = CHUNK_CHARS) -> Iterator[bytes]:
    """Lines joined into UTF-8 chunks of about ``size`` characters."""
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer).encode()
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer).encode()


def transcript_document(call: Call, agent_names: dict[str, str]) -> dict[str, Any]:
    """A transcript as JSON: the turns of the ``.txt`` download with their speaker and start
    time, the call they belong to, and reviewers' notes on its turns (``notes``: each with its
    1-based ``turn`` and/or ``seconds``, author, mentions and whether it is resolved). Times are
    UTC ISO 8601 (as Truedy sends them); a turn's ``timestamp`` is seconds from the start of the
    call; ``speaker`` is Truedy's "agent" / "contact"."""
    return {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "agent_name": agent_names.get(call.agent_id or ""),
        "created_at": format_timestamp(call.created_at) if call.created_at else None,
        "duration_seconds": call.duration_seconds,
        "turns": [
            {"speaker": turn.speaker, "text": turn.text, "timestamp": turn.timestamp}
            for turn in call.transcript or ()
        ],
        "notes": notes.notes_document(call.id),
    }
