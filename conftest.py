"""Root test set-up: refuse to run without the real PostgreSQL and Redis, loudly."""

from __future__ import annotations

import os

import pytest

# Shared fixtures: a real SMTP server (`smtp_sink`).
pytest_plugins = ["tests.smtp_sink"]


def pytest_configure(config: pytest.Config) -> None:
    if (
        os.environ.get("DJANGO_SETTINGS_MODULE", "smartmkt.settings.test")
        != "smartmkt.settings.test"
    ):
        return
    import psycopg2
    import redis
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(f"Tests need PostgreSQL; DATABASE_URL points to {db['ENGINE']}", returncode=2)
    try:
        psycopg2.connect(
            dbname="postgres",
            user=db.get("USER") or "postgres",
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
            password=db.get("PASSWORD") or None,
            connect_timeout=5,
        ).close()
    except psycopg2.OperationalError as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {db.get('HOST')}:{db.get('PORT')} "
            f"(DATABASE_URL): {error}".strip(),
            returncode=2,
        )
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        pytest.exit(
            f"Redis is not reachable at {settings.CELERY_BROKER_URL} (REDIS_URL): {error}",
            returncode=2,
        )
