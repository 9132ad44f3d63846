"""The simulator's canned call recordings: manifest schema, MP3 files, and audio/transcript sync.

The recordings are made by ``scripts/make_recordings.py`` (espeak-ng + sox + lame). These tests
need none of those tools except the ``slow`` ones, which are skipped when the tools are missing.
"""

from __future__ import annotations

import array
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
RECORDINGS_DIR = ROOT / "calls" / "simulator" / "recordings"
MANIFEST = RECORDINGS_DIR / "manifest.json"
SCRIPT = ROOT / "scripts" / "make_recordings.py"

EXPECTED_NAMES = {
    "sales_interested",
    "sales_not_interested",
    "sales_callback",
    "support_inbound",
    "voicemail",
    "webrtc_booking",
}
ENTRY_KEYS = {
    "name",
    "file",
    "kind",
    "direction",
    "outcome",
    "agent_role",
    "duration_seconds",
    "bytes",
    "summary",
    "turns",
}
KINDS = {"sales", "support", "voicemail", "booking"}
DIRECTIONS = {"outbound", "inbound", "webrtc"}
AGENT_ROLES = {"sales", "support", "booking"}
SPEAKERS = {"agent", "contact"}
MAX_TOTAL_BYTES = 5 * 1024 * 1024


def load_manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def entries() -> list[dict]:
    return load_manifest()["recordings"]


def entry_ids() -> list[str]:
    return [e["name"] for e in entries()]


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- a tiny MP3 parser

# Layer III bitrates (kbps) by bitrate index; MPEG-1 vs MPEG-2/2.5 (LSF).
_BITRATES = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by version bits (3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5) and rate index.
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_info(data: bytes) -> dict:
    """Walk the Layer III frames of ``data``: duration = audio frames x samples/frame / rate.

    Skips a leading ID3v2 tag, a trailing ID3v1 tag, and a Xing/Info (LAME) header frame, which
    carries no audio. Raises ValueError on anything it does not understand.
    """
    pos, end = 0, len(data)
    if data[:3] == b"ID3":
        size = 0
        for byte in data[6:10]:  # "syncsafe" integer: 7 bits per byte
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    if end - pos >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128

    frames, bitrates, rates, modes, spf = 0, set(), set(), set(), 0
    first = True
    while pos < end:
        if end - pos < 4:
            raise ValueError(f"truncated frame header at byte {pos}")
        h = int.from_bytes(data[pos : pos + 4], "big")
        version, layer = (h >> 19) & 3, (h >> 17) & 3
        br_index, sr_index, padding = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
        if h >> 21 != 0x7FF or version == 1 or layer != 1 or br_index in (0, 15) or sr_index == 3:
            raise ValueError(f"no Layer III frame header at byte {pos}: {h:08x}")
        mpeg1 = version == 3
        bitrate = _BITRATES[mpeg1][br_index] * 1000
        rate = _SAMPLE_RATES[version][sr_index]
        spf = 1152 if mpeg1 else 576
        size = spf // 8 * bitrate // rate + padding
        frame = data[pos : pos + size]
        if len(frame) < size:
            raise ValueError(f"truncated frame at byte {pos}")
        if first and (b"Xing" in frame[:64] or b"Info" in frame[:64]):
            pass  # VBR/LAME header frame: no audio
        else:
            frames += 1
            bitrates.add(bitrate)
            rates.add(rate)
            modes.add((h >> 6) & 3)
        first = False
        pos += size
    if len(rates) != 1:
        raise ValueError(f"expected one sample rate, found {rates}")
    (rate,) = rates
    return {
        "frames": frames,
        "duration": frames * spf / rate,
        "sample_rate": rate,
        "bitrates": bitrates,
        "mono": modes == {3},
    }


def test_parser_rejects_garbage():
    with pytest.raises(ValueError):
        mp3_info(b"RIFF\x00\x00\x00\x00WAVEfmt ")


def test_parser_counts_synthetic_frames():
    # MPEG-2 Layer III, 32 kbps, 16 kHz, mono, no CRC: 144-byte frames of 576 samples.
    header = bytes([0xFF, 0xF3, 0x48, 0xC4])
    frame = header + bytes(140)
    id3 = b"ID3\x03\x00\x00\x00\x00\x00\x05" + bytes(5)
    info = mp3_info(id3 + frame * 100 + b"TAG" + bytes(125))
    assert info["frames"] == 100
    assert info["duration"] == pytest.approx(3.6)
    assert info["bitrates"] == {32000}
    assert info["mono"]


# --------------------------------------------------------------------------- the manifest


def test_manifest_schema():
    manifest = load_manifest()
    assert set(manifest) == {"recordings"}
    recs = manifest["recordings"]
    assert isinstance(recs, list)
    names = [e["name"] for e in recs]
    assert len(names) == len(set(names)), "duplicate recording names"
    assert set(names) == EXPECTED_NAMES

    for e in recs:
        assert set(e) == ENTRY_KEYS, e.get("name")
        assert isinstance(e["name"], str) and e["name"]
        assert e["file"] == f"{e['name']}.mp3"
        assert "/" not in e["file"] and "\\" not in e["file"]
        assert e["kind"] in KINDS
        assert e["direction"] in DIRECTIONS
        assert isinstance(e["outcome"], str) and e["outcome"]
        assert e["agent_role"] in AGENT_ROLES
        assert is_number(e["duration_seconds"]) and 25 <= e["duration_seconds"] <= 70
        assert round(e["duration_seconds"], 2) == e["duration_seconds"]
        assert isinstance(e["bytes"], int) and e["bytes"] > 0
        assert isinstance(e["summary"], str) and len(e["summary"]) > 20
        assert isinstance(e["turns"], list) and 6 <= len(e["turns"]) <= 14
        for t in e["turns"]:
            assert set(t) == {"speaker", "text", "timestamp"}
            assert t["speaker"] in SPEAKERS
            assert isinstance(t["text"], str) and t["text"].strip()
            assert is_number(t["timestamp"]) and t["timestamp"] >= 0
            assert round(t["timestamp"], 2) == t["timestamp"]
        assert {t["speaker"] for t in e["turns"]} == SPEAKERS


