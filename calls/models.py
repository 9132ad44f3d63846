"""The audit log (S6): who looked at, listened to or took away which call, and every sign-in.

Rows are only ever added. The model and its queryset refuse to change or delete one; a database
role without UPDATE/DELETE on the table makes that hold against raw SQL too.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditLogIsAppendOnly(Exception):
    """Someone tried to change or delete an audit event."""


class AuditAction(models.TextChoices):
    # A new action is one line here (and a migration for the choices): record() checks names.
    VIEW_CALL = "view_call", "Viewed a call"
    PLAY_RECORDING = "play_recording", "Played a recording"
    DOWNLOAD_TRANSCRIPT = "download_transcript", "Downloaded a transcript"
    EXPORT_CSV = "export_csv", "Exported calls (CSV)"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("Audit events are never changed.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        # Refused before Django's own opens a transaction (its failure would doom the caller's).
        raise AuditLogIsAppendOnly("Audit events are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit events are never deleted.")


class AuditEvent(models.Model):
    # PROTECT, not SET_NULL: setting the column to NULL would rewrite audit rows (Django's
    # deletion collector updates them directly, past this model's guards). A staff member who
    # leaves is deactivated (is_active=False), as Django recommends, and their trail stays whole.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text="Empty for a failed sign-in.",
    )
    # As typed at sign-in for a failed one; kept as text so a row reads on its own.
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    call_id = models.CharField("call id", max_length=64, blank=True)
    # Short and never secret: "download" for a recording fetched whole, an export's filters.
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)  # aware, stored in UTC
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status the dashboard answered with."
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["call_id", "at"], name="audit_call_at")]

    def __str__(self) -> str:
        subject = f" {self.call_id}" if self.call_id else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '?'} {self.action}{subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit events are never changed.")
        kwargs["force_insert"] = True  # never an UPDATE, even with a primary key set by hand
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit events are never deleted.")
