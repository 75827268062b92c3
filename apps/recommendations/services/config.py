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
    # Whole answers are reused this long at most while nothing they depend on changed
    # (services/answers.py); 0 turns the answer cache off.
    "RECOMMENDATIONS_ANSWER_SECONDS": 300,
    # A kept answer may show a product this long after it sold out or changed category.
    "RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS": 1.0,
    # Served-request rows are queued in Redis and inserted in batches (services/served_log.py)
    # when REDIS_URL is set; off: each is inserted in its request.
    "RECOMMENDATIONS_SERVED_QUEUE": True,
    # Each web process pushes its served rows to the queue this often, in one RPUSH (0: each
    # request pushes its own).
    "RECOMMENDATIONS_SERVED_BUFFER_SECONDS": 0.1,
    # A flush is queued as soon as this many rows wait (else the minutely beat flushes).
    "RECOMMENDATIONS_SERVED_FLUSH_ROWS": 5000,
    # Each web process asks which recommender is champion at most this often (seconds).
    "RECOMMENDATIONS_CHAMPION_CHECK_SECONDS": 1.0,
    # A request reads the visitor's events and purchases of this many days.
    "RECOMMENDATIONS_HISTORY_DAYS": 180,
    # Views, carts and purchases this recent boost similar items ("Because you viewed X").
    "RECOMMENDATIONS_RECENT_HOURS": 48,
}


def setting(name: str) -> Any:
    """The configured value of `name`, or its default."""
    return getattr(settings, name, _DEFAULTS[name])
