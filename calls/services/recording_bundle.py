"""Download recordings (ZIP): the MP3s of every call a list's filters match, and a manifest.

- Streamed as it is built (zipstream-ng): each recording goes into the ZIP chunk by chunk as
  storage sends it, from Truedy's signed link or, once that has expired or fails, from the
  archive's copy (``calls.archive.recordings``); nothing is held whole in memory or on disk.
  MP3s are stored, not deflated (they do not shrink); the manifest is deflated.
- ``manifest.csv``, the ZIP's last file: the CSV export's columns (``calls.services.export``),
  then each call's file in the ZIP, where its audio came from, and why there is none (or why
  the file is incomplete). It comes last because only then is every reason known; it holds one
  row per call, at most ``RECORDINGS_ZIP_MAX_CALLS`` of them.
- Truedy's rate budget: the calls are read as the CSV export reads them
  (``listing.every_matching_call``: 100 a page, two pages ahead, short rate limits waited out).
  A recording link is storage, not the API: downloading one costs no API request. Only a call
  read from the archive whose recording the archive has not copied yet, and whose link may
  still work, costs one (its call, for a fresh link); after a rate limit that cannot be waited
  out, Truedy is not asked again for that ZIP.
- A recording that cannot be had (not recorded, expired with no archived copy, storage
  failing) is a manifest row with the reason; one cut off midway carries on from the archive's
  copy when there is one, else stays in the ZIP cut short, and the manifest says so. A Truedy
  failure while reading the calls ends the ZIP normally, its manifest saying it is incomplete.
- Each recording is paced like a single one (``recording_streams.PacedStream``: storage that
  drips is given up on), and a whole ZIP holds one of its owner's recording stream slots. The
  next ``OPEN_AHEAD`` links are opened (headers only) while a recording streams, so storage's
  time to first byte is not paid once per recording in turn.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from zipstream import ZIP_DEFLATED, ZipStream

from calls.archive.recordings import open_archived_recording
from calls.archive.store import get_archived
from calls.models import ArchivedCall
from calls.services import export, listing, personal_data, recording_streams, recordings
from calls.services.recording_streams import Stream
from calls.truedy.client import LINK_REFUSED, NOT_AUDIO, deadline
from calls.truedy.errors import RateLimited, RecordingUnavailable, TruedyError
from calls.truedy.filters import CallFilters
from calls.truedy.lifecycle import (
    RECORDING_MESSAGES,
    RecordingState,
    is_live,
    link_expired,
    without_expired_link,
)
from calls.truedy.records import Call
from calls.upstream import gateway
from calls.upstream.paging import MAX_RATE_LIMIT_WAIT, MAX_RATE_LIMIT_WAITS
from calls.upstream.problems import CircuitOpen, trouble
from calls.upstream.resilience import waiting_out_short_limits

logger = logging.getLogger("calls.recording_bundle")

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ["File in ZIP", "Recording from", "Why no recording"]
FROM_TRUEDY = "Truedy"
FROM_ARCHIVE = "archive"
NO_COPY = "and the archive holds no copy"
# Links opened while an earlier recording streams (a worker thread each, per ZIP): storage's
# time to first byte overlaps the streaming instead of adding up, one recording after another.
OPEN_AHEAD = 3
# What Truedy answers about a call's recording that is no failure: it has none, or not yet.
ANSWERS = frozenset({RecordingState.NONE.value, RecordingState.NOT_YET.value})
STATES = {state.value: state for state in RecordingState}


# --- before anything streams --------------------------------------------------------------------


def count_matching(filters: CallFilters, *, per_page: int) -> int:
    """How many calls ``filters`` match, from the list's own first page (the one the person
    was looking at is usually cached: no request). Raises ``TruedyError``."""
    return listing.list_page(filters, page=1, per_page=per_page).page.total


def too_many(total: int) -> bool:
    return total > settings.RECORDINGS_ZIP_MAX_CALLS


def zip_filename(filters: CallFilters, zone: ZoneInfo) -> str:
    """``recordings-2026-11-01-to-2026-11-24.zip``: the days the filters span in the viewer's
    zone (an open end is today; no start, ``recordings-until-…``). Only [a-z0-9-]."""
    # Both bounds are exclusive: the days are those of the first and last instants inside.
    tick = timedelta(microseconds=1)
    last = filters.created_before - tick if filters.created_before else gateway.now()
    until = last.astimezone(zone).date().isoformat()
    if filters.created_after is None:
        return f"recordings-until-{until}.zip"
    first = (filters.created_after + tick).astimezone(zone).date().isoformat()
    return f"recordings-{first}-to-{until}.zip"


def open_zip(
    filters: CallFilters,
    *,
    owner: Any,
    zone: ZoneInfo,
    link: Callable[[Call], str],
    viewer: Any = None,
) -> RecordingsZip | None:
    """The ZIP of every call ``filters`` match, in one of ``owner``'s recording stream slots;
    None when no slot is free. The manifest shows the calls as ``viewer`` (the user) may see
    them (calls.services.personal_data). The first page of calls is read here: a Truedy
    failure now is raised (``TruedyError``) while the view can still answer with an error
    page."""
    if not recording_streams.SLOTS.take(owner):
        return None
    try:
        every = listing.every_matching_call(filters)
        calls = personal_data.stream_for(viewer, every) if viewer is not None else every
        first = list(islice(calls, 1))
        names = listing.agent_names_if_possible()
    except BaseException:
        recording_streams.SLOTS.give_back(owner)
        raise
    return RecordingsZip(
        chain(first, calls),
        zone=zone,
        agent_names=names,
        link=link,
        release=lambda: recording_streams.SLOTS.give_back(owner),
        closing=getattr(every, "close", None),
    )


# --- the ZIP --------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Entry:
    """One call's row of the manifest."""

    call: Call  # without its transcript and recording link (kept until the manifest is written)
    file: str = ""  # its name in the ZIP; empty when nothing of it is there
    source: str = ""  # FROM_TRUEDY or FROM_ARCHIVE (or both, when one took over from the other)
    problem: str = ""  # why there is no recording, or why the file is incomplete


