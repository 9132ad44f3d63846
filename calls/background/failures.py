"""Tasks that failed for good (their retries spent, or an unexpected error), as Celery's result
backend keeps them (django-celery-results), and running one again."""

import ast
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import current_app, states
from django_celery_results.models import TaskResult

SHOWN = 100


@dataclass(frozen=True, slots=True)
class FailedTask:
    task_id: str
    name: str
    arguments: str
    error: str
    failed_at: datetime


def failed_tasks() -> tuple[list[FailedTask], int]:
    """The newest failures (at most SHOWN) and how many there are in all."""
    rows = TaskResult.objects.filter(status=states.FAILURE).order_by("-date_done")
    shown = [
        FailedTask(
            task_id=row.task_id,
            name=(row.task_name or "?").rpartition(".")[2],
            arguments=_shown(row.task_args),
            error=_last_line(row.traceback or row.result or ""),
            failed_at=row.date_done,
        )
        for row in rows[:SHOWN]
    ]
    return shown, rows.count()


def retry(task_id: str) -> bool:
    """Send the failed task again with its arguments; False when there is no such failure (or
    it cannot be read back)."""
    row = TaskResult.objects.filter(task_id=task_id, status=states.FAILURE).first()
    if row is None or not row.task_name:
        return False
    try:
        args = _literal(row.task_args, default=())
        kwargs = _literal(row.task_kwargs, default={})
    except (ValueError, SyntaxError):
        return False
    current_app.send_task(row.task_name, args=tuple(args), kwargs=dict(kwargs))
    row.delete()
    return True


def _decoded(stored: str | None) -> str:
    """The argument's repr as stored: a JSON string holding Celery's ``argsrepr``."""
    if not stored:
        return ""
    try:
        value = json.loads(stored)
    except ValueError:
        return stored
    return value if isinstance(value, str) else repr(value)


def _shown(stored: str | None) -> str:
    """The positional arguments as a person reads them: ``'call_abc', 3``."""
    try:
        args = _literal(stored, default=())
    except (ValueError, SyntaxError):
        return _decoded(stored)
    if isinstance(args, list | tuple):
        return ", ".join(repr(arg) for arg in args)
    return repr(args)


def _literal(stored: str | None, *, default: Any) -> Any:
    text = _decoded(stored)
    return ast.literal_eval(text) if text else default


def _last_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""
