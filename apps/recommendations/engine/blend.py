"""The blend: several algorithms' components in one `RecommenderModel`, with tuned weights.

Each slot (mf, item_knn, user_knn, content, category, segment, popularity, trending) takes the
best tuned algorithm of that slot; the history weighting is the item_knn winner's (the one that
reads the history most). Weights are searched on the validation customers over precomputed,
standardised component scores, so a trial costs one weighted sum and one top-k: coordinate
descent over a grid from the best single slot, then random perturbations while time is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from apps.recommendations.engine.evaluation import top_unseen
from apps.recommendations.engine.metrics import ranking_metrics
from apps.recommendations.engine.model import (
    HISTORY_COMPONENTS,
    TIE_BREAK,
    RecommenderModel,
    standardise,
)

SLOT_FIELDS: dict[str, tuple[str, ...]] = {
    "mf": ("user_factors", "item_factors", "item_bias"),
    "item_knn": ("neighbours",),
    "sequence": ("transitions",),
    "user_knn": ("user_neighbours", "user_items"),
    "content": ("content",),
    "category": ("item_category", "category_popularity"),
    "segment": ("segment_names", "segment_popularity"),
    "popularity": ("popularity",),
    "trending": ("trending",),
}
GRID = (0.0, 0.03, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5)


def blend_model(
    parts: dict[str, RecommenderModel], weights: dict[str, float], *, algorithm: str = "blend"
) -> RecommenderModel:
    """One model holding each slot's fields from its part, weighted by `weights`."""
    history_source = next(
        (parts[s] for s in HISTORY_COMPONENTS if s in parts), next(iter(parts.values()))
    )
    model = replace(
        history_source,
        weights={slot: float(w) for slot, w in weights.items() if w > 0},
        algorithm=algorithm,
        metadata={"parts": {slot: part.algorithm for slot, part in parts.items()}},
        user_factors=None,
        item_factors=None,
        item_bias=None,
        neighbours=None,
        user_neighbours=None,
        user_items=None,
        segment_names=None,
        segment_popularity=None,
        transitions=None,
        component_history={},
        cold_weights={},
        category_popularity=None,
        _user_index=None,
        _item_index=None,
        _category_codes=None,
        _segment_index=None,
    )
    for slot, part in parts.items():
        if slot in HISTORY_COMPONENTS:
            transform, half_life_seconds, half_life_events = part.history_settings(slot)
            model.component_history[slot] = {
                "transform": transform,
                "half_life_seconds": half_life_seconds,
                "half_life_events": half_life_events,
            }
        for name in SLOT_FIELDS[slot]:
            value = getattr(part, name)
            if value is not None:
                setattr(model, name, value)
        if slot == "trending" and "trend_half_life_days" in part.metadata:
            model.metadata["trend_half_life_days"] = part.metadata["trend_half_life_days"]
        if slot == "category" and part.metadata.get("item_category_derived"):
            model.metadata["item_category_derived"] = True
        model.metadata.setdefault("params", {})[slot] = part.metadata.get("params", {})
    return model


@dataclass(frozen=True)
class BlendSearch:
    """Validation data of a weight search: standardised components and what is relevant."""

    components: dict[str, tuple[np.ndarray, np.ndarray]]  # slot -> (n, m) scores, valid rows
    floor: np.ndarray  # standardised log-popularity (m,): rows with no component
    seen: sparse.csr_matrix  # (n, m) training items per customer, never recommended
    relevant: sparse.csr_matrix
    n_relevant: np.ndarray
    k: int

    def ndcg(self, weights: dict[str, float]) -> float:
        n, m = self.seen.shape
        total = np.zeros((n, m), dtype=np.float32)
        scored = np.zeros(n, dtype=bool)
        for slot, weight in weights.items():
            if weight > 0 and slot in self.components:
                matrix, valid = self.components[slot]
                total += np.float32(weight) * matrix
                scored |= valid
        total[~scored] = self.floor
        total += np.float32(TIE_BREAK) * self.floor
        top = top_unseen(total, self.seen, self.k)
        return ranking_metrics(top, self.relevant, self.n_relevant, self.k)[f"ndcg@{self.k}"]


def search_weights(
    search: BlendSearch,
    *,
    start: dict[str, float],
    budget_s: float,
    rng: np.random.Generator,
) -> tuple[dict[str, float], float, int]:
    """Best weights found in the time budget: (weights, validation NDCG, trials)."""
    deadline = time.monotonic() + budget_s
    slots = sorted(search.components)
    best = {slot: float(start.get(slot, 0.0)) for slot in slots}
    best_score = search.ndcg(best)
    trials = 1
    for _ in range(2):  # coordinate descent passes
        improved = False
        for slot in slots:
            for value in GRID:
                if value == best[slot] or time.monotonic() > deadline:
                    continue
                candidate = {**best, slot: value}
                if not any(candidate.values()):
                    continue
                score = search.ndcg(candidate)
                trials += 1
                if score > best_score + 1e-9:
                    best, best_score, improved = candidate, score, True
        if not improved:
            break
    while time.monotonic() < deadline:
        candidate = dict(best)
        for slot in rng.choice(slots, size=min(2, len(slots)), replace=False):
            current = candidate[str(slot)]
            candidate[str(slot)] = float(
                current * np.exp(rng.normal(0.0, 0.5)) if current > 0 else rng.choice(GRID[1:5])
            )
        if not any(candidate.values()):
            continue
        score = search.ndcg(candidate)
        trials += 1
        if score > best_score + 1e-9:
            best, best_score = candidate, score
    return {slot: weight for slot, weight in best.items() if weight > 0}, best_score, trials


def floor_scores(model: RecommenderModel) -> np.ndarray:
    return standardise(np.log1p(model.popularity)).astype(np.float32)
