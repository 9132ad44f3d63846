"""Settings for the Truedy Calls Dashboard.

Every value comes from the environment (or a `.env` file beside manage.py), read once here.
Every variable is listed with a safe default in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "calls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "calls.middleware.StaffRequiredMiddleware",
    "calls.middleware.ViewerTimezoneMiddleware",
    "calls.middleware.UpstreamBudgetMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page (S5).
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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}

_REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {"default": env.cache("CACHE_URL", default=_REDIS_URL or "locmemcache://")}

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
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Security (S1, S4, S5, S9, S10) -----------------------------------------------------------
# HTTPS-only settings default to on with DEBUG off (production) and off with DEBUG on (`make run`
# and the tests serve plain http on 127.0.0.1). An empty variable means that default.


def _on_unless_debug(value: str) -> bool:
    return env.parse_value(value, bool) if value else not DEBUG


SESSION_COOKIE_SECURE = _on_unless_debug(env.str("SESSION_COOKIE_SECURE", default=""))
CSRF_COOKIE_SECURE = _on_unless_debug(env.str("CSRF_COOKIE_SECURE", default=""))
SECURE_SSL_REDIRECT = _on_unless_debug(env.str("SECURE_SSL_REDIRECT", default=""))
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
# could not be revoked). One shift long; login rotates the key and the CSRF token (S4).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: htmx sends the token from `hx-headers` on <body> (S11).
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Brute force (S5): after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is refused (429, registration/locked_out.html) until AXES_COOLOFF_MINUTES pass with
# no further attempt. A cool-off, not a permanent lock: anyone could otherwise lock staff out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Content-Security-Policy (S9, S10): no inline script or style, no eval. A page that reads
# `request.csp_nonce` (base.html's script tags) gets that request's nonce in script-src.
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
TRUEDY_CONNECT_TIMEOUT = env.float("TRUEDY_CONNECT_TIMEOUT", default=2.0)
TRUEDY_READ_TIMEOUT = env.float("TRUEDY_READ_TIMEOUT", default=8.0)
TRUEDY_MAX_ATTEMPTS = env.int("TRUEDY_MAX_ATTEMPTS", default=3)
TRUEDY_MAX_RETRY_WAIT = env.float("TRUEDY_MAX_RETRY_WAIT", default=5.0)
TRUEDY_SIMULATOR_CALLS = env.int("TRUEDY_SIMULATOR_CALLS", default=2000)
TRUEDY_SIMULATOR_SEED = env.int("TRUEDY_SIMULATOR_SEED", default=42)
TRUEDY_SIMULATOR_LATENCY_MS = env.int("TRUEDY_SIMULATOR_LATENCY_MS", default=0)

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

# --- Resilience (R2-R6) ---------------------------------------------------------------------
# One page may spend at most this many seconds on Truedy, retries and waits included (R2).
TRUEDY_PAGE_DEADLINE = env.float("TRUEDY_PAGE_DEADLINE", default=10.0)
# How long after its fresh lifetime a cached answer may still be shown when Truedy fails (R5).
CACHE_STALE_WINDOW = env.int("CACHE_STALE_WINDOW", default=86400)
# Circuit breaker (R4): after this many consecutive failures no request goes to Truedy for
# TRUEDY_BREAKER_RESET seconds; then one probe decides.
TRUEDY_BREAKER_FAILURES = env.int("TRUEDY_BREAKER_FAILURES", default=5)
TRUEDY_BREAKER_RESET = env.int("TRUEDY_BREAKER_RESET", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {  # runserver's access log, as Django formats it
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # Every record written passes this first: URLs lose their query strings (signed recording
    # links), the API key becomes "[redacted]" (S6, S14), whatever a logger's level is set to.
    "filters": {
        "redact_secrets": {"()": "calls.log_filters.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # httpx logs every request URL at INFO; signed recording URLs are secrets (S14).
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
# Error reports (the DEBUG 500 page, mail_admins) never show the API key or a signed link (S2).
DEFAULT_EXCEPTION_REPORTER_FILTER = "calls.log_filters.SecretScrubbingReporterFilter"
