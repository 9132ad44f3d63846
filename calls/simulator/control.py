"""The simulator's control endpoint, beside the API: place a call over HTTP.

Truedy has nothing like it; it lets a benchmark or a demo make a call happen on a simulator in
another process (``POST /_simulator/calls``) and time when the call reaches the dashboard.
"""

import json
import math
from typing import Any

from .data import FINALS, CallSkeleton
from .isotime import format_us

CONTROL_PREFIX = "/_simulator"
CALLS_PATH = CONTROL_PREFIX + "/calls"
MAX_BODY_BYTES = 64 * 1024
MAX_SECONDS = 86_400.0


class PlacementError(ValueError):
    """A request body that does not describe a call: `field` is None when it is not JSON."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def placement(body: bytes) -> dict[str, Any]:
    """`Simulator.place_call`'s keyword arguments from a JSON body; none when it is empty.

    ``{"talk_seconds": 20, "ring_seconds": 3, "agent_id": "agt_…", "final": "ended"}``, each
    optional; an unknown field is refused, so a typo does not go unnoticed.
    """
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise PlacementError(None, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise PlacementError(None, "the body must be a JSON object")
    options: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("talk_seconds", "ring_seconds"):
            options[name] = _seconds(name, value)
        elif name == "agent_id":
            if not isinstance(value, str) or not value:
                raise PlacementError(name, "must be an agent's id")
            options[name] = value
        elif name == "final":
            if value not in FINALS:
                raise PlacementError(name, f"must be one of: {', '.join(FINALS)}")
            options[name] = value
        else:
            raise PlacementError(str(name)[:64], "is not a field of this endpoint")
    return options


def placed(call: CallSkeleton) -> dict[str, Any]:
    """The answer: the new call's id, when it was created and when it reaches its final status,
    in the form the API gives its timestamps."""
    return {
        "id": call.id,
        "created_at": format_us(call.created, call.digits),
        "ends_at": format_us(call.settled, call.digits),
    }


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlacementError(name, "must be a number of seconds")
    if not 0 <= value <= MAX_SECONDS:
        raise PlacementError(name, f"must be between 0 and {MAX_SECONDS:.0f}")
    return float(value)
