"""A tiny shop and a hand-built recommender for the serving tests.

Twelve products in three categories (shirts, shoes, hats, four each). The model's popularity
falls from SHIRT-1 (12) to HAT-4 (1), so with no history the ranking is the catalogue order;
item-item neighbours and content embeddings link the products of one category only, so a
view of a hat lifts the other hats. Built directly as a `RecommenderModel` (the serving
contract), independent of the engine's training.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from scipy import sparse

from apps.catalog.models import Category, Product
from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.ml.services import model_version_activate
from apps.ml.tests.factories import ModelVersionFactory
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.services.answers import answers_invalidate
from apps.recommendations.services.config import KIND

CATEGORIES = ("shirts", "shoes", "hats")
SKUS = [f"{prefix}-{number}" for prefix in ("SHIRT", "SHOE", "HAT") for number in range(1, 5)]


@dataclass
class Shop:
    categories: dict[str, Category]
    products: dict[str, Product]


def shop_build(*, stock: int = 10) -> Shop:
    """The twelve products, all active and in stock; titles 'Shirt 1' ... 'Hat 4'."""
    categories = {
        slug: CategoryFactory(slug=slug, name=slug.title(), path=f"apparel/{slug}")
        for slug in CATEGORIES
    }
    products = {}
    for sku in SKUS:
        prefix, number = sku.split("-")
        slug = {"SHIRT": "shirts", "SHOE": "shoes", "HAT": "hats"}[prefix]
        products[sku] = ProductFactory(
            sku=sku,
            title=f"{prefix.title()} {number}",
            category=categories[slug],
            price=Decimal("20.00"),
            stock=stock,
        )
    return Shop(categories=categories, products=products)


def toy_model(
    *,
    users: tuple[str, ...] = ("alice", "bob"),
    popularity: list[float] | None = None,
    cohorts: dict[str, Any] | None = None,
    trending: list[float] | None = None,
) -> RecommenderModel:
    """Popularity + item-item neighbours + content over SKUS (see the module docstring)."""
    size = len(SKUS)
    category = np.asarray([sku.split("-")[0] for sku in SKUS])
    same = (category[:, None] == category[None, :]).astype(np.float32)
    np.fill_diagonal(same, 0.0)
    content = np.zeros((size, 3), dtype=np.float32)
    for index, prefix in enumerate(category):
        content[index, ("SHIRT", "SHOE", "HAT").index(prefix)] = 1.0
    return RecommenderModel(
        item_ids=np.asarray(SKUS),
        user_ids=np.asarray(users),
        weights={"item_knn": 1.0, "content": 0.5, "popularity": 0.5, "trending": 0.0},
        algorithm="toy",
        popularity=np.asarray(popularity or list(range(size, 0, -1)), dtype=np.float32),
        trending=np.asarray(trending, dtype=np.float32) if trending is not None else None,
        neighbours=sparse.csr_matrix(same),
        content=content,
        item_category=np.asarray([f"apparel/{p.lower()}s" for p in category]),
        metadata={"half_life_days": 60.0, "cohorts": cohorts or {}},
    )


def publish(model: RecommenderModel, *, metrics: dict[str, Any] | None = None) -> Any:
    """Save `model` as the next version of the recommender and make it the champion."""
    version = ModelVersionFactory(kind=KIND, metrics=metrics or {})
    version.artifact_path = f"{KIND}/v{version.version}-test.npz"
    version.save(update_fields=["artifact_path"])
    path = Path(settings.ML_ARTIFACT_ROOT) / version.artifact_path
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    model_version_activate(model_version_id=version.pk)
    # The activation hook runs at commit, which these tests never reach; its first step (kept
    # answers of the old champion are stale) is taken here, its precompute left to the tests
    # of the cache.
    answers_invalidate()
    return version


def skus(result: Any) -> list[str]:
    return [item.product_id for item in result.items]
