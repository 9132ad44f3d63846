"""Alerts (README, "Alerts"): rules over a saved view's archived calls, the issues they open
with exactly the calls that fired them, and each delivery's attempts. The Admin role gets
``calls.manage_alerts`` (define and change alert rules), as 0009 gives it manage_scorecards."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

ADMIN = "Admin"
PERMISSION = ("calls", "manage_alerts")


def grant_admins(apps, schema_editor):
    # Permissions are made after migrations on a fresh database: make them now (as 0005 does).
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=ADMIN)
    app_label, codename = PERMISSION
    group.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )


def revoke_admins(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = PERMISSION
    Permission.objects.filter(content_type__app_label=app_label, codename=codename).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0010_personal_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                ("view_name", models.CharField(blank=True, max_length=80)),
                ("query", models.CharField(blank=True, max_length=1000)),
                (
                    "metric",
                    models.CharField(
                        choices=[
                            ("calls", "Number of calls"),
                            ("outcome", "Calls with an outcome (after corrections)"),
                            ("failed_check", "Calls failing an automatic check"),
                            ("long_silence", "Calls with a silence longer than N s"),
                            ("no_calls", "No calls at all"),
                        ],
                        max_length=16,
                    ),
                ),
                ("outcome", models.CharField(blank=True, max_length=64)),
                ("silence_seconds", models.FloatField(blank=True, null=True)),
                ("as_share", models.BooleanField(default=False)),
                (
                    "direction",
                    models.CharField(
                        choices=[("above", "above"), ("below", "below")],
                        default="above",
                        max_length=8,
                    ),
                ),
                ("threshold", models.FloatField(default=0)),
                ("window_minutes", models.PositiveIntegerField(default=60)),
                ("cooldown_minutes", models.PositiveIntegerField(default=60)),
                ("webhook_url", models.URLField(blank=True, max_length=500)),
                ("webhook_secret", models.CharField(blank=True, max_length=200)),
                (
                    "email_to",
                    models.CharField(blank=True, max_length=500, verbose_name="e-mail to"),
                ),
                ("active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_value", models.FloatField(blank=True, null=True)),
                ("last_fired_at", models.DateTimeField(blank=True, null=True)),
                ("last_problem", models.CharField(blank=True, max_length=500)),
                (
                    "check_question",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="alert_rules",
                        to="calls.scorecardquestion",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="alert_rules",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "saved_view",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="alert_rules",
                        to="calls.savedview",
                    ),
                ),
            ],
            options={
                "ordering": ["name", "id"],
                "permissions": [("manage_alerts", "Can define and change alert rules")],
            },
        ),
        migrations.CreateModel(
            name="AlertIssue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("acknowledged", "Acknowledged"),
                            ("resolved", "Resolved"),
                        ],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("value", models.FloatField()),
                ("summary", models.CharField(max_length=500)),
                ("window_start", models.DateTimeField()),
                ("window_end", models.DateTimeField()),
                ("call_count", models.PositiveIntegerField(default=0)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acknowledged_alerts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="resolved_alerts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="issues",
                        to="calls.alertrule",
                    ),
                ),
            ],
            options={
                "ordering": ["-opened_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="AlertDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("webhook", "Webhook"), ("email", "E-mail")], max_length=16
                    ),
                ),
                ("target", models.CharField(max_length=500)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                ("gave_up_at", models.DateTimeField(blank=True, null=True)),
                (
                    "issue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="calls.alertissue",
                    ),
                ),
            ],
            options={
                "ordering": ["issue_id", "channel"],
                "constraints": [
                    models.UniqueConstraint(fields=("issue", "channel"), name="alert_delivery_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="AlertIssueCall",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("call_id", models.CharField(max_length=64, verbose_name="call id")),
                (
                    "issue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calls",
                        to="calls.alertissue",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("issue", "call_id"), name="alert_issue_call_once"
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="alertissue",
            index=models.Index(fields=["state", "-opened_at"], name="alert_issue_state"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view_call", "Viewed a call"),
                    ("review_call", "Reviewed a call"),
                    ("correct_outcome", "Corrected a call's outcome"),
                    ("add_note", "Added a note to a call"),
                    ("resolve_note", "Resolved a note"),
                    ("play_recording", "Played a recording"),
                    ("download_transcript", "Downloaded a transcript"),
                    ("export_csv", "Exported calls (CSV)"),
                    ("download_recordings", "Downloaded recordings (ZIP)"),
                    ("score_call", "Scored a call on a scorecard"),
                    ("change_scorecard", "Defined or changed a scorecard"),
                    ("sign_in", "Signed in"),
                    ("sign_in_failed", "Sign-in failed"),
                    ("sign_out", "Signed out"),
                    ("reveal_personal_data", "Revealed a call's personal data"),
                    ("change_alert_rule", "Defined or changed an alert rule"),
                    ("acknowledge_alert", "Acknowledged an alert"),
                    ("resolve_alert", "Resolved an alert"),
                ],
                max_length=32,
            ),
        ),
        migrations.RunPython(grant_admins, revoke_admins),
    ]
