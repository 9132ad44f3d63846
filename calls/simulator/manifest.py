"""The recordings manifest: real audio files and the transcripts they speak."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"


@dataclass(frozen=True, slots=True)
class Recording:
    name: str
    path: Path
    kind: str  # sales | support | voicemail | booking
    direction: str
    outcome: str | None
    agent_role: str  # sales | support | booking
    duration_seconds: float
    summary: str
    turns: tuple[dict[str, Any], ...]

    @property
    def whole_seconds(self) -> int:
        return max(round(self.duration_seconds), 1)


def load_manifest(directory: Path) -> tuple[Recording, ...]:
    """Every usable entry of `directory/manifest.json`; none when there is no manifest yet."""
    try:
        raw = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    recordings = []
    for entry in raw.get("recordings", []):
        turns = tuple(
            {"speaker": t["speaker"], "text": t["text"], "timestamp": t["timestamp"]}
            for t in entry.get("turns", [])
        )
        recordings.append(
            Recording(
                name=entry["name"],
                path=directory / entry["file"],
                kind=entry["kind"],
                direction=entry["direction"],
                outcome=entry.get("outcome"),
                agent_role=entry["agent_role"],
                duration_seconds=float(entry["duration_seconds"]),
                summary=entry.get("summary", ""),
                turns=turns,
            )
        )
    return tuple(recordings)
