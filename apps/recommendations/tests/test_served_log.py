"""The served-request log queued in Redis (services/served_log.py): rows arrive in the table
in batches, feedback and stats never miss a request served a moment ago, nothing is inserted
twice, and without Redis the row is written in the request."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.customers.services.identity import customer_merge
from apps.customers.tests.factories import CustomerFactory
from apps.recommendations.models import ServedRecommendation
from apps.recommendations.services import (
    feedback_record,
    recommendations_for,
    served_log_flush,
    served_log_pending,
)
from apps.recommendations.services.served_log import _key, _redis
from apps.recommendations.tests.shop import publish, shop_build, skus, toy_model

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(settings):
    settings.RECOMMENDATIONS_SERVED_QUEUE = True


@pytest.fixture
def shop():
    shop_build()
    publish(toy_model())


def ask(identifier: str = "visitor-1"):
    return recommendations_for(customer_id=identifier, n=3, diversity=0.0)


def test_a_served_request_is_queued_then_flushed_into_the_table(shop):
    first, second = ask(), ask("visitor-2")

    assert ServedRecommendation.objects.count() == 0
    assert served_log_pending() == 2

    assert served_log_flush() == 2
    rows = {str(row.request_id): row for row in ServedRecommendation.objects.all()}
    assert set(rows) == {first.request_id, second.request_id}
    row = rows[first.request_id]
    assert (row.visitor_id, row.items, row.source, row.model_version_id) == (
        "visitor-1", skus(first), "cold_start", first.model_version_id,
    )  # fmt: skip
    assert (served_log_pending(), served_log_flush()) == (0, 0)


def test_feedback_for_a_request_still_queued_is_accepted(shop):
    served = ask()

    result = feedback_record(
        request_id=served.request_id, kind="click", product_ids=[served.items[0].product_id]
    )

    assert (result.accepted, served_log_pending()) == (1, 0)
    assert ServedRecommendation.objects.get(request_id=served.request_id).clicks == 1


def test_the_stats_api_counts_requests_served_a_moment_ago(shop):
    ask()
    ask()

    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["recommendations:read"])))
    stats = client.get("/api/v1/recommendations/stats?days=1").json()

    assert sum(row["requests"] for row in stats["results"]) == 2


def test_a_batch_copied_twice_is_inserted_once_and_bad_entries_are_dropped(shop):
    served = ask()
    client = _redis()
    document = client.lrange(_key("pending"), 0, -1)[0]
    # as if a flush had crashed after inserting but before trimming
    client.rpush(_key("pending"), document, b"{not json", json.dumps({"request_id": "x"}))

    assert served_log_flush() == 4
    assert list(ServedRecommendation.objects.values_list("request_id", flat=True)) == [
        uuid.UUID(served.request_id)
    ]


def test_a_long_queue_is_flushed_without_waiting_for_the_schedule(shop, settings):
    settings.RECOMMENDATIONS_SERVED_FLUSH_ROWS = 3

    ask()
    ask()
    assert ServedRecommendation.objects.count() == 0
    ask()  # the third row queues the flush task (run at once here: tasks are eager in tests)

    assert (ServedRecommendation.objects.count(), served_log_pending()) == (3, 0)


def test_without_a_reachable_redis_the_row_is_written_in_the_request(shop):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        served = ask()
        assert served_log_flush() == 0

    assert ServedRecommendation.objects.filter(request_id=served.request_id).exists()


def test_with_the_queue_off_the_row_is_written_in_the_request(shop, settings):
    settings.RECOMMENDATIONS_SERVED_QUEUE = False

    served = ask()

    assert ServedRecommendation.objects.filter(request_id=served.request_id).exists()
    assert served_log_pending() == 0


def test_a_customer_merged_away_before_the_flush_leaves_the_row_without_customer(shop):
    CustomerFactory(external_id="bob")
    CustomerFactory(external_id="bobby")
    served = ask("bobby")

    customer_merge(survivor_external_id="bob", merged_external_id="bobby", reason="duplicate")

    assert served_log_flush() == 1
    row = ServedRecommendation.objects.get(request_id=served.request_id)
    assert (row.customer_id, row.visitor_id) == (None, "bobby")


def test_buffered_rows_reach_the_queue_from_the_process_pusher(shop, settings):
    settings.RECOMMENDATIONS_SERVED_BUFFER_SECONDS = 0.05
    served = ask()
    client = _redis()
    assert client.llen(_key("pending")) == 0  # still in this process's buffer

    for _ in range(100):  # the pusher thread moves it within a few intervals
        if client.llen(_key("pending")):
            break
        time.sleep(0.02)

    assert client.llen(_key("pending")) == 1
    assert served_log_flush() == 1
    assert ServedRecommendation.objects.filter(request_id=served.request_id).exists()


def test_feedback_finds_a_request_still_in_the_buffer(shop, settings):
    settings.RECOMMENDATIONS_SERVED_BUFFER_SECONDS = 60  # the pusher would wait a minute
    served = ask()

    result = feedback_record(
        request_id=served.request_id, kind="impression", product_ids=[served.items[0].product_id]
    )

    assert result.accepted == 1
    assert ServedRecommendation.objects.get(request_id=served.request_id).impressions == 1
