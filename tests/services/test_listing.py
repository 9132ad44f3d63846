"""The call list from the archive (calls.services.listing): a page that stands in for Truedy's
list carries, and reads, no transcripts (Truedy's list rows have none); a search's page still
has them, for its matching lines."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import ArchivedCall
from calls.services import listing
from calls.simulator import Simulator
from calls.truedy.filters import CallFilters
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW


@pytest.fixture
def frozen_simulator(monkeypatch):
    sim = Simulator(seed=42, call_count=300, now=FROZEN_NOW)
    monkeypatch.setattr(gateway, "_simulator", sim)
    monkeypatch.setattr(gateway, "_client", None)
    yield sim
    if gateway._client is not None:
        gateway._client.close()


@pytest.fixture
def synced(frozen_simulator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("sync_calls", stdout=StringIO(), stderr=StringIO())
    frozen_simulator.reset_requests()
    return frozen_simulator


def archive_selects(queries: list[dict[str, str]]) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('SELECT "calls_archivedcall"."id"')]


@pytest.mark.django_db
def test_a_list_the_current_archive_answers_reads_no_transcripts(synced):
    filters = CallFilters(status="ended")

    with CaptureQueriesContext(connection) as queries:
        found = listing.list_page(filters, page=1, per_page=25)

    assert found.as_truedy and found.page.calls
    assert all(call.transcript is None for call in found.page.calls)
    selects = archive_selects(queries.captured_queries)
    assert selects and not any('"calls_archivedcall"."transcript"' in sql for sql in selects)
    assert not any(r.path.endswith("/calls") for r in synced.requests)  # Truedy's list: not asked


@pytest.mark.django_db
def test_a_search_page_still_reads_transcripts_for_its_matching_lines(synced):
    row = ArchivedCall.objects.filter(status="ended", transcript__isnull=False).first()
    assert row is not None and row.transcript
    word = max(row.transcript[0]["text"].split(), key=len).strip(".,!?;:'\"")

    found = listing.list_page(CallFilters(q=word), page=1, per_page=25)

    assert found.page.calls and found.matches
    assert any(call.transcript for call in found.page.calls)


@pytest.mark.parametrize(
    "filters",
    [
        CallFilters(),
        CallFilters(status="ended"),
        CallFilters(direction="inbound", sort="-duration"),
    ],
)
@pytest.mark.django_db
def test_the_pages_a_call_page_reads_for_its_neighbours_are_the_lists_pages(synced, filters):
    for page in (1, 2):
        lean = listing.current_archive_page(filters, page, 10)
        shown = listing.list_page(filters, page=page, per_page=10).page

        assert [call.id for call in lean.calls] == [call.id for call in shown.calls]
        assert (lean.total, lean.offset, lean.has_more) == (
            shown.total,
            shown.offset,
            shown.has_more,
        )
