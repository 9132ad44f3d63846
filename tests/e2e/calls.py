"""Calls of the frozen simulator that the browser tests review."""

HOUR_US = 3600 * 10**6


def recorded_call(sim, name: str | None = None):
    """An ended call with a recording still within its 24 h, optionally of one recording."""
    now = sim.clock.now_us()
    for call in sim.data.calls:
        if (
            call.recording
            and (name is None or call.recording.name == name)
            and call.ended
            and HOUR_US < now - call.ended < 20 * HOUR_US
            and call.status_at(now) == "ended"
        ):
            return call
    raise AssertionError(f"no recent recorded call ({name or 'any'})")


def recorded_calls(sim, count: int):
    now = sim.clock.now_us()
    found = [
        call
        for call in sim.data.calls
        if call.recording
        and call.ended
        and HOUR_US < now - call.ended < 20 * HOUR_US
        and call.status_at(now) == "ended"
    ]
    assert len(found) >= count
    return found[:count]
