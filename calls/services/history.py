"""Reading append-only histories keyed by call id: the latest row per call, many calls at once.

Reviews and outcome corrections are never changed: each new one is a row, and a call's latest
row (by ``at``, then ``id``) is what counts. Rows reference calls by id, archived or not.
"""

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from django.db.models import Model, OuterRef, Subquery

# Call ids per ``IN (…)`` list: well below every backend's limit on query parameters.
IN_CHUNK = 500

M = TypeVar("M", bound=Model)


def in_chunks(call_ids: Iterable[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    """``call_ids`` without repeats, ``size`` at a time, in their first order."""
    chunk: list[str] = []
    seen: set[str] = set()
    for call_id in call_ids:
        if call_id in seen:
            continue
        seen.add(call_id)
        chunk.append(call_id)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def latest_rows(model: type[M], call_ids: Iterable[str], *related: str) -> dict[str, M]:
    """Each call's latest row of ``model`` (one query per ``IN_CHUNK`` ids), calls without a
    row left out. ``related``: foreign keys to read in the same query."""
    manager: Any = model._default_manager
    newest = manager.filter(call_id=OuterRef("call_id")).order_by("-at", "-id").values("id")[:1]
    found: dict[str, M] = {}
    for chunk in in_chunks(call_ids):
        rows = manager.filter(call_id__in=chunk, id=Subquery(newest)).select_related(*related)
        found.update((row.call_id, row) for row in rows)
    return found


def call_history(model: type[M], call_id: str, *related: str) -> list[M]:
    """Every row of ``model`` about one call, newest first."""
    manager: Any = model._default_manager
    return list(manager.filter(call_id=call_id).order_by("-at", "-id").select_related(*related))
