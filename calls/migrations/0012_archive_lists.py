"""Placeholder filled in by its issue's work."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("calls", "0011_alerts")]

    operations: list[migrations.operations.base.Operation] = []
