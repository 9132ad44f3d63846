"""CallFilterForm (calls/forms.py) and the zone helpers it uses (calls/lib/timezones.py)."""

import inspect
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.forms import PER_PAGE_CHOICES, QUERY_ORDER, CallFilterForm, describe_errors
from calls.lib.timezones import ZONE_COOKIE, zone_names, zone_or_none
from calls.truedy.client import CALL_ID_PATTERN
from calls.truedy.records import DIRECTIONS, STATUSES
from calls.upstream import reads

BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")
UTC_ZONE = ZoneInfo("UTC")
MICROSECOND = timedelta(microseconds=1)


def make_form(query: str = "", *, zone: ZoneInfo = UTC_ZONE, **params: str) -> CallFilterForm:
    data = QueryDict(query, mutable=True)
    for name, value in params.items():
        data[name] = value
    return CallFilterForm(data, default_zone=zone)


def valid_params(query: str = "", *, zone: ZoneInfo = UTC_ZONE, **params: str) -> dict:
    form = make_form(query, zone=zone, **params)
    assert form.is_valid(), form.errors
    return form.api_params()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- timezones ---------------------------------------------------------------------------------


def test_zone_cookie_name() -> None:
    assert ZONE_COOKIE == "tz"


def test_zone_names_are_sorted_canonical_and_cached() -> None:
    names = zone_names()
    assert names == tuple(sorted(names))
    assert {"UTC", "Europe/Berlin", "America/Santiago", "Asia/Kolkata"} <= set(names)
    assert not [n for n in names if n.startswith(("Etc/", "US/", "SystemV/", "Canada/", "Chile/"))]
    assert not {"posixrules", "localtime", "GMT", "EST5EDT"} & set(names)
    assert zone_names() is names


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "US/Eastern", "Etc/GMT+5"])
def test_zone_or_none_accepts_every_known_key(name: str) -> None:
    zone = zone_or_none(name)
    assert zone is not None
    assert zone.key == name


@pytest.mark.parametrize(
    "name",
    [None, "", " ", "Mars/Olympus", "../etc/passwd", "/etc/localtime", "Europe/../UTC", "a\x00b",
     "x" * 10_000, "europe/berlin", "Europe/Berlin "],
)  # fmt: skip
def test_zone_or_none_rejects_anything_else(name: str | None) -> None:
    assert zone_or_none(name) is None


# --- defaults and simple fields ----------------------------------------------------------------


def test_empty_query_means_first_page_without_filters() -> None:
    form = make_form(zone=BERLIN)
    assert form.is_valid()
    assert form.api_params() == {
        "agent_id": None,
        "status": None,
        "direction": None,
        "created_after": None,
        "created_before": None,
        "limit": 25,
        "offset": 0,
    }
    assert (form.page, form.per_page, form.zone) == (1, 25, BERLIN)
    assert not form.is_filtered


def test_api_params_are_the_keyword_arguments_of_list_calls() -> None:
    accepted = set(inspect.signature(reads.list_calls).parameters)
    assert set(valid_params()) == accepted


def test_empty_values_mean_no_filter() -> None:
    params = valid_params(
        "agent_id=&status=&direction=&created_after=&created_before=&tz=&page=&per_page="
    )
    assert params == valid_params()


@pytest.mark.parametrize(
    "agent_id", ["agent_1", "3f2b1c9e-8d7a-4b6c-9e1f-0a2b3c4d5e6f", "deleted-agent", "A" * 64]
)
def test_any_well_formed_agent_id_is_accepted(agent_id: str) -> None:
    assert valid_params(agent_id=f"  {agent_id} ")["agent_id"] == agent_id


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_is_accepted(status: str) -> None:
    assert valid_params(status=status)["status"] == status


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_each_direction_is_accepted(direction: str) -> None:
    assert valid_params(direction=f" {direction}\n")["direction"] == direction


