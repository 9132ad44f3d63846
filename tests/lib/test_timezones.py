"""calls/lib/timezones.py: which names the time-zone picker offers, and their versioned list."""

import json
import zoneinfo

import pytest

from calls.lib import timezones

ZONE_TAB = (
    "# tzdb timezone descriptions\n"
    "#\n"
    "DE\t+5230+01322\tEurope/Berlin\tmost of Germany\n"
    "NO\t+5955+01045\tEurope/Oslo\n"
    "IN\t+2232+08822\tAsia/Kolkata\n"
    "XX\t+0000+00000\tNowhere/Atlantis\n"
)


@pytest.fixture
def fresh_lists():
    """The lists are computed once per process: recompute them around a test that changes what
    they are made from."""
    cached = (timezones.zone_names, timezones.zone_names_json, timezones.zone_names_version)
    for function in cached:
        function.cache_clear()
    yield
    for function in cached:
        function.cache_clear()


def test_zone_tab_names_read_the_third_column_and_skip_comments():
    assert timezones.zone_tab_names(ZONE_TAB) == {
        "Europe/Berlin",
        "Europe/Oslo",
        "Asia/Kolkata",
        "Nowhere/Atlantis",
    }


def test_offered_names_are_zone_tab_plus_utc_and_only_known_zones(monkeypatch, fresh_lists):
    monkeypatch.setattr(timezones, "_zone_tab_text", lambda: ZONE_TAB)
    assert timezones.zone_names() == ("Asia/Kolkata", "Europe/Berlin", "Europe/Oslo", "UTC")


def test_without_a_zone_tab_links_are_dropped_by_name(monkeypatch, fresh_lists):
    monkeypatch.setattr(timezones, "_zone_tab_text", lambda: None)
    names = set(timezones.zone_names())
    assert {"UTC", "Europe/Berlin", "Asia/Kolkata"} <= names
    assert not [n for n in names if n.startswith(("Etc/", "US/", "SystemV/"))]


def test_the_installed_database_offers_no_alias_twice():
    names = timezones.zone_names()
    assert {"Asia/Kolkata", "Europe/Oslo", "America/New_York", "UTC"} <= set(names)
    assert not {"Asia/Calcutta", "Africa/Asmera", "US/Eastern", "Etc/UTC"} & set(names)
    assert set(names) <= zoneinfo.available_timezones()


def test_a_link_is_still_accepted_where_a_name_is():
    assert timezones.zone_or_none("Asia/Calcutta") is not None


def test_the_json_list_and_its_version_change_together(monkeypatch, fresh_lists):
    assert json.loads(timezones.zone_names_json()) == {"zones": list(timezones.zone_names())}
    current = timezones.zone_names_version()
    assert len(current) == 12 and current == timezones.zone_names_version()
    for function in (timezones.zone_names, timezones.zone_names_json):
        function.cache_clear()
    timezones.zone_names_version.cache_clear()
    monkeypatch.setattr(timezones, "_zone_tab_text", lambda: ZONE_TAB)
    assert timezones.zone_names_version() != current
