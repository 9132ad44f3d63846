"""Reading Truedy through the Django cache. Every cache key, version and TTL lives here."""

import hashlib
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from calls.backend import get_client
from calls.records import Agent, Call, CallPage

CACHE_PREFIX = "truedy:v1"


def _cache_key(kind: str, params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, default=_json_default, separators=(",", ":"))
    return f"{CACHE_PREFIX}:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot key a cache entry on {type(value).__name__}")


def list_calls(
    *,
    agent_id: str | None = None,
    status: str | None = None,
    direction: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    limit: int = 25,
    offset: int = 0,
) -> CallPage:
    params = {
        "agent_id": agent_id,
        "status": status,
        "direction": direction,
        "created_after": created_after,
        "created_before": created_before,
        "limit": limit,
        "offset": offset,
    }
    key = _cache_key("calls", params)
    page = cache.get(key)
    if page is None:
        page = get_client().list_calls(**params)
        cache.set(key, page, settings.CACHE_TTL_CALL_LIST)
    return page


def get_call(call_id: str) -> Call:
    key = _cache_key("call", {"id": call_id})
    call = cache.get(key)
    if call is None:
        call = get_client().get_call(call_id)
        cache.set(key, call, settings.CACHE_TTL_CALL)
    return call


def list_agents() -> tuple[Agent, ...]:
    key = f"{CACHE_PREFIX}:agents"
    agents = cache.get(key)
    if agents is None:
        agents = get_client().list_agents()
        cache.set(key, agents, settings.CACHE_TTL_AGENTS)
    return agents


def agent_names() -> dict[str, str]:
    return {agent.id: agent.name for agent in list_agents()}