def test_choices_have_human_labels_and_an_empty_choice() -> None:
    form = make_form()
    status_choices = dict(form.fields["status"].choices)
    direction_choices = dict(form.fields["direction"].choices)
    assert status_choices[""] == "Any status"
    assert status_choices["in-progress"] == "In progress"
    assert direction_choices[""] == "Any direction"
    assert direction_choices["inbound"] == "Inbound"
    assert direction_choices["webrtc"] == "WebRTC"


@pytest.mark.parametrize(
    ("query", "limit", "offset"),
    [
        ("page=1", 25, 0),
        ("page=3", 25, 50),
        ("page=3&per_page=50", 50, 100),
        ("per_page=10", 10, 0),
        ("per_page=100&page=2", 100, 100),
        ("per_page=30&page=2", 30, 30),  # not offered in the select, still accepted
        ("page=%202%20", 25, 25),  # surrounding spaces are stripped
        ("page=007", 25, 150),
        ("page=1000000", 25, 999_999 * 25),
    ],
)
def test_page_and_per_page_become_limit_and_offset(query: str, limit: int, offset: int) -> None:
    params = valid_params(query)
    assert (params["limit"], params["offset"]) == (limit, offset)


def test_per_page_select_offers_the_choices_and_shows_the_default() -> None:
    form = make_form(zone=BERLIN)
    assert [int(value) for value, _ in form.fields["per_page"].widget.choices] == list(
        PER_PAGE_CHOICES
    )
    assert form["per_page"].value() == 25
    assert form["tz"].value() == "Europe/Berlin"


# --- time zone ---------------------------------------------------------------------------------


def test_tz_overrides_the_default_zone() -> None:
    form = make_form(tz="America/Santiago", zone=BERLIN)
    assert form.is_valid()
    assert form.zone == SANTIAGO
    assert form.cleaned_data["tz"] == SANTIAGO


def test_legacy_zone_names_are_accepted() -> None:
    assert make_form(tz="US/Eastern").zone.key == "US/Eastern"


def test_unknown_tz_is_an_error_and_the_default_stays_in_effect() -> None:
    form = make_form(tz="Mars/Olympus", zone=BERLIN)
    assert not form.is_valid()
    assert describe_errors(form) == ["Time zone: Unknown time zone “Mars/Olympus”."]
    assert form.zone == BERLIN


# --- date and time formats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-01", utc(2026, 6, 1, 22)),  # the whole of June 1st in Berlin (UTC+2)
        ("2026-06-01T10:30", utc(2026, 6, 1, 8, 30)),
        ("2026-06-01 10:30", utc(2026, 6, 1, 8, 30)),
        ("2026-06-01T10:30:15", utc(2026, 6, 1, 8, 30, 15)),
        ("2026-06-01T10:30:15.5", utc(2026, 6, 1, 8, 30, 15, 500_000)),
        ("2026-06-01T10:30:15.123456", utc(2026, 6, 1, 8, 30, 15, 123_456)),
        ("2026-06-01T10:30Z", utc(2026, 6, 1, 10, 30)),
        ("2026-06-01T10:30:15Z", utc(2026, 6, 1, 10, 30, 15)),
        ("2026-06-01T10:30:15.250Z", utc(2026, 6, 1, 10, 30, 15, 250_000)),
        ("2026-06-01T10:30+05:30", utc(2026, 6, 1, 5, 0)),
        ("2026-06-01T10:30:00.25-03:00", utc(2026, 6, 1, 13, 30, 0, 250_000)),
        ("2026-06-01 10:30:00+00:00", utc(2026, 6, 1, 10, 30)),
        ("  2026-06-01T10:30  ", utc(2026, 6, 1, 8, 30)),
    ],
)
def test_each_format_is_accepted(text: str, expected: datetime) -> None:
    params = valid_params(created_before=text, tz="Europe/Berlin")
    assert params["created_before"] == expected
    assert params["created_before"].tzinfo is UTC


