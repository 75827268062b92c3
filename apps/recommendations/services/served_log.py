"""The served-request log (`ServedRecommendation`), written off the request path.

Every answered request is logged: its request id is what the shop sends feedback with, and
the rows count requests per placement and model version. Inserting the row in the request
cost as much as the rest of a request answered from a kept answer, so when
RECOMMENDATIONS_SERVED_QUEUE is on (the default with REDIS_URL) the row is queued in a Redis
list and moved into the table in batches. Each web process first gathers its rows for
RECOMMENDATIONS_SERVED_BUFFER_SECONDS (0.1 s) and pushes them in one RPUSH from a daemon
thread (and at exit), so a request costs no round trip for its log (a process killed
outright loses at most that much of its log). The queue goes into the table

* by `flush_served_task` every minute (beat), and queued as soon as the list holds
  RECOMMENDATIONS_SERVED_FLUSH_ROWS rows (at most one pending task at a time);
* before anything reads the log: feedback for a request id not in the table yet (which
  also waits out other processes' buffers), the stats API and the Recommendations page.

Without Redis, with the queue off, or when Redis fails, the row is inserted at once (its
commit not waiting for the WAL flush on PostgreSQL). A flush holds a lock, copies a batch
(LRANGE), inserts it skipping request ids already there, then trims what it copied (LTRIM):
a crash in between inserts nothing twice and loses nothing.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.customers.selectors import customer_list
from apps.ml.selectors import model_version_list
from apps.recommendations.models import ServedRecommendation
from apps.recommendations.selectors import served_recommendation_get
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
            {**fields, "request_id": str(request_id), "served_at": served_at.isoformat()},
            default=str,
        )
        if float(setting("RECOMMENDATIONS_SERVED_BUFFER_SECONDS")) > 0:
            _buffer_add(document)
            return request_id
        if _push(client, [document]):
            return request_id
    _insert_now({**fields, "request_id": request_id, "served_at": served_at})
    return request_id


def _push(client: redis.Redis, documents: list[str]) -> bool:
    """RPUSH `documents` onto the queue (asking for a flush when it is long); False when
    Redis failed (the caller writes the rows itself)."""
    try:
        length = int(client.rpush(_key("pending"), *documents))
    except RedisError as error:
        logger.warning("Served-request queue unreachable (%s): writing the rows now", error)
        return False
    threshold = int(setting("RECOMMENDATIONS_SERVED_FLUSH_ROWS"))
    step = max(threshold // 10, 1)
    # once the queue is long, ask for a flush every tenth of the threshold crossed (not on
    # every request while the flush is on its way)
    if length >= threshold and (length // step) != ((length - len(documents)) // step):
        _flush_soon(client)
    return True


# --- per-process buffer: rows reach Redis in one RPUSH every RECOMMENDATIONS_SERVED_BUFFER_SECONDS

_buffer: list[str] = []
_buffer_lock = threading.Lock()
_pusher_pid = 0


def _buffer_add(document: str) -> None:
    global _pusher_pid
    with _buffer_lock:
        _buffer.append(document)
        start = _pusher_pid != os.getpid()  # none yet in this process (or we were forked)
        if start:
            _pusher_pid = os.getpid()
    if start:
        threading.Thread(target=_pusher_loop, name="served-log-pusher", daemon=True).start()
        atexit.register(served_log_push)


def served_log_push() -> int:
    """Move this process's buffered rows to the Redis queue now (or, if Redis fails, into
    the table); returns how many."""
    with _buffer_lock:
        documents = _buffer[:]
        _buffer.clear()
    if not documents:
        return 0
    client = _redis()
    if client is None or not _push(client, documents):
        _documents_insert(documents)
    return len(documents)


def _pusher_loop() -> None:
    while True:
        time.sleep(max(float(setting("RECOMMENDATIONS_SERVED_BUFFER_SECONDS")), 0.05))
        try:
            served_log_push()
        except Exception:  # noqa: BLE001 - a daemon thread must not die; rows stay buffered
            logger.exception("Pushing buffered served requests failed")
        finally:
            close_old_connections()


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


def _documents_insert(documents: list[Any]) -> None:
    """Queued documents into the table (unreadable ones dropped, request ids already there
    skipped)."""
    rows = [row for document in documents if (row := _row(document)) is not None]
    _gone_references_cleared(rows)
    ServedRecommendation.objects.bulk_create(rows, ignore_conflicts=True)


def served_get_waiting(request_id: str) -> ServedRecommendation | None:
    """The served request `request_id`, flushing the queue (and waiting out the web
    processes' buffers) when it is not in the table yet; None when it was never served."""
    served = served_recommendation_get(request_id=request_id)
    if served is not None or _redis() is None:
        return served
    wait = min(float(setting("RECOMMENDATIONS_SERVED_BUFFER_SECONDS")), 1.0)
    for attempt in range(3):
        if attempt:
            time.sleep(wait)
        served_log_flush()
        served = served_recommendation_get(request_id=request_id)
        if served is not None or wait <= 0:
            return served
    return served


def served_log_flush() -> int:
    """Move every queued served request into the table; returns how many rows were read.

    Never raises for Redis: when it is down, nothing can be queued or read anyway.
    """
    served_log_push()
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
                _documents_insert(documents)
                client.ltrim(_key("pending"), len(documents), -1)
                moved += len(documents)
        finally:
            lock.release()
    except RedisError as error:
        logger.warning("Served-request queue unreachable (%s): nothing flushed", error)
    return moved


def served_log_pending() -> int:
    """How many served requests wait (this process's buffer and the queue; 0 without one)."""
    client = _redis()
    if client is None:
        return 0
    with _buffer_lock:
        buffered = len(_buffer)
    try:
        return buffered + int(client.llen(_key("pending")))
    except RedisError:
        return buffered
