"""One table says what every failure means: its kind, whether stale data may stand in, whether
it passes by itself, whether it trips the breaker, and the words of its notice."""

import pytest

from calls.truedy.errors import (
    Forbidden,
    InvalidCallId,
    MalformedResponse,
    NotFound,
    PaymentRequired,
    RateLimited,
    RecordingUnavailable,
    Unauthorized,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationFailed,
)
from calls.upstream.problems import CircuitOpen, problem_of, trouble


@pytest.mark.parametrize(
    ("error", "kind", "stale_ok", "passes", "trips"),
    [
        (RateLimited("slow down"), "waiting", True, True, False),
        (Unauthorized("no"), "auth", True, False, False),
        (Forbidden("no"), "auth", True, False, False),
        (PaymentRequired("pay"), "billing", True, False, False),
        (CircuitOpen("paused"), "busy", True, True, True),
        (MalformedResponse("garbled"), "garbled", True, True, True),
        (UpstreamUnavailable("down"), "unreachable", True, True, True),
        (UpstreamTimeout("slow"), "unreachable", True, True, True),
        (NotFound("gone"), "unreachable", False, False, False),
        (InvalidCallId("odd"), "unreachable", False, False, False),
        (ValidationFailed("bad"), "unreachable", False, False, False),
        (RecordingUnavailable("none"), "unreachable", False, False, False),
    ],
)
def test_every_failure_has_one_meaning(error, kind, stale_ok, passes, trips):
    problem = problem_of(error)
    assert (problem.kind, problem.stale_ok, problem.passes_by_itself, problem.trips_breaker) == (
        kind,
        stale_ok,
        passes,
        trips,
    )
    assert trouble(error) == problem.notice


def test_the_notices_people_read():
    assert trouble(RateLimited("x")) == "Truedy is rate-limiting the dashboard"
    assert trouble(Unauthorized("x")).startswith("Truedy refused the dashboard's API key")
    assert (
        trouble(PaymentRequired("x")) == "Truedy says the account's billing needs attention (402)"
    )
    assert trouble(MalformedResponse("x")) == "Truedy's answer could not be read"
    assert trouble(CircuitOpen("x")) == "Truedy is unreachable"
