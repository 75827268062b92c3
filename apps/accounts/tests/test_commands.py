"""create_api_key, revoke_api_key, sync_roles and create_admin."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from apps.accounts.models import ApiKey
from apps.accounts.selectors import api_key_get_by_raw
from apps.accounts.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key_prints_the_key_alone_on_the_last_line():
    output = _run("create_api_key", "--name", "shop", "--scopes", "events:write,customers:read")

    raw_key = output.strip().splitlines()[-1]
    api_key = api_key_get_by_raw(raw_key=raw_key)
    assert api_key is not None
    assert raw_key == raw_key.strip() and " " not in raw_key
    assert api_key.name == "shop"
    assert api_key.scopes == ["customers:read", "events:write"]
    assert api_key.rate_limit_per_minute is None


def test_create_api_key_sets_the_rate_limit():
    output = _run("create_api_key", "--name", "s", "--scopes", "ml:read", "--rate-limit", "250")

    api_key = api_key_get_by_raw(raw_key=output.strip().splitlines()[-1])
    assert api_key.rate_limit_per_minute == 250


def test_create_api_key_with_a_bad_scope_fails_and_creates_nothing():
    with pytest.raises(CommandError) as error:
        _run("create_api_key", "--name", "shop", "--scopes", "events:write,everything")

    assert "everything" in str(error.value)
    assert "\n" not in str(error.value)
    assert ApiKey.objects.count() == 0


def test_create_api_key_with_a_bad_scope_exits_non_zero_with_one_line():
    # The real command line, against this test database (the command fails before writing).
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "smartmkt.settings.test"}

    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--name", "x", "--scopes", "nope"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("CommandError: scopes: unknown scope(s) nope")


def test_revoke_api_key_by_prefix():
    api_key = ApiKeyFactory()

    output = _run("revoke_api_key", "--prefix", api_key.prefix)

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert "revoked" in output
    assert api_key_get_by_raw(raw_key=api_key.raw_key) is None


def test_revoke_api_key_with_an_unknown_prefix_fails():
    api_key = ApiKeyFactory()

    with pytest.raises(CommandError) as error:
        _run("revoke_api_key", "--prefix", "nothere")

    assert "nothere" in str(error.value)
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_sync_roles_creates_the_groups():
    output = _run("sync_roles")

    assert set(Group.objects.values_list("name", flat=True)) == {"admin", "marketer", "analyst"}
    assert "analyst:" in output


def test_create_admin_creates_then_updates_and_prints_the_login():
    first = _run("create_admin", "--email", "admin@smartmkt.local", "--password", "smartmkt-demo")
    second = _run("create_admin", "--email", "admin@smartmkt.local", "--password", "smartmkt-demo")

    user = get_user_model().objects.get()
    assert user.is_superuser
    assert user.check_password("smartmkt-demo")
    assert user.groups.filter(name="admin").exists()
    assert first.strip().splitlines()[-1] == "Login: admin@smartmkt.local / smartmkt-demo"
    assert second.strip().splitlines()[0] == "Updated admin admin@smartmkt.local"


def test_create_admin_with_a_bad_email_fails():
    with pytest.raises(CommandError):
        _run("create_admin", "--email", "nope")

    assert get_user_model().objects.count() == 0
