"""The Celery application: every piece of background work (calls/background/tasks.py).

Workers run ``celery -A truedy_dashboard worker``, the scheduler ``celery -A truedy_dashboard
beat``; both read their configuration from Django's settings (the ``CELERY_`` names).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "truedy_dashboard.settings")

app = Celery("truedy_dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["calls.background"])
