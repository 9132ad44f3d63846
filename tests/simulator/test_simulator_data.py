"""The simulator's seeded data set: the mix of calls a dashboard has to cope with."""

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator
from calls.simulator.isotime import format_us, parse_iso
from calls.simulator.manifest import DEFAULT_RECORDINGS_DIR, load_manifest

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
BASE = "http://simulator.truedy.local" + API_PREFIX
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CALL_ID = re.compile(r"call_[a-z0-9]{24}")
FICTIONAL_NUMBER = re.compile(r"\+1\d{3}55501\d{2}|\+447700900\d{3}")
HOSTILE = (
    '<script>alert("xss")</script>',
    "<img src=x onerror=alert(1)>",
    "\"double\" & 'single'",
    "{{ template }}",
    "{% tag %}",
    "📞😀👍🏽",
    "\u200d",  # zero-width joiner
    "مرحبا",  # Arabic
    "שלום",  # Hebrew
)
OUTCOMES = ("interested", "not-interested", "voicemail", "no-answer", "callback-requested")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fetch_all(api: httpx.Client) -> list[dict]:
    items: list[dict] = []
    while True:
        body = api.get("/calls", params={"limit": 100, "offset": len(items)}).json()
        items += body["data"]
        if len(items) >= body["meta"]["total"]:
            return items


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(seed=42, now=NOW)


@pytest.fixture(scope="module")
def api(sim: Simulator) -> httpx.Client:
    return httpx.Client(transport=sim.transport(), base_url=BASE, headers=AUTH)


@pytest.fixture(scope="module")
def calls(api: httpx.Client) -> list[dict]:
    """Every visible call in full, transcripts included, newest first."""
    return [api.get(f"/calls/{c['id']}").json()["data"] for c in fetch_all(api)]


@pytest.fixture(scope="module")
def agents(api: httpx.Client) -> list[dict]:
    return api.get("/agents", params={"limit": 100}).json()["data"]


def long_ago(call: dict, minutes: int = 5) -> bool:
    return call["ended_at"] is not None and parse_ts(call["ended_at"]) < NOW - timedelta(
        minutes=minutes
    )


def test_agents_include_a_draft_and_calls_reference_a_deleted_one(
    calls: list[dict], agents: list[dict]
) -> None:
    assert len(agents) >= 6
    by_status = Counter(a["status"] for a in agents)
    assert by_status["draft"] == 1 and by_status["active"] >= 4
    listed = {a["id"] for a in agents}
    missing = {c["agent_id"] for c in calls} - listed
    assert len(missing) == 1
    assert re.fullmatch(r"agt_[a-z0-9]{20}", missing.pop())
    draft = next(a for a in agents if a["status"] == "draft")
    assert sum(c["agent_id"] == draft["id"] for c in calls) <= 3
    assert any("\N{EN DASH}" in a["name"] for a in agents)


def test_every_status_direction_and_outcome_is_present(calls: list[dict]) -> None:
    statuses = Counter(c["status"] for c in calls)
    assert set(statuses) == {"queued", "ringing", "in-progress", "ended", "failed", "cancelled"}
    assert statuses["ended"] > 0.8 * len(calls)
    assert {c["direction"] for c in calls} == {"outbound", "inbound", "webrtc"}
    outcomes = {c["outcome"] for c in calls}
    assert set(OUTCOMES) | {None, "resolved"} <= outcomes


def test_unfinished_calls_are_only_the_most_recent(calls: list[dict]) -> None:
    for call in calls:
        if call["status"] in ("queued", "ringing", "in-progress"):
            assert parse_ts(call["created_at"]) > NOW - timedelta(minutes=15)
            assert call["outcome"] is None and call["recording_url"] is None
            assert call["transcript"] is None and call["cost_cents"] is None


def test_calls_spread_over_a_year_denser_on_weekdays(calls: list[dict]) -> None:
    created = [parse_ts(c["created_at"]) for c in calls]
    assert min(created) < NOW - timedelta(days=350)
    months = Counter((d.year, d.month) for d in created)
    assert len(months) >= 12
    weekdays = Counter(d.weekday() < 5 for d in created)
    assert weekdays[True] / 5 > 2 * weekdays[False] / 2
    business = sum(13 <= d.hour <= 22 for d in created)  # 8 AM-5 PM US Eastern, in UTC
    assert business > 0.7 * len(created)


