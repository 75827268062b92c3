"""Monthly partitions of the events table (PostgreSQL declarative partitioning)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.events.models import Event
from apps.events.services import (
    event_partition_list,
    event_partitions_ensure_ahead,
    events_ingest,
)
from apps.events.services.partitions import event_partitions_forget, partition_name
from apps.events.tasks import ensure_event_partitions_task
from apps.events.tests.factories import EventFactory
from smartmkt.schedules import BEAT_SCHEDULE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_partition_cache():
    # DDL of a test is rolled back with its transaction; the process cache must not remember it.
    event_partitions_forget()
    yield
    event_partitions_forget()


def _partition_of(event_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM events_event WHERE event_id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def test_partitions_exist_from_48_hours_back_to_months_ahead():
    event_partitions_ensure_ahead()
    names = {partition["name"] for partition in event_partition_list()}
    now = datetime.now(UTC)

    for moment in (now - timedelta(hours=48), now, now + timedelta(days=80)):
        assert partition_name(moment.year, moment.month) in names
    assert "events_event_default" in names


def test_an_old_timestamp_gets_its_own_month_on_demand():
    message = {
        "type": "track",
        "event": "Order Viewed",
        "user_id": "C-1",
        "timestamp": "2019-03-14T12:00:00Z",
        "message_id": str(uuid.uuid4()),
    }

    result = events_ingest(messages=[message])

    assert len(result.accepted) == 1
    assert _partition_of(message["message_id"]) == "events_event_p2019_03"


def test_rows_in_the_default_partition_move_into_a_new_month_intact():
    stray = EventFactory(occurred_at=datetime(2015, 6, 2, tzinfo=UTC), event_id="stray-1")
    assert _partition_of("stray-1") == "events_event_default"

    created = ensure_event_partitions_task()

    assert "events_event_p2015_06" in created
    assert _partition_of("stray-1") == "events_event_p2015_06"
    assert Event.objects.get(event_id="stray-1").pk == stray.pk
    assert Event.objects.count() == 1


def test_queries_by_time_prune_to_the_month_partitions():
    event_partitions_ensure_ahead()
    start = timezone.now() - timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT count(*) FROM events_event WHERE occurred_at >= %s", [start])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "events_event_p2015" not in plan
    assert partition_name(start.year, start.month) in plan


def test_the_partition_task_is_scheduled():
    assert BEAT_SCHEDULE["events-ensure-partitions"]["task"] == (
        "events.ensure_event_partitions_task"
    )
