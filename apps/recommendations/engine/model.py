"""The serving artifact: everything online scoring needs, in one `.npz` file.

This is the contract between training (engine/ + trainers) and serving (services/):
training turns whichever algorithm (or blend) won the evaluation into a `RecommenderModel`;
serving loads the champion's file once per process and calls `score` / `similar` with the
customer's *current* history, so a purchase or view made a second ago already counts
(real-time adjustment) and a customer unknown at training time still gets personal results
(fold-in through the item-item and content components).

score(user) = sum_c  weight_c * standardise(component_c(user))   over the components present:

  mf          user_factors[u] . item_factors + item_bias    (known users only; LightFM/ALS/BPR)
  item_knn    history_weights @ neighbours                  (sparse item-item similarities)
  sequence    history_weights @ transitions                 (what follows what, recent first)
  user_knn    user_neighbours[u] @ user_items               (known users only; user-based CF)
  content     mean of content[history] . content            (unit-norm text/image embeddings)
  category    share of the history in the item's category x the item's share of its category
  segment     log1p(segment_popularity[segment])            (popular in the customer's segment)
  popularity  log1p(popularity)                              (cold start floor)
  trending    log1p(trending)

Each component is standardised (zero mean, unit variance over the catalogue) before weighting,
so weights are comparable across components and tunable (`cold_weights`, when set, replace
`weights` for customers unknown to training, whose ranking rests on the history and the
segment only); a missing component (no factors for
an unknown user, no history for a new visitor) is dropped and the others carry the ranking. A
component that is constant over the catalogue for this customer (history items without any
neighbour) counts as missing too, and a tiny popularity term breaks the remaining ties.

The history: per item, the summed event weights through `history_transform`, times a recency
decay by age and by position (`history_matrix`). Components that read the history may each
have their own settings (`component_history`, e.g. the sequence component looks mostly at the
last few items), so serving should hand the raw events to `score_events`; `score` with one
(history, history_weights) pair, e.g. from `user_history`, still works and uses the model-level
settings for every component. `score_batch` is the vectorised `score` the evaluation harness
ranks with, so what was measured is what is served.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

COMPONENTS = (
    "mf",
    "item_knn",
    "sequence",
    "user_knn",
    "content",
    "category",
    "segment",
    "popularity",
    "trending",
)
HISTORY_TRANSFORMS = ("binary", "log", "linear")
HISTORY_COMPONENTS = ("item_knn", "sequence", "content", "category")  # read the history
FORMAT_VERSION = 1
TIE_BREAK = 1e-6  # weight of standardised popularity added to every ranking to order ties
CATEGORY_PRIOR = 1.0  # pseudo-count of the catalogue's category mix in a history's mix


@dataclass
class RecommenderModel:
    """A trained recommender ready to serve, independent of the algorithm that produced it."""

    item_ids: np.ndarray  # str: catalogue ids (product external ids), index = item column
    user_ids: np.ndarray  # str: customer ids known at training time, index = factor row
    weights: dict[str, float]  # component -> weight; components absent here are not used
    algorithm: str  # e.g. "blend", "als", "lightfm_warp": what won the evaluation
    popularity: np.ndarray  # float32 (n_items,), decayed interaction mass; always present
    trending: np.ndarray | None = None  # float32 (n_items,), short half-life popularity
    user_factors: np.ndarray | None = None  # float32 (n_users, f)
    item_factors: np.ndarray | None = None  # float32 (n_items, f)
    item_bias: np.ndarray | None = None  # float32 (n_items,)
    neighbours: sparse.csr_matrix | None = None  # float32 (n_items, n_items), top-K per row
    content: np.ndarray | None = None  # float32 (n_items, d), rows unit norm (0 row = none)
    item_category: np.ndarray | None = None  # str (n_items,), for category rules and reasons
    metadata: dict[str, Any] = field(default_factory=dict)  # params, metrics, trained_at ...
    user_neighbours: sparse.csr_matrix | None = None  # float32 (n_users, n_pool), top-K per row
    user_items: sparse.csr_matrix | None = None  # float32 (n_pool, n_items): the pool's history
    segment_names: np.ndarray | None = None  # str (n_segments,): user segment values
    segment_popularity: np.ndarray | None = None  # float32 (n_segments, n_items)
    history_transform: str = "log"  # summed event weights per item -> binary / log1p / linear
    history_half_life_seconds: float | None = None  # decay of an item by the age of its last event
    history_half_life_events: float | None = None  # decay by recency rank (0 = latest item)
    transitions: sparse.csr_matrix | None = None  # float32 (n_items, n_items): i then j, top-K
    component_history: dict[str, dict[str, Any]] = field(default_factory=dict)  # per component
    # weights for customers unknown to training (no factors): history and segment only
    cold_weights: dict[str, float] = field(default_factory=dict)
    category_popularity: np.ndarray | None = None  # float32 (n_items,), else `popularity`
    _user_index: dict[str, int] | None = field(default=None, repr=False)
    _item_index: dict[str, int] | None = field(default=None, repr=False)
    _category_codes: tuple[np.ndarray, int] | None = field(default=None, repr=False)
    _segment_index: dict[str, int] | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- lookups
    def active(self, component: str) -> bool:
        """Whether any customer's score uses the component (`weights` or `cold_weights`)."""
        return bool(self.weights.get(component) or self.cold_weights.get(component))

    @property
    def n_items(self) -> int:
        return int(self.item_ids.shape[0])

    def user_index(self, user_id: str) -> int | None:
        if self._user_index is None:
            self._user_index = {str(u): i for i, u in enumerate(self.user_ids)}
        return self._user_index.get(str(user_id))

    def item_index(self, item_id: str) -> int | None:
        if self._item_index is None:
            self._item_index = {str(u): i for i, u in enumerate(self.item_ids)}
        return self._item_index.get(str(item_id))

    def segment_index(self, segment: str | None) -> int | None:
        if segment is None or self.segment_names is None:
            return None
        if self._segment_index is None:
            self._segment_index = {str(s): i for i, s in enumerate(self.segment_names)}
        return self._segment_index.get(str(segment))

    def category_codes(self) -> tuple[np.ndarray, int]:
        """Integer code per item of `item_category` and the number of categories."""
        if self._category_codes is None:
            assert self.item_category is not None
            names, codes = np.unique(np.asarray(self.item_category, dtype=str), return_inverse=True)
            self._category_codes = (codes.astype(np.int64), int(names.shape[0]))
        return self._category_codes

    # ---------------------------------------------------------------- history
    def user_history(
        self,
        *,
        items: np.ndarray,
        timestamps: np.ndarray | None = None,
        event_weights: np.ndarray | None = None,
        now: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(history, history_weights) for `score` from one customer's raw events.

        `items` are item indices (one per event, repeats allowed), `timestamps` epoch seconds,
        `event_weights` e.g. `EVENT_WEIGHTS[type] x quantity`; `now` defaults to the latest event.
        """
        items = np.asarray(items, dtype=np.int64)
        if timestamps is None:
            timestamps = np.arange(items.shape[0], dtype=np.float64)
        timestamps = np.asarray(timestamps, dtype=np.float64)
        reference = float(timestamps.max()) if now is None and items.size else float(now or 0.0)
        matrix = history_matrix(
            rows=np.zeros(items.shape[0], dtype=np.int64),
            items=items,
            timestamps=timestamps,
            weights=event_weights,
            reference_times=np.array([reference]),
            n_items=self.n_items,
            transform=self.history_transform,
            half_life_seconds=self.history_half_life_seconds,
            half_life_events=self.history_half_life_events,
        )
        return matrix.indices.astype(np.int64), matrix.data.astype(np.float32)

    def history_settings(self, component: str) -> tuple[str, float | None, float | None]:
        """(transform, half_life_seconds, half_life_events) the component reads history with."""
        own = self.component_history.get(component)
        if own is None:
            return (
                self.history_transform,
                self.history_half_life_seconds,
                self.history_half_life_events,
            )
        return (
            str(own.get("transform", self.history_transform)),
            own.get("half_life_seconds"),
            own.get("half_life_events"),
        )

    def histories(
        self,
        *,
        rows: np.ndarray,
        items: np.ndarray,
        timestamps: np.ndarray,
        event_weights: np.ndarray | None,
        reference_times: np.ndarray,
    ) -> dict[str, sparse.csr_matrix]:
        """Per weighted history component, the (n_rows, n_items) history it reads."""
        built: dict[tuple[str, float | None, float | None], sparse.csr_matrix] = {}
        out: dict[str, sparse.csr_matrix] = {}
        for name in HISTORY_COMPONENTS:
            if not self.active(name):
                continue
            settings = self.history_settings(name)
            if settings not in built:
                built[settings] = history_matrix(
                    rows=rows,
                    items=items,
                    timestamps=timestamps,
                    weights=event_weights,
                    reference_times=reference_times,
                    n_items=self.n_items,
                    transform=settings[0],
                    half_life_seconds=settings[1],
                    half_life_events=settings[2],
                )
            out[name] = built[settings]
        return out

    def score_events(
        self,
        *,
        user_index: int | None,
        items: np.ndarray,
        timestamps: np.ndarray | None = None,
        event_weights: np.ndarray | None = None,
        now: float | None = None,
        segment: str | None = None,
    ) -> np.ndarray:
        """`score` from a customer's raw events (item indices, repeats allowed), each component
        reading them with its own history settings, exactly as evaluated."""
        items = np.asarray(items, dtype=np.int64)
        if timestamps is None:
            timestamps = np.arange(items.shape[0], dtype=np.float64)
        timestamps = np.asarray(timestamps, dtype=np.float64)
        reference = float(timestamps.max()) if now is None and items.size else float(now or 0.0)
        histories = self.histories(
            rows=np.zeros(items.shape[0], dtype=np.int64),
            items=items,
            timestamps=timestamps,
            event_weights=event_weights,
            reference_times=np.array([reference]),
        )
        empty = sparse.csr_matrix((1, self.n_items), dtype=np.float32)
        segment_code = self.segment_index(segment)
        return self.score_batch(
            user_indices=np.array([-1 if user_index is None else user_index]),
            history=next(iter(histories.values()), empty),
            segments=np.array([-1 if segment_code is None else segment_code]),
            histories=histories,
        )[0]

    # ---------------------------------------------------------------- scoring
    def _history_row(
        self, history: np.ndarray, history_weights: np.ndarray | None
    ) -> sparse.csr_matrix:
        """One customer's (history, history_weights) as a (1, n_items) csr (repeats summed)."""
        history = np.asarray(history, dtype=np.int64)
        if history_weights is None:
            history_weights = np.ones(history.shape[0], dtype=np.float32)
        return sparse.csr_matrix(
            (np.asarray(history_weights, dtype=np.float32), (np.zeros_like(history), history)),
            shape=(1, self.n_items),
        )

    def components(
        self,
        *,
        user_index: int | None,
        history: np.ndarray,
        history_weights: np.ndarray | None = None,
        segment: str | None = None,
    ) -> dict[str, np.ndarray]:
        """Raw (unstandardised) score vectors over the catalogue, one per usable component."""
        row = self._history_row(history, history_weights)
        segment_code = self.segment_index(segment)
        parts = self.component_matrices(
            user_indices=np.array([-1 if user_index is None else user_index]),
            history=row,
            segments=np.array([-1 if segment_code is None else segment_code]),
        )
        return {name: matrix[0] for name, (matrix, valid) in parts.items() if valid[0]}

    def component_matrices(
        self,
        *,
        user_indices: np.ndarray,
        history: sparse.csr_matrix,
        segments: np.ndarray | None = None,
        trending: np.ndarray | None = None,
        histories: dict[str, sparse.csr_matrix] | None = None,
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Raw score matrices (b, n_items) per weighted component, with the rows where usable.

        `user_indices` are -1 for customers unknown at training; `history` is (b, n_items) of
        history weights; `histories` optionally gives a component its own (see `histories`);
        `segments` are indices into `segment_names` (-1 unknown); `trending` (b, n_items)
        replaces the stored trending vector per row (the evaluation harness passes the trend
        at each customer's own point in time).
        """
        user_indices = np.asarray(user_indices, dtype=np.int64)
        b = user_indices.shape[0]
        shared = sparse.csr_matrix(history, dtype=np.float32)

        def read(component: str) -> tuple[sparse.csr_matrix, np.ndarray]:
            own = (
                shared if histories is None or component not in histories else histories[component]
            )
            own = sparse.csr_matrix(own, dtype=np.float32)
            return own, np.diff(own.indptr) > 0

        known = user_indices >= 0
        w = {name: self.active(name) for name in COMPONENTS}
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        everyone = np.ones(b, dtype=bool)
        if w.get("mf") and self.user_factors is not None and known.any():
            assert self.item_factors is not None
            factors = self.user_factors[np.where(known, user_indices, 0)]
            mf = np.asarray(factors @ self.item_factors.T, dtype=np.float64)
            if self.item_bias is not None:
                mf += self.item_bias[None, :]
            out["mf"] = (mf, known)
        for name, matrix in (("item_knn", self.neighbours), ("sequence", self.transitions)):
            if w.get(name) and matrix is not None:
                history, has_history = read(name)
                if has_history.any():
                    out[name] = (_dense(history @ matrix), has_history)
        if w.get("user_knn") and self.user_neighbours is not None and known.any():
            assert self.user_items is not None
            rows = self.user_neighbours[np.where(known, user_indices, 0)]
            out["user_knn"] = (_dense(rows @ self.user_items), known)
        history, has_history = read("content")
        if w.get("content") and self.content is not None and has_history.any():
            profile = np.asarray(history @ self.content, dtype=np.float64)
            norms = np.linalg.norm(profile, axis=1)
            usable = has_history & (norms > 0)
            profile /= np.where(norms > 0, norms, 1.0)[:, None]
            out["content"] = (profile @ self.content.T.astype(np.float64), usable)
        history, has_history = read("category")
        if w.get("category") and self.item_category is not None and has_history.any():
            out["category"] = (self._category_scores(history), has_history)
        if w.get("segment") and self.segment_popularity is not None and segments is not None:
            segments = np.asarray(segments, dtype=np.int64)
            in_segment = segments >= 0
            rows = self.segment_popularity[np.where(in_segment, segments, 0)]
            out["segment"] = (np.log1p(rows.astype(np.float64)), in_segment)
        if w.get("popularity"):
            popular = np.log1p(self.popularity.astype(np.float64))
            out["popularity"] = (np.broadcast_to(popular, (b, self.n_items)), everyone)
        if w.get("trending") and (trending is not None or self.trending is not None):
            if trending is None:
                assert self.trending is not None
                trend = np.broadcast_to(
                    np.log1p(self.trending.astype(np.float64)), (b, self.n_items)
                )
            else:
                trend = np.log1p(np.asarray(trending, dtype=np.float64))
            out["trending"] = (trend, everyone)
        return out

    def _category_scores(self, history: sparse.csr_matrix) -> np.ndarray:
        """P(item) = P(category | history mix, smoothed) x P(item | category, popularity)."""
        codes, n_categories = self.category_codes()
        onehot = sparse.csr_matrix(
            (np.ones(self.n_items, dtype=np.float32), (np.arange(self.n_items), codes)),
            shape=(self.n_items, n_categories),
        )
        source = self.popularity if self.category_popularity is None else self.category_popularity
        popular = source.astype(np.float64) + 1e-9
        category_mass = np.bincount(codes, weights=popular, minlength=n_categories)
        prior = category_mass / category_mass.sum()
        mix = _dense(history @ onehot)
        totals = mix.sum(axis=1, keepdims=True)
        share = (mix + CATEGORY_PRIOR * prior[None, :]) / (totals + CATEGORY_PRIOR)
        return share[:, codes] * (popular / category_mass[codes])[None, :]

    def score(
        self,
        *,
        user_index: int | None,
        history: np.ndarray,
        history_weights: np.ndarray | None = None,
        segment: str | None = None,
    ) -> np.ndarray:
        """Blended score per item (float64, n_items). Higher is better; never all-NaN."""
        row = self._history_row(history, history_weights)
        segment_code = self.segment_index(segment)
        return self.score_batch(
            user_indices=np.array([-1 if user_index is None else user_index]),
            history=row,
            segments=np.array([-1 if segment_code is None else segment_code]),
        )[0]

    def score_batch(
        self,
        *,
        user_indices: np.ndarray,
        history: sparse.csr_matrix,
        segments: np.ndarray | None = None,
        trending: np.ndarray | None = None,
        histories: dict[str, sparse.csr_matrix] | None = None,
    ) -> np.ndarray:
        """`score` for b customers at once: (b, n_items) float64 (see `component_matrices`)."""
        parts = self.component_matrices(
            user_indices=user_indices,
            history=history,
            segments=segments,
            trending=trending,
            histories=histories,
        )
        user_indices = np.asarray(user_indices, dtype=np.int64)
        b = int(user_indices.shape[0])
        floor = standardise(np.log1p(self.popularity))
        total = np.zeros((b, self.n_items), dtype=np.float64)
        scored = np.zeros(b, dtype=bool)
        cold = (user_indices < 0) if self.cold_weights else np.zeros(b, dtype=bool)
        for name, (matrix, valid) in parts.items():
            weight = np.where(cold, self.cold_weights.get(name, 0.0), self.weights.get(name, 0.0))
            rows = np.flatnonzero(valid & (weight > 0))
            if rows.size == 0:
                continue
            every_row = rows.size == b
            block, varied = _standardised(matrix if every_row else np.asarray(matrix)[rows])
            block *= weight[rows][:, None]
            if every_row:
                total += block
                scored |= varied
            else:
                total[rows] += block
                scored[rows[varied]] = True
        total[~scored] = floor
        total += TIE_BREAK * floor
        return total

    def similar(self, item_index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items like `item_index` (indices, scores): neighbours, then content."""
        scores = np.zeros(self.n_items, dtype=np.float64)
        if self.neighbours is not None:
            scores += standardise(np.asarray(self.neighbours[item_index].todense()).ravel())
        if self.content is not None and np.any(self.content[item_index]):
            scores += standardise(self.content @ self.content[item_index])
        if not scores.any():
            scores = standardise(np.log1p(self.popularity))
        scores[item_index] = -np.inf
        k = min(k, self.n_items - 1)
        top = np.argpartition(-scores, k)[:k] if k < self.n_items else np.arange(self.n_items)
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]

    # ---------------------------------------------------------------- storage
    def save(self, path: Path) -> None:
        """Write one `.npz` (no pickle): arrays plus a JSON header."""
        arrays: dict[str, np.ndarray] = {
            "item_ids": np.asarray(self.item_ids, dtype=str),
            "user_ids": np.asarray(self.user_ids, dtype=str),
            "popularity": np.asarray(self.popularity, dtype=np.float32),
        }
        for name in (
            "trending",
            "user_factors",
            "item_factors",
            "item_bias",
            "content",
            "category_popularity",
        ):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = np.asarray(value, dtype=np.float32)
        if self.item_category is not None:
            arrays["item_category"] = np.asarray(self.item_category, dtype=str)
        if self.segment_popularity is not None:
            arrays["segment_popularity"] = np.asarray(self.segment_popularity, dtype=np.float32)
        if self.segment_names is not None:
            arrays["segment_names"] = np.asarray(self.segment_names, dtype=str)
        for prefix, matrix in (
            ("nb", self.neighbours),
            ("tr", self.transitions),
            ("un", self.user_neighbours),
            ("ui", self.user_items),
        ):
            if matrix is not None:
                csr = sparse.csr_matrix(matrix, dtype=np.float32)
                arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"] = csr.data, csr.indices
                arrays[f"{prefix}_indptr"] = csr.indptr
                arrays[f"{prefix}_shape"] = np.asarray(csr.shape, dtype=np.int64)
        header = {
            "format": FORMAT_VERSION,
            "weights": self.weights,
            "algorithm": self.algorithm,
            "metadata": self.metadata,
            "history": {
                "transform": self.history_transform,
                "half_life_seconds": self.history_half_life_seconds,
                "half_life_events": self.history_half_life_events,
                "components": self.component_history,
            },
            "cold_weights": self.cold_weights,
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        path.write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> RecommenderModel:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            if header.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path}: unsupported recommender format {header.get('format')}")
            get = lambda name: data[name] if name in data.files else None  # noqa: E731
            n = int(data["item_ids"].shape[0])

            def matrix(prefix: str) -> sparse.csr_matrix | None:
                if f"{prefix}_data" not in data.files:
                    return None
                shape = (
                    tuple(data[f"{prefix}_shape"]) if f"{prefix}_shape" in data.files else (n, n)
                )
                parts = (
                    data[f"{prefix}_data"],
                    data[f"{prefix}_indices"],
                    data[f"{prefix}_indptr"],
                )
                return sparse.csr_matrix(parts, shape=shape)

            history = header.get("history", {})
            return cls(
                item_ids=data["item_ids"],
                user_ids=data["user_ids"],
                weights={k: float(v) for k, v in header["weights"].items()},
                algorithm=header["algorithm"],
                popularity=data["popularity"],
                trending=get("trending"),
                user_factors=get("user_factors"),
                item_factors=get("item_factors"),
                item_bias=get("item_bias"),
                neighbours=matrix("nb"),
                content=get("content"),
                item_category=get("item_category"),
                metadata=header.get("metadata", {}),
                user_neighbours=matrix("un"),
                user_items=matrix("ui"),
                segment_names=get("segment_names"),
                segment_popularity=get("segment_popularity"),
                history_transform=history.get("transform", "log"),
                history_half_life_seconds=history.get("half_life_seconds"),
                history_half_life_events=history.get("half_life_events"),
                transitions=matrix("tr"),
                component_history=history.get("components", {}),
                cold_weights={k: float(v) for k, v in header.get("cold_weights", {}).items()},
                category_popularity=get("category_popularity"),
            )


def standardise(vector: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (a constant vector becomes zeros)."""
    vector = np.asarray(vector, dtype=np.float64)
    std = float(vector.std())
    if not np.isfinite(std) or std == 0.0:
        return np.zeros_like(vector)
    return (vector - float(vector.mean())) / std


def standardise_rows(matrix: np.ndarray) -> np.ndarray:
    """`standardise` applied to every row of a (b, n) matrix."""
    return _standardised(matrix)[0]


def _standardised(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows standardised into a new float64 array, which rows vary at all)."""
    out = np.array(matrix, dtype=np.float64, copy=True)
    mean = out.mean(axis=1, keepdims=True)
    out -= mean
    std = np.sqrt(np.einsum("ij,ij->i", out, out) / max(out.shape[1], 1))[:, None]
    usable = np.isfinite(std) & (std > 0)
    out *= np.where(usable, 1.0 / np.where(usable, std, 1.0), 0.0)
    return out, usable.ravel()


def history_matrix(
    *,
    rows: np.ndarray,
    items: np.ndarray,
    timestamps: np.ndarray,
    weights: np.ndarray | None,
    reference_times: np.ndarray,
    n_items: int,
    transform: str = "log",
    half_life_seconds: float | None = None,
    half_life_events: float | None = None,
) -> sparse.csr_matrix:
    """Histories of many customers as a (n_rows, n_items) csr of history weights.

    Per (row, item): the summed event weights through `transform` (binary 1 / log1p / as is),
    times 0.5 ** (age of the item's latest event / half_life_seconds), age taken from the
    row's reference time, times 0.5 ** (recency rank / half_life_events), rank 0 being the
    item the customer touched last. Training, evaluation and serving all build histories here.
    """
    if transform not in HISTORY_TRANSFORMS:
        raise ValueError(f"history transform must be one of {HISTORY_TRANSFORMS}, not {transform}")
    rows = np.asarray(rows, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    timestamps = np.asarray(timestamps, dtype=np.float64)
    reference_times = np.asarray(reference_times, dtype=np.float64)
    n_rows = int(reference_times.shape[0])
    values = np.ones(rows.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if rows.size == 0:
        return sparse.csr_matrix((n_rows, n_items), dtype=np.float32)
    key = rows * n_items + items
    unique, inverse = np.unique(key, return_inverse=True)
    mass = np.bincount(inverse, weights=values)
    latest = np.full(unique.shape[0], -np.inf)
    np.maximum.at(latest, inverse, timestamps)
    out_rows, out_items = unique // n_items, unique % n_items
    if transform == "binary":
        value = np.ones_like(mass)
    elif transform == "log":
        value = np.log1p(np.maximum(mass, 0.0))
    else:
        value = np.maximum(mass, 0.0)
    if half_life_seconds:
        age = np.maximum(reference_times[out_rows] - latest, 0.0)
        value = value * np.exp2(-age / half_life_seconds)
    if half_life_events:
        order = np.lexsort((-latest, out_rows))  # by row, newest first
        starts = np.searchsorted(out_rows[order], out_rows[order], side="left")
        rank = np.empty(order.shape[0], dtype=np.float64)
        rank[order] = np.arange(order.shape[0]) - starts
        value = value * np.exp2(-rank / half_life_events)
    return sparse.csr_matrix(
        (value.astype(np.float32), (out_rows, out_items)), shape=(n_rows, n_items)
    )


def _dense(matrix: Any) -> np.ndarray:
    if sparse.issparse(matrix):
        return np.asarray(matrix.toarray(), dtype=np.float64)
    return np.asarray(matrix, dtype=np.float64)
