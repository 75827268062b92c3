"""Whole answers kept in the cache while nothing they were computed from has changed.

Most requests for a visitor repeat the last one: the same placement and parameters, no new
event in between. Such a request reuses the kept answer (its items, scores and reasons) with
a new request id, instead of reading the visitor's history, the catalogue and the model again:
`cache: "answer"` in the response. An answer is kept per visitor identifier and request
(placement, n, category, exclude_purchased, diversity) and reused only when all of these are
still what they were when it was computed (each read *before* computing, so a change that
lands during the computation makes the next request recompute):

* the placement's rules (the request reads them anyway);
* the champion: a generation counter bumped whenever a recommender becomes champion;
* the visitor's activity: the customers app's stamp of the identifier (external id, alias
  or anonymous id), bumped by every event, order, import row, merge or split that touches
  the visitor (at once and again at commit), so "just viewed" and "just bought" count on the
  very next request;
* the catalogue (stock, activity, categories): `catalogue_version`, read at most once per
  RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS per process, so a sold-out product may be shown
  for that long (1 s by default);
* and at most RECOMMENDATIONS_ANSWER_SECONDS old (5 minutes by default): customer scores
  and segments (cold start) change without a stamp.

Like the candidates cache it is an accelerator only: when the cache is down (or was down
moments ago) nothing is read or kept and every request is computed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from typing import Any

from django.core.cache import cache as default_cache
from redis.exceptions import RedisError

from apps.customers.selectors import activity_key
from apps.recommendations.contracts import PlacementRules, Recommendations
from apps.recommendations.services.cache import (
    CACHE_ERRORS,
    KEY_PREFIX,
    CacheUnavailable,
    cache_client,
    cache_failed,
    cache_guard,
)
from apps.recommendations.services.config import setting
from apps.recommendations.services.data import catalogue_stamp

logger = logging.getLogger(__name__)

GENERATION_KEY = f"{KEY_PREFIX}:answers:generation"
# Part of every answer key: a release that changes what is kept never reads older entries.
FORMAT = 2


@dataclass(frozen=True)
class AnswerRequest:
    """What identifies a request's answer: the visitor as asked for, and the parameters."""

    identifier: str
    rules: PlacementRules
    count: int
    diversity: float
    category: str
    exclude_purchased: bool | None

    def key(self) -> str:
        parts = repr(
            (
                self.identifier,
                self.rules.key,
                self.count,
                self.diversity,
                self.category,
                self.exclude_purchased,
            )
        )
        digest = hashlib.blake2b(parts.encode(), digest_size=16).hexdigest()
        return f"{KEY_PREFIX}:answer{FORMAT}:{digest}"

    def rules_digest(self) -> str:
        # a frozen dataclass's repr names every field and value
        return hashlib.blake2b(repr(self.rules).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Stamps:
    """What an answer was computed from (compared whole)."""

    generation: Any
    catalogue: Any
    rules: str
    activity: Any  # the identifier's activity stamp (customers app)


@dataclass(frozen=True)
class KeptAnswer:
    """A kept answer: who it was for, and everything of the response but the request id."""

    stamps: Stamps
    customer_id: int | None
    answer: Recommendations


def enabled() -> bool:
    return float(setting("RECOMMENDATIONS_ANSWER_SECONDS")) > 0


def answer_get(request: AnswerRequest) -> tuple[KeptAnswer | None, Stamps]:
    """(the kept answer if it is still valid else None, the stamps as they are now).

    One cache round trip reads the answer, the champion generation and the identifier's
    activity stamp. The stamps are what a freshly computed answer is kept under: read before
    computing, so a change landing meanwhile makes the next request recompute. Raises
    CacheUnavailable when the cache cannot be reached (or failed moments ago).
    """
    cache_guard()
    key, stamp_key = request.key(), activity_key(request.identifier)
    client = cache_client()
    try:
        if setting("RECOMMENDATIONS_CACHE_ALIAS") == "default":
            found = client.get_many([key, GENERATION_KEY, stamp_key])
        else:  # the stamps live in the default cache, the answers elsewhere
            found = {
                **client.get_many([key, GENERATION_KEY]),
                **default_cache.get_many([stamp_key]),
            }
    except CACHE_ERRORS as error:
        raise cache_failed(error) from error
    now = Stamps(
        generation=found.get(GENERATION_KEY),
        catalogue=catalogue_stamp(),
        rules=request.rules_digest(),
        activity=found.get(stamp_key),
    )
    kept = found.get(key)
    try:
        valid = isinstance(kept, KeptAnswer) and kept.stamps == now
    except (AttributeError, TypeError):  # unpickled from another release: never reused
        valid = False
    return (kept, now) if valid else (None, now)


def answer_keep(
    request: AnswerRequest, *, stamps: Stamps, customer_id: int | None, answer: Recommendations
) -> None:
    """Keep `answer` (its request id dropped) for RECOMMENDATIONS_ANSWER_SECONDS."""
    kept = KeptAnswer(
        stamps=stamps,
        customer_id=customer_id,
        answer=replace(answer, request_id=""),
    )
    try:
        cache_client().set(
            request.key(), kept, timeout=float(setting("RECOMMENDATIONS_ANSWER_SECONDS"))
        )
    except CACHE_ERRORS as error:
        raise cache_failed(error) from error


def answers_invalidate() -> None:
    """Make every kept answer stale (a new champion). Never raises: a cache that is down
    keeps nothing anyway, and the answers expire on their own."""
    try:
        client = cache_client()
        if not client.add(GENERATION_KEY, 1, timeout=None):
            client.incr(GENERATION_KEY)
    except (RedisError, OSError, ValueError) as error:  # CACHE_ERRORS, or a key gone meanwhile
        logger.warning("Kept recommendation answers not invalidated: %s", error)


__all__ = [
    "AnswerRequest",
    "CacheUnavailable",
    "KeptAnswer",
    "Stamps",
    "answer_get",
    "answer_keep",
    "answers_invalidate",
    "enabled",
]
