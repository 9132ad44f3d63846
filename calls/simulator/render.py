"""Calls and agents as the API shows them at a given instant, in either response variant."""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .agents import Agent
from .campaigns import (
    CONTACTED,
    CONTACTS_VOCABULARY,
    RUNNING,
    TIMEZONE,
    Campaigns,
    State,
    contact_status,
)
from .conversations import Profile, build_profile, build_turns
from .data import CallSkeleton, DataSet
from .isotime import US, format_us
from .signing import LINK_LIFETIME_SECONDS, LinkSigner

# How the API reference page spells the statuses that the Call Management guide spells otherwise.
REFERENCE_STATUS = {"in-progress": "in_progress", "ended": "completed", "queued": "created"}
LANGUAGE = "en-US"  # a field no client knows: they must ignore it

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class View:
    """What a response depends on besides the data: when, which variant, and for which host."""

    now: int
    variant: str
    origin: str

    @property
    def reference(self) -> bool:
        return self.variant == "reference"


class _LRU(Generic[V]):
    """A small thread-safe cache; transcripts of very long calls are big, so keep few."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[int, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: int) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: int, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Renderer:
    def __init__(
        self,
        data: DataSet,
        signer: LinkSigner,
        transcript_delay_seconds: float,
        campaigns: Campaigns | None = None,
    ) -> None:
        self._data = data
        self._signer = signer
        self._campaigns = campaigns
        self._delay_us = round(transcript_delay_seconds * US)
        self._profiles: _LRU[Profile] = _LRU(8192)
        self._turns: _LRU[list[dict[str, Any]]] = _LRU(64)

    def profile(self, call: CallSkeleton) -> Profile:
        profile = self._profiles.get(call.seq)
        if profile is None:
            profile = build_profile(self._data.seed, call, self._agent(call))
            self._profiles.put(call.seq, profile)
        return profile

    def turns(self, call: CallSkeleton) -> list[dict[str, Any]]:
        turns = self._turns.get(call.seq)
        if turns is None:
            turns = build_turns(self._data.seed, call, self._agent(call), self.profile(call))
            self._turns.put(call.seq, turns)
        return turns

    def call(self, call: CallSkeleton, view: View, *, with_transcript: bool) -> dict[str, Any]:
        now = view.now
        status = call.status_at(now)
        digits = 6 if view.reference else call.digits
        profile = self.profile(call)
        # A failed call that was answered (dropped mid-call) has a duration, cost, transcript and
        # recording like an ended one; Truedy labels an outcome on ended calls only.
        ended = status == "ended" or (status == "failed" and call.started is not None)
        analysed = ended and call.ended is not None and now >= call.ended + self._delay_us
        duration = call.duration_seconds if ended else None
        item: dict[str, Any] = {
            "id": call.id,
            "agent_id": call.agent_id,
            "status": REFERENCE_STATUS.get(status, status) if view.reference else status,
            "direction": call.direction,
        }
        item.update(self._numbers(call, profile, view))
        events = [call.created, call.ringing, call.started, call.settled]
        if ended:
            events.append(call.settled + self._delay_us)
        item["created_at"] = format_us(call.created, digits)
        item["started_at"] = self._reached(call.started, now, digits)
        item["ended_at"] = self._reached(call.ended, now, digits)
        item["updated_at"] = format_us(max(e for e in events if e is not None and e <= now), digits)
        item["duration_seconds"] = duration
        cost = self._cost(call, duration) if ended else (0 if status == "failed" else None)
        item["cost_credits" if view.reference else "cost_cents"] = cost
        item["outcome"] = self._outcome(call) if status == "ended" else None
        summary = None
        if status == "failed" or (analysed and call.transcribed):
            summary = profile.summary
        item["summary"] = summary
        if with_transcript:
            item["transcript"] = self._transcript(call, analysed)
        item["recording_url"] = self._recording_url(call, view) if ended else None
        item["metadata"] = profile.metadata
        item["language"] = LANGUAGE
        return item

    def agent(self, agent: Agent, view: View) -> dict[str, Any]:
        return {
            "id": agent.id,
            "name": agent.name,
            "status": agent.spec.status,
            "created_at": format_us(agent.created_us, 6 if view.reference else 0),
            "system_prompt": agent.system_prompt,
            "phone_numbers": list(agent.phone_numbers),
            "recording_enabled": agent.spec.recording_enabled,
        }

    def campaign(self, state: State, view: View) -> dict[str, Any]:
        """A batch call with its counters (GET /batch-calls, GET /batch-calls/{id})."""
        plan = state.plan
        digits = 6 if view.reference else 0
        status = RUNNING if view.reference and state.status == "active" else state.status
        return {
            "id": plan.id,
            "name": plan.name,
            "status": status,
            "agent_id": plan.agent.id,
            "from_number": plan.agent.phone_numbers[0] if plan.agent.phone_numbers else None,
            "schedule_type": "scheduled" if plan.scheduled else "immediate",
            "scheduled_at": format_us(plan.start_us, digits) if plan.scheduled else None,
            "timezone": TIMEZONE,
            "concurrency": plan.concurrency,
            "retry_attempts": plan.retry_attempts,
            "total_contacts": state.total_contacts,
            "called": state.called,
            "completed": state.completed,
            "failed": state.failed,
            "pending": len(state.pending),
            "created_at": format_us(plan.created_us, digits),
            "updated_at": format_us(state.updated_us, digits),
        }

    def campaign_contacts(self, state: State, view: View) -> list[dict[str, Any]]:
        """Every contact of a campaign, in dial order, then the ones still to call."""
        rows = []
        for call in state.calls:
            profile = self.profile(call)
            rows.append(
                {
                    "contact_id": profile.metadata["contact_id"],
                    "phone_number": profile.contact_number,
                    "first_name": profile.persona["first"],
                    "call_status": contact_status(call, view.now),
                    "call_id": call.id,
                    "called_at": format_us(call.created, 6 if view.reference else call.digits),
                }
            )
        for contact in state.pending:
            rows.append(
                {
                    "contact_id": contact.contact_id,
                    "phone_number": contact.phone_number,
                    "first_name": contact.first_name,
                    "call_status": "pending",
                    "call_id": None,
                    "called_at": None,
                }
            )
        return rows

    def transcript_at(self, call: CallSkeleton) -> int | None:
        """When the call's transcript appears in the API (`call` above), or None if never."""
        answered = call.final == "ended" or (call.final == "failed" and call.started is not None)
        if not answered or call.ended is None or not call.transcribed:
            return None
        if call.kind == "no-answer" and call.null_when_empty:
            return None
        return call.ended + self._delay_us

    def recording_expires(self, call: CallSkeleton) -> int:
        assert call.ended is not None
        return call.ended // US + LINK_LIFETIME_SECONDS

    def _agent(self, call: CallSkeleton) -> Agent:
        return self._data.agents_by_id[call.agent_id]

    def _outcome(self, call: CallSkeleton) -> str | None:
        """A campaign's calls are labelled in the contacts API's words (`no_answer`,
        `contacted`); a recorded call keeps its recording's label."""
        if call.recording is not None or self._campaigns is None:
            return call.outcome
        if self._campaigns.holding(call) is None:
            return call.outcome
        if call.outcome is None:
            return CONTACTED if call.started is not None else None
        return CONTACTS_VOCABULARY.get(call.outcome, call.outcome)

    def _transcript(self, call: CallSkeleton, analysed: bool) -> list[dict[str, Any]] | None:
        if not analysed or not call.transcribed:
            return None
        if call.kind == "no-answer" and call.null_when_empty:
            return None
        return self.turns(call)

    def _recording_url(self, call: CallSkeleton, view: View) -> str | None:
        if call.recording is None:
            return None
        return self._signer.url(view.origin, call.id, self.recording_expires(call))

    def _numbers(self, call: CallSkeleton, profile: Profile, view: View) -> dict[str, Any]:
        contact, own = profile.contact_number, profile.agent_number
        inbound = call.direction == "inbound"
        if view.reference:
            if inbound:
                return {"phone_number": contact}
            return {"to_number": contact, "from_number": own}
        if inbound:
            return {"to": own, "from": contact}
        return {"to": contact, "from": own}

    def _cost(self, call: CallSkeleton, duration: int | None) -> int | None:
        if duration is None:
            return None
        cents_per_minute = self._agent(call).spec.cents_per_minute
        return -(-duration * cents_per_minute // 60)

    @staticmethod
    def _reached(moment: int | None, now: int, digits: int) -> str | None:
        if moment is None or moment > now:
            return None
        return format_us(moment, digits)
