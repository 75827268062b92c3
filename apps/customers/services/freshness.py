"""Keep segments fresh after customers change in bulk: imports, orders, merges, cleaning.

Every writer of customers or of their orders and events calls `customers_touch` with the
customers it changed (and the anonymous visitor ids whose events it stored); the segments app
re-checks just those customers against every dynamic segment a little after the transaction
commits (`segments_touch`: debounced, nothing happens for a rolled-back batch). Without it, an
imported order would wait for the hourly full refresh before "purchased in the last day" saw
it.

It also bumps the activity stamp of each identifier behind them (external ids, aliases, the
anonymous ids given) in the cache, at once and again when the transaction commits
(`activity_key` in the selectors names them): whoever keeps a result computed from a
visitor's data (the recommendations answer cache) compares the stamp it read before computing
with the current one, and recomputes when they differ.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from apps.customers.selectors import activity_key, customer_identifiers

logger = logging.getLogger(__name__)

# A stamp outlives any result compared with it (an evicted or expired stamp reads as None,
# which differs from the value a result recorded, so the result is recomputed).
ACTIVITY_TTL_SECONDS = 7 * 24 * 3600


def _activity_bump(keys: list[str]) -> None:
    stamp = time.time_ns()
    try:
        cache.set_many(dict.fromkeys(keys, stamp), timeout=ACTIVITY_TTL_SECONDS)
    except (RedisError, OSError) as error:
        # Results cached meanwhile are unreadable too; they expire on their own TTL.
        logger.warning("Activity stamps not bumped for %d visitors: %s", len(keys), error)


def customers_touch(
    *,
    customer_ids: Iterable[int | None],
    anonymous_ids: Iterable[str | None] = (),
    activity: bool = True,
) -> None:
    """Ask for an incremental refresh of these customers' segments (ids may repeat or be None)
    and bump the activity stamps of their identifiers and of these anonymous ids.

    `activity=False` for changes that are not the visitors' doing (the cleaning pipeline's
    normalised fields): segments are refreshed, stamps left alone (no identifier lookup).

    Imported here, not at module level: the segments app reads customers, orders and events,
    so a module-level import would be circular.
    """
    from apps.segments.services.segments import segments_touch

    ids = {customer_id for customer_id in customer_ids if customer_id is not None}
    if ids:
        segments_touch(customer_ids=ids)
    if not activity:
        return
    identifiers = customer_identifiers(customer_ids=ids) | {a for a in anonymous_ids if a}
    keys = [activity_key(identifier) for identifier in sorted(identifiers)]
    if keys:
        # Now, and again once committed: a result computed in between (from the data before
        # the commit) was kept under the first stamp, which the second one makes stale.
        _activity_bump(keys)
        transaction.on_commit(functools.partial(_activity_bump, keys), robust=True)
