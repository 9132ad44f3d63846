"""``CallFilters``: which calls a list selects, as one value every layer takes.

The five filters are ``GET /calls``' own (https://docs.truedy.ai/guides/call-management,
"GET /calls"); ``q`` is the dashboard's transcript search, which only the archive can answer
(Truedy cannot search), so it never goes upstream; nor does ``contact``, a phone number in
E.164 that the dashboard matches against a call's numbers in the archive. ``campaign`` (a batch
call's id) selects the calls that campaign's contacts got: the services resolve it into
``call_ids`` through ``GET /batch-calls/{id}/contacts`` before any list is read.

What Truedy's list cannot do at all, the archive can while it is current (README, "Lists from
the archive"): ``sort`` by a column, and filter by ``outcome`` (the effective one, after
reviewers' corrections), ``duration_min``/``duration_max`` (seconds), ``cost_min``/``cost_max``
(cents), both ends inclusive, and ``has_recording``. ``needs_current_archive`` says a list asks
for any of them; ``without_current_only`` is the list without them (Truedy's).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from calls.truedy.records import Call

# GET /calls' filter parameters, in the order the list's query string shows them.
FILTER_NAMES = ("agent_id", "status", "direction", "created_after", "created_before")
# The list's orders: a column, "-" for descending. None means Truedy's own order (newest first,
# ties by id), which "-created" also names.
SORT_COLUMNS = ("created", "duration", "cost", "agent", "outcome", "auto_score")
SORTS = tuple(order for column in SORT_COLUMNS for order in (column, f"-{column}"))
DEFAULT_SORT = "-created"
# The filters (and ``sort``) only a current archive can answer.
CURRENT_ONLY_NAMES = (
    "sort",
    "outcome",
    "duration_min",
    "duration_max",
    "cost_min",
    "cost_max",
    "has_recording",
)


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
    # Calls whose automatic scorecard score is in [at least, below) percent (None: no bound).
    auto_score: tuple[float | None, float | None] | None = None
    # The agents page's figures that no other filter selects (calls.archive.search, ONLY):
    # "reviewed", "corrected", "scored" (by a reviewer) or "dead-air"; None: every call.
    only: str | None = None
    # A campaign (batch call) id, and once resolved (calls.services.campaigns) exactly the ids
    # of the calls its contacts got; None: not resolved, or no campaign.
    campaign: str | None = None
    call_ids: frozenset[str] | None = None
    # Only a current archive answers these (module docstring). ``sort``: one of SORTS other
    # than DEFAULT_SORT (None: Truedy's order). Ranges are inclusive; cost in cents.
    sort: str | None = None
    outcome: str | None = None
    duration_min: int | None = None
    duration_max: int | None = None
    cost_min: int | None = None
    cost_max: int | None = None
    has_recording: bool | None = None
    # An alert issue's id (calls.models.AlertIssue): exactly the calls that fired it, which the
    # archive selects by the rows (calls.archive.search); archive only.
    alert: int | None = None
    # The search looks in the archive's copy with personal data masked, and its matching lines
    # are masked: for a role that sees personal data masked (calls.services.personal_data).
    masked_search: bool = False

    @property
    def needs_current_archive(self) -> bool:
        """A sort or filter Truedy cannot apply, which the archive answers only while current."""
        return any(getattr(self, name) is not None for name in CURRENT_ONLY_NAMES)

    def without_current_only(self) -> CallFilters:
        """The list as Truedy can give it: no sort, none of the current archive's filters."""
        return dataclasses.replace(
            self,
            sort=None,
            outcome=None,
            duration_min=None,
            duration_max=None,
            cost_min=None,
            cost_max=None,
            has_recording=None,
        )

    def api_params(self) -> dict[str, Any]:
        """The filters as ``GET /calls`` parameters (``TruedyClient.list_calls`` keywords)."""
        return {name: getattr(self, name) for name in FILTER_NAMES}

    def admits(self, call: Call) -> bool:
        """Whether ``call`` passes the filters ``GET /calls`` applies, as Truedy would judge
        them (for calls read one by one rather than listed)."""
        if any(
            getattr(self, name) and getattr(call, name) != getattr(self, name)
            for name in ("agent_id", "status", "direction")
        ):
            return False
        created = call.created_at
        if self.created_after is not None and (created is None or created <= self.created_after):
            return False
        return self.created_before is None or (
            created is not None and created < self.created_before
        )

    @property
    def archive_only(self) -> bool:
        """A filter only the archive can answer: words of a transcript, a contact number, or
        the dashboard's own review work."""
        return bool(
            self.q
            or self.contact
            or self.review
            or self.suspicious
            or self.open_notes
            or self.auto_score is not None
            or self.only is not None
            or self.alert is not None
        )

    @property
    def searches(self) -> bool:
        """A filter Truedy's call list cannot apply: one only the archive can answer, or a
        campaign (its calls are picked by id)."""
        return self.archive_only or bool(self.campaign)

    def without_search(self) -> CallFilters:
        """The filters Truedy itself can apply."""
        return dataclasses.replace(
            self,
            q=None,
            contact=None,
            review=None,
            suspicious=False,
            open_notes=False,
            auto_score=None,
            only=None,
            campaign=None,
            call_ids=None,
            alert=None,
        ).without_current_only()
