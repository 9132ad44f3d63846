"""Truedy's clock and ours disagree by minutes: the dashboard judges Truedy's times on Truedy's
clock (its answers' `Date` header or `meta.ts`), so a rate limit's `reset_at` still gives the
wait Truedy meant and a link Truedy still serves is still played.

Real-key mode over HTTP: a simulator standing still at a moment the test chooses, and the
dashboard's wall clock moved minutes away from it (time-machine), so no real date is involved.
"""

import re
from datetime import timedelta

import pytest
import time_machine

from calls.simulator import Simulator
from calls.simulator.isotime import to_datetime
from calls.simulator.server import serve
from calls.simulator.signing import LINK_LIFETIME_SECONDS
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW, upstream_paths
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

SKEWS = [timedelta(minutes=-5), timedelta(minutes=5)]
SKEW_IDS = ["ours 5 min behind", "ours 5 min ahead"]


@pytest.fixture
def truedy(settings, frozen_simulator):
    """A simulator frozen at FROZEN_NOW, served over HTTP, as the dashboard's Truedy (asking for
    the frozen simulator puts the process's clock at FROZEN_NOW before anyone signs in)."""
    remote = Simulator(seed=42, call_count=2000, now=FROZEN_NOW)
    server = serve(remote, host="127.0.0.1", port=0)
    settings.TRUEDY_API_KEY = remote.api_key
    settings.TRUEDY_API_BASE_URL = server.base_url
    gateway.reset()
    try:
        yield remote
    finally:
        gateway.reset()
        server.shutdown()


def our_clock_off_by(truedy: Simulator, skew: timedelta) -> time_machine.travel:
    return time_machine.travel(truedy.clock.now() + skew, tick=True)


@pytest.mark.parametrize("skew", SKEWS, ids=SKEW_IDS)
def test_a_reset_at_only_rate_limit_waits_what_truedy_meant(staff_client, truedy, skew):
    truedy.switches.rate_limit_next(10, retry_after=40, reset_at_only=True)
    with our_clock_off_by(truedy, skew):
        response = staff_client.get("/calls/?status=ended")
    assert response.status_code == 200
    reload = re.search(r'<meta http-equiv="refresh" content="(\d+)">', response.content.decode())
    assert reload and 30 < int(reload.group(1)) <= 60
    assert len(upstream_paths(truedy)) == 1, "waited, rather than asking again at once"


def signed_in(client, user):
    """Signed in on the clock as it now stands (a session lasts 12 hours)."""
    client.force_login(user)
    return client


def link_left(truedy: Simulator, left: timedelta):
    """A recorded call, with Truedy's clock moved to `left` before its link expires."""
    call = recorded_call(truedy)
    expires = to_datetime(call.ended) + timedelta(seconds=LINK_LIFETIME_SECONDS)
    truedy.clock.set(expires - left)
    return call


@pytest.mark.parametrize("skew", SKEWS, ids=SKEW_IDS)
def test_a_link_truedy_still_serves_plays_whatever_our_clock_says(client, staff_user, truedy, skew):
    call = link_left(truedy, timedelta(minutes=4))
    with our_clock_off_by(truedy, skew):
        staff_client = signed_in(client, staff_user)
        page = staff_client.get(f"/calls/{call.id}/")
        recording = staff_client.get(f"/calls/{call.id}/recording")
    assert page.status_code == 200
    assert f'src="/calls/{call.id}/recording' in page.content.decode()
    assert recording.status_code == 200
    assert b"".join(recording.streaming_content) == call.recording.path.read_bytes()


@pytest.mark.parametrize("skew", SKEWS, ids=SKEW_IDS)
def test_a_link_truedy_has_expired_is_not_offered_whatever_our_clock_says(
    client, staff_user, truedy, skew
):
    call = link_left(truedy, timedelta(minutes=-1))
    with our_clock_off_by(truedy, skew):
        staff_client = signed_in(client, staff_user)
        page = staff_client.get(f"/calls/{call.id}/")
        recording = staff_client.get(f"/calls/{call.id}/recording")
    assert "The recording is no longer available" in page.content.decode()
    assert f'src="/calls/{call.id}/recording' not in page.content.decode()
    assert recording.status_code == 410
    assert not [path for path in upstream_paths(truedy) if "/recordings/" in path]