class Unavailable(Exception):
    """No recording for this call, and why (the manifest's words)."""


class RecordingsZip:
    """The ZIP's bytes, as an iterator a streaming response can send and close. Closing it (at
    the end, or when the client leaves) closes the recording being read and the paging of the
    calls, and gives the stream slot back exactly once, even if it never started."""

    def __init__(
        self,
        calls: Iterable[Call],
        *,
        zone: ZoneInfo,
        agent_names: dict[str, str],
        link: Callable[[Call], str],
        release: Callable[[], None] = lambda: None,
        closing: Callable[[], None] | None = None,
    ) -> None:
        self._calls = calls
        self._zone = zone
        self._names = agent_names
        self._link = link
        self._release: Callable[[], None] | None = release
        self._closing = closing
        self._zip = ZipStream(sized=False)  # stored: MP3 is compressed already
        self._entries: list[Entry] = []
        # The recording being read: its stream, open before its bytes are asked for, and them.
        self._stream: Stream | None = None
        self._current: Generator[bytes, None, None] | None = None
        # Calls read, each with its link being opened ahead (None: no live link), and the pool
        # opening them (started with the first link).
        self._pending: deque[tuple[Call, Future[Stream] | None]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._listing = True  # more calls may come
        self._taken = 0  # calls read so far
        self._stopped: TruedyError | None = None  # Truedy failed while listing the calls
        self._cut_at_cap = False
        self._truedy_refused: TruedyError | None = None  # no more per-call requests
        self._chunks = self._generate()
        self.recordings = 0  # files in the ZIP so far
        self.bytes_sent = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._release is None:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except BaseException:
            self.close()
            raise
        self.bytes_sent += len(chunk)
        return chunk

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            if self._current is not None:
                self._current.close()
            if self._stream is not None:
                self._stream.close()  # a generator never started has nothing to close
            self._chunks.close()
            self._drop_pending()  # also when the ZIP never started
            if self._closing is not None:
                self._closing()
        finally:
            release()

    # --- building it ---

    def _generate(self) -> Generator[bytes, None, None]:
        calls = iter(self._calls)
        try:
            while True:
                self._open_ahead(calls)
                if not self._pending:
                    break
                call, opening = self._pending.popleft()
                yield from self._add(call, opening)
        finally:
            self._drop_pending()
        self._zip.add(self._manifest(), MANIFEST_NAME, compress_type=ZIP_DEFLATED)
        yield from self._zip.finalize()
        logger.info(
            "Recordings ZIP sent: %d calls, %d recordings, %d bytes",
            len(self._entries),
            self.recordings,
            self.bytes_sent,
        )

    def _open_ahead(self, calls: Iterator[Call]) -> None:
        """Read calls until ``OPEN_AHEAD`` wait behind the one to stream next, opening each
        live link in a worker thread meanwhile: storage's latency is paid while an earlier
        recording streams, not once per recording in turn."""
        cap = settings.RECORDINGS_ZIP_MAX_CALLS
        while self._listing and len(self._pending) <= OPEN_AHEAD:
            try:
                call = next(calls, None)
            except TruedyError as error:
                self._stopped, self._listing = error, False
                logger.error(
                    "Recordings ZIP: listing stopped after %d calls: %s request_id=%s",
                    self._taken,
                    type(error).__name__,
                    error.request_id,
                )
                return
            if call is None:
                self._listing = False
                return
            if self._taken >= cap:
                self._cut_at_cap, self._listing = True, False  # arrived after it was counted
                return
            self._taken += 1
            opening = None
            if call.recording_url and not link_expired(call, gateway.now()):
                opening = self._openers().submit(_open_link, call.recording_url)
            self._pending.append((call, opening))

    def _openers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(OPEN_AHEAD, thread_name_prefix="recordings-zip")
        return self._pool

    def _drop_pending(self) -> None:
        """Links opened ahead that will not be read (the client left): closed once open."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        while self._pending:
            _, opening = self._pending.popleft()
            if opening is not None:
                opening.add_done_callback(_close_opened)

    def _add(self, call: Call, opening: Future[Stream] | None) -> Iterator[bytes]:
        entry = Entry(dataclasses.replace(call, transcript=None, recording_url=None))
        self._entries.append(entry)
        try:
            stream, entry.source = self._open(call, opening)
        except Unavailable as why:
            entry.problem = str(why)
            return
        entry.file = file_name(call, self._zone)
        size = stream.headers.get("content-length", "")
        self._stream, self._current = stream, self._file_bytes(entry, stream)
        self._zip.add(self._current, entry.file, size=int(size) if size.isdigit() else None)
        yield from self._zip.all_files()
        self._stream = self._current = None
        self.recordings += 1

    def _open(self, call: Call, opening: Future[Stream] | None) -> tuple[Stream, str]:
        """The recording's stream and where it comes from: Truedy's link while it works (opened
        ahead), else the archive's copy; else ``Unavailable`` with the reason."""
        failed: TruedyError | None = None
        if opening is not None:
            try:
                return opening.result(), FROM_TRUEDY
            except TruedyError as error:
                failed = error
        copy = open_archived_recording(call.id)
        if copy is not None:
            return copy, FROM_ARCHIVE
        if failed is not None:
            raise Unavailable(f"{storage_trouble(failed)}, {NO_COPY}.")
        now = gateway.now()
        archived = get_archived(call.id)
        if not may_ask_truedy(call, archived, now):
            raise Unavailable(why_none(call, archived, now))
        if self._truedy_refused is not None:
            raise Unavailable(f"{trouble(self._truedy_refused)}, {NO_COPY}.")
        return self._ask_truedy(call), FROM_TRUEDY

    def _ask_truedy(self, call: Call) -> Stream:
        def attempt() -> Stream:
            with deadline(settings.TRUEDY_PAGE_DEADLINE):
                return recordings.open_recording(call.id)

        try:
            stream = waiting_out_short_limits(
                attempt, longest=MAX_RATE_LIMIT_WAIT, waits=MAX_RATE_LIMIT_WAITS
            )
        except TruedyError as error:
            if isinstance(error, RateLimited | CircuitOpen):
                self._truedy_refused = error  # spare Truedy the rest of this ZIP
            if isinstance(error, RecordingUnavailable) and error.code in ANSWERS:
                raise Unavailable(error.message) from error  # Truedy says: none, or not yet
            raise Unavailable(f"{storage_trouble(error)}, {NO_COPY}.") from error
        if stream.status_code != 200:
            stream.close()
            raise Unavailable(f"Truedy's storage answered {stream.status_code}, {NO_COPY}.")
        return stream

    def _file_bytes(self, entry: Entry, stream: Stream) -> Generator[bytes, None, None]:
        """The recording's bytes as storage sends them, paced like a single recording. Cut off
        midway, it carries on from the archive's copy when it came from Truedy."""
        sent = 0
        paced = recording_streams.PacedStream(stream, release=lambda: None)
        try:
            for chunk in paced:
                sent += len(chunk)
                yield chunk
        except (TruedyError, OSError) as error:  # OSError: storage, or a stream cut (too slow)
            paced.close()
            rest = self._resumed(entry, sent)
            if rest is None:
                entry.problem = (
                    f"Cut short after {sent:,} bytes ({storage_trouble(error)}): "
                    "the file in the ZIP is incomplete."
                )
                return
            entry.source = f"{FROM_TRUEDY}, then the {FROM_ARCHIVE}"
            paced = recording_streams.PacedStream(rest, release=lambda: None)
            try:
                yield from paced
            except (TruedyError, OSError) as again:
                entry.problem = (
                    f"Cut short ({storage_trouble(again)}): the file in the ZIP is incomplete."
                )
        finally:
            paced.close()

    def _resumed(self, entry: Entry, sent: int) -> Stream | None:
        """The rest of a recording Truedy's storage stopped sending, from the archive's copy."""
        if entry.source != FROM_TRUEDY:
            return None
        rest = open_archived_recording(entry.call.id, range_header=f"bytes={sent}-")
        if rest is None or rest.status_code != 206:
            return None
        return rest

    # --- the manifest ---

    def _manifest(self) -> Iterator[bytes]:
        return export.chunked(self._manifest_lines())

    def _manifest_lines(self) -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield export.BOM + writer.writerow(export.header(self._zone) + MANIFEST_COLUMNS)
        for batch in _batches(self._entries, export.REVIEW_BATCH):
            review = export.review_columns([entry.call for entry in batch])
            for entry in batch:
                row = export.call_row(
                    entry.call,
                    zone=self._zone,
                    agent_names=self._names,
                    link=self._link(entry.call),
                    review=review.get(entry.call.id),
                )
                extra = [entry.file, entry.source, export.safe_cell(entry.problem)]
                yield writer.writerow(row + extra)
        if self._stopped is not None:
            yield writer.writerow([export.incomplete_notice(len(self._entries), self._stopped)])
        if self._cut_at_cap:
            yield writer.writerow(
                [
                    f"{export.INCOMPLETE_MARK}: more calls match these filters than the "
                    f"{settings.RECORDINGS_ZIP_MAX_CALLS:,} a ZIP holds (some arrived while it "
                    "was made); narrow the filters to get the rest."
                ]
            )


def _open_link(recording_url: str) -> Stream:
    """A signed link opened (in a worker thread): storage, not Truedy's API, so it costs none
    of the rate budget. Anything but the whole file is a failure."""
    stream = gateway.get_client().open_recording(recording_url)
    if stream.status_code != 200:
        stream.close()
        raise RecordingUnavailable(f"recording link answered {stream.status_code}")
    return stream


def _close_opened(opening: Future[Stream]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


class _Echo:
    """csv.writer renders a row into it and hands the line back."""

    def write(self, value: str) -> str:
        return value


def _batches(entries: Sequence[Entry], size: int) -> Iterator[Sequence[Entry]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]


def file_name(call: Call, zone: ZoneInfo) -> str:
    """``2026-11-23_14-30-05_<call id>.mp3``: sorted by when the call was created (the
    viewer's zone). Call ids are of the checked shape: safe in a file name."""
    if call.created_at is None:
        return f"{call.id}.mp3"
    return f"{call.created_at.astimezone(zone):%Y-%m-%d_%H-%M-%S}_{call.id}.mp3"


def storage_trouble(error: BaseException) -> str:
    """Why a recording could not be read, in words (never an address or an exception)."""
    if isinstance(error, recording_streams.StreamCut):
        return "storage sent it too slowly"
    if isinstance(error, RecordingUnavailable):
        if error.code == NOT_AUDIO:
            return "Truedy's storage answered with something that is not audio"
        if error.code == LINK_REFUSED:
            return "Truedy's link points to a place the dashboard does not fetch from"
        if error.code in STATES and STATES[error.code] in RECORDING_MESSAGES:
            return RECORDING_MESSAGES[STATES[error.code]].rstrip(".")
        return "Truedy's storage refused the link (expired or withdrawn)"
    if isinstance(error, TruedyError):
        return trouble(error)
    return "storage failed"


def may_ask_truedy(call: Call, archived: ArchivedCall | None, now: datetime) -> bool:
    """A call read from the archive carries no link: Truedy is asked for one only if it may
    still work and the archive does not say the call had no recording."""
    if call.recording_url or archived is None or archived.has_recording is False:
        return False
    if is_live(call) or call.ended_at is None:
        return False
    return not link_expired(call, now)


def why_none(call: Call, archived: ArchivedCall | None, now: datetime) -> str:
    """Why a call has no recording to put in the ZIP, as its call page says it (not recorded,
    recording off, not ended, expired), an expiry with why the archive made no copy."""
    shown = recordings.recording_state_for_page(without_expired_link(call, now), now, archived)
    state = STATES.get(shown, RecordingState.NONE)  # never "available" or "archived" here
    message = RECORDING_MESSAGES.get(state, RECORDING_MESSAGES[RecordingState.NONE])
    if state is not RecordingState.EXPIRED:
        return message
    not_copied = f" ({archived.recording_error})" if archived and archived.recording_error else ""
    return f"{message.rstrip('.')}, {NO_COPY}{not_copied}."