def test_from_a_time_includes_that_instant() -> None:
    params = valid_params(created_after="2026-06-01T10:30", tz="Europe/Berlin")
    assert params["created_after"] == utc(2026, 6, 1, 8, 30) - MICROSECOND


def test_a_date_alone_is_the_whole_day_inclusive() -> None:
    params = valid_params(created_after="2026-11-23", created_before="2026-11-23", tz="UTC")
    after, before = params["created_after"], params["created_before"]
    assert (after, before) == (utc(2026, 11, 22, 23, 59, 59, 999_999), utc(2026, 11, 24))
    for inside in (utc(2026, 11, 23), utc(2026, 11, 23, 23, 59, 59, 999_999)):
        assert after < inside < before  # the API's bounds are exclusive
    assert not after < utc(2026, 11, 24) < before


def test_whole_day_when_berlin_springs_forward() -> None:
    # 2026-03-29 starts at 00:00 CET (UTC+1) and ends at 24:00 CEST (UTC+2): 23 hours.
    params = valid_params(
        created_after="2026-03-29", created_before="2026-03-29", tz="Europe/Berlin"
    )
    assert params["created_after"] == utc(2026, 3, 28, 22, 59, 59, 999_999)
    assert params["created_before"] == utc(2026, 3, 29, 22)


def test_whole_day_when_berlin_falls_back() -> None:
    # 2026-10-25 starts at 00:00 CEST (UTC+2) and ends at 24:00 CET (UTC+1): 25 hours.
    params = valid_params(
        created_after="2026-10-25", created_before="2026-10-25", tz="Europe/Berlin"
    )
    assert params["created_after"] == utc(2026, 10, 24, 21, 59, 59, 999_999)
    assert params["created_before"] == utc(2026, 10, 25, 23)


def test_day_without_a_midnight_starts_when_the_clocks_jump() -> None:
    # Santiago springs forward at 2026-09-06 00:00 (UTC-4) straight to 01:00 (UTC-3): that day's
    # first instant is 04:00Z, shown locally as 01:00.
    first = utc(2026, 9, 6, 4)
    assert first.astimezone(SANTIAGO).isoformat() == "2026-09-06T01:00:00-03:00"
    assert (first - MICROSECOND).astimezone(SANTIAGO).date().isoformat() == "2026-09-05"
    after = valid_params(created_after="2026-09-06", zone=SANTIAGO)["created_after"]
    assert after == first - MICROSECOND
    before = valid_params(created_before="2026-09-05", zone=SANTIAGO)["created_before"]
    assert before == first  # all of September 5th, up to the jump


@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_a_wall_time_skipped_by_dst_is_an_error(name: str) -> None:
    form = make_form(zone=BERLIN, **{name: "2026-03-29T02:30"})
    assert not form.is_valid()
    assert form.errors[name] == [
        "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks went forward."
    ]


def test_a_skipped_wall_time_keeps_its_seconds_in_the_error() -> None:
    form = make_form(created_before="2026-03-29T02:00:30", tz="Europe/Berlin")
    assert form.errors["created_before"] == [
        "2026-03-29 02:00:30 does not exist in Europe/Berlin: the clocks went forward."
    ]


def test_an_ambiguous_wall_time_means_the_earlier_one() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin: first at UTC+2 (00:30Z), then at UTC+1.
    params = valid_params(created_before="2026-10-25T02:30", tz="Europe/Berlin")
    assert params["created_before"] == utc(2026, 10, 25, 0, 30)


def test_an_explicit_offset_wins_over_the_zone() -> None:
    params = valid_params(
        created_after="2026-03-29T02:30+01:00",  # would not exist as Berlin wall time
        created_before="2026-03-29T12:00Z",
        tz="Europe/Berlin",
    )
    assert params["created_after"] == utc(2026, 3, 29, 1, 30) - MICROSECOND
    assert params["created_before"] == utc(2026, 3, 29, 12)


