"""Campaigns: Truedy's batch calls, laid over the data set's own outbound calls.

A campaign is one agent's outbound calls of one calendar month (UTC). Its id is the
`campaign_id` those calls already carry in their metadata (the API reference's example call
carries its batch's id there), and its contacts are those calls' contacts, in the order they were
dialled, then the contacts not dialled yet. Which calls exist is not touched: nothing here draws
from the data set's random stream, the contacts still to call come from a stream of their own.

Five campaigns, from the clock's anchor: the agent "Ava"'s month so far (active: its live calls
are the data set's live outbound calls, and each call placed for her later dials one of its
pending contacts), her previous month and "Leo"'s (completed), "Iris"'s last month before her
agent was paused (paused, contacts left), and Leo's next month (scheduled).

Reference: https://docs.truedy.ai/api-reference/batch-calls/list-batch-calls ,
.../get-batch-call and .../list-batch-call-contacts.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from .agents import DASH, Agent, random_id, us_number
from .conversations import FIRST_NAMES
from .data import CallSkeleton, DataSet
from .isotime import DAY_US, US, to_datetime, to_us

# `GET /batch-calls?status=`: the documented values. The API reference's list example also shows
# "running", which the simulator takes as "active" (and shows in the reference variant).
CAMPAIGN_STATUSES = ("draft", "scheduled", "active", "paused", "completed", "failed", "cancelled")
RUNNING = "running"
# A contact's `call_status` (`GET /batch-calls/{id}/contacts?status=`). The docs show
# "completed" only; the others are the simulator's: not dialled yet, a call under way, and a
# call that failed or was cancelled.
CONTACT_STATUSES = ("pending", "in_progress", "completed", "failed", "cancelled")
_CONTACT_STATUS = {
    "queued": "in_progress",
    "ringing": "in_progress",
    "in-progress": "in_progress",
    "ended": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}
# The outcome vocabulary of Truedy's contacts API (`last_call_outcome`), which a campaign's calls
# are labelled in: underscores, and "contacted" for an answered call with no other label.
CONTACTS_VOCABULARY = {"not-interested": "not_interested", "no-answer": "no_answer"}
CONTACTED = "contacted"
TIMEZONE = "America/New_York"
PAUSED_AGENT_DAYS = 40  # "Iris" made her last calls this long before the anchor (agents.py)


@dataclass(frozen=True, slots=True)
class PendingContact:
    contact_id: str
    phone_number: str
    first_name: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A campaign as laid out at the anchor; what it shows at an instant is `Campaigns.state`."""

    id: str
    name: str
    agent: Agent
    first_us: int  # its calls were created from here (inclusive) ...
    end_us: int  # ... to here (exclusive): a calendar month
    start_us: int  # when it starts dialling (scheduled_at for a scheduled one)
    created_us: int
    pending: tuple[PendingContact, ...]  # contacts not dialled at the anchor
    paused: bool
    scheduled: bool  # `schedule_type` "scheduled" rather than "immediate"
    concurrency: int
    retry_attempts: int

    def holds(self, call: CallSkeleton) -> bool:
        return (
            call.agent_id == self.agent.id
            and call.direction == "outbound"
            and self.first_us <= call.created < self.end_us
        )


@dataclass(frozen=True, slots=True)
class State:
    """A campaign at an instant: its calls (dial order) and counters, consistent with them."""

    plan: Plan
    status: str
    calls: tuple[CallSkeleton, ...]
    pending: tuple[PendingContact, ...]
    completed: int
    failed: int
    updated_us: int

    @property
    def called(self) -> int:
        return len(self.calls)

    @property
    def total_contacts(self) -> int:
        return self.called + len(self.pending)


def contact_status(call: CallSkeleton, now: int) -> str:
    return _CONTACT_STATUS[call.status_at(now)]


def _month_start(us: int, shift: int = 0) -> int:
    moment = to_datetime(us)
    index = moment.year * 12 + moment.month - 1 + shift
    return to_us(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))


def _month_name(us: int) -> str:
    return to_datetime(us).strftime("%B %Y")


def _campaign_id(agent: Agent, month_us: int) -> str:
    """The `campaign_id` its calls carry (conversations._metadata, for outbound calls)."""
    slug = agent.spec.company.split()[0].lower()
    return f"cmp_{slug}_{agent.spec.role}_{to_datetime(month_us).strftime('%Y%m')}"


