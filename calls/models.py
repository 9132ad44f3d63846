"""The audit log: who looked at, listened to or took away which call, and every sign-in.

Rows are only ever added. The model and its queryset refuse to change or delete one; a database
role without UPDATE/DELETE on the table makes that hold against raw SQL too.
"""

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from calls.lib.personal_data import mask_text


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
    DOWNLOAD_RECORDINGS = "download_recordings", "Downloaded recordings (ZIP)"
    SCORE_CALL = "score_call", "Scored a call on a scorecard"
    CHANGE_SCORECARD = "change_scorecard", "Defined or changed a scorecard"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    REVEAL_PERSONAL_DATA = "reveal_personal_data", "Revealed a call's personal data"
    CHANGE_ALERT_RULE = "change_alert_rule", "Defined or changed an alert rule"
    ACKNOWLEDGE_ALERT = "acknowledge_alert", "Acknowledged an alert"
    RESOLVE_ALERT = "resolve_alert", "Resolved an alert"


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


# PostgreSQL's text-search configuration for the archive: English stop words and stemming.
SEARCH_CONFIG = "english"
# A tsvector holds at most 1 MB: only the first this many characters of a call's search_text
# (about four hours of talk) are indexed, so no transcript can make storing its call fail.
SEARCH_VECTOR_CHARS = 250_000
# PostgreSQL's parser reads "<…>" as markup and skips the words inside it; a transcript is
# speech, so these are read as spaces instead (one for one: every word keeps its place).
SEARCH_AS_SPACES = "<>"


class ArchiveSearchVector(models.Func):
    """``ArchivedCall.search_vector``'s expression: the words of ``search_text`` on PostgreSQL,
    NULL on any other database."""

    output_field = SearchVectorField()

    def __init__(self, column: str = "search_text") -> None:
        super().__init__(models.F(column))

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        return "NULL", []

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        text = f"left({column}, {SEARCH_VECTOR_CHARS})"
        spaces = " " * len(SEARCH_AS_SPACES)
        text = f"translate({text}, '{SEARCH_AS_SPACES}', '{spaces}')"
        return f"to_tsvector('{SEARCH_CONFIG}'::regconfig, {text})", list(params)


