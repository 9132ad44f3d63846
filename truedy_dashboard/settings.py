"""Settings for the Truedy Calls Dashboard.

Every value comes from the environment (or a `.env` file beside manage.py), read once here.
Every variable is listed with a safe default in `.env.example`.
"""

from pathlib import Path

import environ
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
    "calls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "calls.middleware.StaffRequiredMiddleware",
    "calls.middleware.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request URL at INFO; signed recording URLs are secrets (S14).
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