def test_each_scenario_is_what_the_simulator_expects():
    by_name = {e["name"]: e for e in entries()}
    expected = {
        "sales_interested": ("sales", "outbound", "interested", "sales"),
        "sales_not_interested": ("sales", "outbound", "not-interested", "sales"),
        "sales_callback": ("sales", "outbound", "callback-requested", "sales"),
        "support_inbound": ("support", "inbound", "resolved", "support"),
        "voicemail": ("voicemail", "outbound", "voicemail", "sales"),
        "webrtc_booking": ("booking", "webrtc", "interested", "booking"),
    }
    for name, (kind, direction, outcome, role) in expected.items():
        e = by_name[name]
        assert (e["kind"], e["direction"], e["outcome"], e["agent_role"]) == (
            kind,
            direction,
            outcome,
            role,
        )
    assert by_name["voicemail"]["turns"][0]["speaker"] == "contact"  # the greeting


@pytest.mark.parametrize("name", entry_ids())
def test_turns_in_order_and_within_duration(name):
    e = next(e for e in entries() if e["name"] == name)
    stamps = [t["timestamp"] for t in e["turns"]]
    assert stamps[0] == 0.0
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert stamps[-1] < e["duration_seconds"]


def test_support_call_has_dead_air():
    e = next(e for e in entries() if e["name"] == "support_inbound")
    turns = e["turns"]
    i = next(i for i, t in enumerate(turns) if "let me check that for you" in t["text"].lower())
    assert turns[i + 1]["speaker"] == "agent"
    assert turns[i + 1]["text"].startswith("Thanks for waiting")
    # The gap includes the "let me check" sentence itself (a few seconds) plus 8-9 s of silence.
    assert 8 + 1.5 < turns[i + 1]["timestamp"] - turns[i]["timestamp"] < 9 + 4


# --------------------------------------------------------------------------- the MP3 files


@pytest.mark.parametrize("name", entry_ids())
def test_mp3_file_matches_manifest(name):
    e = next(e for e in entries() if e["name"] == name)
    path = RECORDINGS_DIR / e["file"]
    assert path.is_file()
    data = path.read_bytes()
    assert len(data) == e["bytes"]
    assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)

    info = mp3_info(data)
    assert info["bitrates"] == {32000}, "expected CBR 32 kbps"
    assert info["sample_rate"] == 16000
    assert info["mono"]
    assert abs(info["duration"] - e["duration_seconds"]) < 0.5


def test_total_size_is_small():
    total = sum((RECORDINGS_DIR / e["file"]).stat().st_size for e in entries())
    assert total < MAX_TOTAL_BYTES


def test_no_stray_files():
    on_disk = {p.name for p in RECORDINGS_DIR.iterdir() if p.suffix == ".mp3"}
    assert on_disk == {e["file"] for e in entries()}


# --------------------------------------------------------------------------- with the tools

needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("espeak-ng", "sox", "lame")),
    reason="espeak-ng, sox and lame are needed (apt-get install espeak-ng sox lame)",
)


@pytest.mark.slow
@needs_tools
def test_generator_is_deterministic(tmp_path):
    name = "voicemail"  # the one with a synthesised beep as well as speech
    subprocess.run(
        [sys.executable, str(SCRIPT), "--only", name, "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    fresh = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in fresh["recordings"]] == [name]
    committed = next(e for e in entries() if e["name"] == name)
    assert fresh["recordings"][0] == committed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", f"{name}.mp3"]


def _sox_reads_mp3() -> bool:
    if not shutil.which("sox"):
        return False
    out = subprocess.run(["sox", "--help"], capture_output=True, text=True, check=False).stdout
    return " mp3 " in out.replace("\n", " ")


def _decode(path: Path) -> array.array:
    raw = subprocess.run(
        ["sox", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", "16000", "-"],
        check=True,
        capture_output=True,
    ).stdout
    pcm = array.array("h")
    pcm.frombytes(raw)
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm


def _rms(pcm: array.array, start: float, end: float) -> float:
    window = pcm[max(int(start * 16000), 0) : int(end * 16000)]
    return math.sqrt(sum(s * s for s in window) / max(len(window), 1)) / 32768


@pytest.mark.slow
@pytest.mark.skipif(not _sox_reads_mp3(), reason="sox cannot decode MP3 (libsox-fmt-mp3)")
@pytest.mark.parametrize("name", entry_ids())
def test_speech_starts_at_each_timestamp(name):
    """Decoded audio: quiet just before each turn's timestamp, speech just after it."""
    e = next(e for e in entries() if e["name"] == name)
    pcm = _decode(RECORDINGS_DIR / e["file"])
    assert abs(len(pcm) / 16000 - e["duration_seconds"]) < 0.5
    for t in e["turns"]:
        ts = t["timestamp"]
        if ts > 0:
            assert _rms(pcm, ts - 0.25, ts) < 0.003, f"not quiet before {ts}: {t['text']}"
        assert _rms(pcm, ts + 0.05, ts + 0.45) > 0.02, f"no speech after {ts}: {t['text']}"
    if name == "support_inbound":
        i = next(i for i, t in enumerate(e["turns"]) if t["text"].startswith("Thanks for waiting"))
        resume = e["turns"][i]["timestamp"]
        assert _rms(pcm, resume - 8.0, resume) < 0.001, "expected 8+ s of dead air"
