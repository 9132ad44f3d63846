"""The agents page (issue 20): each archived call's longest silence, for the dead-air rate,
and an index that serves the page's figures over a range."""

from django.db import migrations, models

from calls.archive.store import stored_longest_silence

BATCH = 500


def measure_silences(apps, schema_editor):
    """Calls archived before the column: their longest silence, from the stored transcript."""
    ArchivedCall = apps.get_model("calls", "ArchivedCall")
    rows = ArchivedCall.objects.exclude(transcript=None).only(
        "id", "transcript", "duration_seconds"
    )
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        row.longest_silence = stored_longest_silence(row.transcript, row.duration_seconds)
        changed.append(row)
        if len(changed) == BATCH:
            ArchivedCall.objects.bulk_update(changed, ["longest_silence"])
            changed = []
    ArchivedCall.objects.bulk_update(changed, ["longest_silence"])


class Migration(migrations.Migration):
    dependencies = [("calls", "0012_archive_lists")]

    operations = [
        migrations.AddField(
            model_name="archivedcall",
            name="longest_silence",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(measure_silences, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="archivedcall",
            index=models.Index(
                fields=["created_at"],
                include=(
                    "agent_id",
                    "id",
                    "status",
                    "duration_seconds",
                    "cost_cents",
                    "outcome",
                    "longest_silence",
                ),
                name="archive_agent_figures",
            ),
        ),
    ]
