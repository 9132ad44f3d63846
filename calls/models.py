"""The audit log: who looked at, listened to or took away which call, and every sign-in.

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
    REVIEW_CALL = "review_call", "Reviewed a call"
    CORRECT_OUTCOME = "correct_outcome", "Corrected a call's outcome"
    ADD_NOTE = "add_note", "Added a note to a call"
    RESOLVE_NOTE = "resolve_note", "Resolved a note"
    PLAY_RECORDING = "play_recording", "Played a recording"
    DOWNLOAD_TRANSCRIPT = "download_transcript", "Downloaded a transcript"
    EXPORT_CSV = "export_csv", "Exported calls (CSV)"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
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


# --- The call archive -------------------------------------------------------------------------
# Truedy deletes recordings 24 h after a call and call records after 12 months: the archive keeps
# both. It is filled by the webhook receiver (calls/archive/webhook_events.py) and `manage.py
# sync_calls` (calls/archive/sync.py), and read where Truedy no longer has a call, for totals
# and for search.


class ArchivedCall(models.Model):
    """One call as Truedy last described it, plus our copy of its recording."""

    id = models.CharField(primary_key=True, max_length=64)
    agent_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=32, db_index=True)
    direction = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(null=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    to_number = models.CharField(max_length=32, blank=True)
    from_number = models.CharField(max_length=32, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    cost_cents = models.IntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=64, blank=True, db_index=True)
    summary = models.TextField(blank=True)
    # Turns as Truedy sent them ([{speaker, text, timestamp}]); null until transcribed.
    transcript = models.JSONField(null=True, blank=True)
    # "Agent: …" lines plus the summary, lower-cased: what the `q` search looks in.
    search_text = models.TextField(blank=True)
    # How many words the contact said (calls.archive.suspicious); None without a transcript.
    contact_words = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Our copy of the MP3, in Django's default storage; empty until copied (or never recorded).
    recording = models.FileField(upload_to="recordings/%Y/%m/", blank=True, max_length=255)
    recording_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    # Truedy gave this call a recording link (True) or none once it ended (False); None until
    # known. `sync_calls` retries copies of True rows while their link can still work.
    has_recording = models.BooleanField(null=True, blank=True)
    # Why the recording could not be copied before its link died ("" while it may still be,
    # or once copied): counted on the staff page and /healthz.
    recording_error = models.CharField(max_length=300, blank=True)
    # Where the row last came from: "sync", "webhook" or "view".
    source = models.CharField(max_length=16, blank=True)
    archived_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(default=timezone.now)
    # When the sync last asked Truedy about this call, changed or not (pending rows are asked
    # again, oldest check first).
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="archive_newest_first"),
            models.Index(fields=["agent_id", "-created_at"], name="archive_agent_created"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class WebhookEvent(models.Model):
    """Every webhook delivery Truedy made, stored once as it arrived (at-least-once delivery)."""

    # The event's `id` when Truedy sends one, else a hash of the raw body: a retried delivery
    # of the same event lands on the same key and is refused by the unique index.
    event_key = models.CharField(max_length=128, unique=True)
    event = models.CharField(max_length=64, db_index=True)
    call_id = models.CharField(max_length=64, blank=True, db_index=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    raw_body = models.TextField()
    processed_at = models.DateTimeField(null=True, blank=True)
    process_error = models.CharField(max_length=500, blank=True)
    # Tries that Truedy's failures deferred, and when the next one is due: a follow-up whose
    # message was lost (its worker and broker both gone) is sent again once overdue.
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} {self.call_id or '?'} ({self.event_key})"


class SyncCursor(models.Model):
    """Where `sync_calls` stands, so a crashed or interrupted run resumes instead of restarting.

    A run pins its window (`window_after`, `window_before`) when it starts, so the calls that
    arrive meanwhile cannot shift the offsets it pages by, and records each page it stored.
    """

    name = models.CharField(primary_key=True, max_length=64)
    window_after = models.DateTimeField(null=True, blank=True)
    window_before = models.DateTimeField(null=True, blank=True)
    next_offset = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    running = models.BooleanField(default=False)
    # The archive holds every call created in [synced_from, synced_until); None: from the start.
    synced_from = models.DateTimeField(null=True, blank=True)
    # Everything created before this instant has been synced once: the next run starts here.
    synced_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the last run that completed its window finished (our clock).
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """The last heartbeat a worker ran: the scheduler sends one through the queue every few
    seconds, so its age says whether the scheduler, the queue and a worker all work."""

    name = models.CharField(primary_key=True, max_length=64)
    beat_at = models.DateTimeField()
    worker = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class SavedView(models.Model):
    """A named filter set a user keeps for their own list menu."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    # The list's canonical query string (no page number), e.g. "status=ended&agent=…".
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


# --- Review work -------------------------------------------------------------------------------
# A supervisor's conclusions about a call: verdicts, outcome corrections and notes on its turns.
# Referenced by call id (archived or not), never by a foreign key to ArchivedCall: a call Truedy
# still serves need not be in the archive. Verdicts and corrections are append-only histories
# whose latest row counts; notes change only to be resolved.


class HistoryIsAppendOnly(AuditLogIsAppendOnly):
    """Someone tried to change or delete a review or a correction."""


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise HistoryIsAppendOnly("These rows are history: never changed.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise HistoryIsAppendOnly("These rows are history: never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise HistoryIsAppendOnly("These rows are history: never deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise HistoryIsAppendOnly("These rows are history: never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HistoryIsAppendOnly("These rows are history: never deleted.")


class Verdict(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    FOLLOW_UP = "follow-up", "Follow-up"


class Review(AppendOnlyModel):
    """One verdict on a call. The call's latest review is its verdict; earlier ones are history."""

    call_id = models.CharField("call id", max_length=64)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    note = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    # A follow-up handed to a teammate: it shows in their "For you".
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_reviews",
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["call_id", "-at"], name="review_call_latest")]
        permissions = [("review_calls", "Can review calls: verdicts, corrections and notes")]

    def __str__(self) -> str:
        return f"{self.call_id}: {self.verdict}"


class OutcomeCorrection(AppendOnlyModel):
    """A reviewer's outcome for a call, replacing the AI's label wherever an outcome shows."""

    call_id = models.CharField("call id", max_length=64)
    ai_outcome = models.CharField("AI's outcome", max_length=64, blank=True)
    outcome = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outcome_corrections"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["call_id", "-at"], name="correction_call_latest")]

    def __str__(self) -> str:
        return f"{self.call_id}: {self.ai_outcome or '—'} → {self.outcome}"


class TurnNote(models.Model):
    """A note on one turn of a call's transcript (or a moment of it)."""

    call_id = models.CharField("call id", max_length=64, db_index=True)
    turn = models.PositiveIntegerField(null=True, blank=True, help_text="1-based turn number")
    seconds = models.FloatField(null=True, blank=True, help_text="A moment, for ?t=")
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="turn_notes"
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in_notes"
    )
    at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_turn_notes",
    )

    class Meta:
        ordering = ["turn", "at", "id"]

    def __str__(self) -> str:
        return f"{self.call_id} turn {self.turn}: {self.text[:40]}"


class ReviewSample(models.Model):
    """A fair random sample of a list view, fixed when drawn: the same calls for everyone who
    opens it, however many calls arrive later (only calls created before ``cutoff`` count)."""

    query = models.CharField(max_length=1000, blank=True)  # the view's canonical filters
    seed = models.CharField(max_length=32)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    cutoff = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_samples"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        amount = f"{self.percent} %" if self.percent is not None else f"{self.size} calls"
        return f"Sample {self.pk}: {amount} of ?{self.query}"
