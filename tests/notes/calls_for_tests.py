"""Call records and archived rows made up for the notes, agreement and suspicious tests."""

from datetime import UTC, datetime, timedelta

from calls.archive.store import store_call
from calls.models import ArchivedCall
from calls.truedy.records import Call, Turn

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_call(number: int = 1, **overrides) -> Call:
    """Call number ``number`` (a higher number is older): an ended outbound call, labelled
    "interested", one minute long; ``contact`` gives the contact's words as one turn."""
    contact = overrides.pop("contact", None)
    if contact is not None:
        overrides["transcript"] = (
            Turn("agent", "Hello, this is Ava from Brightline Solar. Do you have a minute?", 0.5),
            Turn("contact", contact, 4.0),
        )
    values = {
        "id": f"call_{number:07d}",
        "agent_id": "agt_1",
        "status": "ended",
        "direction": "outbound",
        "created_at": T0 - timedelta(minutes=number),
        "started_at": T0 - timedelta(minutes=number) + timedelta(seconds=3),
        "ended_at": T0 - timedelta(minutes=number) + timedelta(seconds=63),
        "updated_at": None,
        "to_number": "+4930123456",
        "from_number": "+4930999999",
        "duration_seconds": 60,
        "cost_cents": 1234,
        "outcome": "interested",
        "summary": "Booked a demo.",
        "transcript": None,
        "recording_url": None,
    }
    return Call(**(values | overrides))


def archive(call: Call) -> ArchivedCall:
    return store_call(call, source="sync", copy=False)
