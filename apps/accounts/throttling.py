"""Per-key rate limit: fixed one-minute windows counted in Redis (shared by all processes).

Small limits are counted exactly: one pipelined INCRBY+EXPIRE per request. Large limits (the
default is 120,000 a minute) are counted in batches: each process adds its requests to Redis
at most every SYNC_SECONDS or SYNC_REQUESTS, and decides from the last shared count plus its
own unsynced requests. A key can then overshoot by at most SYNC_REQUESTS per process, under
1% of such a limit, while a request costs no Redis round trip most of the time.
"""

from __future__ import annotations

import threading
import time
from time import monotonic
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from apps.accounts.models import ApiKey

EXACT_LIMIT_MAX = 6_000  # per minute; at or below this every request is counted exactly
SYNC_SECONDS = 0.5
SYNC_REQUESTS = 100
WINDOW_SECONDS = 60

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def _redis() -> redis.Redis | None:
    global _client
    if not settings.REDIS_URL:
        return None
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return _client


def _add(counter_key: str, amount: int) -> int:
    """Add to the shared window counter and return its new value."""
    client = _redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.incrby(counter_key, amount)
        pipe.expire(counter_key, WINDOW_SECONDS * 2)
        return int(pipe.execute()[0])
    cache.add(counter_key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return int(cache.incr(counter_key, amount))
    except ValueError:  # expired between add and incr
        cache.set(counter_key, amount, timeout=WINDOW_SECONDS * 2)
        return amount


class _BatchedCounter:
    """This process's view of one key's window: last shared count and requests not yet added."""

    __slots__ = ("shared", "pending", "synced_at")

    def __init__(self, now: float) -> None:
        self.shared = 0
        self.pending = 0
        self.synced_at = now


_batched: dict[str, _BatchedCounter] = {}
_batched_lock = threading.Lock()


def _count_batched(counter_key: str) -> int:
    now = monotonic()
    with _batched_lock:
        counter = _batched.get(counter_key)
        if counter is None:
            if len(_batched) > 10_000:
                _batched.clear()
            counter = _batched[counter_key] = _BatchedCounter(now)
        counter.pending += 1
        estimate = counter.shared + counter.pending
        due = counter.pending >= SYNC_REQUESTS or now - counter.synced_at >= SYNC_SECONDS
        if not due:
            return estimate
        amount, counter.pending, counter.synced_at = counter.pending, 0, now
    shared = _add(counter_key, amount)
    with _batched_lock:
        counter.shared = max(counter.shared, shared)
        return counter.shared + counter.pending


def _counter_key(api_key_id: int, window: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "smartmkt")
    return f"{prefix}:throttle:key:{api_key_id}:{window}"


def rate_limit_reset(*, api_key_id: int, at: float | None = None) -> None:
    """Forget a key's count in the window containing `at` (default now): for operators and tests."""
    counter_key = _counter_key(api_key_id, int((at or time.time()) // WINDOW_SECONDS))
    client = _redis()
    if client is not None:
        client.delete(counter_key)
    else:
        cache.delete(counter_key)
    with _batched_lock:
        _batched.pop(counter_key, None)


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        limit = api_key.rate_limit_per_minute or settings.API_KEY_DEFAULT_RATE_PER_MINUTE
        window = int(time.time() // WINDOW_SECONDS)
        self._window_end = (window + 1) * WINDOW_SECONDS
        counter_key = _counter_key(api_key.pk, window)
        if limit <= EXACT_LIMIT_MAX:
            count = _add(counter_key, 1)
        else:
            count = _count_batched(counter_key)
        return count <= limit

    def wait(self) -> float | None:
        return max(0.0, self._window_end - time.time())
