"""Admin of API keys (created through the service, secret shown once) and the audit log."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from apps.accounts.models import ApiKey, AuditLog
from apps.accounts.selectors import api_key_get_by_raw
from apps.accounts.tests.factories import ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_creating_a_key_in_the_admin_shows_the_secret_once(admin_client):
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {"name": "shop", "scopes": ["events:write", "customers:read"], "rate_limit_per_minute": ""},
        follow=True,
    )

    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    shown = [m for m in messages if m.startswith("API key for 'shop': smk_")]
    assert len(shown) == 1
    raw_key = shown[0].split(": ", 1)[1].split(" ")[0]
    assert api_key_get_by_raw(raw_key=raw_key) == api_key
    assert api_key.scopes == ["customers:read", "events:write"]
    assert AuditLog.objects.filter(action="api_key.created").count() == 1
    # the change page never shows it again
    page = admin_client.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    assert raw_key not in page


def test_a_key_with_an_unknown_scope_is_refused_by_the_form(admin_client):
    response = admin_client.post(
        "/admin/accounts/apikey/add/", {"name": "shop", "scopes": ["root"]}
    )

    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    assert ApiKey.objects.count() == 0


def test_the_list_shows_keys_and_the_revoke_action_revokes(admin_client):
    keys = ApiKeyFactory.create_batch(2, scopes=["catalog:read"])

    listing = admin_client.get("/admin/accounts/apikey/")
    revoke = admin_client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke_selected", "_selected_action": [keys[0].pk]},
        follow=True,
    )

    assert listing.status_code == 200
    assert keys[0].prefix in listing.content.decode()
    assert revoke.status_code == 200
    keys[0].refresh_from_db()
    keys[1].refresh_from_db()
    assert keys[0].revoked_at is not None
    assert keys[1].revoked_at is None


def test_keys_cannot_be_deleted_and_the_audit_log_is_read_only(admin_client):
    api_key = ApiKeyFactory()
    AuditLog.objects.create(action="api_key.created", target="x")

    delete = admin_client.get(f"/admin/accounts/apikey/{api_key.pk}/delete/")
    audit_add = admin_client.get("/admin/accounts/auditlog/add/")
    audit_list = admin_client.get("/admin/accounts/auditlog/")

    assert delete.status_code == 403
    assert audit_add.status_code == 403
    assert audit_list.status_code == 200
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_editing_a_key_changes_name_and_rate_only(admin_client):
    api_key = ApiKeyFactory(name="old", scopes=["catalog:read"])

    response = admin_client.post(
        f"/admin/accounts/apikey/{api_key.pk}/change/",
        {"name": "new", "rate_limit_per_minute": "100", "scopes": ["ml:run"]},
    )

    assert response.status_code == 302
    api_key.refresh_from_db()
    assert (api_key.name, api_key.rate_limit_per_minute) == ("new", 100)
    assert api_key.scopes == ["catalog:read"]
