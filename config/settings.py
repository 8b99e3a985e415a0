"""Shouhou settings: one module, read from the environment.

Laptop defaults need no server (SQLite file, a filesystem Celery broker); with DEBUG off the
strict production settings apply (secure cookies, HSTS, SSL redirect, a real SECRET_KEY).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_EVAL, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from config.env import env, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("SHOUHOU_VAR_DIR", str(BASE_DIR / "var")))
# The SQLite file, the uploads and the file broker live here: a fresh clone (or a new SHOUHOU_VAR_DIR)
# must work without a mkdir first, or SQLite says only "unable to open database file".
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
_INSECURE_KEY = "django-insecure-shouhou-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", _INSECURE_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "django_celery_beat",
    "axes",
    "merchants",
    "aftersales",
    "reviews",
    "tickets",
    "demo",  # the top layer: seeders, simulator and their commands; no product app imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # N-9: query parameters no page can use (NUL, surrogates) are dropped, with a message.
    "merchants.kernel.checks.QueryGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]
# With DEBUG on (the demo), a missing page is still the site's own 404 page, not Django's technical one
# (which lists every URL pattern); SHOUHOU_TECHNICAL_404=1 brings Django's debugging page back.
SHOUHOU_TECHNICAL_404 = env_bool("SHOUHOU_TECHNICAL_404", False)
if DEBUG and not SHOUHOU_TECHNICAL_404:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "merchants.kernel.errors.ThemedNotFoundMiddleware"
    )

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",  # {{ CSP_NONCE }} for an inline <script nonce="…">
            ],
        },
    },
]

# --- Database: SQLite file by default, PostgreSQL (or anything dj-database-url reads) from DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shouhou.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server, the worker and beat share the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # The review list's covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds them without
    # the extra columns, which is all the zero-setup default needs, and would warn on every command.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and login throttling (N-7).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Three counters within the cool-off, each with its limit (merchants/kernel/logins.py): one username from
# one address (AXES_FAILURE_LIMIT: the login pages and the lockout page quote this number and the
# cool-off), one address trying any usernames (password spraying), one username from any addresses.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
SHOUHOU_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("SHOUHOU_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
SHOUHOU_LOGIN_USERNAME_FAILURE_LIMIT = env_int("SHOUHOU_LOGIN_USERNAME_FAILURE_LIMIT", 20)
AXES_HANDLER = "merchants.kernel.logins.LoginThrottleHandler"
AXES_RESET_ON_SUCCESS = True  # clears the username-and-address counter only (LoginThrottleHandler)
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# How many reverse proxies in front of the site append to X-Forwarded-For (nginx: proxy_add_x_forwarded_for).
# 0 (default): the client is REMOTE_ADDR and the header is ignored; N: the N-th entry from the right,
# the one the outermost trusted proxy wrote. Never more than really stand there: the entries to the left
# are whatever the client sent. (django-ipware is not used: merchants/kernel/logins.py client_ip.)
SHOUHOU_TRUSTED_PROXY_COUNT = env_int("SHOUHOU_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "merchants.kernel.logins.client_ip"
LOGIN_URL = reverse_lazy("workbench:login")
# After a login whose `next` was refused (another host) or missing: the site's own home. Both sites'
# login views put their index there themselves (merchants/kernel/admin/sites.py); this is the fallback.
LOGIN_REDIRECT_URL = "/"

# --- Languages and time (N-4, N-5).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# One date format in both languages, 2026-12-01 15:26 (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files are never served by URL (no /media/ in config/urls.py, in any mode): each one goes
# through the protected file view, merchants/kernel/files.py, at /files/<kind>/<id>/ (N-7).
# MEDIA_URL only completes Django's storage configuration.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# How the file view hands over the bytes once it has checked who asks:
#   ""         Django streams them from the storage (any storage: the filesystem, an S3-compatible one);
#   "nginx"    an empty answer with X-Accel-Redirect: <prefix>/<stored name>; nginx serves the file from
#              an `internal` location, e.g. `location /protected-files/ { internal; alias <MEDIA_ROOT>/; }`;
#   "sendfile" an empty answer with X-Sendfile: <absolute path> (Apache mod_xsendfile, lighttpd;
#              filesystem storage only, other storages are streamed).
SHOUHOU_FILES_ACCEL = env("SHOUHOU_FILES_ACCEL", "")
SHOUHOU_FILES_ACCEL_PREFIX = env("SHOUHOU_FILES_ACCEL_PREFIX", "/protected-files/")
# Seconds a browser may keep a file it was allowed to see (Cache-Control: private; stored names never change).
SHOUHOU_FILES_CACHE_SECONDS = env_int("SHOUHOU_FILES_CACHE_SECONDS", 3600)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Upload checks (merchants/kernel/uploads.py): what an evidence image may be.
SHOUHOU_UPLOAD_MAX_BYTES = env_int("SHOUHOU_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
SHOUHOU_UPLOAD_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Decompression-bomb guard: an uploaded image with more pixels than this is refused before it is decoded.
SHOUHOU_UPLOAD_MAX_PIXELS = env_int("SHOUHOU_UPLOAD_MAX_PIXELS", 60_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Bulk imports (merchants/kernel/importing.py, B-2/B-3): a file above this many bytes, or with more data
# rows than this, is refused with a message (the background path for large files is B-5).
SHOUHOU_IMPORT_MAX_BYTES = env_int("SHOUHOU_IMPORT_MAX_BYTES", 100 * 1024 * 1024)
SHOUHOU_IMPORT_MAX_ROWS = env_int("SHOUHOU_IMPORT_MAX_ROWS", 200_000)
# B-5: an upload above this many bytes (up to SHOUHOU_IMPORT_MAX_BYTES, the hard limit) is imported in the
# background (merchants/kernel/centers): read in chunks of SHOUHOU_IMPORT_CHUNK_ROWS rows, at most
# SHOUHOU_IMPORT_JOB_MAX_ROWS rows; the result lands in the import center.
SHOUHOU_IMPORT_SYNC_MAX_BYTES = env_int("SHOUHOU_IMPORT_SYNC_MAX_BYTES", 2 * 1024 * 1024)
SHOUHOU_IMPORT_CHUNK_ROWS = env_int("SHOUHOU_IMPORT_CHUNK_ROWS", 5000)
SHOUHOU_IMPORT_JOB_MAX_ROWS = env_int("SHOUHOU_IMPORT_JOB_MAX_ROWS", 2_000_000)
SHOUHOU_IMPORT_KEEP_DAYS = env_int("SHOUHOU_IMPORT_KEEP_DAYS", 30)  # then the uploaded and error files go
# B-6: an export of more rows than this becomes a job of the download center; its file is kept this long.
SHOUHOU_EXPORT_SYNC_MAX_ROWS = env_int("SHOUHOU_EXPORT_SYNC_MAX_ROWS", 5000)
SHOUHOU_EXPORT_KEEP_DAYS = env_int("SHOUHOU_EXPORT_KEEP_DAYS", 7)

# --- Security (N-7). Strict when DEBUG is off; HTTPS is assumed to terminate at a proxy.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# Content-security policy (N-7; README "Security" says why each exception is there):
# - scripts: this site's files only, plus inline <script> that carries the request's nonce
#   (`<script nonce="{{ request.csp_nonce }}">`); no inline script or on*= handler without it.
#   'unsafe-eval' stays because the admin theme (django-unfold 0.91) ships the standard Alpine.js build,
#   which compiles its x-data / x-on expressions with the Function constructor; unfold has no CSP build.
# - styles: 'unsafe-inline', for the style="" attributes in unfold's and Django's admin templates.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, UNSAFE_EVAL],
        "script-src-attr": [NONE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "worker-src": [NONE],
        "manifest-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Celery (N-3). The default broker is a folder on disk: a real broker shared by the web process,
# the worker and beat on one machine, with no server to install. Production sets
# CELERY_BROKER_URL=redis://… and runs many workers.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange bindings (the worker's remote-control fan-out); kombu's default is ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):  # kombu does not create them
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Seconds staff (all shops) share the after-sales quick-tab counts; 0 = exact on every request.
SHOUHOU_STAFF_COUNTS_CACHE_SECONDS = env_int("SHOUHOU_STAFF_COUNTS_CACHE_SECONDS", 30)
# Whether the demo simulator runs from beat (only `make demo` turns it on).
SHOUHOU_DEMO_SIMULATOR = env_bool("SHOUHOU_DEMO_SIMULATOR", False)
# Due rows a beat-started sweep takes per run (the "kwargs" of the sweep entries below); a run that hits
# it queues itself again for the rest, so a backlog never pins one worker. A direct call has no limit.
SHOUHOU_SWEEP_LIMIT = env_int("SHOUHOU_SWEEP_LIMIT", 20_000)
# Written into django-celery-beat's tables after `migrate` (merchants/beat.py) so a fresh install has
# every entry and staff see and tune it in /admin/. Not named CELERY_BEAT_SCHEDULE on purpose: beat's
# database scheduler would re-apply that dict at every start and undo the staff's changes.
SHOUHOU_BEAT_SCHEDULE = {
    # M-3: cancel online orders left unpaid past the platform's limit.
    "merchants.cancel_unpaid_orders": {
        "task": "merchants.tasks.cancel_unpaid_orders",
        "schedule": timedelta(minutes=1),
        "kwargs": {"limit": SHOUHOU_SWEEP_LIMIT},
    },
    # S-5: shipped orders the buyer never confirmed become received.
    "merchants.auto_confirm_receipts": {
        "task": "merchants.tasks.auto_confirm_receipts",
        "schedule": timedelta(minutes=5),
        "kwargs": {"limit": SHOUHOU_SWEEP_LIMIT},
    },
    # every after-sales case whose deadline passed is acted on by the system.
    "aftersales.run_deadlines": {
        "task": "aftersales.tasks.run_deadlines",
        "schedule": timedelta(minutes=1),
        "kwargs": {"limit": SHOUHOU_SWEEP_LIMIT},
    },
    # N-3: refunds whose queueing failed after the commit (broker hiccup) are published again within
    # seconds, with backoff (aftersales/services/_common.py requeue_refunds); shown as 退款排队中 meanwhile.
    "aftersales.requeue_refunds": {
        "task": "aftersales.tasks.requeue_refunds",
        "schedule": timedelta(seconds=15),
    },
    # T-3: overdue tickets get their violation and are escalated; late reviews go to senior staff.
    "tickets.escalate_overdue": {
        "task": "tickets.tasks.escalate_overdue",
        "schedule": timedelta(minutes=1),
        "kwargs": {"limit": SHOUHOU_SWEEP_LIMIT},
    },
    # refunds the gateway has not confirmed are retried, then flagged.
    "aftersales.retry_stuck_refunds": {
        "task": "aftersales.tasks.retry_stuck_refunds",
        "schedule": timedelta(minutes=10),
    },
    # B-6: the download center's expired files (and old import uploads) are deleted once a day.
    "merchants.cleanup_expired_exports": {
        "task": "merchants.kernel.centers.tasks.cleanup_expired_exports",
        "schedule": crontab(hour=3, minute=41),
    },
    # L-2: the daily level evaluation, after midnight (the windows are whole local days before today).
    "merchants.evaluate_levels": {
        "task": "merchants.tasks.evaluate_levels",
        "schedule": crontab(hour=1, minute=7),
    },
    # Housekeeping: forget login failures older than the cool-off.
    "merchants.nightly": {
        "task": "merchants.tasks.nightly_housekeeping",
        "schedule": crontab(hour=3, minute=17),
    },
    # Demo only: buyers act in the demo shops. "enabled" follows the setting at every migrate
    # (merchants/kernel/beat.py). The name predates the demo app and is kept, so a database's existing row
    # (and staff's tuning of it) carries on; the sync repoints its task at every migrate.
    "merchants.simulate_demo_tick": {
        "task": "demo.tasks.simulate_demo_tick",
        "schedule": timedelta(seconds=30),
        "enabled": SHOUHOU_DEMO_SIMULATOR,
    },
}

# Mail (T-3: overdue tickets are mailed to the shop's owners). A laptop prints mail on the console.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "shouhou@localhost")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# Operator knobs (not business rules: those live in PlatformSettings, editable in /admin/).
# How many due rows a sweep takes per batch; each batch is one short transaction (rows locked SKIP
# LOCKED). A batch costs ~8 statements whatever its size: 2,000 rows a batch sends a quarter of the
# round trips 500 did, and still holds its locks for a fraction of a second.
SHOUHOU_SWEEP_BATCH = env_int("SHOUHOU_SWEEP_BATCH", 2000)
# The refund gateway backend: dotted path to a class implementing aftersales.gateway.RefundGateway.
SHOUHOU_REFUND_GATEWAY = env("SHOUHOU_REFUND_GATEWAY", "aftersales.gateway.SimulatedGateway")
# A refund still `refunding` this long after its last gateway attempt is queued again by retry_stuck_refunds.
SHOUHOU_REFUND_STUCK_AFTER = timedelta(minutes=env_int("SHOUHOU_REFUND_STUCK_AFTER_MINUTES", 5))

# --- The admin theme (django-unfold), for both sites.


def _static(name: str) -> str:
    from django.templatetags.static import static  # noqa: PLC0415  (the storage is ready only after setup)

    return static(name)


UNFOLD = {
    "SITE_TITLE": _("售后平台管理"),
    "SITE_HEADER": _("售后平台管理"),
    "SITE_SYMBOL": "support_agent",
    # The tab icon (static/favicon.svg); /favicon.ico redirects to it for browsers that ask for that name.
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": lambda request: _static("favicon.svg")}
    ],
    # The date picker's caption as 2026年12月 in Chinese (static/shouhou/calendar-caption.js).
    "SCRIPTS": [lambda request: _static("shouhou/calendar-caption.js")],
    # Our own CSS: change lists that fit 1440 px in both languages, product names shown whole (issue 11 §15).
    "STYLES": [lambda request: _static("shouhou/lists.css")],
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": False,
    "SHOW_VIEW_ON_SITE": False,
    "BORDER_RADIUS": "6px",
    "COLORS": {
        "primary": {
            "50": "255 247 237",
            "100": "255 237 213",
            "200": "254 215 170",
            "300": "253 186 116",
            "400": "251 146 60",
            "500": "249 115 22",
            "600": "234 88 12",
            "700": "194 65 12",
            "800": "154 52 18",
            "900": "124 45 18",
            "950": "67 20 7",
        },
    },
    "SIDEBAR": {"show_search": False, "show_all_applications": True},
    # The /admin/ home: the queues platform staff work (apps register them with registry.staff_queue).
    "DASHBOARD_CALLBACK": "merchants.kernel.registry.staff_dashboard_callback",
}
# The merchant workbench (/workbench/) has its own titles and navigation (merchants/sites.py).
UNFOLD_WORKBENCH = {
    **UNFOLD,
    "SITE_TITLE": _("商家售后工作台"),
    "SITE_HEADER": _("商家售后工作台"),
    "SITE_URL": "/workbench/",
    # The home page's cards and the sidebar come from merchants/kernel/registry.py (apps add card providers).
    "DASHBOARD_CALLBACK": "merchants.kernel.registry.dashboard_callback",
    "SIDEBAR": {
        **UNFOLD["SIDEBAR"],
        "show_all_applications": False,  # the navigation already lists every page the member may open
        "navigation": "merchants.kernel.registry.workbench_navigation",
    },
}

# Logging: our own INFO lines (who changed which member, sweeps) by default, with warnings and errors from
# everything. One line per request (runserver's django.server) and django-axes' per-login lines are chatter
# that buries a traceback: off unless SHOUHOU_LOG_REQUESTS=1 (a 4xx/5xx answer still logs, as a warning or
# an error). The demo's worker and beat log at SHOUHOU_TASK_LOG_LEVEL (scripts/demo.sh; WARNING by default).
SHOUHOU_LOG_REQUESTS = env_bool("SHOUHOU_LOG_REQUESTS", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "INFO" if SHOUHOU_LOG_REQUESTS else "WARNING"},
        "axes": {"level": "INFO" if SHOUHOU_LOG_REQUESTS else "WARNING"},
    },
}
