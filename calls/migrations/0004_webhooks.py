# Placeholder for schema changes to this part's models during issue 6 (regenerated into one
# migration before the issue lands).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("calls", "0003_archive")]

    operations = []
