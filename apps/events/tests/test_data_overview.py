"""The Data overview page: what the platform holds and what it took in the last 24 hours."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.events.selectors import ingestion_summary
from apps.events.services import events_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst() -> Client:
    client = Client()
    client.force_login(UserFactory(role="analyst"))
    return client


def _send(count: int, source: str) -> None:
    events_ingest(
        messages=[
            {"type": "page", "anonymous_id": f"a-{i}", "message_id": f"{source}-{i}"}
            for i in range(count)
        ],
        source=source,
    )


def test_ingestion_summary_counts_stored_messages_per_source_and_hour():
    _send(3, "web")
    _send(2, "app")
    events_ingest(messages=[{"type": "page", "message_id": "bad"}])  # rejected: not counted

    summary = ingestion_summary(hours=24)

    assert summary["total"] == 5
    assert [(row["source"], row["messages"]) for row in summary["by_source"]] == [
        ("web", 3),
        ("app", 2),
    ]
    assert len(summary["per_hour"]) == 24
    assert summary["per_hour"][-1]["messages"] == 5


def test_the_overview_shows_collection_quarantine_imports_and_quality(analyst):
    _send(4, "web")
    events_ingest(messages=[{"type": "page", "message_id": "bad"}])

    response = analyst.get("/data/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="data-tabs"' in page
    assert "Collected in the last 24 hours" in page
    assert "4 messages stored" in page
    assert "<code>web</code>" in page
    assert 'data-testid="quarantine-card"' in page
    assert "messages wait to be fixed" in page
    assert "No imports yet" in page
    assert "No quality report yet" in page
    assert "events_event_default" in page
    assert "Not built yet" not in page


def test_an_empty_platform_says_where_data_comes_from(analyst):
    page = analyst.get("/data/").content.decode()

    assert "Nothing received in the last 24 hours" in page
    assert "Nothing is waiting" in page