# What the agents page adds up per agent (calls.services.agent_figures), carried in its index.
AGENT_FIGURE_COLUMNS = [
    "agent_id",
    "id",
    "status",
    "duration_seconds",
    "cost_cents",
    "outcome",
    "longest_silence",
]


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
    # search_text as PostgreSQL's full-text search reads it (calls.archive.search): computed by
    # the database on every write, however the row is written; a GIN index (migration 0008,
    # PostgreSQL only) finds the words. Always NULL on SQLite, whose search scans search_text.
    search_vector = models.GeneratedField(
        expression=ArchiveSearchVector(),
        output_field=SearchVectorField(),
        db_persist=True,
        null=True,
    )
    # search_text with personal data replaced by placeholders (calls.lib.personal_data): what a
    # role that sees it masked searches in, so a masked value finds nothing (README, "Personal
    # data"); its vector, as search_vector's, is PostgreSQL's alone (migration 0010).
    masked_search_text = models.TextField(blank=True)
    masked_search_vector = models.GeneratedField(
        expression=ArchiveSearchVector("masked_search_text"),
        output_field=SearchVectorField(),
        db_persist=True,
        null=True,
    )
    # How many words the contact said (calls.archive.suspicious); None without a transcript.
    contact_words = models.PositiveIntegerField(null=True, blank=True)
    # The longest silence before any turn, in seconds (calls.truedy.timing, as the automatic
    # check measures it); None without a transcript. The agents page's dead-air rate reads it.
    longest_silence = models.FloatField(null=True, blank=True)
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
        ordering = ["-created_at", "id"]  # Truedy's list order: newest first, ties by id
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="archive_newest_first"),
            models.Index(fields=["agent_id", "-created_at"], name="archive_agent_created"),
            # Lists from the archive (issue 19): Truedy's order, and the sortable columns
            # (calls.archive.search.ordered), each with its tie-break.
            models.Index(fields=["-created_at", "id"], name="archive_truedy_order"),
            models.Index(fields=["duration_seconds", "id"], name="archive_by_duration"),
            models.Index(fields=["cost_cents", "id"], name="archive_by_cost"),
            # The agents page's figures over a range (calls.services.agent_figures): on
            # PostgreSQL an index-only scan of the range reads every column they add up.
            models.Index(
                fields=["created_at"],
                include=AGENT_FIGURE_COLUMNS,
                name="archive_agent_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # calls.archive.store fills masked_search_text (turns masked together); a row saved
        # without it gets the search text masked as one, never an unmasked copy.
        if self.search_text and not self.masked_search_text:
            self.masked_search_text = mask_text(self.search_text)
        super().save(*args, **kwargs)


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


# --- Scorecards --------------------------------------------------------------------------------
# An admin defines a scorecard; each edit is a new version, and every score (a reviewer's or the
# automatic one) names the version it was given on, so editing a scorecard never changes a score
# already given. Definitions and reviewers' scores are append-only; an automatic score is
# recomputed as its call changes (calls/services/scorecards.py).


class QuestionKind(models.TextChoices):
    YES_NO = "yes_no", "Yes / no"
    SCALE = "scale", "Scale 0 to N"
    CHOICE = "choice", "Choice"
    TEXT = "text", "Text"


class Scorecard(models.Model):
    """A scorecard's identity; what it asks is in its versions (the newest counts)."""

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scorecards",
        help_text="Empty for the demo scorecard seed_demo_user makes.",
    )
    # A retired scorecard is no longer offered nor computed; its scores stay.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        permissions = [("manage_scorecards", "Can define and change scorecards")]

    def __str__(self) -> str:
        return f"Scorecard {self.pk}"


class ScorecardVersionQuerySet(AppendOnlyQuerySet):
    def current(self) -> "ScorecardVersionQuerySet":
        """The newest version of each scorecard that is not retired."""
        newest = (
            ScorecardVersion.objects.filter(scorecard=models.OuterRef("scorecard"))
            .order_by("-number")
            .values("id")[:1]
        )
        return self.filter(scorecard__retired_at__isnull=True, id=models.Subquery(newest))


