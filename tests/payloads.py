"""Builders of Truedy API JSON payloads for tests (the shapes in
https://docs.truedy.ai/guides/call-management, "The Call object").

Every builder returns plain dicts, ready for ``httpx.Response(json=...)``. Pass ``OMIT`` as an
override to drop a key entirely (e.g. ``call_payload(transcript=OMIT)`` as in list items).
"""

from __future__ import annotations

from typing import Any

OMIT: Any = object()

API_KEY = "truedy_" + "A1b2C3d4" * 4  # 32 alphanumerics, as documented
BASE_URL = "https://api.truedy.test/api/public/v1"


def _apply(payload: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is OMIT:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def turn(speaker: str = "agent", text: str = "Hello!", timestamp: float = 0.5) -> dict[str, Any]:
    return {"speaker": speaker, "text": text, "timestamp": timestamp}


def call_payload(**overrides: Any) -> dict[str, Any]:
    """A complete, ended outbound call in the primary (Call Management guide) shape."""
    payload: dict[str, Any] = {
        "id": "call_0001",
        "agent_id": "agent_sales",
        "status": "ended",
        "direction": "outbound",
        "created_at": "2026-11-23T10:00:00Z",
        "started_at": "2026-11-23T10:00:05.120Z",
        "ended_at": "2026-11-23T10:03:17.120Z",
        "updated_at": "2026-11-23T10:03:20.000123Z",
        "to": "+14155550100",
        "from": "+14155550199",
        "duration_seconds": 192,
        "cost_cents": 37,
        "outcome": "interested",
        "summary": "The contact asked for a follow-up next week.",
        "transcript": [
            turn("agent", "Hi, this is Ava from Acme.", 0.4),
            turn("contact", "Oh, hi. What's this about?", 3.1),
        ],
        "recording_url": "https://storage.truedy.test/rec/call_0001.mp3?sig=abc&exp=1",
        "metadata": {"campaign_id": "camp_7", "contact_id": "ct_42"},
    }
    return _apply(payload, overrides)


def call_envelope(call: dict[str, Any] | None = None, *, request_id: str = "req_ok") -> dict:
    return {
        "data": call if call is not None else call_payload(),
        "meta": {"request_id": request_id},
    }


def call_page_body(
    calls: list[dict[str, Any]] | None = None,
    *,
    total: int | None = None,
    limit: int = 20,
    offset: int = 0,
    variant: str = "guide",
) -> dict[str, Any]:
    """A ``GET /calls`` body: ``variant="guide"`` puts the counts in ``meta``;
    ``variant="reference"`` (API reference) in ``pagination``, with ``meta.request_id``."""
    calls = calls if calls is not None else [call_payload(transcript=OMIT)]
    total = total if total is not None else offset + len(calls)
    if variant == "guide":
        return {"data": calls, "meta": {"total": total, "limit": limit, "offset": offset}}
    return {
        "data": calls,
        "pagination": {
            "total": total,
            "limit": limit,
            "offset": offset,
            "has_more": offset + len(calls) < total,
        },
        "meta": {"request_id": "req_list", "ts": "2026-11-23T10:00:00Z"},
    }


def agent_payload(index: int = 1, **overrides: Any) -> dict[str, Any]:
    """An agent as Truedy returns it, secrets included (they must be dropped by the parser)."""
    payload: dict[str, Any] = {
        "id": f"agent_{index:04d}",
        "name": f"Agent {index}",
        "status": "active",
        "system_prompt": "SECRET PROMPT: you are a sales agent",
        "phone_numbers": ["+14155550123"],
        "phone_number": "+14155550123",
    }
    return _apply(payload, overrides)


def agent_page_body(
    agents: list[dict[str, Any]], *, total: int, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    return {"data": agents, "meta": {"total": total, "limit": limit, "offset": offset}}


def error_body(
    code: str,
    message: str = "Something went wrong",
    *,
    details: dict[str, Any] | None = None,
    request_id: str = "req_err",
) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": details or {}},
        "meta": {"request_id": request_id},
    }
