"""Tunables of recommendations, read from Django settings with embedded defaults.

Each name can be set in the settings module (from the environment through smartmkt/env.py);
without it the default here applies, so the app runs with nothing configured.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

KIND = "recommendations.hybrid"

_DEFAULTS: dict[str, Any] = {
    # Cache alias that holds the precomputed candidates (Redis when REDIS_URL is set).
    "RECOMMENDATIONS_CACHE_ALIAS": "default",
    # Candidates precomputed per known customer when a champion is activated.
    "RECOMMENDATIONS_CACHED_CANDIDATES": 100,
    # Precomputed candidates are refreshed this often (the marker's lifetime); entries live
    # twice as long so a refresh never leaves a gap.
    "RECOMMENDATIONS_PRECOMPUTE_SECONDS": 24 * 3600,
    # After the cache failed, it is not asked again for this long (scored online meanwhile).
    "RECOMMENDATIONS_CACHE_RETRY_SECONDS": 30,
    # Retrain when this many interactions arrived since the champion was trained.
    "RECOMMENDATIONS_RETRAIN_MIN_INTERACTIONS": 2000,
    # Served-request rows older than this are deleted.
    "RECOMMENDATIONS_SERVED_RETENTION_DAYS": 30,
    # Views, carts and purchases this recent boost similar items ("Because you viewed X").
    "RECOMMENDATIONS_RECENT_HOURS": 48,
}


def setting(name: str) -> Any:
    """The configured value of `name`, or its default."""
    return getattr(settings, name, _DEFAULTS[name])
