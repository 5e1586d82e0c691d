"""ShopAuto settings: everything comes from the environment (see .env.example).

With no environment at all ShopAuto runs "embedded": a SQLite file in WAL mode, a
filesystem Celery broker and console email, so one command brings up the whole
product on a fresh machine. Production and the test suite point DATABASE_URL at
PostgreSQL and REDIS_URL at Redis.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)
# Runtime files of the embedded run: SQLite database, broker folders, cache, media.
VAR_DIR = Path(env.str("SHOPAUTO_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)


def _local_secret_key() -> str:
    """Without SECRET_KEY in the environment (the embedded run), use a random key kept in
    VAR_DIR. Every host of a real deployment must share one key: set SECRET_KEY there."""
    from django.core.management.utils import get_random_secret_key

    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base URL used in emails and webhook payloads.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "django_fsm",
    "django_fsm_log",
    "anymail",
    "import_export",
    # ShopAuto
    "shopauto",
    "automation",
    "customers",
    "catalog",
    "inventory",
    "notifications",
    "orders",
    "quotes",
    "returns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "customers.middleware.ProfileLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "shopauto.middleware.DomainNotFoundMiddleware",
    "shopauto.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "shopauto.urls"
WSGI_APPLICATION = "shopauto.wsgi.application"

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
                "shopauto.context_processors.portal",
            ],
            # {{ amount|money:currency }} and {{ iso|isodate|date }} everywhere, also in the
            # email templates staff edit in the admin.
            "builtins": ["shopauto.templatetags.money"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'shopauto.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write concurrently: WAL + IMMEDIATE transactions serialise
    # writers instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_shopauto.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    DATABASES["default"].setdefault("OPTIONS", {})
    # Never let a stuck lock hold a request or a worker for long.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c lock_timeout=5000 -c statement_timeout=30000")
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, locks) -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
    # The embedded run is one machine: a file cache is shared by its processes, only its
    # increments are not atomic, which a demo can live with. Production uses Redis.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "customers:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "customers:login"
# Portal logins per client address and per username (django-ratelimit syntax).
LOGIN_RATE_LIMIT = env.str("LOGIN_RATE_LIMIT", default="10/m")
PUBLIC_LOOKUP_RATE_LIMIT = env.str("PUBLIC_LOOKUP_RATE_LIMIT", default="20/m")
RATELIMIT_VIEW = "shopauto.views.rate_limited"
# Behind a proxy set this to HTTP_X_FORWARDED_FOR so limits apply per client, not per proxy.
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")

# --- I18N -----------------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("pt-br", _("Brazilian Portuguese")),
    ("it", _("Italian")),
    ("id", _("Indonesian")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security (production when DEBUG is off) -------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]

# --- Email (django-anymail) -------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ShopAuto <shop@example.com>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Every ANYMAIL_* variable is passed through (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN,
# ANYMAIL_WEBHOOK_SECRET="user:password" for tracking webhooks).
ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in env.ENVIRON.items() if key.startswith("ANYMAIL_")}

# --- Notifications --------------------------------------------------------------------
# Marketing emails (abandoned cart, back in stock, promotions) per customer per 24 h.
MARKETING_MAX_PER_DAY = env.int("MARKETING_MAX_PER_DAY", default=2)
# Hour (shop time zone) from which the managers' daily digest of yesterday is sent.
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)
# Attempts per email on transient ESP errors, backing off from this many seconds.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=6)
EMAIL_RETRY_BASE_SECONDS = env.int("EMAIL_RETRY_BASE_SECONDS", default=30)

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shopauto.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("API_AUTH_RATE_LIMIT", default="10/min"),
                               "public": PUBLIC_LOOKUP_RATE_LIMIT.replace("/m", "/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ShopAuto API",
    "DESCRIPTION": "Orders, stock, catalogs, quotes and returns of a ShopAuto shop. "
    'Errors always have the shape {"error": {"code", "message", "fields"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` field; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {"QuoteStatusEnum": "quotes.models.Quote.Status",
                            "QuoteSourceEnum": "quotes.models.Quote.Source"},
}

# --- Celery ---------------------------------------------------------------------------
# Redis in production and tests; a filesystem broker (a real kombu transport, no server)
# for the embedded run.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# Redis redelivers a task not acknowledged within this many seconds; no countdown, ETA
# or retry backoff in the code may come near it (tests/automation/test_celery_config.py).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A web request publishing an event must never hang on a dead or paused broker.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0),
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    "max_retries": 1,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- The event spine ------------------------------------------------------------------
# Events not processed this many seconds after they were written are re-dispatched by
# the beat sweeper (the broker was down, or a worker died).
EVENT_SWEEP_AFTER_SECONDS = env.int("EVENT_SWEEP_AFTER_SECONDS", default=60)
EVENT_MAX_ATTEMPTS = env.int("EVENT_MAX_ATTEMPTS", default=8)
# Staff group alerted when an automation rule fails or a webhook endpoint is disabled.
AUTOMATION_ALERT_GROUP = env.str("AUTOMATION_ALERT_GROUP", default="Managers")

# --- Outbound webhooks ----------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
# Attempts per delivery, backing off exponentially (with jitter) from the base, capped.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
# The sweeper leaves a due delivery this long to its own task retry before re-dispatching it.
WEBHOOK_SWEEP_GRACE_SECONDS = env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=30)
# An endpoint is disabled (and Managers alerted) after this many failed deliveries in a row.
WEBHOOK_MAX_CONSECUTIVE_FAILURES = env.int("WEBHOOK_MAX_CONSECUTIVE_FAILURES", default=10)
# The delivery log (successes too) is kept this many days.
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)

# --- Orders ---------------------------------------------------------------------------
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="EUR")
# Cart lines hold stock this long after the last change.
CART_RESERVATION_MINUTES = env.int("CART_RESERVATION_MINUTES", default=30)
CART_MAX_LINE_QUANTITY = 100000
CART_REMINDER_FIRST_HOURS = env.int("CART_REMINDER_FIRST_HOURS", default=4)
CART_REMINDER_SECOND_HOURS = env.int("CART_REMINDER_SECOND_HOURS", default=24)
# Bank-transfer orders not paid within this many hours are cancelled (stock released).
UNPAID_ORDER_CANCEL_HOURS = env.int("UNPAID_ORDER_CANCEL_HOURS", default=72)
APPROVAL_REMINDER_HOURS = env.int("APPROVAL_REMINDER_HOURS", default=24)
# Delivered orders become `completed` when their return window is over.
ORDER_COMPLETE_AFTER_DAYS = env.int("ORDER_COMPLETE_AFTER_DAYS", default=30)
# Initial threshold of the default automation rule "Alert Sales on large orders" (automation/defaults.py).
ORDER_ALERT_THRESHOLD = Decimal(env.str("ORDER_ALERT_THRESHOLD", default="10000"))
# Shared secrets of the signed inbound webhooks (carrier tracking, bank/payment).
CARRIER_WEBHOOK_SECRET = env.str("CARRIER_WEBHOOK_SECRET", default="")
PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET", default="")

# --- Inventory ------------------------------------------------------------------------
# A stock transaction waits at most this long for a row lock, then fails as "stock_busy" (409).
INVENTORY_LOCK_TIMEOUT_MS = env.int("INVENTORY_LOCK_TIMEOUT_MS", default=2000)
# Shipping-day estimate: handling days (+1 after the cut-off) + transit days.
INVENTORY_TRANSIT_DAYS_SAME_REGION = env.int("INVENTORY_TRANSIT_DAYS_SAME_REGION", default=1)
INVENTORY_TRANSIT_DAYS_CROSS_REGION = env.int("INVENTORY_TRANSIT_DAYS_CROSS_REGION", default=5)
# Back-in-stock subscribers told per batch; availability is rechecked between batches.
BACK_IN_STOCK_BATCH_SIZE = env.int("BACK_IN_STOCK_BATCH_SIZE", default=100)
# --- Quotes ---------------------------------------------------------------------------
# A version discounting any line more than this (vs the customer's price) needs a
# manager's approval (permission quotes.approve_quote) before it is sent.
QUOTE_MAX_DISCOUNT_PERCENT = Decimal(env.str("QUOTE_MAX_DISCOUNT_PERCENT", default="15"))
QUOTE_VALIDITY_DAYS = env.int("QUOTE_VALIDITY_DAYS", default=30)
QUOTE_EXPIRY_REMINDER_HOURS = env.int("QUOTE_EXPIRY_REMINDER_HOURS", default=72)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "kombu": {"level": "WARNING"}},
}
