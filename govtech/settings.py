"""Settings for govtech, read from the environment and nowhere else.

This is the one module that reads environment variables (STYLE.md rule 7). Every
variable is listed with its meaning in `.env.example`.

`GOVTECH_ENV` selects the deployment kind:

- ``local`` (default): the embedded default. SQLite under ``var/``, a file-based cache,
  Celery on kombu's filesystem transport, the LINE simulator on. Needs no server.
- ``test``: like local, but fast password hashing and an in-memory cache; pytest sets it
  through ``govtech.test_settings``.
- ``production``: PostgreSQL, Redis, no simulator. Refuses to start without the secrets.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GOVTECH_VAR_DIR", BASE_DIR / "var"))

ENV = os.environ.get("GOVTECH_ENV", "local")
if ENV not in {"local", "test", "production"}:
    raise ImproperlyConfigured(f"GOVTECH_ENV must be local, test or production, not {ENV!r}.")
PRODUCTION = ENV == "production"


def _require(name: str) -> str:
    """A production secret: missing means the process must not start."""
    value = os.environ.get(name, "").strip()
    if PRODUCTION and not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Production refuses to start without it; see .env.example."
        )
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- core -----------------------------------------------------------------

# Development keys are fixed so `make demo` works from a fresh clone; production
# replaces them (checked by _require above).
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-govtech-do-not-use-in-production-0123456789"  # noqa: S105
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWdvdnRlY2gtMDEyMzQ="

SECRET_KEY = _require("SECRET_KEY") or _DEV_SECRET_KEY
DEBUG = _bool("DEBUG", default=ENV == "local")
ALLOWED_HOSTS = (
    _list("ALLOWED_HOSTS")
    if PRODUCTION
    else _list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Production refuses to start without it; see .env.example."
    )
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")

# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = (
    _list("FIELD_ENCRYPTION_KEY") if PRODUCTION else _list("FIELD_ENCRYPTION_KEY", _DEV_FIELD_KEY)
)
if PRODUCTION:
    _require("FIELD_ENCRYPTION_KEY")

# Public base URL of this installation (webhook URLs shown to admins, links in messages).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "govtech",
    "procedures",
    "delivery",
    "reports",
]  # and delivery.simulator where SIMULATOR_ENABLED (see LINE below)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "govtech.middleware.TenantScopeMiddleware",
    "govtech.middleware.RequireMFAMiddleware",
]

if ENV != "test":
    # gunicorn serves the demo and production; whitenoise serves their static files (in
    # the demo straight from the apps' folders, no collectstatic). Tests use the test
    # servers' own static handling.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    WHITENOISE_USE_FINDERS = not PRODUCTION
    WHITENOISE_AUTOREFRESH = DEBUG and not PRODUCTION

ROOT_URLCONF = "govtech.urls"
WSGI_APPLICATION = "govtech.wsgi.application"
ASGI_APPLICATION = "govtech.asgi.application"
AUTH_USER_MODEL = "govtech.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- database and cache ---------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if PRODUCTION and not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production.")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    # The embedded default: web threads, worker and beat processes share one file.
    # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock when
    # a transaction begins, so a transaction waits its turn (the busy timeout) instead
    # of failing halfway when it first writes; synchronous=NORMAL is WAL's durable-enough
    # mode (a power cut may lose the last commits, never the file). docs/decisions/0011.
    # A fresh clone has no var/ yet: SQLite creates the file, not its folder.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "govtech.sqlite3",
            "OPTIONS": {
                "timeout": 60,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set. Production uses Redis as broker and cache.")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
elif ENV == "test":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Shared by web, worker and beat processes on one machine (rate limits, heartbeats).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

# --- auth, sessions, allauth ----------------------------------------------

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"  # staff accounts are created by admins, not by signup
ACCOUNT_ADAPTER = "govtech.auth.StaffAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_RATE_LIMITS = {
    # Per IP and per account: brute force against one account stops after 5 tries.
    "login_failed": os.environ.get("LOGIN_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
}
# How many proxies in front of gunicorn append to X-Forwarded-For (the README's nginx: 1).
# 0 trusts no header: behind a proxy every client then shares the proxy's address, and ten
# bad logins a minute from anyone would lock every staff member out. The rate limits and
# the audit log both use the address this yields.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Passkeys / security keys (WebAuthn) beside authenticator apps; a passkey with user
# verification is both factors at once, so it can sign in on its own.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_RECOVERY_CODES_SHOW_ONCE = True
# WebAuthn needs a secure origin; the demo and tests are served over plain http on loopback.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_FORMS = {"activate_totp": "govtech.auth.StableSecretActivateTOTPForm"}
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "govtech")

SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: idle timeout
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- i18n -------------------------------------------------------------------

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "govtech" / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- maps (locations residents send, on the submission page) ----------------------------

# Tile server template for the console's maps (Leaflet, served from static/vendor/). An
# empty value draws no map: on LGWAN without an internal tile server the page shows the
# address and coordinates as text only.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get(
    "MAP_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
)
MAP_TILE_MAX_ZOOM = int(os.environ.get("MAP_TILE_MAX_ZOOM", "19"))
# Where 「地図で見る」 leads for one point ({lat}, {lon}); shown only when tiles are set too.
# Empty: no link.
MAP_LINK_URL = os.environ.get(
    "MAP_LINK_URL", "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
)

# --- public report page and Open311 (reports.public, reports.open311) -------------------

# Calls per minute one Open311 caller may make (per API key, else per address).
OPEN311_REQUESTS_PER_MINUTE = int(os.environ.get("OPEN311_REQUESTS_PER_MINUTE", "120"))
# Public pages without login (report map, survey results, signed photo links, web forms):
# requests per caller and minute (govtech.ratelimit; the caller as TRUSTED_PROXY_COUNT
# resolves it, like the login limits).
PUBLIC_REQUESTS_PER_MINUTE = int(os.environ.get("PUBLIC_REQUESTS_PER_MINUTE", "300"))
# Who may frame the embeddable public report page (/r/<slug>/reports/embed/): a CSP
# frame-ancestors source list, e.g. "https://www.city.example.lg.jp". Only that page.
REPORTS_EMBED_FRAME_ANCESTORS = os.environ.get("REPORTS_EMBED_FRAME_ANCESTORS", "*")

# --- Content-Security-Policy (every response; django-csp) ---------------------------

# No inline or foreign script anywhere: every script is a static file of this site
# (vendored, never a CDN). Styles may be inline (the admin's own widgets set style
# attributes); images may come from any https site (LINE message previews show the
# images a broadcast points at) and the map tiles' server; nothing may frame a page but
# the public report map's embed (reports.public.views replaces frame-ancestors there).
_TILE_ORIGIN = "/".join(MAP_TILE_URL.split("/")[:3]) if "://" in MAP_TILE_URL else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:", *filter(None, [_TILE_ORIGIN])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- security (production) --------------------------------------------------

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    # check --deploy wants preload; it is an opt-in with real consequences (see docs).
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- REST framework ---------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "anon": "120/min",
        "user": "600/min",
        # Per back-office API token (reports.backoffice.throttling).
        "backoffice": os.environ.get("BACKOFFICE_API_RATE", "600/min"),
    },
}
# The longest a back-office API token may be valid, in days.
BACKOFFICE_TOKEN_MAX_DAYS = int(os.environ.get("BACKOFFICE_TOKEN_MAX_DAYS", "366"))
SPECTACULAR_SETTINGS = {
    "TITLE": "govtech API",
    "DESCRIPTION": "Procedures, templates, reservations and reports for municipalities.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name per choice set shared by several fields (the back-office API's filters).
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "procedures.models.SubmissionStatus",
        "BookingStatusEnum": "procedures.reservations.models.BookingStatus",
    },
}

# --- Celery -------------------------------------------------------------------

CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "delivery.tasks.store_webhook_inbox": {"queue": "inbox"},
    "delivery.tasks.process_*": {"queue": "engine"},
    "delivery.tasks.broadcast_*": {"queue": "broadcast"},
    "delivery.tasks.richmenu_*": {"queue": "broadcast"},
}
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Keep a worker's database connection across tasks (Celery's Django fix-up otherwise
# opens a new PostgreSQL backend for every task; see docs/decisions/0008-broadcasts.md).
CELERY_DB_REUSE_MAX = 200
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
elif ENV == "test":
    # Tests that need a real broker set REDIS_URL (make test does); others run eagerly
    # or only check what was published.
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "govtech.broker:Transport"  # kombu's, with whole messages
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A worker looks at the queue folder this often while it has nothing to take (and
        # while its processes are all busy): kombu's default, 1 s, made every task wait
        # up to a second after the last one ended. docs/decisions/0011.
        "polling_interval": float(os.environ.get("CELERY_BROKER_POLLING_INTERVAL", "0.05")),
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "govtech.tasks.worker_heartbeat", "schedule": 30.0},
    "line-resend-pending": {"task": "delivery.tasks.send_pending_outbound", "schedule": 60.0},
    "line-process-stale": {"task": "delivery.tasks.process_stale_events", "schedule": 60.0},
    "notices-resend-stale": {
        "task": "procedures.residents.send_stale_notices",
        "schedule": 60.0,
    },
    "reservation-reminders": {
        "task": "procedures.reservations.plan_reminders",
        "schedule": 60.0,
    },
    "reservation-offers-expire": {
        "task": "procedures.reservations.expire_offers",
        "schedule": 60.0,
    },
    "broadcast-dispatch": {"task": "delivery.tasks.broadcast_dispatch", "schedule": 10.0},
    "correction-reminders": {
        "task": "procedures.casework.remind_corrections",
        "schedule": 3600.0,
    },
    "scheduled-exports": {"task": "reports.run_scheduled_exports", "schedule": 300.0},
    "exports-purge-expired": {"task": "reports.purge_expired_exports", "schedule": 3600.0},
    "exports-recover-stalled": {"task": "reports.recover_stalled_exports", "schedule": 300.0},
    # Nightly in Tokyo (CELERY_TIMEZONE): the dashboards' aggregates of the last days.
    "dashboard-aggregates": {
        "task": "reports.compute_daily_aggregates",
        "schedule": crontab(hour=2, minute=30),
    },
}
# How old the last worker heartbeat may be before /healthz calls the worker stale.
CELERY_HEARTBEAT_MAX_AGE = timedelta(seconds=int(os.environ.get("CELERY_HEARTBEAT_MAX_AGE", "90")))

# --- LINE -----------------------------------------------------------------------

# The simulator emulates LINE locally; it never exists in production.
SIMULATOR_ENABLED = not PRODUCTION and _bool("SIMULATOR_ENABLED", default=True)
if SIMULATOR_ENABLED:
    # An app of its own: where it is not installed its tables are never created
    # (docs/decisions/0012). Production code reaches it through delivery.simulator_adapter.
    INSTALLED_APPS.append("delivery.simulator")
LINE_API_BASE_URL = os.environ.get(
    "LINE_API_BASE_URL", "https://api.line.me" if PRODUCTION else f"{SITE_URL}/simulator/api/line"
).rstrip("/")
# The content API (images residents send) lives on a second host at LINE.
LINE_API_DATA_BASE_URL = os.environ.get(
    "LINE_API_DATA_BASE_URL", "https://api-data.line.me" if PRODUCTION else LINE_API_BASE_URL
).rstrip("/")

# Where the webhook keeps what it acknowledged: "redis" appends the verified body to a
# Redis list and a task stores it in batches (fast; production); "database" stores the
# events before answering (the embedded default, no Redis). docs/decisions/0006.
LINE_WEBHOOK_INBOX = os.environ.get("LINE_WEBHOOK_INBOX", "redis" if REDIS_URL else "database")
if LINE_WEBHOOK_INBOX not in {"redis", "database"}:
    raise ImproperlyConfigured("LINE_WEBHOOK_INBOX is either 'redis' or 'database'.")
if LINE_WEBHOOK_INBOX == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("LINE_WEBHOOK_INBOX=redis needs REDIS_URL.")

# --- logging --------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
