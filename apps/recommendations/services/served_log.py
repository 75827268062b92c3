"""The served-request log (`ServedRecommendation`), written off the request path.

Every answered request is logged: its request id is what the shop sends feedback with, and
the rows count requests per placement and model version. Inserting the row in the request
cost as much as the rest of a request answered from a kept answer, so when
RECOMMENDATIONS_SERVED_QUEUE is on (the default with REDIS_URL) the row is queued in a Redis
list (one RPUSH) and moved into the table in batches:

* by `flush_served_task` every minute (beat), and queued as soon as the list holds
  RECOMMENDATIONS_SERVED_FLUSH_ROWS rows (at most one pending task at a time);
* before anything reads the log: feedback for a request id not in the table yet, the stats
  API, the Recommendations page and the admin.

Without Redis, with the queue off, or when Redis fails, the row is inserted at once (its
commit not waiting for the WAL flush on PostgreSQL). A flush holds a lock, copies a batch
(LRANGE), inserts it skipping request ids already there, then trims what it copied (LTRIM):
a crash in between inserts nothing twice and loses nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.customers.selectors import customer_list
from apps.ml.selectors import model_version_list
from apps.recommendations.models import ServedRecommendation
from apps.recommendations.services.config import setting

logger = logging.getLogger(__name__)

BATCH = 2000
LOCK_SECONDS = 120
QUEUED_TASK_SECONDS = 60

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url or not setting("RECOMMENDATIONS_SERVED_QUEUE"):
        return None
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.setdefault(
                url, redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
            )
    return client


def _key(name: str) -> str:
    prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX", "")
    return f"{prefix}:recommendations:served:{name}"


def _insert_now(fields: dict[str, Any]) -> None:
    """One row, committed without waiting for the WAL flush on PostgreSQL: the log is the
    one write of a request, and a crash may lose its last fraction of a second."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        ServedRecommendation.objects.create(**fields)


def served_log(**fields: Any) -> uuid.UUID:
    """Log one served request (the ServedRecommendation fields but request_id and
    served_at); returns its new request id."""
    request_id = uuid.uuid4()
    served_at = timezone.now()
    client = _redis()
    if client is not None:
        document = json.dumps(
            {**fields, "request_id": str(request_id), "served_at": served_at.isoformat()}
        )
        try:
            length = int(client.rpush(_key("pending"), document))
        except RedisError as error:
            logger.warning("Served-request queue unreachable (%s): writing the row now", error)
        else:
            threshold = int(setting("RECOMMENDATIONS_SERVED_FLUSH_ROWS"))
            # once the queue is long, ask for a flush every tenth of the threshold (not on
            # every request while the flush is on its way)
            if length >= threshold and length % max(threshold // 10, 1) == 0:
                _flush_soon(client)
            return request_id
    _insert_now({**fields, "request_id": request_id, "served_at": served_at})
    return request_id


def _flush_soon(client: redis.Redis) -> None:
    try:
        if not client.set(_key("flush-queued"), 1, nx=True, ex=QUEUED_TASK_SECONDS):
            return
        from apps.recommendations.tasks import flush_served_task  # tasks import services

        flush_served_task.apply_async(queue="default")
    except Exception as error:  # noqa: BLE001 - the beat schedule flushes anyway
        logger.warning("Could not queue a flush of served requests: %s", error)


def _row(document: bytes | str) -> ServedRecommendation | None:
    try:
        values = json.loads(document)
        values["request_id"] = uuid.UUID(values["request_id"])
        values["served_at"] = datetime.fromisoformat(values["served_at"])
        return ServedRecommendation(**values)
    except (ValueError, KeyError, TypeError) as error:
        logger.error("Dropping an unreadable served-request entry: %s", error)
        return None


def _gone_references_cleared(rows: list[ServedRecommendation]) -> None:
    """A customer merged away or a model version deleted since the request was served: the
    reference becomes NULL, as their on_delete says (the visitor id stays)."""
    customer_ids = {row.customer_id for row in rows if row.customer_id is not None}
    version_ids = {row.model_version_id for row in rows if row.model_version_id is not None}
    customers = set(customer_list().filter(pk__in=customer_ids).values_list("pk", flat=True))
    versions = set(model_version_list().filter(pk__in=version_ids).values_list("pk", flat=True))
    for row in rows:
        if row.customer_id is not None and row.customer_id not in customers:
            row.customer_id = None
        if row.model_version_id is not None and row.model_version_id not in versions:
            row.model_version_id = None


def served_log_flush() -> int:
    """Move every queued served request into the table; returns how many rows were read.

    Never raises for Redis: when it is down, nothing can be queued or read anyway.
    """
    client = _redis()
    if client is None:
        return 0
    moved = 0
    try:
        lock = client.lock(_key("flush-lock"), timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
        if not lock.acquire():
            return 0
        try:
            client.delete(_key("flush-queued"))
            while True:
                documents = client.lrange(_key("pending"), 0, BATCH - 1)
                if not documents:
                    break
                rows = [row for document in documents if (row := _row(document)) is not None]
                _gone_references_cleared(rows)
                ServedRecommendation.objects.bulk_create(rows, ignore_conflicts=True)
                client.ltrim(_key("pending"), len(documents), -1)
                moved += len(documents)
        finally:
            lock.release()
    except RedisError as error:
        logger.warning("Served-request queue unreachable (%s): nothing flushed", error)
    return moved


def served_log_pending() -> int:
    """How many served requests wait in the queue (0 without one)."""
    client = _redis()
    if client is None:
        return 0
    try:
        return int(client.llen(_key("pending")))
    except RedisError:
        return 0
