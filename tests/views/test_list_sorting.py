"""The list from a current archive: sorting by a column, the filters Truedy lacks (effective
outcome, duration and cost ranges, has a recording), and what the page does when the archive is
behind (the controls disabled saying why, a link's sort or filter named as not applied)."""

from io import StringIO

import pytest
from django.core.management import call_command

from calls.models import ArchivedCall, OutcomeCorrection
from calls.simulator import Simulator
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW, upstream_paths

pytestmark = pytest.mark.django_db

LIST_PATH = "/api/public/v1/calls"


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
    """Every call of the simulator in the archive, the sync just finished: current."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("sync_calls", stdout=StringIO(), stderr=StringIO())
    frozen_simulator.reset_requests()
    return frozen_simulator


def rows(response):
    return [call for call, _ in response.context_data["call_rows"]]


def list_requests(sim):
    return [path for path in upstream_paths(sim) if path == LIST_PATH]


def test_a_current_archive_answers_the_list_without_asking_truedy(staff_client, synced):
    response = staff_client.get("/calls/", {"per_page": 50})

    assert response.status_code == 200
    assert list_requests(synced) == []
    assert "from the archive, 0 s behind Truedy" in response.content.decode()
    # Truedy's list as Truedy would give it: live rows stay live (the live strip is there).
    assert response.context_data["from_archive"] is False
    assert "data-live-list" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [
        ("-duration", "duration_seconds", True),
        ("duration", "duration_seconds", False),
        ("cost", "cost_cents", False),
        ("-cost", "cost_cents", True),
    ],
)
def test_sorting_by_a_number_puts_calls_without_one_last_and_ties_by_id(
    staff_client, synced, sort, key, descending
):
    response = staff_client.get("/calls/", {"sort": sort, "per_page": 100})

    shown = rows(response)
    assert response.status_code == 200 and len(shown) == 100
    valued = [call for call in shown if getattr(call, key) is not None]
    missing = shown[len(valued) :]
    assert all(getattr(call, key) is None for call in missing)
    expected = sorted(valued, key=lambda c: c.id)
    expected.sort(key=lambda c: getattr(c, key), reverse=descending)
    assert [c.id for c in valued] == [c.id for c in expected]
    assert list_requests(synced) == []


def test_the_sorted_column_says_so_and_its_heading_links_the_other_way(staff_client, synced):
    html = staff_client.get("/calls/", {"sort": "-duration"}).content.decode()

    assert 'aria-sort="descending"' in html
    assert 'href="?sort=duration&amp;tz=' in html  # the same column, the other way round
    assert 'title="Sort by cost, highest first"' in html  # another column, highest first


def test_sorting_by_agent_sorts_on_the_names_shown(staff_client, synced):
    response = staff_client.get("/calls/", {"sort": "agent", "per_page": 100})

    names = response.context_data["agent_names"]
    shown = [names.get(c.agent_id, c.agent_id or "").casefold() for c in rows(response)]
    assert shown == sorted(shown)


def test_the_outcome_filter_is_the_outcome_after_corrections(staff_client, staff_user, synced):
    corrected = ArchivedCall.objects.filter(outcome="interested").order_by("id").first()
    OutcomeCorrection.objects.create(
        call_id=corrected.id,
        ai_outcome="interested",
        outcome="voicemail",
        reason="It was the voicemail greeting.",
        corrected_by=staff_user,
    )

    voicemail = {
        c.id for c in rows(staff_client.get("/calls/", {"outcome": "Voicemail", "per_page": 100}))
    }
    interested = {
        c.id for c in rows(staff_client.get("/calls/", {"outcome": "interested", "per_page": 100}))
    }

    assert corrected.id in voicemail and corrected.id not in interested
    assert len(voicemail) == ArchivedCall.objects.filter(outcome="voicemail").count() + 1
    expected = set(
        ArchivedCall.objects.filter(outcome="interested")
        .exclude(pk=corrected.id)
        .values_list("id", flat=True)
    )
    assert interested == expected


def test_duration_and_cost_ranges_include_both_ends(staff_client, synced):
    durations = sorted(
        d for d in ArchivedCall.objects.values_list("duration_seconds", flat=True) if d
    )
    low, high = durations[len(durations) // 4], durations[len(durations) // 2]
    response = staff_client.get(
        "/calls/", {"duration_min": low, "duration_max": high, "per_page": 100}
    )
    expected = ArchivedCall.objects.filter(
        duration_seconds__gte=low, duration_seconds__lte=high
    ).count()
    assert response.context_data["total"] == expected
    assert all(low <= c.duration_seconds <= high for c in rows(response))

    costs = staff_client.get("/calls/", {"cost_min": 0, "cost_max": 0, "per_page": 100})
    assert all(c.cost_cents == 0 for c in rows(costs))
    assert costs.context_data["total"] == ArchivedCall.objects.filter(cost_cents=0).count()


def test_has_recording_splits_the_list(staff_client, synced):
    everything = staff_client.get("/calls/").context_data["total"]
    recorded = staff_client.get("/calls/", {"has_recording": "yes"}).context_data["total"]
    unrecorded = staff_client.get("/calls/", {"has_recording": "no"}).context_data["total"]

    assert 0 < recorded < everything and recorded + unrecorded == everything


def test_the_csv_follows_the_sort_and_filters(staff_client, synced):
    response = staff_client.get("/calls/export.csv", {"sort": "-cost", "has_recording": "yes"})

    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    page = rows(staff_client.get("/calls/", {"sort": "-cost", "has_recording": "yes"}))
    assert len(lines) - 1 == ArchivedCall.objects.filter(has_recording=True).count()
    assert page[0].id in lines[1]


def test_bad_values_are_refused_with_the_reason(staff_client, synced):
    response = staff_client.get("/calls/", {"sort": "loudness", "duration_min": "ten"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a sort order" in html and "is not a whole number" in html
    reversed_range = staff_client.get("/calls/", {"cost_min": 50, "cost_max": 10})
    assert reversed_range.status_code == 400
    assert "ends (10) before it starts (50)" in reversed_range.content.decode()


def test_a_saved_view_keeps_the_sort_and_filters(staff_client, synced):
    response = staff_client.get("/calls/", {"sort": "-cost", "outcome": "voicemail"})

    assert "outcome=voicemail&amp;sort=-cost" in response.context_data["save_query"].replace(
        "&", "&amp;"
    )


# --- the archive behind ------------------------------------------------------------------------


def test_behind_the_list_is_truedys_and_says_what_it_left_out(staff_client, synced):
    synced.clock.advance(5 * 60)  # the archive is now 5 minutes behind: not current

    response = staff_client.get("/calls/", {"sort": "cost", "outcome": "voicemail"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not applied: the sort order, the outcome filter." in html
    assert "need the archive to be current: it is 5 min behind Truedy" in html
    assert "<fieldset disabled" in html  # the controls, disabled
    assert list_requests(synced)  # Truedy answered
    assert 'aria-sort="descending"' in html  # Truedy's order: newest first
    assert "sort-link" not in html
    created = [c.created_at for c in rows(response)]
    assert created == sorted(created, reverse=True)


def test_behind_a_csv_with_a_sort_is_refused_not_silently_unsorted(staff_client, synced):
    synced.clock.advance(5 * 60)

    response = staff_client.get("/calls/export.csv", {"sort": "-cost"})

    assert response.status_code == 409
    assert "sort" in response.content.decode()


def test_a_search_is_sorted_even_when_the_archive_is_behind(staff_client, synced):
    synced.clock.advance(5 * 60)

    response = staff_client.get("/calls/", {"q": "the", "sort": "-duration", "per_page": 100})

    durations = [c.duration_seconds or 0 for c in rows(response)]
    assert response.status_code == 200 and durations == sorted(durations, reverse=True)
    assert "Not applied" not in response.content.decode()


def test_every_sort_and_filter_of_the_current_archive_is_left_out_for_truedy():
    from calls.truedy.filters import CURRENT_ONLY_NAMES, CallFilters

    values = {"sort": "cost", "outcome": "voicemail", "has_recording": True}
    for name in CURRENT_ONLY_NAMES:
        asked = CallFilters(**{name: values.get(name, 5)})
        assert asked.needs_current_archive
        assert not asked.without_current_only().needs_current_archive
        assert not asked.without_search().needs_current_archive
