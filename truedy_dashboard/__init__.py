# Loaded with Django, so a task enqueued from a view uses this app and its configuration.
from .celery import app as celery_app

__all__ = ("celery_app",)
