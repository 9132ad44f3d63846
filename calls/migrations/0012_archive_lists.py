"""Lists from the archive (issue 19): Truedy's order (newest first, ties by id) as the archive's
default, and indexes for it and for sorting by duration and cost."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("calls", "0011_alerts")]

    operations: list[migrations.operations.base.Operation] = [
        migrations.AlterModelOptions(
            name="archivedcall",
            options={"ordering": ["-created_at", "id"]},
        ),
        migrations.AddIndex(
            model_name="archivedcall",
            index=models.Index(fields=["-created_at", "id"], name="archive_truedy_order"),
        ),
        migrations.AddIndex(
            model_name="archivedcall",
            index=models.Index(fields=["duration_seconds", "id"], name="archive_by_duration"),
        ),
        migrations.AddIndex(
            model_name="archivedcall",
            index=models.Index(fields=["cost_cents", "id"], name="archive_by_cost"),
        ),
    ]
