"""Per-key rate limit: a fixed one-minute window counted in the shared cache (Redis)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from apps.accounts.models import ApiKey


class ApiKeyRateThrottle(BaseThrottle):
    """One atomic INCR per request; cheap enough for the 100,000+/minute default."""

    def allow_request(self, request: Any, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        limit = api_key.rate_limit_per_minute or settings.API_KEY_DEFAULT_RATE_PER_MINUTE
        window = int(time.time() // 60)
        self._window_end = (window + 1) * 60
        cache_key = f"throttle:key:{api_key.pk}:{window}"
        if cache.add(cache_key, 1, timeout=120):
            count = 1
        else:
            try:
                count = cache.incr(cache_key)
            except ValueError:  # expired between add and incr
                cache.add(cache_key, 1, timeout=120)
                count = 1
        return count <= limit

    def wait(self) -> float | None:
        return max(0.0, self._window_end - time.time())
