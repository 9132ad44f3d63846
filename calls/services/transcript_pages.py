"""Very long transcripts are shown a page of turns at a time.

A 60,000-turn transcript made an 18 MB page. TRANSCRIPT_PAGE_TURNS turns per page keep the
longest page to about half a megabyte; the 2,000-turn calls the simulator has (and every real
call we have seen) still fit on one. The page comes from ``?turns=N``, or from the turn a cued
moment (``?t=``) falls in, so "link to this moment" still lands on the right turn.
"""

import math
from dataclasses import dataclass

from calls.services.transcripts import TimedTurn

TRANSCRIPT_PAGE_TURNS = 2000


@dataclass(frozen=True, slots=True)
class TurnPage:
    turns: tuple[TimedTurn, ...]
    number: int  # 1-based
    count: int
    first: int  # 1-based number of the first turn shown
    last: int
    total: int
    # Where this page's moments begin and the next page's do (None: the call's start, its end),
    # so the page can tell a time it shows from one that needs another page.
    starts_at: float | None = None
    next_starts_at: float | None = None

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def page_of_turns(
    turns: tuple[TimedTurn, ...], *, wanted: str | None, current: int | None
) -> tuple[TurnPage, str]:
    """The page to show and, if ``wanted`` (the ``turns`` parameter) could not be read, why.

    A cued turn (``current``) decides the page; a page past the end shows the last one."""
    count = max(1, math.ceil(len(turns) / TRANSCRIPT_PAGE_TURNS))
    number, problem = 1, ""
    if current is not None:
        number = (current - 1) // TRANSCRIPT_PAGE_TURNS + 1
    elif wanted is not None:
        if wanted.isascii() and wanted.isdigit() and int(wanted) >= 1:
            number = min(int(wanted), count)
        else:
            problem = "“turns” must be a page number (1, 2, …)."
    start = (number - 1) * TRANSCRIPT_PAGE_TURNS
    shown = turns[start : start + TRANSCRIPT_PAGE_TURNS]
    following = start + TRANSCRIPT_PAGE_TURNS
    page = TurnPage(
        turns=shown,
        number=number,
        count=count,
        first=start + 1,
        last=start + len(shown),
        total=len(turns),
        starts_at=shown[0].start if start and shown else None,
        next_starts_at=turns[following].start if following < len(turns) else None,
    )
    return page, problem
