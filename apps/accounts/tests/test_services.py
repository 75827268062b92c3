"""Accounts services: key creation (hash only), lookup, revoke, touch, update, roles, admins."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.accounts.choices import ALL_SCOPES, READ_SCOPES, AuditAction, Role
from apps.accounts.models import ApiKey, AuditLog
from apps.accounts.selectors import (
    api_key_get_by_prefix,
    api_key_get_by_raw,
    principal_describe,
    user_scopes,
)
from apps.accounts.services import (
    admin_user_upsert,
    api_key_create,
    api_key_revoke,
    api_key_touch,
    api_key_update,
    roles_sync,
)
from apps.accounts.tests.factories import ApiKeyFactory, UserFactory
from apps.core.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def test_api_key_create_stores_only_the_hash_and_audits():
    # given an admin
    admin = UserFactory()

    # when a key is created
    created = api_key_create(
        name=" shop backend ",
        scopes=["events:write", "customers:read", "events:write"],
        created_by=admin,
        rate_limit_per_minute=500,
    )

    # then the row holds the prefix and the SHA-256 of the key, never the key
    api_key = ApiKey.objects.get()
    assert created.api_key == api_key
    assert created.raw_key.startswith(f"smk_{api_key.prefix}_")
    assert api_key.hashed_secret == hashlib.sha256(created.raw_key.encode()).hexdigest()
    assert created.raw_key not in (api_key.name, api_key.prefix, api_key.hashed_secret)
    assert api_key.name == "shop backend"
    assert api_key.scopes == ["customers:read", "events:write"]
    assert api_key.rate_limit_per_minute == 500
    assert api_key.created_by == admin
    audit = AuditLog.objects.get()
    assert audit.action == AuditAction.API_KEY_CREATED
    assert audit.actor == admin
    assert audit.data == {"scopes": ["customers:read", "events:write"]}


def test_api_key_create_refuses_an_unknown_scope_and_writes_nothing():
    with pytest.raises(ValidationFailed) as error:
        api_key_create(name="partner", scopes=["customers:read", "customers:delete"])

    assert error.value.field == "scopes"
    assert "customers:delete" in error.value.message
    assert ApiKey.objects.count() == 0
    assert AuditLog.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "scopes", "rate", "field"),
    [
        ("   ", ["customers:read"], None, "name"),
        ("partner", [" ", ""], None, "scopes"),
        ("partner", ["customers:read"], 0, "rate_limit_per_minute"),
    ],
)
def test_api_key_create_refuses_bad_input(name, scopes, rate, field):
    with pytest.raises(ValidationFailed) as error:
        api_key_create(name=name, scopes=scopes, rate_limit_per_minute=rate)

    assert error.value.field == field
    assert ApiKey.objects.count() == 0


def test_api_key_get_by_raw_finds_the_key_and_refuses_a_wrong_secret():
    created = api_key_create(name="partner", scopes=["customers:read"])
    prefix = created.api_key.prefix

    assert api_key_get_by_raw(raw_key=created.raw_key) == created.api_key
    assert api_key_get_by_raw(raw_key=f"smk_{prefix}_not-the-secret") is None
    assert api_key_get_by_raw(raw_key="smk_unknownprefix_secret") is None
    assert api_key_get_by_raw(raw_key="garbage") is None
    assert api_key_get_by_prefix(prefix=prefix) == created.api_key


def test_api_key_revoke_makes_the_key_unusable_and_audits_once():
    # given an active key
    created = api_key_create(name="partner", scopes=["customers:read"])

    # when it is revoked twice
    api_key_revoke(api_key_id=created.api_key.pk)
    revoked = api_key_revoke(api_key_id=created.api_key.pk)

    # then it is refused, and the audit log has one revocation
    assert revoked.revoked_at is not None
    assert api_key_get_by_raw(raw_key=created.raw_key) is None
    assert AuditLog.objects.filter(action=AuditAction.API_KEY_REVOKED).count() == 1


def test_api_key_revoke_of_an_unknown_key_is_not_found():
    with pytest.raises(NotFound):
        api_key_revoke(api_key_id=987654)

    assert AuditLog.objects.count() == 0


def test_api_key_touch_records_use_at_most_once_a_minute():
    api_key = ApiKeyFactory()
    assert api_key.last_used_at is None

    api_key_touch(api_key=api_key)
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    api_key_touch(api_key=api_key)
    second = ApiKey.objects.get(pk=api_key.pk).last_used_at

    assert first is not None
    assert second == first

    # a minute later the next use is recorded
    api_key.last_used_at = first - timedelta(minutes=2)
    api_key_touch(api_key=api_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first


def test_api_key_update_changes_name_and_rate_but_not_scopes():
    api_key = ApiKeyFactory(scopes=["catalog:read"], rate_limit_per_minute=10)

    api_key_update(api_key_id=api_key.pk, name="renamed", rate_limit_per_minute=None)

    api_key.refresh_from_db()
    assert api_key.name == "renamed"
    assert api_key.rate_limit_per_minute is None
    assert api_key.scopes == ["catalog:read"]


def test_api_key_update_refuses_a_zero_rate_and_keeps_the_old_one():
    api_key = ApiKeyFactory(rate_limit_per_minute=10)

    with pytest.raises(ValidationFailed):
        api_key_update(api_key_id=api_key.pk, name="x", rate_limit_per_minute=0)

    api_key.refresh_from_db()
    assert api_key.rate_limit_per_minute == 10


def test_roles_sync_creates_the_three_groups_idempotently():
    first = roles_sync()
    second = roles_sync()

    assert set(first) == {"admin", "marketer", "analyst"}
    assert first == second
    assert Group.objects.filter(name__in=["admin", "marketer", "analyst"]).count() == 3
    analyst = Group.objects.get(name="analyst")
    assert analyst.permissions.exists()
    assert not analyst.permissions.exclude(codename__startswith="view_").exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", ALL_SCOPES),
        ("marketer", ALL_SCOPES),
        ("analyst", READ_SCOPES),
        (None, frozenset()),
    ],
)
def test_user_scopes_follow_the_role(role, expected):
    user = UserFactory(role=role)

    assert user_scopes(user=user) == expected


def test_admin_user_upsert_creates_a_superuser_in_the_admin_group():
    result = admin_user_upsert(email=" Admin@Shop.example ", password="s3cret-pass")

    user = get_user_model().objects.get()
    assert result.created is True
    assert result.generated_password == ""
    assert user.username == "admin@shop.example"
    assert user.email == "admin@shop.example"
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("s3cret-pass")
    assert list(user.groups.values_list("name", flat=True)) == [Role.ADMIN.value]


def test_admin_user_upsert_again_updates_and_keeps_the_password_unless_given():
    admin_user_upsert(email="admin@shop.example", password="first-pass")

    again = admin_user_upsert(email="admin@shop.example")
    user = get_user_model().objects.get()
    assert again.created is False
    assert again.generated_password == ""
    assert user.check_password("first-pass")

    admin_user_upsert(email="ADMIN@shop.example", password="second-pass")
    user.refresh_from_db()
    assert get_user_model().objects.count() == 1
    assert user.check_password("second-pass")


def test_admin_user_upsert_without_password_generates_one_for_a_new_admin():
    result = admin_user_upsert(email="ops@shop.example")

    assert len(result.generated_password) >= 16
    assert result.user.check_password(result.generated_password)


def test_admin_user_upsert_refuses_a_bad_email():
    with pytest.raises(ValidationFailed) as error:
        admin_user_upsert(email="not-an-email", password="x")

    assert error.value.field == "email"
    assert get_user_model().objects.count() == 0


def test_principal_describe_a_key_and_a_user():
    api_key = ApiKeyFactory(name="shop", scopes=["events:write", "catalog:read"])
    user = UserFactory(username="ana@example.com", role="analyst")

    key_principal = principal_describe(user=None, auth=api_key)
    user_principal = principal_describe(user=user, auth=None)

    assert key_principal.kind == "api_key"
    assert key_principal.name == "shop"
    assert key_principal.scopes == ["catalog:read", "events:write"]
    assert key_principal.key_prefix == api_key.prefix
    assert user_principal.kind == "user"
    assert user_principal.role == "analyst"
    assert user_principal.email == "ana@example.com"
    assert user_principal.scopes == sorted(READ_SCOPES)
