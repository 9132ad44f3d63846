"""The simulator's conversations carry personal data (issue 21); the detector masks all of it."""

import re
from datetime import UTC, datetime

import httpx
import pytest

from calls.lib.personal_data import Kind, mask_turns
from calls.simulator import API_PREFIX, DEFAULT_API_KEY, Simulator

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
DIGIT = r"(?:oh|zero|one|two|three|four|five|six|seven|eight|nine)"
SPOKEN_DIGITS = re.compile(rf"\b{DIGIT}(?:[ ,]+{DIGIT}){{3,}}\b", re.IGNORECASE)
SPOKEN_EMAIL = re.compile(r"\bat \w+ dot com\b")
DATE = re.compile(r"\b(?:March|July|October) \d{1,2}, \d{4}\b")


@pytest.fixture(scope="module")
def transcripts() -> list[list[str]]:
    api = httpx.Client(
        transport=Simulator(seed=42, now=NOW).transport(),
        base_url="http://simulator.truedy.local" + API_PREFIX,
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )
    calls: list[dict] = []
    while True:
        body = api.get("/calls", params={"limit": 100, "offset": len(calls)}).json()
        calls += body["data"]
        if len(calls) >= body["meta"]["total"]:
            break
    texts = []
    for call in calls:
        turns = api.get(f"/calls/{call['id']}").json()["data"].get("transcript") or []
        texts.append([turn["text"] for turn in turns])
    return texts


def test_some_conversations_read_out_cards_emails_phone_numbers_and_dates_of_birth(
    transcripts: list[list[str]],
) -> None:
    said = "\n".join(text for turns in transcripts for text in turns)
    assert len(SPOKEN_DIGITS.findall(said)) >= 20
    assert len(SPOKEN_EMAIL.findall(said)) >= 20
    assert "The card number is" in said
    assert "Can I have your full name and date of birth?" in said


def test_masking_leaves_none_of_it(transcripts: list[list[str]]) -> None:
    placeholders = dict.fromkeys(Kind, 0)
    for turns in transcripts:
        for text in mask_turns(turns):
            assert not SPOKEN_DIGITS.search(text), text
            assert not SPOKEN_EMAIL.search(text), text
            assert not DATE.search(text), text  # the booking calls' dates of birth
            for kind in Kind:
                placeholders[kind] += text.count(kind.placeholder)
    assert placeholders[Kind.CARD] >= 20
    assert placeholders[Kind.EMAIL] >= 20
    assert placeholders[Kind.PHONE] >= 10
    assert placeholders[Kind.DATE_OF_BIRTH] >= 20
