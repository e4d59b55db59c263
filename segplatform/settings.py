"""Segplatform settings: everything comes from the environment.

With nothing set, the platform runs on one machine with no servers: SQLite and Celery's
filesystem broker under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, local_secret, redis_database_after


def _plotly_package_data() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ImproperlyConfigured("the plotly package is missing: pip install -r requirements.txt")
    return Path(spec.origin).parent / "package_data"


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var").resolve()
# Test processes run side by side (pytest-xdist names them gw0, gw1, ...) must not share files or a
# broker database, any more than two machines would; pytest-django already gives each its database.
TEST_PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "")
if TEST_PROCESS:
    VAR_DIR = VAR_DIR / TEST_PROCESS

DEBUG = env_bool("DEBUG", False)
# numba (behind UMAP) compiles its kernels on first use: cache them so only the first run pays.
os.environ.setdefault("NUMBA_CACHE_DIR", str(VAR_DIR / "numba"))
SECRET_KEY = local_secret("SECRET_KEY", VAR_DIR / "secret_key")
DATA_ENCRYPTION_KEY = local_secret(
    "DATA_ENCRYPTION_KEY",
    VAR_DIR / "data_encryption_key",
    make=lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
)
# The audit chain's HMAC key: its own, so that knowing SECRET_KEY does not let anyone forge events.
AUDIT_CHAIN_KEY = local_secret("AUDIT_CHAIN_KEY", VAR_DIR / "audit_chain_key")
# Checkpoints of the chain's head, kept outside the database (point it at storage the database's
# administrators cannot write: another volume, a mounted bucket).
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR") or VAR_DIR / "audit-checkpoints")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First: its createsuperuser (validators always applied) replaces django.contrib.auth's.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Kept only for the migration that moved its clear-text tokens into accounts.ApiToken.
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "projects",
    "governance",
    "reports",
    "runs",
    "monitoring",
    "experiments",
    "django_celery_beat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "segplatform.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "segplatform.urls"
WSGI_APPLICATION = "segplatform.wsgi.application"
ASGI_APPLICATION = "segplatform.asgi.application"

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
                "monitoring.context.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'segplatform.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker is a separate process: tests need the test database in a file it can open,
    # and a busy timeout lets both processes write without "database is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Twelve characters: a short passphrase, out of reach of offline guessing of a leaked hash.
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One backend for every way in, so the sign-in lockout cannot be skipped (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "segplatform.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
# What an upload may become once inflated and read (see segmentation.data.limits for the defaults).
MAX_UPLOAD_INFLATED_BYTES = env_int("MAX_UPLOAD_INFLATED_BYTES", 512 * 1024 * 1024)
MAX_UPLOAD_ROWS = env_int("MAX_UPLOAD_ROWS", 10_000_000)
MAX_UPLOAD_COLUMNS = env_int("MAX_UPLOAD_COLUMNS", 16_384)
MAX_UPLOAD_CELLS = env_int("MAX_UPLOAD_CELLS", 100_000_000)
# Uploads up to this size are read in the request; larger ones are screened there and read on a
# worker (runs/datasets.py), so the web stays responsive while pandas reads them.
DATASET_INLINE_CHECK_BYTES = env_int("DATASET_INLINE_CHECK_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploads never spool to a temporary file in clear (see segplatform/uploads.py); the private
# temporary directory below is for anything else that needs one.
FILE_UPLOAD_HANDLERS = ["segplatform.uploads.InMemoryUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
FILE_UPLOAD_PERMISSIONS = 0o600

# Celery: Redis when REDIS_URL is set, otherwise a filesystem broker under var/ that still
# needs a real worker process (never eager mode).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and TEST_PROCESS:
    REDIS_URL = redis_database_after(REDIS_URL, 1 + int(TEST_PROCESS.removeprefix("gw")))
# A broker that is down must fail a send fast (one retry, about a second), not hang a request:
# the run then waits in the outbox for runs_dispatch. Transports ignore the options they lack.
_BROKER_FAIL_FAST: dict[str, object] = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
    "socket_connect_timeout": 2,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = dict(_BROKER_FAIL_FAST)
else:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **_BROKER_FAIL_FAST,
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu writes its broadcast exchange files into the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
# Mail (monitoring alerts). With no EMAIL_HOST, mails are written as files under var/mail: the
# single-machine platform sends nothing anywhere.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "segplatform@localhost"
# A lineage's alerts on one channel are sent at most once in this many seconds, unless the level rises.
ALERT_MIN_INTERVAL_SECONDS = env_int("ALERT_MIN_INTERVAL_SECONDS", 6 * 3600)
WEBHOOK_TIMEOUT_SECONDS = 5

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The queue this process sends to and, as a worker started without -Q, consumes: deployments
# sharing one broker (or test runs) keep their jobs apart by naming their own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE") or "celery"
# Work by kind, so a deployment can give the CPU-bound steps (clustering a run, monitoring a
# refresh) their own machines and keep the short I/O-bound ones (dispatching, reaping, profiling
# an upload, purges, checkpoints) responsive beside them: a worker started with ``-Q <queue>``
# consumes one kind. Unset, a kind has no route: it goes to the default queue (whatever the
# process names it) and one worker does everything.
CELERY_CPU_QUEUE = env_str("CELERY_CPU_QUEUE")
CELERY_IO_QUEUE = env_str("CELERY_IO_QUEUE")
CPU_TASKS = ("runs.run_segmentation", "monitoring.execute_refresh", "monitoring.refresh_lineage")
IO_TASKS = (
    "runs.dispatch",
    "runs.reap",
    "datasets.inspect",
    "monitoring.tend_refreshes",
    "governance.retention_purge",
    "audit.checkpoint",
)
CELERY_TASK_ROUTES = {
    **({name: {"queue": CELERY_CPU_QUEUE} for name in CPU_TASKS} if CELERY_CPU_QUEUE else {}),
    **({name: {"queue": CELERY_IO_QUEUE} for name in IO_TASKS} if CELERY_IO_QUEUE else {}),
}
# A running run whose worker has not written its heartbeat for this long is failed by the reaper.
# The worker beats every quarter of it, so a busy step does not look like a dead worker.
RUN_HEARTBEAT_TIMEOUT = env_int("RUN_HEARTBEAT_TIMEOUT", 120)
# How many times the reaper puts a run whose worker was lost back in the queue before failing it.
RUN_LOST_RETRIES = env_int("RUN_LOST_RETRIES", 1)
# Used by `celery beat`: personal data past its retention period is purged daily; runs whose
# enqueue failed while the broker was down are sent, and runs whose worker died are failed,
# every minute.
# Schedules live in the database (django-celery-beat), so a lineage's refresh schedule is edited in
# the portal; the fixed entries below are written there by beat when it starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "retention-purge": {"task": "governance.retention_purge", "schedule": 24 * 60 * 60},
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": 60 * 60},
    "runs-dispatch": {"task": "runs.dispatch", "schedule": 60},
    "runs-reap": {"task": "runs.reap", "schedule": 60},
    "refreshes-tend": {"task": "monitoring.tend_refreshes", "schedule": 60},
}

REST_FRAMEWORK = {
    # Token first: an API client without credentials is told 401 with how to authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens stored as digests only (accounts.ApiToken); same `Authorization: Token <key>` header.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Segplatform API",
    "DESCRIPTION": (
        "Clients, projects, datasets, segmentation runs, segment versions, deliverables, the audit "
        "trail and scoring. Authenticate with `Authorization: Token <key>`. A project you are not a "
        "member of does not exist for you (404). Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the platform itself (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
SCORING_BATCH_LIMIT = env_int("SCORING_BATCH_LIMIT", 10_000)

# Login lockout: this many failures for one username from one address within the window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; "
    # Plotly and Swagger UI set style attributes at run time; scripts stay strictly same-origin.
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Production (DEBUG off) is served over HTTPS only. `make run` speaks plain http on localhost and
# sets HTTPS=0 (scripts/run.sh); the tests turn the redirect and HSTS off in tests/conftest.py.
# Each setting can still be set on its own.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# A year, for every subdomain, and eligible for the browsers' preload lists: once a browser has
# seen the header it never tries plain http again, so a downgrade on a hostile network fails.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a proxy that ends TLS, name the header it sets (e.g. X-Forwarded-Proto) so a request that
# came over https is not redirected again. Only set it when the proxy always overwrites the header.
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.strip().upper().replace("-", "_"), "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    # WeasyPrint and fontTools narrate every page at INFO: noise on a command line or in a worker log.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

if DEBUG is False and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name at least one host when DEBUG is off")

# plotly.js comes from the pinned plotly package itself (plotly==7.1.0), served as a static file:
# never from a CDN, and no 4.8 MB copy in the repository.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", _plotly_package_data())]
# Serve straight from the source folders too, so a fresh clone needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
