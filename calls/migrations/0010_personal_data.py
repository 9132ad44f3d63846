"""Personal data by role (README, "Personal data"): reveals of one call's originals (append-only,
each also an audit event), the permission to make one (granted to the Admin group), and the
archive's masked copy of its search text with, on PostgreSQL, its own full-text vector and GIN
index (as migration 0008 made ``search_vector``), so a role that sees personal data masked cannot
find a call by a masked value. The copy is filled for every archived call here, and on every
archive write afterwards (calls.archive.store).
"""

import django.contrib.postgres.search
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import calls.models

ADMIN = "Admin"
PERMISSION = ("calls", "reveal_personal_data")
INDEX = "archive_masked_search_vector"
BATCH = 500


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


def fill_masked_search_text(apps, schema_editor):
    # The archive's own rule (turns masked together, then the summary), read off the rows.
    from calls.archive.store import masked_search_text, to_record

    ArchivedCall = apps.get_model("calls", "ArchivedCall")
    rows = ArchivedCall.objects.exclude(search_text="").order_by("id")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        row.masked_search_text = masked_search_text(to_record(row))
        batch.append(row)
        if len(batch) == BATCH:
            ArchivedCall.objects.bulk_update(batch, ["masked_search_text"])
            batch = []
    ArchivedCall.objects.bulk_update(batch, ["masked_search_text"])


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON calls_archivedcall "
            "USING gin (masked_search_vector) WITH (fastupdate = off)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0009_scorecards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="PersonalDataReveal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("call_id", models.CharField(max_length=64, verbose_name="call id")),
                ("reason", models.CharField(max_length=300)),
                ("revealed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="personal_data_reveals",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-revealed_at", "-id"],
                "permissions": [("reveal_personal_data", "Can reveal a call's personal data")],
                "indexes": [
                    models.Index(fields=["user", "call_id", "-expires_at"], name="reveal_user_call")
                ],
            },
        ),
        migrations.AddField(
            model_name="archivedcall",
            name="masked_search_text",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="archivedcall",
            name="masked_search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=calls.models.ArchiveSearchVector("masked_search_text"),
                null=True,
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.RunPython(fill_masked_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(grant_admins, revoke_admins),
    ]
