"""Settings shared by every environment. Values come from `smartmkt.env` only."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from kombu import Queue

from smartmkt import env
from smartmkt.schedules import BEAT_SCHEDULE

BASE_DIR: Path = env.BASE_DIR
VAR_DIR = Path(env.env_str("SMARTMKT_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env.env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env.env_bool("DEBUG", False)
ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "corsheaders",
    "apps.core",
    "apps.accounts",
    "apps.ml",
    "apps.customers",
    "apps.catalog",
    "apps.events",
    "apps.imports",
    "apps.quality",
    "apps.segments",
    "apps.campaigns",
    "apps.recommendations",
    "apps.insights",
    "apps.media",
    "apps.forecasts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "smartmkt.urls"
WSGI_APPLICATION = "smartmkt.wsgi.application"

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
                "apps.core.web.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (or anything dj-database-url knows) by URL.
if env.DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            env.DATABASE_URL,
            conn_max_age=env.env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "smartmkt.sqlite3"),
            "OPTIONS": {"timeout": 30},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: email + password, no public sign-up unless switched on.
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "apps.accounts.adapters.ClosedSignupAdapter"
ACCOUNT_ALLOW_SIGNUPS = env.env_bool("ACCOUNT_ALLOW_SIGNUPS", False)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# ML artifacts live on local disk (or a shared volume on multi-host installs).
ML_ARTIFACT_ROOT = Path(env.env_str("ML_ARTIFACT_ROOT", str(VAR_DIR / "artifacts")))
# Training tasks go to ml_gpu when a GPU worker is configured, else ml_cpu.
ML_GPU_QUEUE_ENABLED = env.env_bool("ML_GPU_QUEUE_ENABLED", False)
# A running job whose heartbeat is older than this is considered lost and may be re-run.
ML_RUN_STALE_SECONDS = env.env_int("ML_RUN_STALE_SECONDS", 120)
# A queued run no worker has started after this long lost its task message: marked lost.
ML_RUN_QUEUED_TIMEOUT_SECONDS = env.env_int("ML_RUN_QUEUED_TIMEOUT_SECONDS", 6 * 3600)

# Email: SMTP when EMAIL_HOST is set (plain, no TLS, no auth unless configured), else files.
EMAIL_HOST = env.env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env.env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env.env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env.env_bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "sent-emails"
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", "SmartMkt <marketing@smartmkt.local>")

# Cache: Redis when configured (shared rate limits across processes), else in-process memory.
if env.REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, reusing one client per pool (apps/core/cache.py)
            "BACKEND": "apps.core.cache.RedisCache",
            "LOCATION": env.REDIS_URL,
            "KEY_PREFIX": env.env_str("CACHE_KEY_PREFIX", "smartmkt"),
            # A Redis that stops answering must not hang requests: the recommendation cache
            # and the rate limiter degrade (score online / let the request through) instead.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = env.REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.env_bool("CELERY_TASK_ALWAYS_EAGER", not env.REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue("default"),
    Queue("ingest"),
    Queue("email"),
    Queue("ml_cpu"),
    Queue("ml_gpu"),
]
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis re-delivers an unacknowledged message after this many seconds (worker lost).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "apps.accounts.authentication.QueryKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.accounts.throttling.ApiKeyRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.ScopedAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
API_KEY_DEFAULT_RATE_PER_MINUTE = env.env_int("API_KEY_DEFAULT_RATE_PER_MINUTE", 120_000)
# Each web process keeps a verified key this many seconds: a revocation reaches every
# process within it (at once in the process that revoked).
API_KEY_CACHE_SECONDS = env.env_int("API_KEY_CACHE_SECONDS", 5)

# Recommendations reuse a whole answer at most this long while nothing it was computed from
# changed (0: compute every request); a kept answer may show a sold-out product for up to
# the catalogue check interval (seconds, per web process).
RECOMMENDATIONS_ANSWER_SECONDS = env.env_int("RECOMMENDATIONS_ANSWER_SECONDS", 300)
RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS = env.env_int("RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS", 1)

# Where this site is reached from outside: tracking pixels, click redirects and unsubscribe
# links in emails point here.
SITE_URL = env.env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Campaign email. Each sender sends at most CAMPAIGNS_SEND_RATE messages a second (a campaign
# may set its own); a customer gets at most CAMPAIGNS_FREQUENCY_CAP marketing emails in
# CAMPAIGNS_FREQUENCY_DAYS days; nothing is sent during the quiet hours (local time,
# "21-8" = 21:00 to 08:00) in the customer's zone (their timezone attribute, else their
# country's, else CAMPAIGNS_DEFAULT_TIMEZONE).
CAMPAIGNS_SEND_RATE = env.env_int("CAMPAIGNS_SEND_RATE", 500)
CAMPAIGNS_FREQUENCY_CAP = env.env_int("CAMPAIGNS_FREQUENCY_CAP", 3)
CAMPAIGNS_FREQUENCY_DAYS = env.env_int("CAMPAIGNS_FREQUENCY_DAYS", 7)
CAMPAIGNS_QUIET_HOURS = env.env_str("CAMPAIGNS_QUIET_HOURS", "21-8")
CAMPAIGNS_DEFAULT_TIMEZONE = env.env_str("CAMPAIGNS_DEFAULT_TIMEZONE", "UTC")
# A sender holds the messages it claimed this long; a crashed sender's messages are sent by
# the next one after it.
CAMPAIGNS_CLAIM_SECONDS = env.env_int("CAMPAIGNS_CLAIM_SECONDS", 120)
CAMPAIGNS_BATCH_SIZE = env.env_int("CAMPAIGNS_BATCH_SIZE", 200)
# An order within this many days after a campaign email counts as its conversion.
CAMPAIGNS_ATTRIBUTION_DAYS = env.env_int("CAMPAIGNS_ATTRIBUTION_DAYS", 7)
# Sender tasks started per campaign (run side by side by the worker pool).
CAMPAIGNS_SENDERS = env.env_int("CAMPAIGNS_SENDERS", 3)
# Products in emails link here ({sku} is replaced).
CAMPAIGNS_PRODUCT_URL = env.env_str("CAMPAIGNS_PRODUCT_URL", "https://shop.example.com/p/{sku}")
# Opens this soon after the send are a machine's (mail-privacy proxies, scanners).
CAMPAIGNS_MACHINE_OPEN_SECONDS = env.env_int("CAMPAIGNS_MACHINE_OPEN_SECONDS", 2)

# Text insights. New alerts (a day whose negative share rose above its usual range) are
# POSTed as JSON to this URL when set; alerts look back this many days.
INSIGHTS_ALERT_WEBHOOK_URL = env.env_str("INSIGHTS_ALERT_WEBHOOK_URL", "")
INSIGHTS_ALERT_LOOKBACK_DAYS = env.env_int("INSIGHTS_ALERT_LOOKBACK_DAYS", 30)
# Sentiment in int8 on CPU: about twice the texts per second, 1-3 points less accurate
# (docs/benchmarks.md). Off: float32.
INSIGHTS_SENTIMENT_INT8 = env.env_bool("INSIGHTS_SENTIMENT_INT8", False)

# Forecasting. History read per series; series per worker task of a refresh; the lead time
# stock alerts compare forecast demand with stock over; the holiday calendar of the calendar
# regressor (ISO country code, empty: none); products need this many units sold in the
# history to get their own series (the rest are too sparse to forecast one by one).
FORECASTS_HISTORY_DAYS = env.env_int("FORECASTS_HISTORY_DAYS", 730)
FORECASTS_CHUNK_SIZE = env.env_int("FORECASTS_CHUNK_SIZE", 50)
FORECASTS_STOCK_LEAD_WEEKS = env.env_int("FORECASTS_STOCK_LEAD_WEEKS", 4)
FORECASTS_HOLIDAY_COUNTRY = env.env_str("FORECASTS_HOLIDAY_COUNTRY", "US")
FORECASTS_PRODUCT_MIN_UNITS = env.env_int("FORECASTS_PRODUCT_MIN_UNITS", 20)
# Which series exist below the shop (the shop has revenue and units per D, W and M): the
# frequencies of category series (reconciled with the shop's at each), and the measures and
# frequencies of product series (every product multiplies the nightly work).
FORECASTS_CATEGORY_FREQUENCIES = env.env_str("FORECASTS_CATEGORY_FREQUENCIES", "W,M")
FORECASTS_PRODUCT_MEASURES = env.env_str("FORECASTS_PRODUCT_MEASURES", "units")
FORECASTS_PRODUCT_FREQUENCIES = env.env_str("FORECASTS_PRODUCT_FREQUENCIES", "W")
# Models the backtest compares: for shop, category and customer series, and for products
# (thousands of series: cheap models only). Any of naive, drift, ar, ma, arma, arima,
# sarima, ets, theta, lstm.
FORECASTS_SHOP_CANDIDATES = env.env_str(
    "FORECASTS_SHOP_CANDIDATES", "naive,drift,arima,sarima,ets,theta"
)
FORECASTS_PRODUCT_CANDIDATES = env.env_str("FORECASTS_PRODUCT_CANDIDATES", "naive,drift,ets,theta")

# Event ingestion. Batches may be up to 5 MB (the contract); Django's 2.5 MB default would
# refuse them before the view could answer with a clear 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024 + 64 * 1024
# The browser snippet posts from shop domains: CORS only on the ingestion endpoints. Empty
# TRACKING_ALLOWED_ORIGINS allows every origin there (the write key is public anyway).
CORS_URLS_REGEX = r"^/api/v1/(batch|track|identify|page|screen|alias|pixel\.gif)$"
CORS_ALLOWED_ORIGINS = env.env_list("TRACKING_ALLOWED_ORIGINS", [])
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_PREFLIGHT_MAX_AGE = 86400
# Rate-limit counters live in Redis when configured (shared by all processes), else in memory.
REDIS_URL = env.REDIS_URL

SPECTACULAR_SETTINGS = {
    "TITLE": "SmartMkt API",
    "DESCRIPTION": (
        "Partner API of SmartMkt. Authenticate with `Authorization: Bearer <key>`; each "
        'operation lists the scope its key needs. Errors are `{"detail": ..., "code": ...}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind`; name the enums so the schema stays unambiguous.
    "ENUM_NAME_OVERRIDES": {
        "ImportKindEnum": "apps.imports.choices.ImportKind",
        "TextSentimentEnum": "apps.insights.choices.Sentiment",
        "TextEmotionEnum": "apps.insights.choices.Emotion",
        "InsightsJobKindEnum": "apps.insights.choices.JobKind",
    },
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/img/favicon.svg",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "Partner API key created by an admin (`manage.py create_api_key`).",
            }
        }
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Topic fitting and Chinese segmentation log every pass and dictionary load at INFO.
        "gensim": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
    },
}
