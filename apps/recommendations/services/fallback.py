"""Catalog popularity: what is served before any recommender is trained (never an error).

In order: the champion of `catalog.product_popularity` (time-decayed popularity, trained by
the ML platform; its JSON artifact holds product ids best first), else the best sellers of
the last 90 days, else the newest in-stock products. Each ranking is kept in the process for
a short while; a new popularity champion is picked up at once (keyed by its version id).
"""

from __future__ import annotations

import json
import logging
import threading
import time

from apps.events.selectors import top_products
from apps.ml import selectors as ml_selectors
from apps.recommendations.services.data import catalog_fill, category_skus, product_skus_by_pk

logger = logging.getLogger(__name__)

POPULARITY_KIND = "catalog.product_popularity"
BEST_SELLER_DAYS = 90
RANKING_LIMIT = 2000
BEST_SELLERS_SECONDS = 60.0

_lock = threading.Lock()
_by_version: dict[int, list[str]] = {}
_best_sellers: tuple[float, list[str]] | None = None


def _champion_ranking() -> tuple[int, list[str]] | None:
    champion = ml_selectors.champion_get(POPULARITY_KIND)
    if champion is None:
        return None
    with _lock:
        ranking = _by_version.get(champion.pk)
    if ranking is not None:
        return champion.pk, ranking
    try:
        document = json.loads(ml_selectors.artifact_path(champion).read_text(encoding="utf-8"))
        product_ids = [int(pk) for pk in document["product_ids"][:RANKING_LIMIT]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.error(
            "Popularity champion %s is unreadable (%s); using best sellers", champion, error
        )
        return None
    skus_by_pk = product_skus_by_pk(product_ids)
    ranking = [skus_by_pk[pk] for pk in product_ids if pk in skus_by_pk]
    with _lock:
        _by_version.clear()
        _by_version[champion.pk] = ranking
    return champion.pk, ranking


def _best_sellers_ranking() -> list[str]:
    global _best_sellers
    now = time.monotonic()
    with _lock:
        cached = _best_sellers
    if cached is not None and now - cached[0] < BEST_SELLERS_SECONDS:
        return cached[1]
    ranking = [row.sku for row in top_products(days=BEST_SELLER_DAYS, limit=RANKING_LIMIT)]
    with _lock:
        _best_sellers = (now, ranking)
    return ranking


def popular_skus(*, limit: int, category: str = "") -> list[str]:
    """Up to `limit` SKUs, most popular first (see the module docstring for the order).

    With `category` (a slug), only that subtree, topped up with its newest products.
    """
    champion = _champion_ranking()
    ranking = champion[1] if champion is not None else _best_sellers_ranking()
    if category:
        allowed = category_skus(category)
        ranking = [sku for sku in ranking if sku in allowed]
    if len(ranking) < limit:
        seen = set(ranking)
        ranking = ranking + [
            sku
            for sku in catalog_fill(limit=limit + len(ranking), category=category)
            if sku not in seen
        ]
    return ranking[:limit]


def popularity_cache_clear() -> None:
    """Forget the rankings kept in this process (tests, after a data reset)."""
    global _best_sellers
    with _lock:
        _by_version.clear()
        _best_sellers = None
