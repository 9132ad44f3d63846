"""What each way of failing means to the rest of the dashboard: one table, read everywhere.

For every ``TruedyError`` it answers: which kind of problem it is (pages map the kind to an HTTP
status), whether a stale cached answer may stand in for it, whether it passes by itself (a page
can wait it out and fill itself in), whether it counts against the circuit breaker, and the
words every notice uses for it.
"""

import dataclasses

from calls.truedy.errors import (
    MalformedResponse,
    PaymentRequired,
    RateLimited,
    TruedyError,
    Unauthorized,
    UpstreamUnavailable,
)


class CircuitOpen(UpstreamUnavailable):
    """No request was made: Truedy failed repeatedly and the breaker is open."""


class BudgetExhausted(RateLimited):
    """No request was made: the dashboard's own request budget has no token for it in time
    (calls.upstream.budget). Truedy said nothing, so no cool-down starts."""


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # waiting, auth, billing, busy, garbled, unreachable
    notice: str  # what went wrong, in the words every notice uses
    stale_ok: bool  # an older answer is better than an error page
    passes_by_itself: bool  # a page can wait it out on cached data and reload itself
    trips_breaker: bool  # Truedy itself is down or garbled (4xx answers are answers)


UNREACHABLE = Problem("unreachable", "Truedy is unreachable", True, True, True)
# Anything else (a 404, a 400, a recording that cannot be had) is an answer, not a failure.
ANSWER = Problem("unreachable", "Truedy is unreachable", False, False, False)

# Most specific first: the first class the error is an instance of decides.
PROBLEMS: tuple[tuple[type[TruedyError], Problem], ...] = (
    (
        BudgetExhausted,
        Problem("waiting", "Many pages are reading from Truedy right now", True, True, False),
    ),
    (RateLimited, Problem("waiting", "Truedy is rate-limiting the dashboard", True, True, False)),
    (
        Unauthorized,  # Forbidden too: a refused key or address needs an administrator
        Problem(
            "auth",
            "Truedy refused the dashboard's API key (tell an administrator)",
            True,
            False,
            False,
        ),
    ),
    (
        PaymentRequired,
        Problem(
            "billing",
            "Truedy says the account's billing needs attention (402)",
            True,
            False,
            False,
        ),
    ),
    (CircuitOpen, Problem("busy", "Truedy is unreachable", True, True, True)),
    (MalformedResponse, Problem("garbled", "Truedy's answer could not be read", True, True, True)),
    (UpstreamUnavailable, UNREACHABLE),
)


def problem_of(error: TruedyError) -> Problem:
    for kind, problem in PROBLEMS:
        if isinstance(error, kind):
            return problem
    return ANSWER


def trouble(error: TruedyError) -> str:
    """What went wrong, in the words every notice uses."""
    return problem_of(error).notice
