"""System checks: a start that could only answer 500 refuses to start instead, saying why."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

# Run where pages are to be served, not by every command: `runserver` (our own, in
# truedy_dashboard/management), the WSGI module (gunicorn), and `check --deploy`. A deployment
# migrates before it collects, and `collectstatic` runs Django's "staticfiles" checks itself.
COLLECTED_STATIC = "collected_static"


@checks.register(COLLECTED_STATIC, deploy=True)
def static_files_collected(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """In production every page links content-hashed static files, named by the manifest that
    `collectstatic` writes: without it each page fails ("Missing staticfiles manifest entry")."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []  # DEBUG: plain names, served from static/ as they are
    if storage.manifest_storage.exists(storage.manifest_name):
        return []
    return [
        checks.Error(
            f"Static files have not been collected into STATIC_ROOT ({storage.location}): "
            "with DEBUG off every page would answer 500.",
            hint="Run `python manage.py collectstatic --noinput` before starting (`make serve` "
            "does), or point STATIC_ROOT at the folder it wrote.",
            id="calls.E001",
        )
    ]


def refuse_to_serve_unless_ready() -> None:
    """gunicorn runs no system checks: the WSGI module calls this so that a worker fails to
    boot, with the fix in the message, instead of answering 500 on every page."""
    found = checks.run_checks(tags=[COLLECTED_STATIC], include_deployment_checks=True)
    problems = [message for message in found if message.is_serious()]
    if problems:
        raise ImproperlyConfigured("\n".join(str(problem) for problem in problems))
