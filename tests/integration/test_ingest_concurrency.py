"""Idempotency under concurrency: copies of a batch arriving at once on different connections.

Each thread has its own database connection (as gunicorn workers do); PostgreSQL's
INSERT ... ON CONFLICT on the receipt ledger makes the later copies wait for the first and
then see it, so every message is stored exactly once and acknowledged as a duplicate elsewhere.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.events.models import Event, MessageReceipt, QuarantinedMessage
from apps.events.services import events_ingest

pytestmark = pytest.mark.django_db(transaction=True)


def _batch(size: int) -> list[dict]:
    moment = (timezone.now() - timedelta(minutes=5)).isoformat()
    return [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymous_id": f"anon-{index % 7}",
            "user_id": f"C-{index % 11}",
            "properties": {"sku": f"SKU-{index}"},
            "timestamp": moment,
            "message_id": str(uuid.uuid4()),
        }
        for index in range(size)
    ]


def _run_concurrently(batches: list[list[dict]]) -> list:
    barrier = threading.Barrier(len(batches))
    results: list = [None] * len(batches)
    failures: list[BaseException] = []

    def send(position: int) -> None:
        try:
            barrier.wait()
            results[position] = events_ingest(messages=batches[position])
        except Exception as error:  # noqa: BLE001  (re-raised by the assert below)
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return results


def test_same_batch_sent_by_four_workers_at_once_is_stored_once():
    batch = _batch(300)

    results = _run_concurrently([batch, batch, batch, batch])

    accepted = sum(len(result.accepted) for result in results)
    duplicates = sum(len(result.duplicates) for result in results)
    assert (accepted, duplicates) == (300, 900)
    assert all(len(result.rejected) == 0 for result in results)
    assert Event.objects.count() == 300
    assert MessageReceipt.objects.count() == 300
    assert set(Event.objects.values_list("event_id", flat=True)) == {
        message["message_id"] for message in batch
    }


def test_overlapping_batches_in_opposite_orders_do_not_deadlock():
    shared = _batch(200)
    first = shared + _batch(50)
    second = list(reversed(shared)) + _batch(50)

    results = _run_concurrently([first, second])

    assert sum(len(result.accepted) for result in results) == 300
    assert sum(len(result.duplicates) for result in results) == 200
    assert Event.objects.count() == 300


def test_concurrent_copies_with_different_payloads_store_one_and_quarantine_the_other():
    message = _batch(1)[0]
    other = {**message, "properties": {"sku": "OTHER"}}

    results = _run_concurrently([[message], [other]])

    outcomes = sorted((len(r.accepted), len(r.rejected)) for r in results)
    assert outcomes == [(0, 1), (1, 0)]
    assert Event.objects.count() == 1
    conflict = QuarantinedMessage.objects.get()
    assert conflict.kind == "conflict"
    stored_sku = Event.objects.get().properties["sku"]
    assert conflict.payload["properties"]["sku"] != stored_sku