def test_ids_and_numbers_look_real_but_fictional(calls: list[dict]) -> None:
    ids = [c["id"] for c in calls]
    assert len(set(ids)) == len(ids)
    uuids = sum(bool(UUID.fullmatch(i)) for i in ids)
    prefixed = sum(bool(CALL_ID.fullmatch(i)) for i in ids)
    assert uuids + prefixed == len(ids)
    assert uuids > 0.75 * len(ids) and prefixed > 0.05 * len(ids)
    for call in calls:
        numbers = [call["to"], call["from"]]
        if call["direction"] == "webrtc":
            assert numbers == [None, None]
        else:
            assert all(FICTIONAL_NUMBER.fullmatch(n) for n in numbers), numbers


def test_timelines_durations_and_costs_are_consistent(calls: list[dict]) -> None:
    for call in calls:
        moments = [call[k] for k in ("created_at", "started_at", "ended_at")]
        known = [parse_ts(m) for m in moments if m is not None]
        assert known == sorted(known)
        assert parse_ts(call["updated_at"]) >= max(known)
        assert parse_ts(call["updated_at"]) <= NOW
        if call["status"] in ("ended", "failed") and call["started_at"]:
            span = parse_ts(call["ended_at"]) - parse_ts(call["started_at"])
            assert call["duration_seconds"] == int(span.total_seconds())
            per_minute = call["cost_cents"] / max(call["duration_seconds"], 1) * 60
            assert 3 <= per_minute <= 25
        if call["status"] == "failed" and not call["started_at"]:  # never answered
            assert call["cost_cents"] == 0 and call["ended_at"]
        if call["status"] == "failed":
            assert call["outcome"] is None
        if call["status"] == "cancelled":
            assert call["ended_at"] is None and call["cost_cents"] is None
        assert {"campaign_id", "contact_id"} <= set(call["metadata"])
        assert call["language"] == "en-US"  # an unknown field clients must ignore


def test_no_answer_calls_have_no_conversation(calls: list[dict]) -> None:
    no_answer = [c for c in calls if c["outcome"] in ("no-answer", "no_answer") and long_ago(c)]
    assert len(no_answer) > 20
    shapes = set()
    for call in no_answer:
        assert call["started_at"] is None
        assert (call["transcript"], call["duration_seconds"]) in (([], 0), (None, None))
        shapes.add(call["duration_seconds"])
    assert shapes == {0, None}


def test_some_calls_never_get_a_transcript(calls: list[dict]) -> None:
    off = [
        c
        for c in calls
        if c["status"] == "ended"
        and long_ago(c, minutes=60)
        and c["outcome"] not in ("no-answer", "no_answer")  # a campaign's calls spell it so
        and c["transcript"] is None
    ]
    assert len(off) >= 20
    assert all(c["summary"] is None and c["recording_url"] is None for c in off)


def test_unrecorded_transcripts_are_varied_and_well_formed(calls: list[dict]) -> None:
    templated = [c for c in calls if not c["recording_url"] and c["transcript"]]
    assert len(templated) > 300
    openings = Counter(c["transcript"][0]["text"] for c in templated)
    assert len(openings) > 20
    contact_lines = {
        t["text"] for c in templated for t in c["transcript"] if t["speaker"] == "contact"
    }
    assert len(contact_lines) > 100
    for call in templated:
        stamps = [t["timestamp"] for t in call["transcript"]]
        assert stamps == sorted(stamps)
        assert stamps[-1] <= max(call["duration_seconds"], 1)
        assert {t["speaker"] for t in call["transcript"]} <= {"agent", "contact"}
        assert all(isinstance(t["text"], str) and t["text"] for t in call["transcript"])


def test_very_long_calls(calls: list[dict]) -> None:
    lengths = sorted((len(c["transcript"] or []) for c in calls), reverse=True)
    assert lengths[1] >= 1000
    assert 1900 <= lengths[0] <= 2100


def test_hostile_text_is_present_in_transcripts_summaries_and_metadata(
    calls: list[dict],
) -> None:
    hostile = [c for c in calls if "<script>" in (c["summary"] or "")]
    assert len(hostile) >= 3
    assert any(parse_ts(c["created_at"]) > NOW - timedelta(hours=2) for c in hostile)
    transcripts = "\n".join(t["text"] for c in hostile for t in c["transcript"])
    metadata = "\n".join(str(v) for c in hostile for v in c["metadata"].values())
    for text in HOSTILE:
        assert text in transcripts, text
    for text in ('<script>alert("xss")</script>', "<img src=x onerror=alert(1)>", "📞😀👍🏽"):
        assert text in metadata
    words = (w for t in hostile[0]["transcript"] for w in t["text"].split())
    assert max(len(w) for w in words) > 200