def test_year_bounds_are_inclusive() -> None:
    params = valid_params(created_after="1970-01-01", created_before="2100-12-31", tz="UTC")
    assert params["created_after"] == utc(1970, 1, 1) - MICROSECOND
    assert params["created_before"] == utc(2101, 1, 1)


# --- range -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "before"),
    [
        ("2026-11-24", "2026-11-23"),
        ("2026-11-23T10:00", "2026-11-23T10:00"),
        ("2026-11-23T10:00", "2026-11-23T09:59"),
        ("2026-11-23", "2026-11-23T00:00"),
        ("2026-11-23T10:00Z", "2026-11-23T10:00+00:00"),
    ],
)
def test_from_must_be_earlier_than_to(after: str, before: str) -> None:
    form = make_form(created_after=after, created_before=before)
    assert not form.is_valid()
    assert describe_errors(form) == ["“From” must be earlier than “To”."]


def test_the_shortest_range_holds_one_microsecond() -> None:
    params = valid_params(
        created_after="2026-11-23T10:00:00", created_before="2026-11-23T10:00:00.000001"
    )
    assert params["created_after"] < utc(2026, 11, 23, 10) < params["created_before"]


# --- invalid input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "bogus"),
        ("status", "Ended"),
        ("direction", "sideways"),
        ("agent_id", "../x"),
        ("agent_id", "a b"),
        ("agent_id", "A" * 65),
        ("agent_id", "agent\x00"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "0"),
        ("page", "1.5"),
        ("page", "\u0661\u0662"),  # Arabic-Indic 12
        ("page", "1e3"),
        ("page", "1000001"),
        ("page", "9" * 5000),
        ("per_page", "1000"),
        ("per_page", "5"),
        ("per_page", "9"),
        ("per_page", "101"),
        ("per_page", "all"),
        ("created_after", "2026-02-30"),
        ("created_after", "2026-13-01"),
        ("created_after", "yesterday"),
        ("created_after", "2026-6-1"),
        ("created_after", "\u0662\u0660\u0662\u0666-06-01"),  # Arabic-Indic digits
        ("created_after", "1969-12-31"),
        ("created_before", "2101-01-01"),
        ("created_before", "2026-06-01T24:00"),
        ("created_before", "2026-06-01T10:60"),
        ("created_before", "2026-06-01T10:30+24:00"),
        ("created_before", "2026-06-01T10:30+05:60"),
        ("created_before", "2026-06-01T10:30:15.1234567"),
        ("created_before", "2026-06-01Z"),
        ("tz", "Mars/Olympus"),
        ("tz", "../../etc/passwd"),
    ],
)
def test_invalid_values_are_field_errors(name: str, value: str) -> None:
    form = make_form(**{name: value})
    assert not form.is_valid()
    assert list(form.errors) == [name]
    with pytest.raises(ValueError, match="valid form"):
        form.api_params()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Status: “bogus” is not a call status."),
        ("direction=up", "Direction: “up” is not a call direction."),
        ("agent_id=../x", "Agent: “../x” is not an agent id."),
        ("page=abc", "Page: “abc” is not a whole number from 1 to 1,000,000."),
        ("per_page=1000", "Per page: “1000” is not a whole number from 10 to 100."),
        (
            "created_after=2026-02-30",
            "From: “2026-02-30” is not a date or time: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] "
            "or ISO 8601 with Z or ±HH:MM.",
        ),
        (
            "created_before=yesterday",
            "To: “yesterday” is not a date or time: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] "
            "or ISO 8601 with Z or ±HH:MM.",
        ),
        (
            "created_after=1969-12-31",
            "From: “1969-12-31” is out of range: use a year from 1970 to 2100.",
        ),
    ],
)
def test_describe_errors_names_the_field_and_the_value(query: str, message: str) -> None:
    assert describe_errors(make_form(query)) == [message]


