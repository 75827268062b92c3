"""Inputs of the recommender engine: plain arrays, no Django.

The Django side (trainers) builds these from events, orders, the catalogue and customer
scores; the file CLI (`recommend evaluate`) builds an `InteractionLog` from a CSV. Ids are
strings everywhere (customer external ids / anonymous ids, product external ids).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommendations.engine.model import RecommenderModel

# Interaction weight by event type (purchase > add to cart > view). The caller multiplies
# by quantity where it has one; unknown types get the view weight.
EVENT_WEIGHTS: dict[str, float] = {
    "purchase": 5.0,
    "order_completed": 5.0,
    "add_to_cart": 3.0,
    "product_added": 3.0,
    "wishlist": 2.0,
    "review": 2.0,
    "click": 1.0,
    "product_view": 1.0,
    "view": 1.0,
}

Progress = Callable[[float, str], None]  # (percent 0-100, message)


@dataclass(frozen=True)
class InteractionLog:
    """One row per interaction; parallel 1-D arrays of equal length."""

    user_ids: np.ndarray  # str
    item_ids: np.ndarray  # str
    timestamps: np.ndarray  # float64 epoch seconds
    weights: np.ndarray  # float32 > 0 (event weight x quantity, or the rating)

    def __post_init__(self) -> None:
        n = self.user_ids.shape[0]
        for name in ("item_ids", "timestamps", "weights"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"InteractionLog.{name} must have {n} entries")


@dataclass(frozen=True)
class ItemFeatures:
    """Catalogue side information; every array has one entry per item id."""

    item_ids: np.ndarray  # str
    categories: np.ndarray  # str ("" when unknown)
    brands: np.ndarray  # str ("" when unknown)
    prices: np.ndarray  # float64 (NaN when unknown)
    texts: np.ndarray  # str: title + description, for embeddings
    tags: list[list[str]] = field(default_factory=list)  # optional, per item
    in_stock: np.ndarray | None = None  # bool; serving rules use it, training may not


@dataclass(frozen=True)
class UserFeatures:
    """Categorical user side information (demographics, segments, RFM cell, cluster)."""

    user_ids: np.ndarray  # str
    features: dict[str, np.ndarray]  # feature name -> str per user ("" when unknown)


@dataclass(frozen=True)
class ChampionResult:
    """What `fit_champion` returns: the serving model and the evaluation report."""

    model: RecommenderModel
    report: dict[str, Any]  # algorithms -> metrics, best, params, split, timings
