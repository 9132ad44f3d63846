"""Retention: archived calls (and their recordings) older than ``ARCHIVE_RETENTION_DAYS`` go."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage

from calls.models import ArchivedCall

logger = logging.getLogger("calls.archive")

PURGE_BATCH = 500


def retention_cutoff(now: datetime) -> datetime | None:
    """Calls created before this are deleted; None when the archive keeps everything."""
    days = settings.ARCHIVE_RETENTION_DAYS
    return now - timedelta(days=days) if days > 0 else None


def purge_expired(now: datetime) -> int:
    """Delete archived calls older than ``ARCHIVE_RETENTION_DAYS``, recordings included."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    deleted = 0
    while batch := list(
        ArchivedCall.objects.filter(created_at__lt=cutoff).values_list("id", "recording")[
            :PURGE_BATCH
        ]
    ):
        for _, recording in batch:
            if not recording:
                continue
            try:
                default_storage.delete(recording)
            except OSError as error:  # the row goes anyway: an orphan file beats a kept call
                logger.warning("could not delete %s: %s", recording, error)
        ids = [call_id for call_id, _ in batch]
        deleted += ArchivedCall.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("archive retention: deleted %d calls created before %s", deleted, cutoff)
    return deleted
