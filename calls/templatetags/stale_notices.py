"""The notice on a page that shows cached data because Truedy failed ."""

from typing import Any

from django import template
from django.template import Context
from django.utils import timezone

from calls.upstream.problems import trouble
from calls.upstream.resilience import stale_reads

register = template.Library()


@register.inclusion_tag("calls/_stale_notice.html", takes_context=True)
def stale_notice(context: Context) -> dict[str, Any]:
    reads = stale_reads()
    if not reads:
        return {"stale": None}
    oldest = min(reads, key=lambda read: read.fetched_at)
    local = timezone.localtime(oldest.fetched_at)
    return {
        "request": context.get("request"),
        "stale": {
            "reason": trouble(oldest.error),
            "fetched_at": local,
            "not_today": local.date() != timezone.localdate(),
            "zone": timezone.get_current_timezone_name(),
        },
    }
