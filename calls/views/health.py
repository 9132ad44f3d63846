"""``/healthz`` for the load balancer: can this instance serve pages?

- Database down: 503. Sessions and sign-ins live there; nothing works without it.
- Cache (Redis) down: 200, ``"status": "degraded"``. Pages still work, reading Truedy directly,
  and every instance shares the one Redis: failing them all would turn a slower site into
  no site.
- Truedy is never asked: its outage must not make the balancer pull every instance. The
  breaker's state is reported as information only.
- Background work and the archive's freshness are reported for monitoring, not for the
  balancer: ``background.status`` is ``stale`` when no worker has run the scheduler's
  heartbeat for WORKER_STALE_AFTER seconds (a dead or stuck worker, or no scheduler), and
  ``archive.current`` is false when the archive lags Truedy by more than its bound. Neither
  changes the status code: a web instance serves pages without them.
"""

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from calls.archive.freshness import archive_freshness
from calls.background.status import worker_status
from calls.upstream import gateway, resilience
from calls.upstream.keys import HEALTH_PREFIX

CACHE_KEY_PREFIX = HEALTH_PREFIX


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not return 1")


def check_cache() -> None:
    """A round trip through the cache itself (not resilience.safe_*, which hide failures)."""
    key = f"{CACHE_KEY_PREFIX}{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("a value written was not read back")
    finally:
        cache.delete(key)


def _run(check: Callable[[], None]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        check()
    except Exception as error:  # any failure is the answer, not a 500
        # The type only: a driver's message can carry a host name or a DSN.
        result: dict[str, Any] = {"status": "error", "error": type(error).__name__}
    else:
        result = {"status": "ok"}
    result["duration_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _run(check_database), "cache": _run(check_cache)}
    if checks["database"]["status"] != "ok":
        status, code = "error", 503
    elif checks["cache"]["status"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body: dict[str, Any] = {"status": status, "checks": checks}
    if checks["database"]["status"] == "ok":
        body["background"] = worker_status(timezone.now()).as_json()
        body["archive"] = archive_freshness(gateway.now()).as_json()
    if checks["cache"]["status"] == "ok":
        body["truedy"] = resilience.breaker_state()  # read from the cache: only when it answers
    response = JsonResponse(body, status=code)
    response["Cache-Control"] = "no-store"
    return response
