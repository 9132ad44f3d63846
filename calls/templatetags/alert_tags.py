"""The header's "Alerts" link and its count of open alerts (one indexed COUNT a page)."""

from django import template
from django.db import DatabaseError

from calls.services import alerts

register = template.Library()


@register.simple_tag
def open_alert_count() -> int | None:
    """Open alerts; None when the database does not answer (the page still renders)."""
    try:
        return alerts.open_count()
    except DatabaseError:
        return None
