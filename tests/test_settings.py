"""Settings come from the environment only; the embedded defaults need nothing set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'],"
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL,"
    "'cache': settings.CACHES['default']['BACKEND'], 'email': settings.EMAIL_BACKEND,"
    "'debug': settings.DEBUG}))"
)


def _settings_with(env: dict[str, str], module: str = "smartmkt.settings.local") -> dict:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_HOST"}
    }
    clean.update({"DJANGO_SETTINGS_MODULE": module, "SMARTMKT_READ_DOTENV": "0"}, **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_use_sqlite_eager_tasks_and_file_email(tmp_path):
    # given nothing set, when settings load
    loaded = _settings_with({"SMARTMKT_VAR_DIR": str(tmp_path)})
    # then SQLite, in-process tasks, local memory cache, email to files
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["eager"] is True
    assert loaded["broker"] == "memory://localhost/"
    assert loaded["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["email"] == "django.core.mail.backends.filebased.EmailBackend"


def test_database_and_redis_urls_switch_to_postgres_and_a_real_broker(tmp_path):
    loaded = _settings_with(
        {
            "SMARTMKT_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/whatever",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": "2525",
        }
    )
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["eager"] is False
    assert loaded["broker"] == "redis://127.0.0.1:6379/3"
    assert loaded["cache"] == "apps.core.cache.RedisCache"
    assert loaded["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_settings_turn_debug_off_and_generate_a_persistent_secret(tmp_path):
    first = _settings_with({"SMARTMKT_VAR_DIR": str(tmp_path)}, "smartmkt.settings.production")
    assert first["debug"] is False
    secret_file = tmp_path / "secret_key"
    key = secret_file.read_text()
    assert len(key) >= 50
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    _settings_with({"SMARTMKT_VAR_DIR": str(tmp_path)}, "smartmkt.settings.production")
    assert secret_file.read_text() == key


def test_env_example_lists_every_variable_the_code_reads():
    # given every env_* call in the project package and the apps
    pattern = re.compile(r"env_(?:str|bool|int|list|required)\(\s*\"([A-Z0-9_]+)\"")
    sources = list((ROOT / "smartmkt").rglob("*.py")) + list((ROOT / "apps").rglob("*.py"))
    read = {name for path in sources for name in pattern.findall(path.read_text())}
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    # then each is documented in .env.example
    assert read, "no env reads found: the pattern is broken"
    assert sorted(read - listed) == []