@pytest.mark.parametrize("name", QUERY_ORDER)
@pytest.mark.parametrize("value", ["\x00", "2026-06-01\x00", "7" * 100_000, "é" * 100_000])
def test_hostile_values_are_errors_with_short_messages(name: str, value: str) -> None:
    form = make_form(**{name: value})
    assert not form.is_valid()
    messages = describe_errors(form)
    assert messages
    assert all(len(message) < 200 for message in messages)


def test_repeated_keys_use_the_last_value_everywhere() -> None:
    form = make_form("status=bogus&status=ended&tz=Mars/Olympus&tz=Asia/Tokyo")
    assert form.is_valid()
    assert form.api_params()["status"] == "ended"
    assert form.zone.key == "Asia/Tokyo"
    assert form.query() == "status=ended&tz=Asia/Tokyo"


# --- query() and is_filtered -------------------------------------------------------------------


def test_query_is_canonical() -> None:
    form = make_form(
        "page=2&per_page=50&tz=+Europe/Berlin&created_before=2026-11-30&created_after=2026-11-23T08:00"
        "&direction=inbound&status=ended&agent_id=agent_1&utm_source=mail"
    )
    assert form.query() == (
        "agent_id=agent_1&status=ended&direction=inbound&created_after=2026-11-23T08:00"
        "&created_before=2026-11-30&tz=Europe/Berlin&per_page=50&page=2"
    )


def test_query_always_names_the_zone_in_effect() -> None:
    assert make_form(zone=BERLIN).query() == "tz=Europe/Berlin"
    assert make_form(tz="Asia/Tokyo", zone=BERLIN).query() == "tz=Asia/Tokyo"


def test_query_omits_defaults_and_normalises_numbers() -> None:
    assert make_form("page=1&per_page=25&status=").query() == "tz=UTC"
    assert make_form("page=007&per_page=%2010%20").query() == "tz=UTC&per_page=10&page=7"


def test_query_overrides_replace_or_drop_values() -> None:
    form = make_form("status=ended&page=4")
    assert form.query(page=5) == "status=ended&tz=UTC&page=5"
    assert form.query(page=None) == "status=ended&tz=UTC"
    assert form.query(page=1) == "status=ended&tz=UTC"
    assert form.query(status=None, per_page=50) == "tz=UTC&per_page=50&page=4"
    with pytest.raises(TypeError, match="bogus"):
        form.query(bogus=1)


def test_query_encodes_offsets() -> None:
    form = make_form(created_after="2026-06-01T10:30+05:30")
    assert form.query() == "created_after=2026-06-01T10:30%2B05:30&tz=UTC"
    assert valid_params(form.query()) == form.api_params()


def test_query_round_trips_for_another_default_zone() -> None:
    form = make_form(
        "agent_id=a1&direction=webrtc&created_after=2026-03-29&tz=America/Santiago&page=3"
    )
    again = make_form(form.query(), zone=BERLIN)
    assert again.is_valid()
    assert again.api_params() == form.api_params()
    assert again.zone == form.zone == SANTIAGO
    assert again.query() == form.query()


@pytest.mark.parametrize(
    ("query", "filtered"),
    [
        ("", False),
        ("tz=Asia/Tokyo&page=3&per_page=50", False),
        ("status=%20", False),
        ("agent_id=a1", True),
        ("status=ended", True),
        ("direction=inbound", True),
        ("created_after=2026-01-01", True),
        ("created_before=2026-01-01", True),
    ],
)
def test_is_filtered(query: str, filtered: bool) -> None:
    assert make_form(query).is_filtered is filtered


def test_an_invalid_form_still_answers_its_zone_page_and_query() -> None:
    form = make_form("status=bogus&page=3&tz=Asia/Tokyo", zone=BERLIN)
    assert not form.is_valid()
    assert (form.zone.key, form.page, form.per_page) == ("Asia/Tokyo", 1, 25)
    assert form.query() == "status=bogus&tz=Asia/Tokyo&page=3"
    assert form.is_filtered


# --- properties --------------------------------------------------------------------------------

