"""The archive's full-text search column (calls.archive.search).

``search_vector`` is a stored generated column: PostgreSQL computes it from ``search_text`` on
every insert and update, however the row is written (``store_call``, a bulk insert, an
``update()``), and adding it fills it for every archived call. On SQLite it is NULL: the search
there scans ``search_text``. The GIN index is PostgreSQL's alone, so it is created here for
PostgreSQL only (SQLite has no GIN, and the model's state does not list it). Its ``fastupdate``
is off: the archive is written a call at a time (webhooks, the sync), so each write updates the
index itself, and a search never has to read through a list of pending entries (up to 4 MB by
default, merged only by a VACUUM or once full).
"""

import django.contrib.postgres.search
from django.db import migrations, models

import calls.models

INDEX = "archive_search_vector"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON calls_archivedcall USING gin (search_vector) "
            "WITH (fastupdate = off)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0007_recordings_zip"),
    ]

    operations = [
        migrations.AddField(
            model_name="archivedcall",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=calls.models.ArchiveSearchVector(),
                null=True,
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
