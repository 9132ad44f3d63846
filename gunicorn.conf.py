"""gunicorn settings for the dashboard: `gunicorn -c gunicorn.conf.py truedy_dashboard.wsgi`.

gunicorn also reads this file by itself when started from this folder. Command-line flags win
over it; every number below can be set from the environment.

Sizing rule. A recording being played, a CSV export being downloaded, or a page waiting on
Truedy holds one thread for as long as it lasts (a recording: minutes). So:

    GUNICORN_WORKERS x GUNICORN_THREADS per instance
        ≥ concurrent listeners x 2 (the browser fetches ahead while playing)
          + concurrent exports + page requests in flight (a few per active user)

Workers ≈ CPU cores (the GIL lets one thread of a process run Python at a time; more processes
use more cores), threads fill the rest. Keep threads per worker ≤ 20, the client's API
connection pool (calls/truedy/client.py: beyond it, requests wait up to 1 s for a connection), and
the database's max_connections ≥ instances x workers x threads (each thread keeps one open).
"""

import multiprocessing
import os
from pathlib import Path

from truedy_dashboard.gunicorn_worker import WORKER_CLASS
from truedy_dashboard.gunicorn_worker import pre_request as bound_reads_and_writes


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# `HOST`/`PORT` as platforms pass them; 0.0.0.0 so a load balancer on another host reaches us.
bind = f"{os.environ.get('HOST') or '0.0.0.0'}:{_int('PORT', 8000)}"  # noqa: S104
wsgi_app = "truedy_dashboard.wsgi:application"

# gthread: one thread per request, so streams and slow upstream reads do not block a process;
# ours bounds how long a client may take to send its request head and how long any read or
# write may stall (truedy_dashboard/gunicorn_worker.py): no buffering proxy is needed for it.
worker_class = WORKER_CLASS
pre_request = bound_reads_and_writes
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count())
threads = _int("GUNICORN_THREADS", 16)

# With gthread, `timeout` is the worker's heartbeat, not a request's duration: the worker's
# main loop reports to the master every second while its threads serve, so a 5-minute CSV
# export or a long recording is never cut off. It only kills a process that froze.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On a restart or deploy, requests in flight get this long to finish; a recording still
# playing after that is cut (the player reconnects at the same second on another instance).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 60)
# Behind a load balancer, keep idle connections open longer than its own idle timeout would
# not: most balancers reuse connections to instances for many requests.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# The heartbeat file on tmpfs where there is one (a disk-backed /tmp can stall it).
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108

# Which peers may set X-Forwarded-For/-Proto: the load balancer's addresses (comma-separated,
# CIDR allowed). Django trusts X-Forwarded-Proto only via SECURE_PROXY_SSL_HEADER.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"

# Requests are small here: the longest URL is a filtered list with a search (a few hundred
# characters), the largest header the session and CSRF cookies. Tighter limits than gunicorn's
# (4094 / 8190 bytes, 100 fields) keep what an anonymous client can make us parse and log
# small; anything longer gets gunicorn's own 400 before Django sees it.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 2048)
limit_request_field_size = _int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 4096)
limit_request_fields = _int("GUNICORN_LIMIT_REQUEST_FIELDS", 50)

# Logs to stdout/stderr for the platform to collect. The access log ends with the request id
# (X-Request-ID, set by calls.request_id) that the application's own log lines carry. It names
# the path without its query string: a query holds transcript search terms and phone numbers,
# and gunicorn's access log is written outside the application's redaction.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"
errorlog = "-"
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
)

# No runtime control socket (gunicornc): deploys restart with signals, and several instances
# on one host (the load test, `make serve`) would otherwise fight over ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True
