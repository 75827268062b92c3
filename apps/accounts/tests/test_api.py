"""Key authentication, revocation, rate limits, session roles and GET /api/v1/me."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from apps.accounts import throttling
from apps.accounts.choices import READ_SCOPES
from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_revoke
from apps.accounts.tests.factories import ApiKeyFactory, UserFactory, bearer
from apps.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def test_me_describes_the_calling_key(client):
    api_key = ApiKeyFactory(name="shop backend", scopes=["events:write", "customers:read"])

    response = client.get("/api/v1/me", **bearer(api_key))

    assert response.status_code == 200
    assert response.json() == {
        "kind": "api_key",
        "name": "shop backend",
        "scopes": ["customers:read", "events:write"],
        "key_prefix": api_key.prefix,
        "rate_limit_per_minute": None,
        "email": "",
        "role": "",
    }


def test_me_describes_the_signed_in_user(client):
    user = UserFactory(username="ana@example.com", role="analyst")
    client.force_login(user)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "user"
    assert body["name"] == "ana@example.com"
    assert body["role"] == "analyst"
    assert body["scopes"] == sorted(READ_SCOPES)


def test_no_key_is_401_with_the_error_shape(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer smk_abc_wrong", "Bearer ", "Bearer garbage"])
def test_a_bad_key_is_401(client, header):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_revoked_key_is_401(client):
    # given a key that worked
    api_key = ApiKeyFactory()
    assert client.get("/api/v1/me", **bearer(api_key)).status_code == 200

    # when it is revoked
    api_key_revoke(api_key_id=api_key.pk)

    # then it is refused
    response = client.get("/api/v1/me", **bearer(api_key))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or revoked API key",
        "code": "authentication_failed",
    }


def test_a_request_records_when_the_key_was_last_used(client):
    api_key = ApiKeyFactory()

    client.get("/api/v1/me", **bearer(api_key))

    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_a_key_over_its_rate_limit_gets_429(client, monkeypatch):
    # given a key allowed 3 requests a minute, in a fixed minute with a clean counter
    api_key = ApiKeyFactory(rate_limit_per_minute=3)
    now = time.time()
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: now))
    throttling.rate_limit_reset(api_key_id=api_key.pk, at=now)

    # when it makes four requests
    statuses = [client.get("/api/v1/ping", **bearer(api_key)).status_code for _ in range(4)]

    # then the fourth is refused with the error shape and a Retry-After
    response = client.get("/api/v1/ping", **bearer(api_key))
    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "throttled"
    assert int(response["Retry-After"]) <= 60


def test_another_key_is_not_limited_by_a_busy_one(client, monkeypatch):
    busy = ApiKeyFactory(rate_limit_per_minute=1)
    other = ApiKeyFactory(rate_limit_per_minute=1)
    now = time.time()
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: now))
    for api_key in (busy, other):
        throttling.rate_limit_reset(api_key_id=api_key.pk, at=now)

    client.get("/api/v1/ping", **bearer(busy))
    assert client.get("/api/v1/ping", **bearer(busy)).status_code == 429

    assert client.get("/api/v1/ping", **bearer(other)).status_code == 200


def test_a_large_limit_is_counted_in_batches_and_overshoots_by_at_most_one_batch(
    client, monkeypatch
):
    # given a key whose limit is counted in batches of 2 requests (no time-based sync)
    api_key = ApiKeyFactory(rate_limit_per_minute=5)
    now = time.time()
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: now))
    monkeypatch.setattr(throttling, "EXACT_LIMIT_MAX", 2)
    monkeypatch.setattr(throttling, "SYNC_REQUESTS", 2)
    monkeypatch.setattr(throttling, "SYNC_SECONDS", 10_000)
    throttling.rate_limit_reset(api_key_id=api_key.pk, at=now)

    # when it makes eight requests
    statuses = [client.get("/api/v1/ping", **bearer(api_key)).status_code for _ in range(8)]

    # then the first five pass, the rest are refused, and Redis holds the synced count
    assert statuses == [200] * 5 + [429] * 3
    shared = throttling._redis().get(throttling._counter_key(api_key.pk, int(now // 60)))
    assert int(shared) == 8


def test_an_analyst_reads_but_cannot_write(client):
    # given a signed-in analyst
    client.force_login(UserFactory(role="analyst"))

    # when they list customers and then try to create one
    listed = client.get("/api/v1/customers")
    created = client.post("/api/v1/customers", {"external_id": "c-1"}, format="json")

    # then reading works, writing is refused by scope, and nothing was created
    assert listed.status_code == 200
    assert created.status_code == 403
    assert created.json() == {
        "detail": "This operation needs the scope customers:write",
        "code": "permission_denied",
    }
    assert Customer.objects.count() == 0


def test_a_marketer_can_write(client):
    client.force_login(UserFactory(role="marketer"))

    response = client.post("/api/v1/customers", {"external_id": "c-1"}, format="json")

    assert response.status_code == 201
    assert Customer.objects.filter(external_id="c-1").exists()


def test_a_user_without_a_role_holds_no_scope(client):
    client.force_login(UserFactory())

    response = client.get("/api/v1/customers")

    assert response.status_code == 403
    assert Customer.objects.count() == 0


def test_a_key_without_the_scope_gets_403(client):
    api_key = ApiKeyFactory(scopes=["catalog:read"])

    response = client.get("/api/v1/customers", **bearer(api_key))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