ZONES = (UTC_ZONE, BERLIN, SANTIAGO, ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe"))


def _moment_texts() -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31, 23))
    offsets = st.integers(-14 * 60, 14 * 60).map(
        lambda m: f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
    )
    return st.one_of(
        moments.map(lambda m: m.date().isoformat()),
        moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M")),
        moments.map(lambda m: m.strftime("%Y-%m-%d %H:%M:%S")),
        moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%f")),
        moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
        st.tuples(moments, offsets).map(lambda mo: mo[0].strftime("%Y-%m-%dT%H:%M") + mo[1]),
    )


PLAUSIBLE = {
    "agent_id": st.one_of(st.just(""), st.from_regex(CALL_ID_PATTERN, fullmatch=True)),
    "status": st.sampled_from(("", *STATUSES)),
    "direction": st.sampled_from(("", *DIRECTIONS)),
    "created_after": st.one_of(st.just(""), _moment_texts()),
    "created_before": st.one_of(st.just(""), _moment_texts()),
    "tz": st.one_of(st.just(""), st.sampled_from(zone_names()), st.just("US/Eastern")),
    "per_page": st.integers(0, 150).map(str),
    "page": st.integers(0, 1_100_000).map(str),
}
ANY_TEXT = st.one_of(st.text(), st.text(st.characters(codec="ascii"), max_size=12))
EXTRA_KEYS = st.dictionaries(
    st.text(max_size=8).filter(lambda key: key not in QUERY_ORDER),
    st.lists(ANY_TEXT, min_size=1, max_size=2),
    max_size=3,
)
HYPOTHESIS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _build(values: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, items in values.items():
        data.setlist(name, items)
    return data


@st.composite
def query_dicts(draw: st.DrawFn, *, hostile: bool) -> QueryDict:
    values: dict[str, list[str]] = {}
    for name, plausible in PLAUSIBLE.items():
        if draw(st.booleans()):
            value = plausible | ANY_TEXT if hostile else plausible
            values[name] = draw(st.lists(value, min_size=1, max_size=2))
    if hostile:
        values |= draw(EXTRA_KEYS)
    return _build(values)


def _assert_params_invariants(form: CallFilterForm) -> None:
    params = form.api_params()
    assert 10 <= params["limit"] <= 100
    assert params["limit"] == form.per_page
    assert params["offset"] == (form.page - 1) * params["limit"] >= 0
    assert params["status"] in (None, *STATUSES)
    assert params["direction"] in (None, *DIRECTIONS)
    assert params["agent_id"] is None or CALL_ID_PATTERN.fullmatch(params["agent_id"])
    after, before = params["created_after"], params["created_before"]
    for bound in (after, before):
        assert bound is None or bound.tzinfo is UTC
    if after is not None and before is not None:
        assert after < before - MICROSECOND


@HYPOTHESIS
@given(data=query_dicts(hostile=True), zone=st.sampled_from(ZONES))
def test_any_query_is_valid_or_has_errors(data: QueryDict, zone: ZoneInfo) -> None:
    form = CallFilterForm(data, default_zone=zone)
    form.query()
    form.is_filtered  # noqa: B018 - must not raise either
    assert isinstance(form.zone, ZoneInfo)
    if form.is_valid():
        _assert_params_invariants(form)
    else:
        assert describe_errors(form)


@HYPOTHESIS
@given(data=query_dicts(hostile=False), zone=st.sampled_from(ZONES))
def test_query_round_trips(data: QueryDict, zone: ZoneInfo) -> None:
    form = CallFilterForm(data, default_zone=zone)
    if not form.is_valid():
        return  # e.g. a reversed range or a skipped wall time: covered above
    again = CallFilterForm(QueryDict(form.query()), default_zone=BERLIN)
    assert again.is_valid(), again.errors
    assert again.api_params() == form.api_params()
    assert again.zone.key == form.zone.key
    assert again.query() == form.query()
