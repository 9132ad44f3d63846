"""When a task that Truedy failed runs again: exponential backoff with jitter, never sooner
than Truedy (or the shared cool-down, or the open breaker) said."""

import random

FIRST_DELAY = 5.0  # seconds before the first retry
LONGEST_DELAY = 600.0
MAX_RETRIES = 10  # about 40 minutes of retries in all


def retry_delay(retries_so_far: int, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``retries_so_far + 1``."""
    backoff = min(FIRST_DELAY * 2**retries_so_far, LONGEST_DELAY)
    # Full jitter on the upper half: tasks deferred together do not return together.
    delay = random.uniform(backoff / 2, backoff)
    return max(delay, retry_after or 0.0)
