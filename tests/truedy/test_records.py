"""calls.truedy.records: every documented payload variant, and garbage -> MalformedResponse only."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.truedy.errors import MalformedResponse
from calls.truedy.records import (
    Agent,
    Call,
    CallPage,
    Turn,
    parse_agent,
    parse_agent_page,
    parse_call,
    parse_call_page,
    parse_timestamp,
)
from tests.payloads import OMIT, agent_page_body, agent_payload, call_page_body, call_payload, turn

# --- a complete call ---------------------------------------------------------------------------


def test_complete_call_is_parsed_into_typed_fields() -> None:
    call = parse_call(call_payload())

    assert call.id == "call_0001"
    assert call.agent_id == "agent_sales"
    assert call.status == "ended"
    assert call.direction == "outbound"
    assert call.created_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert call.started_at == datetime(2026, 11, 23, 10, 0, 5, 120000, tzinfo=UTC)
    assert call.updated_at == datetime(2026, 11, 23, 10, 3, 20, 123, tzinfo=UTC)
    assert call.to_number == "+14155550100"
    assert call.from_number == "+14155550199"
    assert call.contact_number == "+14155550100"
    assert call.duration_seconds == 192
    assert call.cost_cents == 37
    assert call.outcome == "interested"
    assert call.summary.startswith("The contact")
    assert call.transcript == (
        Turn("agent", "Hi, this is Ava from Acme.", 0.4),
        Turn("contact", "Oh, hi. What's this about?", 3.1),
    )
    assert call.recording_url.startswith("https://storage.truedy.test/")
    assert call.metadata == {"campaign_id": "camp_7", "contact_id": "ct_42"}


def test_call_is_immutable_and_metadata_read_only() -> None:
    call = parse_call(call_payload())
    with pytest.raises(AttributeError):
        call.status = "failed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        call.metadata["campaign_id"] = "x"  # type: ignore[index]
    assert isinstance(call.metadata, MappingProxyType)


def test_metadata_absent_or_null_is_empty_mapping() -> None:
    assert dict(parse_call(call_payload(metadata=OMIT)).metadata) == {}
    assert dict(parse_call(call_payload(metadata=None)).metadata) == {}


def test_metadata_is_a_copy_of_the_payload() -> None:
    payload = call_payload()
    call = parse_call(payload)
    payload["metadata"]["campaign_id"] = "changed"
    assert call.metadata["campaign_id"] == "camp_7"


def test_call_survives_pickle_for_the_cache() -> None:
    call = parse_call(call_payload())
    # Our own bytes, round-tripped: exactly what Django's cache backends do with a Call.
    restored = pickle.loads(pickle.dumps(call))  # noqa: S301
    assert restored == call
    assert isinstance(restored.metadata, MappingProxyType)
    assert copy.deepcopy(call) == call
    assert hash(call) == hash(restored)


def test_unknown_extra_fields_are_ignored() -> None:
    call = parse_call(call_payload(end_reason="hangup", costUsd=0.37, extra={"a": [1, 2]}))
    assert call == parse_call(call_payload())


# --- statuses, directions, outcomes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("in_progress", "in-progress"),
        ("completed", "ended"),
        ("created", "queued"),
        ("in-progress", "in-progress"),
        ("queued", "queued"),
        ("ringing", "ringing"),
        ("failed", "failed"),
        ("cancelled", "cancelled"),
        ("ENDED", "ended"),
    ],
)
def test_status_variants_are_normalised(raw: str, expected: str) -> None:
    assert parse_call(call_payload(status=raw)).status == expected


def test_unknown_status_is_kept_raw() -> None:
    assert parse_call(call_payload(status="on_hold_Transfer")).status == "on_hold_Transfer"


def test_missing_status_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        parse_call(call_payload(status=OMIT))


def test_unknown_outcome_and_direction_are_kept_raw() -> None:
    call = parse_call(call_payload(outcome="wrong-number", direction="sip"))
    assert call.outcome == "wrong-number"
    assert call.direction == "sip"


def test_outcome_underscore_spelling_is_normalised() -> None:
    assert parse_call(call_payload(outcome="not_interested")).outcome == "not-interested"


# --- phone numbers ------------------------------------------------------------------------------


def test_number_variant_to_number_from_number() -> None:
    call = parse_call(
        call_payload(to=OMIT, **{"from": OMIT}, to_number="+1555000111", from_number="+1555000222")
    )
    assert (call.to_number, call.from_number) == ("+1555000111", "+1555000222")


def test_phone_number_is_the_callee_of_an_outbound_call() -> None:
    call = parse_call(call_payload(to=OMIT, **{"from": OMIT}, phone_number="+1555000333"))
    assert call.to_number == "+1555000333"
    assert call.from_number is None
    assert call.contact_number == "+1555000333"


def test_phone_number_is_the_caller_of_an_inbound_call() -> None:
    call = parse_call(
        call_payload(direction="inbound", to=OMIT, **{"from": OMIT}, phone_number="+1555000444")
    )
    assert call.from_number == "+1555000444"
    assert call.to_number is None
    assert call.contact_number == "+1555000444"


def test_inbound_contact_number_is_the_caller() -> None:
    call = parse_call(call_payload(direction="inbound", to="+1000", **{"from": "+2000"}))
    assert call.contact_number == "+2000"


def test_webrtc_call_without_numbers() -> None:
    call = parse_call(call_payload(direction="webrtc", to=None, **{"from": OMIT}))
    assert call.to_number is None
    assert call.from_number is None
    assert call.contact_number is None


def test_contact_number_falls_back_to_whichever_exists() -> None:
    call = parse_call(call_payload(direction=None, to=None, **{"from": "+3000"}))
    assert call.contact_number == "+3000"


# --- cost and duration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"cost_cents": 37}, 37),
        ({"cost_cents": OMIT, "cost_credits": 42}, 42),
        ({"cost_cents": OMIT, "cost_credits": 12.6}, 13),
        ({"cost_cents": None, "cost_credits": 5}, 5),
        ({"cost_cents": 12.4}, 12),
        ({"cost_cents": None}, None),
        ({"cost_cents": OMIT}, None),
    ],
)
def test_cost_cents_or_credits(overrides: dict[str, Any], expected: int | None) -> None:
    assert parse_call(call_payload(**overrides)).cost_cents == expected


def test_float_duration_becomes_int() -> None:
    call = parse_call(call_payload(duration_seconds=61.7))
    assert call.duration_seconds == 62
    assert isinstance(call.duration_seconds, int)


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)),
        ("2026-11-23T10:00:00.1Z", datetime(2026, 11, 23, 10, 0, 0, 100000, tzinfo=UTC)),
        ("2026-11-23T10:00:00.12Z", datetime(2026, 11, 23, 10, 0, 0, 120000, tzinfo=UTC)),
        ("2026-11-23T10:00:00.123Z", datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-11-23T10:00:00.1234Z", datetime(2026, 11, 23, 10, 0, 0, 123400, tzinfo=UTC)),
        ("2026-11-23T10:00:00.12345Z", datetime(2026, 11, 23, 10, 0, 0, 123450, tzinfo=UTC)),
        ("2026-11-23T10:00:00.123456Z", datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-23T10:00:00.123456789Z", datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-23T10:00:00+00:00", datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)),
        ("2026-11-23T10:00:00.5+02:00", datetime(2026, 11, 23, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-23T01:00:00-05:30", datetime(2026, 11, 23, 6, 30, 0, tzinfo=UTC)),
        ("2026-11-23T10:00:00", datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_are_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_null_and_empty_timestamps_are_none() -> None:
    assert parse_timestamp(None) is None
    assert parse_timestamp("") is None
    call = parse_call(call_payload(started_at=None, ended_at=OMIT))
    assert call.started_at is None
    assert call.ended_at is None


@pytest.mark.parametrize(
    "bad",
    [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-23T25:00:00Z",
        "2026-11-23T10:00:00+25:00",
        "2026-11-23T10:00:00.Z",
        "2026-11-23T10:00:00Zjunk",
        "0001-01-01T00:00:00+01:00",
        "２０２６-11-23T10:00:00Z",
        1700000000,
        ["2026-11-23T10:00:00Z"],
    ],
)
def test_bad_timestamps_are_malformed(bad: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_timestamp(bad)
    with pytest.raises(MalformedResponse):
        parse_call(call_payload(created_at=bad))


# --- transcript ---------------------------------------------------------------------------------


def test_transcript_absent_in_list_items_is_none() -> None:
    assert parse_call(call_payload(transcript=OMIT)).transcript is None


def test_transcript_null_is_none() -> None:
    assert parse_call(call_payload(transcript=None)).transcript is None


def test_transcript_empty_list_is_empty_tuple() -> None:
    assert parse_call(call_payload(transcript=[])).transcript == ()


def test_unknown_speaker_is_kept_raw_and_known_ones_normalised() -> None:
    call = parse_call(
        call_payload(transcript=[turn("Agent", "hi", 0), turn("supervisor", "listen", 1)])
    )
    assert [t.speaker for t in call.transcript] == ["agent", "supervisor"]
    assert call.transcript[0].timestamp == 0.0
    assert isinstance(call.transcript[0].timestamp, float)


@pytest.mark.parametrize(
    "transcript",
    [
        "Agent: hi",
        {"speaker": "agent"},
        [{"speaker": "agent", "timestamp": 1}],
        [{"speaker": "agent", "text": None, "timestamp": 1}],
        [{"speaker": "agent", "text": 5, "timestamp": 1}],
        [{"text": "hi", "timestamp": 1}],
        [{"speaker": "agent", "text": "hi"}],
        [{"speaker": "agent", "text": "hi", "timestamp": "1.5"}],
        [{"speaker": "agent", "text": "hi", "timestamp": True}],
        ["hi"],
    ],
)
def test_malformed_transcript(transcript: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_call(call_payload(transcript=transcript))


# --- other malformed calls ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "call_0001",
        42,
        call_payload(id=OMIT),
        call_payload(id=""),
        call_payload(id=12),
        call_payload(to=5),
        call_payload(duration_seconds="60"),
        call_payload(duration_seconds=-3),
        call_payload(duration_seconds=float("nan")),
        call_payload(cost_cents=True),
        call_payload(cost_cents=float("inf")),
        call_payload(cost_cents=10**400),
        call_payload(metadata=["campaign"]),
        call_payload(summary={"text": "x"}),
        call_payload(recording_url=1),
        call_payload(status=3),
    ],
)
def test_malformed_call(payload: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_call(payload)


# --- pages --------------------------------------------------------------------------------------


def test_page_counts_from_meta() -> None:
    page = parse_call_page(call_page_body([call_payload()] * 2, total=57, limit=2, offset=4))
    assert isinstance(page, CallPage)
    assert (page.total, page.limit, page.offset) == (57, 2, 4)
    assert len(page.calls) == 2
    assert page.has_more


def test_page_counts_from_pagination_variant() -> None:
    body = call_page_body([call_payload()], total=41, limit=20, offset=40, variant="reference")
    page = parse_call_page(body)
    assert (page.total, page.limit, page.offset) == (41, 20, 40)
    assert not page.has_more


def test_meta_total_wins_over_pagination_total() -> None:
    body = call_page_body([], total=10, variant="reference")
    body["meta"]["total"] = 12
    assert parse_call_page(body).total == 12


def test_page_limit_and_offset_fall_back_to_the_request() -> None:
    body = {"data": [], "meta": {"total": 300}}
    page = parse_call_page(body, limit=50, offset=250)
    assert (page.total, page.limit, page.offset) == (300, 50, 250)
    assert parse_call_page(body).limit == 20


def test_list_items_without_transcript() -> None:
    page = parse_call_page(call_page_body([call_payload(transcript=OMIT)]))
    assert page.calls[0].transcript is None


def test_offset_past_the_end_is_an_empty_page() -> None:
    page = parse_call_page(call_page_body([], total=5, offset=100))
    assert page.calls == ()
    assert page.total == 5
    assert not page.has_more


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"data": {"id": "call_1"}, "meta": {"total": 1}},
        {"data": None, "meta": {"total": 0}},
        {"data": []},
        {"data": [], "meta": {"total": "12"}},
        {"data": [], "meta": {"total": -1}},
        {"data": [], "meta": {"total": True}},
        {"data": [], "meta": "x"},
        {"data": [], "pagination": [], "meta": {"total": 1}},
        {"data": [{"id": "c"}], "meta": {"total": 1}},
        {"data": [None], "meta": {"total": 1}},
    ],
)
def test_malformed_page(body: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_call_page(body)


# --- agents -------------------------------------------------------------------------------------


def test_agent_drops_system_prompt_and_phone_numbers() -> None:
    agent = parse_agent(agent_payload(7))
    assert agent == Agent(id="agent_0007", name="Agent 7", status="active")
    assert not hasattr(agent, "system_prompt")
    assert "SECRET" not in repr(agent)


def test_nameless_agent_shows_its_id() -> None:
    agent = parse_agent(agent_payload(3, name=None, status=OMIT))
    assert agent.name == "agent_0003"
    assert agent.status == "unknown"


def test_agent_page() -> None:
    agents, total = parse_agent_page(agent_page_body([agent_payload(1), agent_payload(2)], total=9))
    assert [a.id for a in agents] == ["agent_0001", "agent_0002"]
    assert total == 9


@pytest.mark.parametrize("bad", [None, "agent", {"name": "x"}, {"id": 5}])
def test_malformed_agent(bad: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_agent(bad)


# --- garbage in, MalformedResponse out (property) -----------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
CALL_KEYS = [*call_payload(), "to_number", "from_number", "phone_number", "cost_credits"]


def _field_value(key: str) -> st.SearchStrategy[Any]:
    """Mostly-plausible values for a known key, often garbage: reaches the deep branches."""
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "transcript": st.lists(
            st.fixed_dictionaries(
                {
                    "speaker": json_values | st.sampled_from(["agent", "contact"]),
                    "text": json_values,
                }
            )
            | st.builds(turn, st.text(max_size=8), st.text(max_size=8), st.floats()),
            max_size=3,
        ),
        "created_at": st.text(alphabet="0123456789-T:.Z+ ", max_size=32),
        "status": st.sampled_from(["in_progress", "completed", "created", "ended", "weird"]),
    }
    return json_values | plausible.get(key, json_values)


# A valid id and status that the drawn keys may replace, so most examples get past the first check.
call_like = st.fixed_dictionaries({}, optional={key: _field_value(key) for key in CALL_KEYS}).map(
    lambda d: {"id": "call_x", "status": "ended", **d}
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, call_like))
def test_garbage_call_raises_only_malformed(payload: Any) -> None:
    try:
        result = parse_call(payload)
    except MalformedResponse:
        return
    assert isinstance(result, Call)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"data": st.lists(call_like, max_size=3) | json_values},
            optional={
                "meta": st.fixed_dictionaries({}, optional={"total": json_values}) | json_values,
                "pagination": json_values,
            },
        ),
    )
)
def test_garbage_page_raises_only_malformed(body: Any) -> None:
    try:
        result = parse_call_page(body)
    except MalformedResponse:
        return
    assert isinstance(result, CallPage)
    assert all(isinstance(call, Call) for call in result.calls)
