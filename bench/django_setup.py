"""Shared by the in-process benchmarks: Django on a PostgreSQL benchmark database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str, **environment: str) -> None:
    """Create the database when missing, set up Django (local settings, DEBUG off, no Redis:
    tasks in process) with `environment` added, and migrate."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SMARTMKT_READ_DOTENV", "0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "smartmkt.settings.local"
    os.environ["DEBUG"] = "0"  # DEBUG keeps every SQL query in memory
    os.environ.pop("REDIS_URL", None)
    os.environ.update(environment)
    database = database_url.rsplit("/", 1)[1]
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {database}"],
        capture_output=True,
        check=False,
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
