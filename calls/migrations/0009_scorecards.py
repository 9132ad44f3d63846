"""Scorecards (README, "Scorecards"): versioned definitions, reviewers' scores with the
overrides of automatic answers, and the archive's automatic scores. The Admin role gets
``calls.manage_scorecards`` (define and change scorecards); Reviewers fill them in with
``calls.review_calls``, as migration 0005_roles made it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

ADMIN = "Admin"
PERMISSION = ("calls", "manage_scorecards")


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
        ("calls", "0008_archive_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ScorecardQuestion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField()),
                ("text", models.CharField(max_length=300)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("yes_no", "Yes / no"),
                            ("scale", "Scale 0 to N"),
                            ("choice", "Choice"),
                            ("text", "Text"),
                        ],
                        max_length=16,
                    ),
                ),
                ("weight", models.PositiveSmallIntegerField(default=1)),
                ("mandatory", models.BooleanField(default=False)),
                (
                    "allow_na",
                    models.BooleanField(default=False, verbose_name="not applicable allowed"),
                ),
                ("scale_max", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("options", models.JSONField(blank=True, default=list)),
                (
                    "auto_check",
                    models.JSONField(blank=True, null=True, verbose_name="automatic check"),
                ),
            ],
            options={
                "ordering": ["version_id", "position", "id"],
            },
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
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="Scorecard",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for the demo scorecard seed_demo_user makes.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="scorecards",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "permissions": [("manage_scorecards", "Can define and change scorecards")],
            },
        ),
        migrations.CreateModel(
            name="ScorecardScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("call_id", models.CharField(max_length=64, verbose_name="call id")),
                ("score", models.FloatField(blank=True, null=True)),
                ("answers", models.JSONField(default=dict)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "reviewer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="scorecard_scores",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CheckOverride",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("call_id", models.CharField(db_index=True, max_length=64, verbose_name="call id")),
                ("automatic", models.CharField(max_length=16)),
                ("answer", models.CharField(max_length=16)),
                ("evidence", models.CharField(blank=True, max_length=500)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="check_overrides",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "question",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="overrides",
                        to="calls.scorecardquestion",
                    ),
                ),
                (
                    "score",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="overrides",
                        to="calls.scorecardscore",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ScorecardVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("name", models.CharField(max_length=120)),
                ("description", models.TextField(blank=True)),
                ("agent_ids", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="scorecard_versions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "scorecard",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="calls.scorecard",
                    ),
                ),
            ],
            options={
                "ordering": ["scorecard_id", "-number"],
            },
        ),
        migrations.AddField(
            model_name="scorecardscore",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="scores",
                to="calls.scorecardversion",
            ),
        ),
        migrations.AddField(
            model_name="scorecardquestion",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="questions",
                to="calls.scorecardversion",
            ),
        ),
        migrations.CreateModel(
            name="AutomaticScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("call_id", models.CharField(max_length=64, verbose_name="call id")),
                ("score", models.FloatField(blank=True, null=True)),
                ("results", models.JSONField(default=list)),
                ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="automatic_scores",
                        to="calls.scorecardversion",
                    ),
                ),
            ],
            options={
                "ordering": ["call_id", "version_id"],
            },
        ),
        migrations.AddConstraint(
            model_name="scorecardversion",
            constraint=models.UniqueConstraint(
                fields=("scorecard", "number"), name="scorecard_version_once"
            ),
        ),
        migrations.AddIndex(
            model_name="scorecardscore",
            index=models.Index(fields=["call_id", "-at"], name="score_call_latest"),
        ),
        migrations.AddIndex(
            model_name="automaticscore",
            index=models.Index(fields=["version", "score"], name="automatic_score_range"),
        ),
        migrations.AddConstraint(
            model_name="automaticscore",
            constraint=models.UniqueConstraint(
                fields=("call_id", "version"), name="automatic_score_once"
            ),
        ),
        migrations.RunPython(grant_admins, revoke_admins),
    ]
