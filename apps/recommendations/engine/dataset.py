"""An interaction log indexed for learning: integer codes, aligned side information.

`training_set_build` turns the public inputs (`InteractionLog`, `ItemFeatures`, `UserFeatures`)
into a `TrainingSet` whose catalogue is every item seen in the log plus every catalogue item
(new items without interactions stay recommendable through their features and text). The
algorithms read the user x item matrix through `TrainingSet.matrix`, which applies the same
weighting (`history_matrix`) that serving applies to a customer's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse

from apps.recommendations.engine.data import InteractionLog, ItemFeatures, UserFeatures
from apps.recommendations.engine.model import history_matrix

DAY = 86_400.0
PRICE_BANDS = 5  # price quantile bands used as an item feature

Embedder = Callable[[list[str]], np.ndarray]  # texts -> (n, d) float32 unit rows


@dataclass(frozen=True)
class TrainingSet:
    """Indexed interactions (one row per interaction) plus side information per item/user."""

    user_ids: np.ndarray  # str (n_users,)
    item_ids: np.ndarray  # str (n_items,)
    users: np.ndarray  # int64 per interaction
    items: np.ndarray  # int64 per interaction
    timestamps: np.ndarray  # float64 per interaction
    weights: np.ndarray  # float64 per interaction (> 0)
    item_categories: np.ndarray | None = None  # str (n_items,), "" unknown
    item_content: np.ndarray | None = None  # float32 (n_items, d), unit rows, 0 row = no text
    item_features: sparse.csr_matrix | None = None  # (n_items, n_features), without identity
    user_segments: np.ndarray | None = None  # str (n_users,), "" unknown
    user_features: sparse.csr_matrix | None = None  # (n_users, n_features), without identity
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_users(self) -> int:
        return int(self.user_ids.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_ids.shape[0])

    @property
    def n_interactions(self) -> int:
        return int(self.users.shape[0])

    @cached_property
    def end_time(self) -> float:
        return float(self.timestamps.max()) if self.timestamps.size else 0.0

    @cached_property
    def last_times(self) -> np.ndarray:
        """Latest interaction time per user (float64, n_users)."""
        last = np.full(self.n_users, self.end_time)
        if self.users.size:
            last[:] = -np.inf
            np.maximum.at(last, self.users, self.timestamps)
        return last

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Distinct users per item (float64, n_items)."""
        return np.asarray(self.matrix(transform="binary").sum(axis=0), dtype=np.float64).ravel()

    def matrix(
        self, *, transform: str = "log", half_life_days: float | None = None
    ) -> sparse.csr_matrix:
        """The user x item matrix, weighted like a history at the end of training."""
        key = f"matrix:{transform}:{half_life_days}"
        if key not in self._cache:
            self._cache[key] = history_matrix(
                rows=self.users,
                items=self.items,
                timestamps=self.timestamps,
                weights=self.weights,
                reference_times=np.full(self.n_users, self.end_time),
                n_items=self.n_items,
                transform=transform,
                half_life_seconds=half_life_days * DAY if half_life_days else None,
            )
        matrix: sparse.csr_matrix = self._cache[key]
        return matrix

    def popularity(self, *, half_life_days: float | None = None) -> np.ndarray:
        """Interactions per item, decayed by age at the end of training (float64)."""
        weight = np.ones(self.n_interactions)
        if half_life_days:
            weight = np.exp2(-(self.end_time - self.timestamps) / (half_life_days * DAY))
        return np.bincount(self.items, weights=weight, minlength=self.n_items)

    def subset(self, mask: np.ndarray) -> TrainingSet:
        """The same catalogue, users and side information with only the masked interactions."""
        return TrainingSet(
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            users=self.users[mask],
            items=self.items[mask],
            timestamps=self.timestamps[mask],
            weights=self.weights[mask],
            item_categories=self.item_categories,
            item_content=self.item_content,
            item_features=self.item_features,
            user_segments=self.user_segments,
            user_features=self.user_features,
        )


