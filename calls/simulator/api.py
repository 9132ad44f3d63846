"""The API routes: list calls, get one call, list agents; batch calls (campaigns) and their
contacts."""

import re
from typing import Any

from .campaigns import CAMPAIGN_STATUSES, CONTACT_STATUSES, RUNNING, Campaigns
from .data import DIRECTIONS, STATUSES, DataSet
from .isotime import format_us, parse_iso
from .messages import SimResponse, error_response, json_response
from .render import Renderer, View

AGENT_STATUSES = ("active", "paused", "draft", "archived")
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
DEFAULT_BATCH_LIMIT = 50  # the batch-call endpoints' documented default
BATCH_CALLS = "/batch-calls"
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class ValidationError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _param(query: dict[str, str], name: str) -> str | None:
    """A parameter's value; an empty one counts as absent."""
    value = query.get(name)
    return value if value else None


def _integer(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = _param(query, name)
    if text is None:
        return default
    if _INTEGER.fullmatch(text.strip()) is None:
        raise ValidationError(name, "must be an integer")
    value = int(text)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValidationError(name, f"must be {bound}")
    return value


def _choice(query: dict[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    value = _param(query, name)
    if value is not None and value not in choices:
        raise ValidationError(name, f"must be one of: {', '.join(choices)}")
    return value


def _instant(query: dict[str, str], name: str) -> int | None:
    value = _param(query, name)
    if value is None:
        return None
    parsed = parse_iso(value)
    if parsed is None:
        raise ValidationError(name, "must be an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z")
    return parsed


class Api:
    def __init__(self, data: DataSet, renderer: Renderer, campaigns: Campaigns) -> None:
        self._data = data
        self._renderer = renderer
        self._campaigns = campaigns

    def route(self, route: str, query: dict[str, str], view: View, request_id: str) -> SimResponse:
        try:
            if route == "/calls":
                return self.list_calls(query, view, request_id)
            if route.startswith("/calls/") and route.count("/") == 2 and len(route) > 7:
                return self.get_call(route[len("/calls/") :], view, request_id)
            if route == "/agents":
                return self.list_agents(query, view, request_id)
            if route == BATCH_CALLS:
                return self.list_campaigns(query, view, request_id)
            if route.startswith(BATCH_CALLS + "/"):
                rest = route[len(BATCH_CALLS) + 1 :].split("/")
                if len(rest) == 1 and rest[0]:
                    return self.get_campaign(rest[0], view, request_id)
                if len(rest) == 2 and rest[0] and rest[1] == "contacts":
                    return self.list_campaign_contacts(rest[0], query, view, request_id)
        except ValidationError as error:
            return error_response(
                422,
                "validation_error",
                f"Invalid query parameter `{error.field}`: {error.reason}.",
                request_id,
                {"field": error.field, "reason": error.reason},
            )
        return not_found(request_id)

    def list_calls(self, query: dict[str, str], view: View, request_id: str) -> SimResponse:
        limit = _integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _integer(query, "offset", 0, 0, None)
        status = _choice(query, "status", STATUSES)
        direction = _choice(query, "direction", DIRECTIONS)
        created_after = _instant(query, "created_after")
        created_before = _instant(query, "created_before")
        matches = self._data.select(
            view.now,
            agent_id=_param(query, "agent_id"),
            status=status,
            direction=direction,
            created_after=created_after,
            created_before=created_before,
        )
        page = [
            self._renderer.call(c, view, with_transcript=False)
            for c in matches[offset : offset + limit]
        ]
        return json_response(
            200, _page(page, len(matches), limit, offset, view, request_id), request_id
        )

    def get_call(self, call_id: str, view: View, request_id: str) -> SimResponse:
        call = self._data.by_id.get(call_id)
        if call is None or not self._data.visible(call, view.now):
            return not_found(request_id, f"No call with id {call_id!r}.")
        data = self._renderer.call(call, view, with_transcript=True)
        return json_response(200, {"data": data, "meta": _meta(view, request_id)}, request_id)

    def list_agents(self, query: dict[str, str], view: View, request_id: str) -> SimResponse:
        limit = _integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _integer(query, "offset", 0, 0, None)
        status = _choice(query, "status", AGENT_STATUSES)
        name = (_param(query, "name") or "").casefold()
        agents = [
            a
            for a in self._data.agents
            if a.spec.listed
            and a.created_us <= view.now
            and (status is None or a.spec.status == status)
            and name in a.name.casefold()
        ]
        agents.sort(key=lambda a: (-a.created_us, a.id))
        page = [self._renderer.agent(a, view) for a in agents[offset : offset + limit]]
        return json_response(
            200, _page(page, len(agents), limit, offset, view, request_id), request_id
        )

    # --- batch calls ---------------------------------------------------------------------------

    def list_campaigns(self, query: dict[str, str], view: View, request_id: str) -> SimResponse:
        limit = _integer(query, "limit", DEFAULT_BATCH_LIMIT, 1, MAX_LIMIT)
        offset = _integer(query, "offset", 0, 0, None)
        status = _choice(query, "status", (*CAMPAIGN_STATUSES, RUNNING))
        if status == RUNNING:
            status = "active"
        states = [
            self._campaigns.state(plan, view.now) for plan in self._campaigns.visible(view.now)
        ]
        matches = [state for state in states if status is None or state.status == status]
        page = [self._renderer.campaign(state, view) for state in matches[offset : offset + limit]]
        return json_response(
            200, _page(page, len(matches), limit, offset, view, request_id), request_id
        )

    def get_campaign(self, campaign_id: str, view: View, request_id: str) -> SimResponse:
        plan = self._campaigns.by_id.get(campaign_id)
        if plan is None or plan.created_us > view.now:
            return not_found(request_id, f"No batch call with id {campaign_id!r}.")
        data = self._renderer.campaign(self._campaigns.state(plan, view.now), view)
        return json_response(200, {"data": data, "meta": _meta(view, request_id)}, request_id)

    def list_campaign_contacts(
        self, campaign_id: str, query: dict[str, str], view: View, request_id: str
    ) -> SimResponse:
        plan = self._campaigns.by_id.get(campaign_id)
        if plan is None or plan.created_us > view.now:
            return not_found(request_id, f"No batch call with id {campaign_id!r}.")
        limit = _integer(query, "limit", DEFAULT_BATCH_LIMIT, 1, MAX_LIMIT)
        offset = _integer(query, "offset", 0, 0, None)
        status = _choice(query, "status", CONTACT_STATUSES)
        rows = self._renderer.campaign_contacts(self._campaigns.state(plan, view.now), view)
        if status is not None:
            rows = [row for row in rows if row["call_status"] == status]
        page = rows[offset : offset + limit]
        return json_response(
            200, _page(page, len(rows), limit, offset, view, request_id), request_id
        )


def _meta(view: View, request_id: str) -> dict[str, Any]:
    if view.reference:
        return {"request_id": request_id, "ts": format_us(view.now, 6)}
    return {"request_id": request_id}


def _page(
    items: list[dict[str, Any]], total: int, limit: int, offset: int, view: View, request_id: str
) -> dict[str, Any]:
    if view.reference:
        return {
            "data": items,
            "pagination": {
                "total": total,
                "limit": limit,
                "offset": offset,
                "has_more": offset + len(items) < total,
            },
            "meta": _meta(view, request_id),
        }
    meta = {"total": total, "limit": limit, "offset": offset, "request_id": request_id}
    return {"data": items, "meta": meta}


def not_found(request_id: str, message: str = "Not found.") -> SimResponse:
    return error_response(404, "not_found", message, request_id)
