"""``CallFilters``: which calls a list selects, as one value every layer takes.

The five filters are ``GET /calls``' own (https://docs.truedy.ai/guides/call-management,
"GET /calls"); ``q`` is the dashboard's transcript search, which only the archive can answer
(Truedy cannot search), so it never goes upstream; nor does ``contact``, a phone number in
E.164 that the dashboard matches against a call's numbers in the archive.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

# GET /calls' filter parameters, in the order the list's query string shows them.
FILTER_NAMES = ("agent_id", "status", "direction", "created_after", "created_before")


@dataclasses.dataclass(frozen=True, slots=True)
class CallFilters:
    """``created_after``/``created_before`` are exclusive UTC instants, as the API takes them;
    None (or "") means no filter."""

    agent_id: str | None = None
    status: str | None = None
    direction: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None
    contact: str | None = None
    # Review work, the dashboard's own: "unreviewed" or a verdict; calls flagged as suspicious;
    # calls with notes nobody has resolved.
    review: str | None = None
    suspicious: bool = False
    open_notes: bool = False

    def api_params(self) -> dict[str, Any]:
        """The filters as ``GET /calls`` parameters (``TruedyClient.list_calls`` keywords)."""
        return {name: getattr(self, name) for name in FILTER_NAMES}

    @property
    def searches(self) -> bool:
        """A filter only the archive can answer: words of a transcript, a contact number, or
        the dashboard's own review work."""
        return bool(self.q or self.contact or self.review or self.suspicious or self.open_notes)

    def without_search(self) -> CallFilters:
        """The filters Truedy itself can apply."""
        return dataclasses.replace(
            self, q=None, contact=None, review=None, suspicious=False, open_notes=False
        )