def training_set_build(
    log: InteractionLog,
    *,
    items: ItemFeatures | None = None,
    users: UserFeatures | None = None,
    embedder: Embedder | None = None,
) -> TrainingSet:
    """Index the log; align item and user side information to the codes.

    The catalogue is the union of the log's items and `items.item_ids`; users are the log's
    users plus those described by `users`. Texts are embedded with `embedder` when given.
    """
    log_items = np.asarray(log.item_ids).astype(str)
    log_users = np.asarray(log.user_ids).astype(str)
    catalogue = [log_items] if items is None else [log_items, np.asarray(items.item_ids, str)]
    people = [log_users] if users is None else [log_users, np.asarray(users.user_ids, str)]
    item_ids, item_codes = _codes(catalogue)
    user_ids, user_codes = _codes(people)
    categories = content = item_features = segments = user_features = None
    if items is not None:
        position = item_codes[1]
        categories = np.full(item_ids.shape[0], "", dtype=object)
        categories[position] = np.asarray(items.categories).astype(str)
        categories = categories.astype(str)
        item_features = _item_feature_matrix(items, position, item_ids.shape[0])
        texts = [str(text or "") for text in items.texts]
        if embedder is not None and any(text.strip() for text in texts):
            vectors = np.asarray(embedder(texts), dtype=np.float32)
            content = np.zeros((item_ids.shape[0], vectors.shape[1]), dtype=np.float32)
            content[position] = vectors * np.array([bool(t.strip()) for t in texts])[:, None]
    if users is not None and users.features:
        position = user_codes[1]
        segments, user_features = _user_side(users, position, user_ids.shape[0])
    return TrainingSet(
        user_ids=user_ids,
        item_ids=item_ids,
        users=user_codes[0],
        items=item_codes[0],
        timestamps=np.asarray(log.timestamps, dtype=np.float64),
        weights=np.asarray(log.weights, dtype=np.float64),
        item_categories=categories,
        item_content=content,
        item_features=item_features,
        user_segments=segments,
        user_features=user_features,
    )


def _codes(parts: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted unique ids of all parts and each part's codes into them."""
    ids, inverse = np.unique(np.concatenate(parts), return_inverse=True)
    bounds = np.cumsum([0] + [p.shape[0] for p in parts])
    return ids, [
        inverse[a:b].astype(np.int64) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _item_feature_matrix(items: ItemFeatures, position: np.ndarray, n_items: int) -> Any:
    """One-hot category, brand, price band and tags (LightFM item features, no identity)."""
    columns: list[list[str]] = [[] for _ in range(position.shape[0])]
    for name, values in (("category", items.categories), ("brand", items.brands)):
        for row, value in enumerate(np.asarray(values).astype(str)):
            if value:
                columns[row].append(f"{name}={value}")
    prices = np.asarray(items.prices, dtype=np.float64)
    known = np.isfinite(prices)
    if known.sum() >= PRICE_BANDS:
        edges = np.quantile(prices[known], np.linspace(0, 1, PRICE_BANDS + 1)[1:-1])
        for row_index in np.flatnonzero(known).tolist():
            band = int(np.searchsorted(edges, prices[row_index]))
            columns[row_index].append(f"price_band={band}")
    for row, tags in enumerate(items.tags or []):
        columns[row].extend(f"tag={tag}" for tag in tags if tag)
    return _one_hot(columns, position, n_items)


def _user_side(
    users: UserFeatures, position: np.ndarray, n_users: int
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Segment per user (the `segment` feature, else all features joined) and one-hot features."""
    names = sorted(users.features)
    values = {name: np.asarray(users.features[name]).astype(str) for name in names}
    if "segment" in values:
        joined = values["segment"]
    else:
        joined = np.array(["|".join(parts) for parts in zip(*values.values(), strict=True)])
    segments = np.full(n_users, "", dtype=object)
    segments[position] = joined
    columns = [
        [f"{name}={values[name][row]}" for name in names if values[name][row]]
        for row in range(position.shape[0])
    ]
    return segments.astype(str), _one_hot(columns, position, n_users)


def _one_hot(columns: list[list[str]], position: np.ndarray, n_rows: int) -> Any:
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, names in zip(position, columns, strict=True):
        for name in names:
            rows.append(int(row))
            cols.append(vocabulary.setdefault(name, len(vocabulary)))
    if not vocabulary:
        return None
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n_rows, len(vocabulary)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
