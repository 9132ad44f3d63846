"""Placeholder filled in by its issue's work."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("calls", "0012_archive_lists")]

    operations: list[migrations.operations.base.Operation] = []
