"""Writes of the events app, split by sub-domain; import from here.

records:     orders, reviews and social posts recorded one at a time (API, admin)
ingest:      the events API pipeline (validation, idempotency, bulk insert, identity)
quarantine:  rejected/conflicting messages kept for inspection, discard
replay:      replay of quarantined messages, as sent or fixed
partitions:  monthly partitions of the events table on PostgreSQL
bulk_orders: streaming bulk writes of orders and lines for imports
"""

from apps.events.services.ingest import MAX_BATCH_MESSAGES, events_ingest
from apps.events.services.partitions import (
    event_partition_list,
    event_partitions_ensure,
    event_partitions_ensure_ahead,
)
from apps.events.services.quarantine import (
    quarantine_discard,
    quarantine_discard_many,
    quarantine_record_malformed,
)
from apps.events.services.records import (
    CLOCK_SKEW,
    order_create,
    review_create,
    review_upsert,
    social_post_upsert,
)
from apps.events.services.replay import (
    MAX_BULK_ENTRIES,
    ReplayManyResult,
    quarantine_replay,
    quarantine_replay_many,
)

__all__ = [
    "CLOCK_SKEW",
    "MAX_BATCH_MESSAGES",
    "MAX_BULK_ENTRIES",
    "ReplayManyResult",
    "event_partition_list",
    "event_partitions_ensure",
    "event_partitions_ensure_ahead",
    "events_ingest",
    "order_create",
    "quarantine_discard",
    "quarantine_discard_many",
    "quarantine_record_malformed",
    "quarantine_replay",
    "quarantine_replay_many",
    "review_create",
    "review_upsert",
    "social_post_upsert",
]