class ScorecardVersion(AppendOnlyModel):
    """What a scorecard asks, as of one edit: its name, the calls it applies to, its questions."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Agent ids the scorecard applies to; empty: every call.
    agent_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scorecard_versions",
    )

    # The same append-only manager as AppendOnlyModel's, with ``current()`` added.
    objects = ScorecardVersionQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["scorecard_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="scorecard_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.number})"

    def applies_to(self, agent_id: str | None) -> bool:
        return not self.agent_ids or (agent_id or "") in self.agent_ids


class ScorecardQuestion(AppendOnlyModel):
    """One question of one version. ``auto_check`` makes a yes/no question automatic
    (calls/services/automatic_checks.py reads it)."""

    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="questions"
    )
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices)
    weight = models.PositiveSmallIntegerField(default=1)
    mandatory = models.BooleanField(default=False)
    allow_na = models.BooleanField("not applicable allowed", default=False)
    # The top of a scale from 0 to N.
    scale_max = models.PositiveSmallIntegerField(null=True, blank=True)
    # A choice question's options: [{"label": "Resolved", "credit": 100}, ...] (credit in %).
    options = models.JSONField(default=list, blank=True)
    # An automatic check: {"kind": "phrase", "speaker": "agent", "phrases": "a|b", ...}.
    auto_check = models.JSONField("automatic check", null=True, blank=True)

    class Meta:
        ordering = ["version_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class ScorecardScore(AppendOnlyModel):
    """A reviewer's filled scorecard for a call. The call's latest one per scorecard counts;
    earlier ones are history. ``answers``: {question id: {"answer": …, "automatic": …}}."""

    call_id = models.CharField("call id", max_length=64)
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="scores")
    # Weighted percentage, 0 to 100; None when no answered question carries weight.
    score = models.FloatField(null=True, blank=True)
    answers = models.JSONField(default=dict)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scorecard_scores"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["call_id", "-at"], name="score_call_latest")]

    def __str__(self) -> str:
        shown = "no score" if self.score is None else f"{self.score:.0f} %"
        return f"{self.call_id}: {shown} on {self.version}"


class CheckOverride(AppendOnlyModel):
    """A reviewer answered an automatic question otherwise than its check: who, when, from what
    to what, on which score."""

    score = models.ForeignKey(ScorecardScore, on_delete=models.PROTECT, related_name="overrides")
    question = models.ForeignKey(
        ScorecardQuestion, on_delete=models.PROTECT, related_name="overrides"
    )
    call_id = models.CharField("call id", max_length=64, db_index=True)
    automatic = models.CharField(max_length=16)  # "yes", "no" or "unknown"
    answer = models.CharField(max_length=16)  # "yes", "no", "na" or "" (left unanswered)
    evidence = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="check_overrides"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.call_id} {self.question_id}: {self.automatic} → {self.answer or '—'}"


class AutomaticScoreQuerySet(models.QuerySet["AutomaticScore"]):
    def current(self) -> "AutomaticScoreQuerySet":
        """Scores on the current version of a scorecard that is not retired."""
        return self.filter(version__in=ScorecardVersion.objects.current())

    def within(self, at_least: float | None, below: float | None) -> "AutomaticScoreQuerySet":
        """Current scores in ``[at_least, below)`` (None: no bound); no score never matches."""
        scores = self.current().filter(score__isnull=False)
        if at_least is not None:
            scores = scores.filter(score__gte=at_least)
        if below is not None:
            scores = scores.filter(score__lt=below)
        return scores


class AutomaticScore(models.Model):
    """A call's score on the automatic questions of one scorecard version, computed from its
    archived copy without a reviewer; recomputed whenever the archived call changes."""

    call_id = models.CharField("call id", max_length=64)
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.CASCADE, related_name="automatic_scores"
    )
    # Weighted percentage over the checks with a known result; None when none has one.
    score = models.FloatField(null=True, blank=True)
    # One entry per automatic question: {"question", "answer", "evidence", "seconds"}.
    results = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = AutomaticScoreQuerySet.as_manager()

    class Meta:
        ordering = ["call_id", "version_id"]
        constraints = [
            models.UniqueConstraint(fields=["call_id", "version"], name="automatic_score_once")
        ]
        indexes = [models.Index(fields=["version", "score"], name="automatic_score_range")]

    def __str__(self) -> str:
        shown = "no score" if self.score is None else f"{self.score:.0f} %"
        return f"{self.call_id}: {shown} (automatic, version {self.version_id})"


# --- Personal data (issue 21) ------------------------------------------------------------------


class PersonalDataRevealQuerySet(models.QuerySet["PersonalDataReveal"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("Reveals are never changed.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AuditLogIsAppendOnly("Reveals are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Reveals are never deleted.")


class PersonalDataReveal(models.Model):
    """One user shown one call's personal data unmasked, for a while, with the reason given
    (calls.services.personal_data.reveal; each one is in the audit log too). Append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="personal_data_reveals"
    )
    call_id = models.CharField("call id", max_length=64)
    reason = models.CharField(max_length=300)
    revealed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = PersonalDataRevealQuerySet.as_manager()

    class Meta:
        ordering = ["-revealed_at", "-id"]
        indexes = [models.Index(fields=["user", "call_id", "-expires_at"], name="reveal_user_call")]
        permissions = [("reveal_personal_data", "Can reveal a call's personal data")]

    def __str__(self) -> str:
        return f"{self.call_id} revealed to {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Reveals are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Reveals are never deleted.")


