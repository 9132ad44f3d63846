"""Every upstream fault, on the list page, the call page and the recording, with nothing cached
(a friendly error page) and with a stale answer cached (that answer, with a notice).

Faults are injected in the simulator (the same code path as a real Truedy failure over HTTP):
each row says what the page answers and how many upstream requests it cost.
"""

import re
import types
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from calls.upstream import cache, gateway
from tests.conftest import upstream_paths
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

STALE_HOURS = 2  # how far the tests move the cache's clock to make every entry stale


@dataclass(frozen=True)
class Fault:
    name: str
    arm: Callable  # (switches) -> None
    status: int  # our answer with nothing cached
    says: str  # the heading of the error page
    notice: str  # the stale notice's reason
    attempts: int  # upstream requests the first failing read makes
    request_id: bool = True  # Truedy's request id is on the page

    @property
    def recording_status(self) -> int:
        """A media player reads no page: a rate limit is a 503 there."""
        return 503 if self.status == 200 else self.status


FAULTS = [
    Fault(
        "500",
        lambda s: s.fail_next(10, 500),
        502,
        "Truedy could not be reached",
        "Truedy is unreachable",
        3,
    ),
    Fault(
        "503",
        lambda s: s.fail_next(10, 503),
        502,
        "Truedy could not be reached",
        "Truedy is unreachable",
        3,
    ),
    Fault(
        "timeout",
        lambda s: s.timeout_next(10),
        502,
        "Truedy could not be reached",
        "Truedy is unreachable",
        3,
        request_id=False,
    ),
    Fault(
        "truncated JSON",
        lambda s: s.malformed_next(10, "truncated"),
        502,
        "could not read",
        "could not be read",
        1,
    ),
    Fault(
        "HTML instead of JSON",
        lambda s: s.malformed_next(10, "html"),
        502,
        "could not read",
        "could not be read",
        1,
    ),
    Fault(
        "wrong shape",
        lambda s: s.malformed_next(10, "wrong_shape"),
        502,
        "could not read",
        "could not be read",
        1,
    ),
    Fault(
        "429 Retry-After 30",
        lambda s: s.rate_limit_next(10, retry_after=30),
        200,
        "loads by itself",
        "rate-limiting",
        1,
    ),
    Fault(
        "429 reset_at only",
        lambda s: s.rate_limit_next(10, retry_after=40, reset_at_only=True),
        200,
        "loads by itself",
        "rate-limiting",
        1,
    ),
    Fault(
        "401 key revoked",
        lambda s: s.fail_next(1, 401),
        502,
        "refused the dashboard's API key",
        "API key",
        1,
    ),
    Fault(
        "403 IP not allowed",
        lambda s: s.fail_next(1, 403),
        502,
        "refused the dashboard's API key",
        "API key",
        1,
    ),
    Fault(
        "402 out of credits",
        lambda s: s.fail_next(1, 402),
        502,
        "billing",
        "billing needs attention",
        1,
    ),
]
IDS = [fault.name for fault in FAULTS]


@pytest.fixture
def no_sleeping(frozen_simulator, monkeypatch):
    """Retries back off for real in production; here they go at once."""
    monkeypatch.setattr(gateway.get_client(), "_sleep", lambda seconds: None)
    return frozen_simulator


@pytest.fixture
def later(monkeypatch):
    """Move the cache's clock on, so every cached answer is past its fresh lifetime."""

    def move():
        real = cache.time
        shifted = types.SimpleNamespace(
            time=lambda: real.time() + STALE_HOURS * 3600,
            monotonic=real.monotonic,
            sleep=real.sleep,
        )
        monkeypatch.setattr(cache, "time", shifted)

    return move


def pages(sim) -> dict[str, str]:
    call = recorded_call(sim)
    return {
        "list": "/calls/?status=ended",
        "call": f"/calls/{call.id}/",
        "recording": f"/calls/{call.id}/recording",
    }


@pytest.mark.parametrize("page", ["list", "call", "recording"])
@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_nothing_cached_gives_a_page_that_says_what_happened(
    staff_client, no_sleeping, fault, page
):
    sim = no_sleeping
    url = pages(sim)[page]
    sim.reset_requests()
    fault.arm(sim.switches)
    response = staff_client.get(url)
    expected = fault.recording_status if page == "recording" else fault.status
    assert response.status_code == expected
    html = b"".join(response.streaming_content) if response.streaming else response.content
    text = html.decode()
    if page == "recording":
        assert "Recording unavailable" in text
    else:
        assert fault.says in text
        assert "try again" in text.lower()
        if fault.request_id and fault.status != 200:
            assert "Truedy request id: <code>req_" in text
    if "Retry-After" in fault.name:
        assert int(response["Retry-After"]) >= 30
    if fault.status == 200 and page != "recording":
        # A page that waits out a rate limit reloads itself (no JavaScript needed).
        reload = re.search(r'<meta http-equiv="refresh" content="(\d+)">', text)
        assert reload and 30 < int(reload.group(1)) <= 60
    assert len(upstream_paths(sim)) == fault.attempts, upstream_paths(sim)


@pytest.mark.parametrize("page", ["list", "call"])
@pytest.mark.parametrize(
    "fault", [f for f in FAULTS if f.notice], ids=[f.name for f in FAULTS if f.notice]
)
def test_a_stale_answer_is_shown_with_a_notice(staff_client, no_sleeping, later, fault, page):
    sim = no_sleeping
    url = pages(sim)[page]
    first = staff_client.get(url)
    assert first.status_code == 200
    later()
    sim.reset_requests()
    fault.arm(sim.switches)
    response = staff_client.get(url)
    text = response.content.decode()
    assert response.status_code == 200
    assert 'class="notice stale" role="status"' in text
    assert fault.notice in text
    assert "showing data from <time" in text
    assert upstream_paths(sim), "Truedy was asked first"
    # The same rows or call as before the fault.
    if page == "list":
        assert [c.id for c in response.context["calls"]] == [c.id for c in first.context["calls"]]
    else:
        assert response.context["call"].id == first.context["call"].id


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_a_cached_call_still_plays_whatever_the_api_does(staff_client, no_sleeping, later, fault):
    """The recording needs the API only for the link: a cached link plays through any API fault."""
    sim = no_sleeping
    call = recorded_call(sim)
    assert staff_client.get(f"/calls/{call.id}/").status_code == 200
    later()
    fault.arm(sim.switches)
    response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    assert len(b"".join(response.streaming_content)) == 100


@pytest.mark.parametrize(
    ("refusals", "status"),
    [((403, 403), 410), ((503,), 502), ((404,), 410)],
    ids=["link expired twice", "storage 503", "storage 404"],
)
def test_storage_faults_on_the_recording(staff_client, no_sleeping, refusals, status):
    sim = no_sleeping
    call = recorded_call(sim)
    for code in refusals:
        sim.switches.refuse_recordings_next(1, status=code)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == status
    assert response["Cache-Control"] == "private, no-store"
    assert "Recording unavailable" in response.content.decode()


def test_the_fragment_of_a_failed_htmx_request_is_the_problem_alone(staff_client, no_sleeping):
    sim = no_sleeping
    sim.switches.fail_next(10, 500)
    response = staff_client.get(
        "/calls/?status=failed", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    text = response.content.decode()
    assert response.status_code == 502
    assert text.lstrip().startswith('<section class="notice error" role="alert">')
    assert "<html" not in text
