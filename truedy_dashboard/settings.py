"""Settings for the Truedy Calls Dashboard.

Every value comes from the environment (or a `.env` file beside manage.py), read once here.
Every variable is listed with a safe default in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-dev-only-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
        "For local development on this machine, set DEBUG=true instead."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First, so its `runserver` (whitenoise's, plus the collected-static check) is the one used.
    "truedy_dashboard",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: `runserver` leaves static files to whitenoise, as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    # Background work's failures (status, error, arguments), for the staff page and admin.
    "django_celery_results",
    "calls",
]

MIDDLEWARE = [
    # First: every later middleware, view and log line knows the request's id.
    "calls.middleware.RequestIdMiddleware",
    # Server-Timing: its `total` covers everything below it.
    "calls.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before sessions and sign-in.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages, fragments and exports gzipped after static files are answered (BREACH: the class
    # says why that is safe here).
    "calls.middleware.CompressPagesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in pages are "private, no-store" unless a view says otherwise.
    "calls.middleware.PrivateByDefaultMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "calls.middleware.StaffRequiredMiddleware",
    "calls.middleware.ViewerTimezoneMiddleware",
    "calls.middleware.UpstreamBudgetMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "truedy_dashboard.urls"
WSGI_APPLICATION = "truedy_dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "calls.views.recording_bundle.recordings_zip_link",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Each gunicorn thread keeps its connection for this many seconds rather than opening one per
# request (0: close after each request); a connection that died meanwhile (PostgreSQL restarted,
# a failover) is noticed before use, not as an error on a page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if (
    DATABASES["default"]["ENGINE"].endswith("sqlite3")
    and DATABASES["default"]["NAME"] != ":memory:"
):
    # `make run`: the web server and a worker write one file. WAL lets readers go on while one
    # writes; a transaction takes the write lock when it starts (two never deadlock upgrading a
    # read lock) and waits up to 20 s for another instead of failing at once. In WAL mode,
    # synchronous=NORMAL syncs the log to disk at checkpoints, not on every commit: a crash of
    # the process loses nothing, a power cut at most the last commits, never the file; the
    # load test's audit rows, webhooks and syncs queued behind each other's fsyncs otherwise.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )

_REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {"default": env.cache("CACHE_URL", default=_REDIS_URL or "locmemcache://")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["BACKEND"] = "calls.upstream.redis_cache.SharedClientRedisCache"
    # A Redis that stops answering costs a page at most these seconds per operation, then the
    # dashboard reads Truedy directly; redis-py would otherwise wait on the OS.
    CACHES["default"].setdefault("OPTIONS", {}).update(socket_connect_timeout=1, socket_timeout=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/calls/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
# A phone number typed without a country code (the list's search box) is read in this region.
PHONE_REGION = env.str("PHONE_REGION", default="US")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `collectstatic` writes here; whitenoise serves it (hashed names cached for ever, gzip and
# brotli variants). With DEBUG on whitenoise serves straight from STATICFILES_DIRS instead.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
# Audio is never compressed (it is served by our proxy anyway; gzip would break byte ranges).
# Said explicitly: whitenoise would read DEBUG at run time, which the test runner turns off.
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = DEBUG
_AUDIO = ["mp3", "m4a", "ogg", "wav"]
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, *_AUDIO]

# --- The call archive -------------------------------------------------------------------------
# Archived recordings live in the default storage: local files under MEDIA_ROOT unless
# ARCHIVE_STORAGE_BACKEND names another (e.g. "storages.backends.s3.S3Storage" with
# django-storages installed, configured by ARCHIVE_STORAGE_OPTIONS as JSON). No URL serves
# MEDIA_ROOT: recordings reach a browser only through the staff-only recording view.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="") or BASE_DIR / "media")
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "ARCHIVE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("ARCHIVE_STORAGE_OPTIONS", default={}),
    },
    # Production: content-hashed names + compressed copies (needs `collectstatic`); with DEBUG
    # on (`make run`, the tests) plain names straight from static/.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Archived calls (and their recordings) created longer ago than this are deleted by
# `sync_calls`; 0 keeps them for ever.
ARCHIVE_RETENTION_DAYS = env.int("ARCHIVE_RETENTION_DAYS", default=730)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Security ---------------------------------------------------------------------------------
# HTTPS-only settings default to on with DEBUG off (production) and off with DEBUG on (`make run`
# and the tests serve plain http on 127.0.0.1). An empty variable means that default.


def _on_unless_debug(value: str) -> bool:
    return env.parse_value(value, bool) if value else not DEBUG


SESSION_COOKIE_SECURE = _on_unless_debug(env.str("SESSION_COOKIE_SECURE", default=""))
CSRF_COOKIE_SECURE = _on_unless_debug(env.str("CSRF_COOKIE_SECURE", default=""))
SECURE_SSL_REDIRECT = _on_unless_debug(env.str("SECURE_SSL_REDIRECT", default=""))
# Load balancers probe instances over plain http: a redirect would read as "unhealthy".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
_HSTS_SECONDS = env.str("SECURE_HSTS_SECONDS", default="")
SECURE_HSTS_SECONDS = int(_HSTS_SECONDS) if _HSTS_SECONDS else (0 if DEBUG else 365 * 86400)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Only when TLS ends at a proxy that always overwrites this header (e.g. HTTP_X_FORWARDED_PROTO):
# a client could otherwise claim https itself.
_PROXY_SSL_HEADER = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None
SILENCED_SYSTEM_CHECKS = [
    # W021 asks for the HSTS `preload` token. Preloading commits the whole registrable domain
    # (every sibling subdomain, for months) and is requested for the apex domain at
    # hstspreload.org; a dashboard on one subdomain can neither make nor use that commitment.
    "security.W021",
]
X_FRAME_OPTIONS = "DENY"

# Sessions live in the database, so signing out ends them on the server (a signed-cookie session
# could not be revoked). One shift long; login rotates the key and the CSRF token.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: htmx sends the token from `hx-headers` on <body>.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Brute force: after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is refused (429, registration/locked_out.html) for AXES_COOLOFF_MINUTES from the
# failure that paused it. A cool-off, not a permanent lock: anyone could otherwise lock staff out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures during a lockout do not extend it: one wrong password every 14 minutes would
# otherwise keep a known staff name locked out for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client's address from X-Forwarded-For as far as our own proxies wrote it (calls/
# client_address.py): set TRUSTED_PROXY_COUNT to the proxies in front (a load balancer: 1).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "calls.lib.client_address.client_ip"
# And per address, whatever the usernames (calls/views/sign_in.py), per AXES_COOLOFF_MINUTES.
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Recording streams through the proxy (calls/services/recording_streams.py), per process: at
# most this many at once in all and per person (keep the total below GUNICORN_THREADS, so pages
# always have threads), none longer than the deadline, ended when storage delivers less than the
# minimum rate once the window of waiting has passed.
RECORDING_STREAMS_MAX = env.int("RECORDING_STREAMS_MAX", default=8)
RECORDING_STREAMS_PER_USER = env.int("RECORDING_STREAMS_PER_USER", default=4)
RECORDING_STREAM_DEADLINE = env.float("RECORDING_STREAM_DEADLINE", default=600.0)
RECORDING_MIN_BYTES_PER_SECOND = env.int("RECORDING_MIN_BYTES_PER_SECOND", default=2048)
RECORDING_THROUGHPUT_WINDOW = env.float("RECORDING_THROUGHPUT_WINDOW", default=10.0)
# Download recordings (ZIP) of a list (calls/services/recording_bundle.py): at most this many
# calls in one ZIP. Whether Viewers may play and download recordings (Reviewers and Admins
# always may): audio cannot be masked (README, "Personal data"). VIEWERS_MAY_DOWNLOAD_RECORDINGS
# is its former name, still read when the new one is not set.
RECORDINGS_ZIP_MAX_CALLS = env.int("RECORDINGS_ZIP_MAX_CALLS", default=500)
VIEWERS_MAY_PLAY_RECORDINGS = env.bool(
    "VIEWERS_MAY_PLAY_RECORDINGS",
    default=env.bool("VIEWERS_MAY_DOWNLOAD_RECORDINGS", default=True),
)

# A person's access to one call (its page, fragments, audio) is one audit row per this many
# seconds, however many requests it took (calls/services/audit.py).
AUDIT_DEDUPE_SECONDS = env.int("AUDIT_DEDUPE_SECONDS", default=300)

# Review queues (calls/services/review_queue.py): a call a supervisor opened from a queue is
# theirs for this many seconds (or until their verdict), so a teammate on the same queue gets
# another; a queue's call ids, read once when it starts, are kept this long for its steps.
REVIEW_CLAIM_SECONDS = env.int("REVIEW_CLAIM_SECONDS", default=300)
REVIEW_QUEUE_SECONDS = env.int("REVIEW_QUEUE_SECONDS", default=3600)

# Content-Security-Policy: no inline script or style, no eval, no framing (frame-ancestors). A
# page that reads `request.csp_nonce` (base.html's script tags) gets that request's nonce in
# script-src.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Truedy -------------------------------------------------------------------------------
# With no key the dashboard talks to the embedded simulator (calls/simulator) in-process.
TRUEDY_API_KEY = env.str("TRUEDY_API_KEY", default="")
TRUEDY_API_BASE_URL = (
    env.str("TRUEDY_API_BASE_URL", default="") or "https://api.truedy.ai/api/public/v1"
)
# The hosts recording links may point at (https only): names, ".example.com" for any subdomain,
# ":port" for a port other than 443. Empty: Truedy's own domain (that of TRUEDY_API_BASE_URL,
# e.g. ".truedy.ai"). The API's own origin is always allowed; a storage host must resolve to
# public addresses (calls/truedy/media_guard.py).
TRUEDY_RECORDING_HOSTS = env.list("TRUEDY_RECORDING_HOSTS", default=[])
TRUEDY_CONNECT_TIMEOUT = env.float("TRUEDY_CONNECT_TIMEOUT", default=2.0)
TRUEDY_READ_TIMEOUT = env.float("TRUEDY_READ_TIMEOUT", default=8.0)
TRUEDY_MAX_ATTEMPTS = env.int("TRUEDY_MAX_ATTEMPTS", default=3)
TRUEDY_MAX_RETRY_WAIT = env.float("TRUEDY_MAX_RETRY_WAIT", default=5.0)
TRUEDY_SIMULATOR_CALLS = env.int("TRUEDY_SIMULATOR_CALLS", default=2000)
TRUEDY_SIMULATOR_SEED = env.int("TRUEDY_SIMULATOR_SEED", default=42)
TRUEDY_SIMULATOR_LATENCY_MS = env.int("TRUEDY_SIMULATOR_LATENCY_MS", default=0)
# The signing secret of the webhook endpoint (`whsec_…`), from Truedy's dashboard. While
# rotating, give the old and the new one separated by a comma: either signs. Empty: every
# delivery to /webhooks/truedy is refused with 401 (calls/truedy/webhooks.py says why not 503).
TRUEDY_WEBHOOK_SECRET = env.str("TRUEDY_WEBHOOK_SECRET", default="")

# Cache lifetimes, in seconds. A call whose transcript is final is kept long; a live call or
# one still being transcribed very briefly, so a page that polls it sees the change.
CACHE_TTL_CALL_LIST = env.int("CACHE_TTL_CALL_LIST", default=30)
CACHE_TTL_CALL_FINAL = env.int("CACHE_TTL_CALL_FINAL", default=600)
CACHE_TTL_CALL_PENDING = env.int("CACHE_TTL_CALL_PENDING", default=5)
CACHE_TTL_AGENTS = env.int("CACHE_TTL_AGENTS", default=300)
# How long after a call ends a missing transcript counts as "being processed" (Truedy takes
# seconds); after that the call is shown as having no transcript and polling stops.
TRANSCRIPT_PROCESSING_WINDOW = env.int("TRANSCRIPT_PROCESSING_WINDOW", default=600)
# A silence between turns at least this long (seconds) is marked as dead air on the call page.
DEAD_AIR_SECONDS = env.float("DEAD_AIR_SECONDS", default=3.0)
# A decisive AI outcome (interested, booked, …) is flagged as suspicious when the contact said
# fewer words than this, or the call lasted fewer seconds (calls/services/suspicious.py).
SUSPICIOUS_MIN_CONTACT_WORDS = env.int("SUSPICIOUS_MIN_CONTACT_WORDS", default=5)
SUSPICIOUS_MIN_SECONDS = env.int("SUSPICIOUS_MIN_SECONDS", default=15)

# --- Resilience -----------------------------------------------------------------------------
# One page may spend at most this many seconds on Truedy, retries and waits included.
TRUEDY_PAGE_DEADLINE = env.float("TRUEDY_PAGE_DEADLINE", default=10.0)
# How long after its fresh lifetime a cached answer may still be shown when Truedy fails.
CACHE_STALE_WINDOW = env.int("CACHE_STALE_WINDOW", default=86400)
# Circuit breaker: after this many consecutive failures no request goes to Truedy for
# TRUEDY_BREAKER_RESET seconds; then one probe decides.
TRUEDY_BREAKER_FAILURES = env.int("TRUEDY_BREAKER_FAILURES", default=5)
TRUEDY_BREAKER_RESET = env.int("TRUEDY_BREAKER_RESET", default=30)

# --- Background work (Celery; calls/background/) ------------------------------------------
# The broker: Redis in production (CELERY_BROKER_URL, else REDIS_URL); with neither, a folder
# on disk (`make run`: no service to install; one machine only).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or _REDIS_URL or "filesystem://"
_BROKER_FOLDER = Path(env.str("CELERY_BROKER_FOLDER", default="") or BASE_DIR / "var" / "broker")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "control"):
        (_BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_BROKER_FOLDER / "queue"),
        "data_folder_out": str(_BROKER_FOLDER / "queue"),
        "control_folder": str(_BROKER_FOLDER / "control"),
    }
else:
    # A message a worker took and never acknowledged (it was killed) goes back on the queue
    # after this many seconds: longer than any task may run (CELERY_TASK_TIME_LIMIT).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING below (its filters redact secrets), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Acknowledged once done, not once taken: a task whose worker dies is run again (tasks are
# idempotent), and a worker takes one message at a time so none waits behind a slow one.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=240)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Results are not kept, failures are (with their arguments, so a person can run them again).
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_STORE_ERRORS_EVEN_IF_IGNORED = True
CELERY_RESULT_EXPIRES = timedelta(days=30)
# Tests run tasks where they are enqueued (tests of workers start real ones).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_STORE_EAGER_RESULT = CELERY_TASK_ALWAYS_EAGER
# The scheduler: with Redis, RedBeat, whose lock lets one beat in the whole deployment send
# (start one per instance if you like: the others wait, and take over within the lock's
# timeout if it dies); else Celery's own, with its state in a file.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
    CELERY_REDBEAT_KEY_PREFIX = env.str("CELERY_REDBEAT_KEY_PREFIX", default="redbeat")
    CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=30)
else:
    CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
CELERY_BEAT_MAX_LOOP_INTERVAL = 5
# Seconds between incremental syncs (new and changed calls since the cursor), and the most
# Truedy requests one run may spend (list pages and call details): 8 every 15 s is at most
# 32 a minute, a third of Truedy's 100, the rest left to people's pages.
ARCHIVE_SYNC_INTERVAL = env.float("ARCHIVE_SYNC_INTERVAL", default=15.0)
ARCHIVE_SYNC_REQUESTS_PER_RUN = env.int("ARCHIVE_SYNC_REQUESTS_PER_RUN", default=8)
# The archive is "current" while its last completed sync covers Truedy up to this many
# seconds ago (the freshness bound; /healthz and the staff page say when it is not).
ARCHIVE_FRESHNESS_BOUND = env.int("ARCHIVE_FRESHNESS_BOUND", default=60)
# The scheduler sends a heartbeat through the queue this often; a worker that has not run one
# for WORKER_STALE_AFTER seconds is reported stale (dead, stuck, or no scheduler).
WORKER_HEARTBEAT_INTERVAL = env.float("WORKER_HEARTBEAT_INTERVAL", default=15.0)
WORKER_STALE_AFTER = env.int("WORKER_STALE_AFTER", default=60)
CELERY_BEAT_SCHEDULE = {
    # Each expires when its next one is due: a scheduler that ran while no worker did leaves
    # no pile of stale ticks.
    "sync-archive": {
        "task": "calls.background.tasks.sync_archive",
        "schedule": ARCHIVE_SYNC_INTERVAL,
        "options": {"expires": ARCHIVE_SYNC_INTERVAL},
    },
    "requeue-webhook-events": {
        "task": "calls.background.tasks.requeue_webhook_events",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Automatic scorecard scores the archive lacks (a new scorecard version, a lost message).
    "score-archive": {
        "task": "calls.background.scoring.score_archive",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "heartbeat": {
        "task": "calls.background.tasks.heartbeat",
        "schedule": WORKER_HEARTBEAT_INTERVAL,
        "options": {"expires": WORKER_HEARTBEAT_INTERVAL},
    },
}

# One JSON object per line for log shippers (the default with DEBUG off), or text to read.
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "calls.logs.JsonFormatter"},
        "django.server": {  # runserver's access log, as Django formats it
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # Every record written passes this first: URLs lose their query strings (signed recording
    # links), the API key becomes "[redacted]", whatever a logger's level is set to.
    "filters": {
        "redact_secrets": {"()": "calls.logs.RedactSecretsFilter"},
        # The id of the request being served (X-Request-ID), on every record.
        "request_id": {"()": "calls.logs.RequestIdFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if LOG_FORMAT == "text" else "json",
            "filters": ["redact_secrets", "request_id"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets", "request_id"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_secrets", "request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # httpx logs every request URL at INFO; signed recording URLs are secrets.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; its lockouts and failures are WARNING.
        "axes": {"level": "WARNING"},
        # Django's defaults give these loggers unfiltered handlers of their own: "django" logs
        # to the root's filtered console instead (500s still mail ADMINS), runserver's access
        # log keeps its format, both filtered.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
# Error reports (the DEBUG 500 page, mail_admins) never show the API key or a signed link.
DEFAULT_EXCEPTION_REPORTER_FILTER = "calls.logs.SecretScrubbingReporterFilter"

# --- Personal data (issue 21) ---
# Roles that see personal data masked (calls/services/personal_data.py): a Viewer always does;
# add "Reviewer" or "Admin" to mask it for them too. A reveal lasts this many minutes.
PERSONAL_DATA_MASKED_FOR = env.list("PERSONAL_DATA_MASKED_FOR", default=["Viewer"])
PERSONAL_DATA_REVEAL_MINUTES = env.int("PERSONAL_DATA_REVEAL_MINUTES", default=15)

# --- Agents and alerts (issue 20) ---
# Alerts (calls/background/alerts.py): every rule is checked this often, on the archive only.
ALERT_CHECK_INTERVAL = env.float("ALERT_CHECK_INTERVAL", default=60.0)
# Signs each alert webhook (HMAC-SHA256) when its rule has no secret of its own.
ALERT_WEBHOOK_SECRET = env.str("ALERT_WEBHOOK_SECRET", default="")
ALERT_WEBHOOK_TIMEOUT = env.float("ALERT_WEBHOOK_TIMEOUT", default=10.0)
# The dashboard's address, for the links alert e-mails and webhooks carry (empty: paths only).
DASHBOARD_URL = env.str("DASHBOARD_URL", default="")
# Alert e-mails go through Django's mail settings; by default they are printed (console).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alerts@localhost")
CELERY_BEAT_SCHEDULE["check-alerts"] = {
    "task": "calls.background.alerts.check_alerts",
    "schedule": ALERT_CHECK_INTERVAL,
    "options": {"expires": ALERT_CHECK_INTERVAL},
}

# --- Archive-served lists and the Truedy budget (issue 19) ---
# One Truedy request budget for every process (in the cache: Redis shares it between instances),
# paced evenly: Truedy's allowance, TRUEDY_REQUESTS_PER_MINUTE (0: off), which it counts in fixed
# windows of TRUEDY_BUDGET_WINDOW s (learned from a 429's reset time); the budget spreads what is
# left of a window over its rest, keeping 2 % unused, at most TRUEDY_BUDGET_BURST at once after a
# quiet spell (TRUEDY_BUDGET_WINDOW=0: a steady TRUEDY_REQUESTS_PER_MINUTE, set under Truedy's).
# Background work (sync, refresh tasks, exports, ZIPs) leaves the last TRUEDY_BUDGET_RESERVE tokens
# to people's pages. A page waits at most TRUEDY_BUDGET_PAGE_WAIT s for tokens (less when it has
# a cached copy to show: calls/upstream/cache.py), background work TRUEDY_BUDGET_BACKGROUND_WAIT s.
TRUEDY_REQUESTS_PER_MINUTE = env.int("TRUEDY_REQUESTS_PER_MINUTE", default=100)
TRUEDY_BUDGET_WINDOW = env.float("TRUEDY_BUDGET_WINDOW", default=60.0)
TRUEDY_BUDGET_BURST = env.int("TRUEDY_BUDGET_BURST", default=10)
TRUEDY_BUDGET_RESERVE = env.int("TRUEDY_BUDGET_RESERVE", default=5)
TRUEDY_BUDGET_PAGE_WAIT = env.float("TRUEDY_BUDGET_PAGE_WAIT", default=0.1)
TRUEDY_BUDGET_BACKGROUND_WAIT = env.float("TRUEDY_BUDGET_BACKGROUND_WAIT", default=10.0)
# A call counts as settled (calls/truedy/lifecycle.py) only this many seconds after it ended;
# a settled call in the archive is then served from it with no Truedy request.
SETTLED_GRACE_SECONDS = env.int("SETTLED_GRACE_SECONDS", default=120)