# --- Alerts (issue 20) -------------------------------------------------------------------------
# An admin's rule watches a saved view's calls in the archive (calls/services/alerts.py, checked
# by calls/background/alerts.py on the scheduler). A rule that fires opens an issue holding
# exactly the calls that fired it (``alert=<id>`` on the list and the review queue), and each of
# its deliveries (webhook, e-mail) is recorded with its attempts until it is delivered or given up.


class AlertMetric(models.TextChoices):
    CALLS = "calls", "Number of calls"
    OUTCOME = "outcome", "Calls with an outcome (after corrections)"
    FAILED_CHECK = "failed_check", "Calls failing an automatic check"
    LONG_SILENCE = "long_silence", "Calls with a silence longer than N s"
    NO_CALLS = "no_calls", "No calls at all"


class AlertDirection(models.TextChoices):
    ABOVE = "above", "above"
    BELOW = "below", "below"


class AlertRule(models.Model):
    """A metric of a saved view's calls over the last ``window_minutes``, against a threshold."""

    name = models.CharField(max_length=120)
    # The saved view the rule was made from, and its query copied then: deleting or changing the
    # view never changes what the rule watches.
    saved_view = models.ForeignKey(
        SavedView, on_delete=models.SET_NULL, null=True, blank=True, related_name="alert_rules"
    )
    view_name = models.CharField(max_length=80, blank=True)
    query = models.CharField(max_length=1000, blank=True)
    metric = models.CharField(max_length=16, choices=AlertMetric.choices)
    outcome = models.CharField(max_length=64, blank=True)  # for OUTCOME
    check_question = models.ForeignKey(  # for FAILED_CHECK: an automatic yes/no question
        ScorecardQuestion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alert_rules",
    )
    silence_seconds = models.FloatField(null=True, blank=True)  # for LONG_SILENCE
    # For OUTCOME, FAILED_CHECK and LONG_SILENCE: the share of the calls (percent) rather than
    # their number.
    as_share = models.BooleanField(default=False)
    direction = models.CharField(
        max_length=8, choices=AlertDirection.choices, default=AlertDirection.ABOVE
    )
    threshold = models.FloatField(default=0)
    window_minutes = models.PositiveIntegerField(default=60)
    cooldown_minutes = models.PositiveIntegerField(default=60)
    webhook_url = models.URLField(max_length=500, blank=True)
    # Signs the webhook's body (HMAC-SHA256); empty: ALERT_WEBHOOK_SECRET.
    webhook_secret = models.CharField(max_length=200, blank=True)
    email_to = models.CharField("e-mail to", max_length=500, blank=True)  # comma-separated
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alert_rules",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    # Why the last check could not measure (the view's filters no longer read); "" when it could.
    last_problem = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("manage_alerts", "Can define and change alert rules")]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class AlertIssue(models.Model):
    """One firing of a rule: what it measured, when, and who acknowledged and resolved it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="issues")
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    value = models.FloatField()
    summary = models.CharField(max_length=500)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    call_count = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledged_alerts",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_alerts",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["state", "-opened_at"], name="alert_issue_state")]

    def __str__(self) -> str:
        return f"Alert {self.pk}: {self.summary}"


class AlertIssueCall(models.Model):
    """One call that fired an issue (the ``alert=<id>`` list filter reads these)."""

    issue = models.ForeignKey(AlertIssue, on_delete=models.CASCADE, related_name="calls")
    call_id = models.CharField("call id", max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "call_id"], name="alert_issue_call_once")
        ]

    def __str__(self) -> str:
        return f"{self.issue_id}: {self.call_id}"


class DeliveryChannel(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "E-mail"


class AlertDelivery(models.Model):
    """An issue sent on one channel: each attempt counted, the last error kept, until it is
    delivered or given up (then an admin may try again)."""

    issue = models.ForeignKey(AlertIssue, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=DeliveryChannel.choices)
    target = models.CharField(max_length=500)  # the URL, or the addresses
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issue_id", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "channel"], name="alert_delivery_once")
        ]

    def __str__(self) -> str:
        return f"Alert {self.issue_id} by {self.channel}"
