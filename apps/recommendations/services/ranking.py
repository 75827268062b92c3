"""Re-ranking at request time: relevance scaling, item similarity, MMR diversity, recency boosts.

Small numpy helpers over a candidate pool (a few hundred items at most); the recommender's
own scores come from the champion `RecommenderModel` (engine), never from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from apps.recommendations.engine.model import RecommenderModel

# Two products of the same category are at least this similar, model or not: diversity
# spreads categories even for items the model does not know.
SAME_CATEGORY_SIMILARITY = 0.5
ANCHOR_NEIGHBOURS = 50


def normalise(scores: np.ndarray) -> np.ndarray:
    """Min-max scale to 0-1 (a constant vector becomes ones; -inf stays out)."""
    values = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(values)
    out = np.zeros_like(values)
    if not finite.any():
        return out
    low, high = float(values[finite].min()), float(values[finite].max())
    out[finite] = 1.0 if high == low else (values[finite] - low) / (high - low)
    return out


def similarity_matrix(
    model: RecommenderModel | None, indices: np.ndarray, categories: Sequence[str]
) -> np.ndarray:
    """Pairwise similarity (0-1) of a pool: the model's content embeddings and item-item
    neighbours where it has them, and at least SAME_CATEGORY_SIMILARITY within a category.

    `indices` are the items' model indices (-1 for items the model does not know).
    """
    indices = np.asarray(indices, dtype=np.int64)
    size = indices.shape[0]
    similarity = np.zeros((size, size), dtype=np.float64)
    known = indices >= 0
    if model is not None and known.any():
        rows = indices[known]
        parts: list[np.ndarray] = []
        if model.content is not None:
            content = np.asarray(model.content[rows], dtype=np.float64)
            parts.append(np.clip(content @ content.T, 0.0, 1.0))
        if model.neighbours is not None:
            block = np.asarray(model.neighbours[rows][:, rows].todense(), dtype=np.float64)
            block = np.maximum(np.maximum(block, block.T), 0.0)
            peak = float(block.max()) if block.size else 0.0
            if peak > 0:
                parts.append(block / peak)
        if parts:
            similarity[np.ix_(known, known)] = np.maximum.reduce(parts)
    names, codes = np.unique(np.asarray(list(categories), dtype=str), return_inverse=True)
    if size:
        codes = np.where(names[codes] == "", -1, codes)  # no category: like nothing
        same = (codes[:, None] == codes[None, :]) & (codes[:, None] >= 0)
        similarity = np.maximum(similarity, SAME_CATEGORY_SIMILARITY * same)
        np.fill_diagonal(similarity, 1.0)
    return similarity


def mmr_select(
    relevance: np.ndarray,
    similarity: np.ndarray,
    *,
    k: int,
    diversity: float,
    already: Sequence[int] = (),
) -> list[int]:
    """Maximal marginal relevance (Carbonell & Goldstein 1998): pick `k` positions of the pool.

    Each step takes the item maximising (1 - diversity) * relevance - diversity * (its
    highest similarity to what is already chosen). diversity 0 is the relevance order;
    `already` (e.g. pinned items) count as chosen without being returned.
    """
    relevance = np.asarray(relevance, dtype=np.float64)
    weight = 1.0 - float(diversity)
    chosen_mask = np.zeros(relevance.shape[0], dtype=bool)
    closest = np.zeros(relevance.shape[0], dtype=np.float64)
    for position in already:
        chosen_mask[position] = True
        closest = np.maximum(closest, similarity[position])
    picked: list[int] = []
    while len(picked) < k:
        remaining = np.flatnonzero(~chosen_mask)
        if remaining.size == 0:
            break
        values = weight * relevance[remaining] - (1.0 - weight) * closest[remaining]
        best = int(remaining[int(np.argmax(values))])
        picked.append(best)
        chosen_mask[best] = True
        closest = np.maximum(closest, similarity[best])
    return picked


def mean_pairwise_similarity(similarity: np.ndarray, positions: Sequence[int]) -> float:
    """Average similarity of the distinct pairs among `positions` (0 for fewer than two)."""
    chosen = list(positions)
    if len(chosen) < 2:
        return 0.0
    block = similarity[np.ix_(chosen, chosen)]
    upper = block[np.triu_indices(len(chosen), k=1)]
    return float(upper.mean())


@dataclass(frozen=True)
class Anchor:
    """Something the visitor did recently that boosts similar items."""

    model_index: int  # -1 when the model does not know the product
    sku: str
    kind: str  # view, cart or purchase
    weight: float  # newest 1.0, older less


def anchor_boosts(
    model: RecommenderModel | None, anchors: Sequence[Anchor]
) -> dict[int, tuple[float, int]]:
    """Model index -> (boost 0-1, position of the anchor that gave it) for items like recent
    anchors: each anchor's item-item neighbours (scaled by its strongest link) and its nearest
    items by content (cosine), the anchor's weight times the closer of the two."""
    boosts: dict[int, tuple[float, int]] = {}
    if model is None:
        return boosts
    known = [
        (position, a) for position, a in enumerate(anchors) if 0 <= a.model_index < model.n_items
    ]
    if not known:
        return boosts

    def offer(item: int, value: float, position: int) -> None:
        if value > boosts.get(item, (0.0, -1))[0]:
            boosts[item] = (value, position)

    if model.neighbours is not None:
        for position, anchor in known:
            start, end = model.neighbours.indptr[anchor.model_index : anchor.model_index + 2]
            items = model.neighbours.indices[start:end]
            values = np.asarray(model.neighbours.data[start:end], dtype=np.float64)
            positive = (values > 0) & (items != anchor.model_index)
            if positive.any():
                peak = float(values[positive].max())
                for item, value in zip(items[positive], values[positive], strict=True):
                    offer(int(item), anchor.weight * float(value) / peak, position)
    if model.content is not None:
        # One product for every anchor: (n_items, d) @ (d, anchors), in the stored float32.
        vectors = model.content[[anchor.model_index for _, anchor in known]]
        cosines = model.content @ vectors.T
        for column, (position, anchor) in enumerate(known):
            values = np.array(cosines[:, column], dtype=np.float64)
            values[anchor.model_index] = -np.inf
            count = min(ANCHOR_NEIGHBOURS, model.n_items - 1)
            if count <= 0:
                continue
            top = np.argpartition(-values, count - 1)[:count]
            for item in top[values[top] > 0]:
                offer(int(item), anchor.weight * min(float(values[item]), 1.0), position)
    return boosts
