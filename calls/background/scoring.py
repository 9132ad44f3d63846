"""Automatic scores for the archive, without a reviewer (calls/services/scorecards.py).

- Whenever the archive stores a call (the webhook's follow-up, the sync, ``sync_calls``), its
  row's ``post_save`` sends ``score_archived_call`` once the write commits, as the webhook
  receiver sends its follow-up: never for a row that was rolled back, and a failure to send
  only delays the score (the sweep finds it).
- ``score_archive`` sweeps: it scores the ended calls that some current scorecard version has
  not scored yet, or not since the call last changed (a new version, a lost message), a batch
  at a time, sending itself again while there are more. The scheduler runs it every minute,
  and saving a scorecard sends it at once.

Each task is idempotent: a score is computed from the archived call and replaces the same
version's earlier one.
"""

import logging
from typing import Any

from celery import Task, shared_task
from django.db import transaction

from calls.models import ArchivedCall
from calls.services import scorecards

logger = logging.getLogger("calls.background")


def _send(task: Task, *args: object) -> None:
    try:
        task.apply_async(args)
    except Exception:
        logger.exception("could not enqueue %s%r (the sweep will score it)", task.name, args)


def on_archived_call_saved(
    sender: type, instance: ArchivedCall, raw: bool = False, **kwargs: Any
) -> None:
    """``post_save`` of ``ArchivedCall``: score the call once the write commits, if it ended."""
    if raw or not scorecards.is_final(instance):
        return
    call_id = instance.pk
    transaction.on_commit(lambda: _score_soon(call_id), robust=True)


def _score_soon(call_id: str) -> None:
    if scorecards.any_automatic_questions():
        _send(score_archived_call, call_id)


def rescore_soon() -> None:
    """After a scorecard changed: sweep the archive once the change commits."""
    transaction.on_commit(lambda: _send(score_archive), robust=True)


@shared_task
def score_archived_call(call_id: str) -> int:
    try:
        return scorecards.score_archived_call(call_id)
    except Exception:
        # Never lost: the sweep scores the call on its next run.
        logger.exception("could not compute the automatic score of a call")
        return 0


@shared_task
def score_archive(batch: int = scorecards.SWEEP_BATCH) -> int:
    """Score up to ``batch`` calls the archive's automatic scores lack; again while there are
    more. Returns how many calls it scored."""
    if not scorecards.any_automatic_questions():
        return 0
    versions = scorecards.applicable_versions(None, every_agent=True)
    call_ids = scorecards.unscored_call_ids(batch)
    done = 0
    for call_id in call_ids:
        try:
            scorecards.score_archived_call(call_id, versions=versions)
            done += 1
        except Exception:
            logger.exception("could not compute the automatic score of a call")
    if len(call_ids) >= batch and done:
        _send(score_archive, batch)
    if done:
        logger.info("automatic scores: %d calls scored", done)
    return done
