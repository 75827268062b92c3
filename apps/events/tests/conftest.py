"""Shared set-up of the events tests: API clients by scope, signed-in web users, and a
Segment-style message builder (import the plain helpers from here)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from tests.browser.shop_data import create_user


def api_client(*scopes: str) -> APIClient:
    """An API client that authenticates with a new key holding exactly `scopes`."""
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=list(scopes))))
    return client


def track_message(**overrides: Any) -> dict[str, Any]:
    """A valid `track` message (a product view a minute ago, a fresh message id)."""
    message = {
        "type": "track",
        "event": "Product Viewed",
        "anonymous_id": "anon-1",
        "properties": {"sku": "SKU-1"},
        "timestamp": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "message_id": str(uuid.uuid4()),
    }
    message.update(overrides)
    return message


@pytest.fixture
def analyst_client(client: Client) -> Client:
    """A web client signed in as an analyst (reads, never writes)."""
    client.force_login(create_user(username="anna", role="analyst"))
    return client


@pytest.fixture
def marketer_client(client: Client) -> Client:
    """A web client signed in as a marketer."""
    client.force_login(create_user(username="mark", role="marketer"))
    return client