def test_a_good_share_of_ended_calls_play_real_recordings(
    calls: list[dict], agents: list[dict]
) -> None:
    recordings = load_manifest(DEFAULT_RECORDINGS_DIR)
    assert recordings, "the recordings manifest ships with the package"
    ended = [c for c in calls if c["status"] == "ended"]
    recorded = [c for c in ended if c["recording_url"]]
    assert len(recorded) >= 0.3 * len(ended)
    names = {a["id"]: a["name"] for a in agents}
    by_turns = {json.dumps(list(r.turns)): r for r in recordings}
    used = set()
    for call in recorded:
        if call["transcript"] is None:  # within the transcript delay
            assert parse_ts(call["ended_at"]) > NOW - timedelta(seconds=15)
            continue
        recording = by_turns[json.dumps(call["transcript"])]
        used.add(recording.name)
        assert call["duration_seconds"] == round(recording.duration_seconds)
        assert call["direction"] == recording.direction
        assert call["outcome"] == recording.outcome
        assert call["summary"] == recording.summary
        agent_first_name = names[call["agent_id"]].split()[0]
        agent_text = " ".join(t["text"] for t in call["transcript"] if t["speaker"] == "agent")
        assert agent_first_name in agent_text  # the voice is the agent's own
    assert used == {r.name for r in recordings}


def test_recent_recorded_calls_serve_the_real_mp3(sim: Simulator, calls: list[dict]) -> None:
    recent = [c for c in calls if c["recording_url"] and long_ago(c, 0)][:3]
    assert len(recent) == 3
    client = httpx.Client(transport=sim.transport())
    recordings = {r.summary: r for r in load_manifest(DEFAULT_RECORDINGS_DIR)}
    for call in recent:
        response = client.get(call["recording_url"])
        assert response.status_code == 200
        assert response.content == recordings[call["summary"]].path.read_bytes()
        assert response.content[:3] == b"ID3" or response.content[0] == 0xFF  # an MP3


def test_tiny_manifest_drives_recorded_calls(tmp_path: Path) -> None:
    turns = [
        {"speaker": "agent", "text": "Maple Dental, this is Riley.", "timestamp": 0.0},
        {"speaker": "contact", "text": "I'd like a cleaning.", "timestamp": 2.5},
    ]
    entry = {
        "name": "tiny_booking",
        "file": "tiny.mp3",
        "kind": "booking",
        "direction": "webrtc",
        "outcome": "booked",
        "agent_role": "booking",
        "duration_seconds": 20.6,
        "bytes": 3,
        "summary": "Tiny booking.",
        "turns": turns,
    }
    (tmp_path / "manifest.json").write_text(json.dumps({"recordings": [entry]}))
    (tmp_path / "tiny.mp3").write_bytes(b"\xff\xfb\x90")
    sim = Simulator(seed=5, call_count=400, now=NOW, recordings_dir=tmp_path)
    api = httpx.Client(transport=sim.transport(), base_url=BASE, headers=AUTH)
    recorded = [c for c in fetch_all(api) if c["recording_url"]]
    assert recorded
    for call in recorded[:10]:
        detail = api.get(f"/calls/{call['id']}").json()["data"]
        assert detail["direction"] == "webrtc" and detail["duration_seconds"] == 21
        assert detail["transcript"] in (turns, None)


def test_without_a_manifest_nothing_is_recorded(tmp_path: Path) -> None:
    sim = Simulator(seed=42, call_count=300, now=NOW, recordings_dir=tmp_path / "absent")
    api = httpx.Client(transport=sim.transport(), base_url=BASE, headers=AUTH)
    assert not any(c["recording_url"] for c in fetch_all(api))


def test_iso_parsing_round_trips() -> None:
    for digits in (0, 3, 6):
        text = format_us(1_773_154_502_123_456, digits)
        assert parse_iso(text) == 1_773_154_502_123_456 // 10 ** (6 - digits) * 10 ** (6 - digits)
    assert parse_iso("2026-03-10T16:00:00+01:00") == parse_iso("2026-03-10T15:00:00Z")
    for bad in ("", "2026-03-10T25:00:00Z", "10/03/2026", "2026-03-10T15:00:00+24:00", "now"):
        assert parse_iso(bad) is None


def test_yesterday_has_inbound_calls_that_dropped_mid_call(calls: list[dict]) -> None:
    """The supervisor's review: failed inbound calls of one agent yesterday, with a transcript
    and a recording whose link is still live."""
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    dropped = [
        c
        for c in calls
        if c["status"] == "failed"
        and c["direction"] == "inbound"
        and c["started_at"]
        and c["created_at"].startswith(yesterday)
    ]
    assert len(dropped) >= 2
    assert len({c["agent_id"] for c in dropped}) == 1
    for call in dropped:
        assert call["recording_url"]
        assert parse_ts(call["ended_at"]) > NOW - timedelta(hours=24)
        assert call["summary"].startswith("The line dropped")
