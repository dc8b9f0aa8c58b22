"""Shouhou settings: everything that differs between machines comes from the environment.

See docs/configuration.md for every variable. Development defaults need no other server:
SQLite under var/, the database task backend, in-process live updates.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from shouhou.core.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(env_str("SHOUHOU_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-insecure-secret-key-change-me-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY to a long random value when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "shouhou.core",
    "shouhou.accounts",
    "shouhou.catalog",
    "shouhou.customers",
    "shouhou.dispatch",
    "shouhou.workorders",
    "shouhou.sla",
    "shouhou.feedback",
    "shouhou.notifications",
    "shouhou.webhooks",
    "shouhou.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shouhou.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "shouhou.urls"
WSGI_APPLICATION = "shouhou.wsgi.application"
ASGI_APPLICATION = "shouhou.asgi.application"

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
                "shouhou.core.context_processors.ui",
                "shouhou.core.context_processors.console",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shouhou.sqlite3'}")
# PostgreSQL prepares a statement after it ran this many times on a connection; "off" for a
# pooler in transaction mode that cannot keep prepared statements (docs/configuration.md).
DATABASE_PREPARE_THRESHOLD = (
    None
    if env_str("DATABASE_PREPARE_THRESHOLD", "5").strip().lower() == "off"
    else env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
)
DATABASES = {
    "default": database_from_url(
        DATABASE_URL,
        prepare_threshold=DATABASE_PREPARE_THRESHOLD,
        health_checks=env_bool("DATABASE_HEALTH_CHECKS", False),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and live updates ----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis://")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Live pages (Server-Sent Events, docs/live.md): in-process by default, Redis pub/sub when
# REDIS_URL is set, so that every web process sees every event.
LIVE_BACKEND = env_choice("LIVE_BACKEND", "redis" if REDIS_URL else "memory", ("memory", "redis"))
if LIVE_BACKEND == "redis" and not REDIS_URL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LIVE_BACKEND=redis needs REDIS_URL.")
LIVE_PAGES = env_bool("LIVE_PAGES", True)  # false: pages render without the live stream
LIVE_CHANNEL_PREFIX = env_str("LIVE_CHANNEL_PREFIX", "shouhou:live:")
LIVE_KEEPALIVE_SECONDS = env_int("LIVE_KEEPALIVE_SECONDS", 15, minimum=1)
# A stream ends after this long; the browser reconnects at once (access is checked again).
LIVE_STREAM_SECONDS = env_int("LIVE_STREAM_SECONDS", 600, minimum=10)
# An idle stream also reads the database this often (0 = never): events made in another
# process (the worker) reach pages without Redis, and a message lost in Redis is caught up.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 0 if LIVE_BACKEND == "redis" else 30, minimum=0)

# --- background work -------------------------------------------------------------------------
# database: django-tasks-db in this database, no other server (the default; `make run`).
# redis: RQ on REDIS_URL through django-tasks-rq, for production. immediate: run in-process
# (the test suite). See docs/tasks.md.
TASK_BACKEND = env_choice("TASK_BACKEND", "database", ("database", "redis", "immediate"))
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "redis": "django_tasks_rq.RQBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASK_BACKEND],
        "QUEUES": ["default"],
    }
}
if TASK_BACKEND == "redis":
    if not REDIS_URL:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("TASK_BACKEND=redis needs REDIS_URL (redis://host:6379/0).")
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {
        "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": env_int("TASK_TIMEOUT_SECONDS", 600)}
    }
# The scheduler inside each worker ticks this often; jobs have their own periods.
SCHEDULER_TICK_SECONDS = env_int("SCHEDULER_TICK_SECONDS", 5, minimum=1)
# A web process gathers committed events this long and enqueues their delivery as one task
# (0: one task per event, at commit). Worth it with Redis, where a task costs the request.
EVENT_ENQUEUE_DELAY_MS = env_int(
    "EVENT_ENQUEUE_DELAY_MS", 250 if TASK_BACKEND == "redis" else 0, minimum=0
)
# A worker owns a claimed event delivery this long; after that the sweeper hands it back.
EVENT_DELIVERY_LEASE_SECONDS = env_int("EVENT_DELIVERY_LEASE_SECONDS", 300, minimum=1)
# The sweeper re-enqueues outbox work that nobody picked up for this long ...
EVENT_SWEEP_AFTER_SECONDS = env_int("EVENT_SWEEP_AFTER_SECONDS", 60, minimum=1)
# ... and runs this often.
EVENT_SWEEP_INTERVAL_SECONDS = env_int("EVENT_SWEEP_INTERVAL_SECONDS", 30, minimum=1)
# Webhooks (docs/webhooks.md): retried with back-off for this long after the event ...
WEBHOOK_RETRY_SECONDS = env_int("WEBHOOK_RETRY_SECONDS", 24 * 3600, minimum=60)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# ... and after a secret rotation the previous secret keeps signing for this long.
WEBHOOK_SECRET_GRACE_SECONDS = env_int("WEBHOOK_SECRET_GRACE_SECONDS", 24 * 3600, minimum=0)
# An endpoint whose every attempt failed for this long is disabled by the hourly
# webhooks.disable_failing job (default 3 days; 0 never disables).
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 24 * 3600, minimum=0)
# Hosts that may receive webhooks over plain HTTP and at private addresses (tests only).
WEBHOOK_ALLOW_HTTP_HOSTS = env_list("WEBHOOK_ALLOW_HTTP_HOSTS", [])

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "shouhou.accounts.backends.SmsCodeBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The default region for phone numbers typed without a country code.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "CN")

# SMS one-time codes (accounts.services.sms_code_*).
SMS_BACKEND = env_str("SMS_BACKEND", "shouhou.core.sms.ConsoleSmsBackend")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300, minimum=60)
SMS_CODE_MIN_INTERVAL_SECONDS = env_int("SMS_CODE_MIN_INTERVAL_SECONDS", 60, minimum=0)
SMS_CODE_MAX_PER_HOUR = env_int("SMS_CODE_MAX_PER_HOUR", 5, minimum=1)
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5, minimum=1)

# --- notification channels (docs/notifications.md) -------------------------------------------
# WeChat Official Account template messages and browser Web Push (VAPID): each real adapter is
# used only when its provider is fully configured; otherwise the channel keeps its local fake
# (logs and records, nothing leaves the machine). A half configuration stops the start-up.
from shouhou.notifications.choices import NotificationKind as _Kind  # noqa: E402
from shouhou.notifications.providers import webpush_settings, wechat_settings  # noqa: E402

# The public origin (https://service.example.com): tracking links in messages are absolute with
# it (WeChat template messages carry a link only then); empty: links are relative.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "").rstrip("/")
if PUBLIC_BASE_URL and not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"PUBLIC_BASE_URL={PUBLIC_BASE_URL!r} must start with https://")
_wechat = wechat_settings(known_kinds=frozenset(_Kind.values))
WECHAT_APP_ID = _wechat.app_id
WECHAT_APP_SECRET = _wechat.app_secret
WECHAT_API_BASE_URL = _wechat.base_url
WECHAT_TEMPLATE_IDS = _wechat.template_ids
WECHAT_TIMEOUT_SECONDS = _wechat.timeout_seconds
_webpush = webpush_settings()
WEBPUSH_VAPID_PRIVATE_KEY = _webpush.private_key
WEBPUSH_VAPID_PUBLIC_KEY = _webpush.public_key
WEBPUSH_VAPID_SUBJECT = _webpush.subject
WEBPUSH_TTL_SECONDS = _webpush.ttl_seconds
WEBPUSH_TIMEOUT_SECONDS = _webpush.timeout_seconds
WEBPUSH_ALLOW_HTTP_HOSTS = _webpush.allow_http_hosts  # plain HTTP and private hosts: tests only
NOTIFICATION_CHANNELS = {
    "wechat": "shouhou.notifications.channels."
    + ("WeChatTemplateAdapter" if _wechat.configured else "FakeWeChatAdapter"),
    "webpush": "shouhou.notifications.channels."
    + ("WebPushAdapter" if _webpush.configured else "FakeWebPushAdapter"),
}

# --- language, time, money ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "shouhou_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
DEFAULT_CURRENCY = "CNY"

# --- static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Hot reads on the intake path are remembered per process for this long (0 = never); a change
# made in another process is seen everywhere within it (docs/configuration.md).
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 10, minimum=0)
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 60, minimum=0)
# Dispatch reads: technicians' skills, shifts, days off and fix history, dispatch policies and
# an organisation's network (docs/dispatch.md, "What ranking reads").
DISPATCH_CACHE_SECONDS = env_int("DISPATCH_CACHE_SECONDS", 30, minimum=0)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a call without credentials answers 401 with WWW-Authenticate.
        "shouhou.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "shouhou.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "shouhou.api.filters.TenantFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shouhou.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"sms_code": "20/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shouhou API",
    "DESCRIPTION": (
        "The open API of Shouhou (售后): organisations, outlets, catalog and price lists; "
        "work orders, dispatch and more as they land. Every list is scoped to the "
        "organisations of the caller; another organisation's object answers 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "shouhou.accounts.choices.OrganizationKind",
        "ServiceKindEnum": "shouhou.catalog.choices.ServiceKind",
        "PriceItemKindEnum": "shouhou.catalog.choices.PriceItemKind",
        "AttachmentKindEnum": "shouhou.workorders.choices.AttachmentKind",
    },
}

# --- security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=300)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
