"""A current archive answers a list exactly as Truedy would: for random filters (agent, status,
direction, created ranges with edge instants, page, per page), the archive's page equals the
simulator's row for row, with the same total. The clock stands still (the frozen simulator),
so what the sync stored is what Truedy says; the sync and the reads may use either spelling of
Truedy's fields (the API reference's variant: ``in_progress``, ``cost_credits``)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import ArchivedCall
from calls.services import listing
from calls.simulator import Simulator
from calls.truedy.filters import CallFilters
from calls.truedy.records import DIRECTIONS, STATUSES
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW

# The API reference's variant gives an inbound call's numbers under other names, some of which
# our client does not read: numbers are compared when the sync and the list read one variant.
NUMBERS = ("to_number", "from_number")
COMPARED = (
    "id",
    "agent_id",
    "status",
    "direction",
    "created_at",
    "started_at",
    "ended_at",
    "to_number",
    "from_number",
    "duration_seconds",
    "cost_cents",
    "outcome",
)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def frozen_simulator(monkeypatch):
    sim = Simulator(seed=42, call_count=300, now=FROZEN_NOW)
    monkeypatch.setattr(gateway, "_simulator", sim)
    monkeypatch.setattr(gateway, "_client", None)
    yield sim
    if gateway._client is not None:
        gateway._client.close()


def sync_archive(sim: Simulator, variant: str) -> None:
    sim.switches.variant = variant
    call_command("sync_calls", stdout=StringIO(), stderr=StringIO())


def truedy_rows(filters: CallFilters, *, page: int, per_page: int, fields=COMPARED):
    answer = gateway.get_client().list_calls(
        **filters.api_params(), limit=per_page, offset=(page - 1) * per_page
    )
    return [tuple(getattr(call, name) for name in fields) for call in answer.calls], answer.total


def archive_rows(filters: CallFilters, *, page: int, per_page: int, fields=COMPARED):
    found = listing.list_page(filters, page=page, per_page=per_page)
    assert found.as_truedy, "the archive should be current and answer for Truedy"
    rows = [tuple(getattr(call, name) for name in fields) for call in found.page.calls]
    return rows, found.page.total


@st.composite
def list_filters(draw, *, agents, instants):
    def instant():
        base = draw(st.sampled_from(instants))
        return base + draw(st.sampled_from((-MICROSECOND, timedelta(0), MICROSECOND)))

    after = draw(st.none() | st.builds(instant))
    before = draw(st.none() | st.builds(instant))
    return CallFilters(
        agent_id=draw(st.none() | st.sampled_from(agents)),
        status=draw(st.none() | st.sampled_from(STATUSES)),
        direction=draw(st.none() | st.sampled_from(DIRECTIONS)),
        created_after=after,
        created_before=before,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("synced_as", "read_as"),
    [("primary", "primary"), ("primary", "reference"), ("reference", "primary")],
)
def test_the_current_archive_lists_exactly_as_truedy(
    frozen_simulator, settings_override, synced_as, read_as
):
    sync_archive(frozen_simulator, synced_as)
    frozen_simulator.switches.variant = read_as
    agents = sorted({a for a in ArchivedCall.objects.values_list("agent_id", flat=True) if a})
    agents.append("agent_nobody_has")
    created = sorted(ArchivedCall.objects.values_list("created_at", flat=True))
    instants = [created[0], created[len(created) // 3], created[len(created) // 2], created[-1]]
    instants.append(FROZEN_NOW)
    fields = COMPARED if synced_as == read_as else tuple(f for f in COMPARED if f not in NUMBERS)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        filters=list_filters(agents=agents, instants=instants),
        per_page=st.integers(1, 100),
        page=st.integers(1, 6),
    )
    def same_page(filters, per_page, page):
        archive = archive_rows(filters, page=page, per_page=per_page, fields=fields)
        assert archive == truedy_rows(filters, page=page, per_page=per_page, fields=fields)

    same_page()


@pytest.fixture
def settings_override(settings):
    """A sync right now leaves the archive 0 s behind: current under any bound."""
    settings.ARCHIVE_FRESHNESS_BOUND = 60
    return settings


@pytest.mark.django_db
def test_a_call_older_than_truedy_keeps_is_left_out_as_truedy_leaves_it(
    frozen_simulator, settings_override
):
    sync_archive(frozen_simulator, "primary")
    old = ArchivedCall.objects.order_by("-created_at").first()  # copied, 13 months back
    old.pk = "call_from_long_ago"
    old.created_at = FROZEN_NOW - timedelta(days=400)
    old.save(force_insert=True)

    rows, total = archive_rows(CallFilters(), page=1, per_page=100)
    assert (rows, total) == truedy_rows(CallFilters(), page=1, per_page=100)
    assert "call_from_long_ago" not in {row[0] for row in rows}
