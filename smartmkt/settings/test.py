"""Test settings: the real PostgreSQL and Redis of this machine (see Makefile `test`)."""

import os

# Tests always run against the real services of this machine unless told otherwise.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from smartmkt import env  # noqa: E402

env.DATABASE_URL = os.environ["DATABASE_URL"]
env.REDIS_URL = os.environ["REDIS_URL"]

from smartmkt.settings.base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run tasks in-process unless a test starts a real worker and switches this off.
CELERY_TASK_ALWAYS_EAGER = env.env_bool("CELERY_TASK_ALWAYS_EAGER", True)
ML_ARTIFACT_ROOT = VAR_DIR / "test-artifacts"  # noqa: F405
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
STORAGES = {  # no manifest needed in tests
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Parallel test workers (pytest -n) share one Redis database: keep their cache keys apart,
# since equal primary keys in their separate test databases would name the same entries.
_cache = CACHES["default"]  # noqa: F405
if str(_cache["BACKEND"]).endswith("RedisCache"):
    _cache["KEY_PREFIX"] = "smartmkt-test" + os.environ.get("PYTEST_XDIST_WORKER", "")

# Recommendations keep whole answers (on in tests, so every serving test runs through them),
# and check the catalogue on every request: a test that sells out a product sees it at once.
RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS = 0
RECOMMENDATIONS_CHAMPION_CHECK_SECONDS = 0
# Served-request rows are inserted in the request in tests (their queue has its own tests).
RECOMMENDATIONS_SERVED_QUEUE = False
RECOMMENDATIONS_SERVED_BUFFER_SECONDS = 0  # (the buffer has its own test)