class Campaigns:
    def __init__(self, data: DataSet) -> None:
        self._data = data
        # Calls placed later (DataSet.place) number on from the generated ones.
        self._first_placed_seq = len(data.calls)
        rng = random.Random(f"{data.seed}-campaigns")
        anchor = data.anchor_us
        by_persona = {agent.spec.persona: agent for agent in data.agents}
        ava, leo, iris = by_persona["Ava"], by_persona["Leo"], by_persona["Iris"]
        this_month, last_month = _month_start(anchor), _month_start(anchor, -1)
        next_month = _month_start(anchor, 1)
        paused_month = _month_start(anchor - PAUSED_AGENT_DAYS * DAY_US)
        outreach = f"Brightline Solar {DASH} {{}} outreach"
        reminders = f"Payment reminders {DASH} {{}}"
        # (agent, name, month, pending contacts as a share of the calls so far, kind)
        layout = (
            (ava, outreach, this_month, 0.6, "running"),
            (ava, outreach, last_month, 0.0, "done"),
            (leo, reminders, last_month, 0.0, "done"),
            (
                iris,
                f'Harbor Mutual "Autumn" renewals & reviews {DASH} {{}}',
                paused_month,
                0.5,
                "paused",
            ),
            (leo, reminders, next_month, 0.0, "scheduled"),
        )
        plans = []
        for agent, name, month, share, kind in layout:
            end = _month_start(month, 1)
            called = len(self._select(agent, month, end, anchor))
            if kind == "scheduled":
                start = month + 14 * 3600 * US  # the 1st at 09:00 in New York (winter time)
                created = anchor - rng.randint(1, 3) * DAY_US - rng.randrange(86_400) * US
                pending_count = rng.randint(40, 90)
            else:
                start = month
                created = month - rng.randint(2, 72) * 3600 * US
                pending_count = round(called * share) + (rng.randint(8, 20) if share else 0)
            pending = tuple(
                PendingContact(random_id(rng, "ctc_", 12), us_number(rng), rng.choice(FIRST_NAMES))
                for _ in range(pending_count)
            )
            plans.append(
                Plan(
                    id=_campaign_id(agent, month),
                    name=name.format(_month_name(month)),
                    agent=agent,
                    first_us=month,
                    end_us=end,
                    start_us=start,
                    created_us=created - created % US,
                    pending=pending,
                    paused=kind == "paused",
                    scheduled=kind == "scheduled",
                    concurrency=rng.choice((3, 5, 10)),
                    retry_attempts=rng.choice((1, 2)),
                )
            )
        self.plans = tuple(sorted(plans, key=lambda p: (-p.created_us, p.id)))
        self.by_id = {plan.id: plan for plan in self.plans}

    def _select(self, agent: Agent, first: int, end: int, now: int) -> list[CallSkeleton]:
        return self._data.select(
            now,
            agent_id=agent.id,
            direction="outbound",
            created_after=first - 1,
            created_before=end,
        )

    def visible(self, now: int) -> list[Plan]:
        """The campaigns that exist at `now`, newest first."""
        return [plan for plan in self.plans if plan.created_us <= now]

    def holding(self, call: CallSkeleton) -> Plan | None:
        """The campaign whose contact `call` dialled, if any."""
        return next((plan for plan in self.plans if plan.holds(call)), None)

    def state(self, plan: Plan, now: int) -> State:
        calls = self._select(plan.agent, plan.first_us, plan.end_us, now)
        calls.reverse()  # dial order: oldest first
        # Every call placed since the anchor dialled the next pending contact.
        placed = sum(1 for call in calls if call.seq >= self._first_placed_seq)
        pending = plan.pending[placed:]
        statuses = [call.status_at(now) for call in calls]
        completed = statuses.count("ended")
        failed = statuses.count("failed") + statuses.count("cancelled")
        live = len(calls) - completed - failed
        if plan.paused:
            status = "paused"
        elif now < plan.start_us:
            status = "scheduled"
        elif pending or live:
            status = "active"
        else:
            status = "completed"
        events = [plan.created_us]
        for call in calls:
            moments = (call.created, call.ringing, call.started, call.settled)
            events.append(max(m for m in moments if m is not None and m <= now))
        return State(plan, status, tuple(calls), pending, completed, failed, max(events))
