"""The evaluation harness: rank the catalogue for held-out customers exactly as serving
would (`RecommenderModel.score_batch` on the customer's training history), drop what they
already interacted with, and measure the top k against what they did next.

Protocol (stated with every report): relevant = every held-out interaction of the customer
(repeats of training items included, though they can never be recommended); recommended =
the top k items not in the customer's training interactions; customers without training
history get the cold-start ranking and still count. The point in time of a customer is their
last training interaction (per-user split) or the end of training (global split); trending
is taken at that point from earlier interactions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse

from apps.recommendations.engine.algorithms.base import TREND_HALF_LIFE_DAYS
from apps.recommendations.engine.algorithms.popularity import TrendTracker
from apps.recommendations.engine.data import InteractionLog
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.metrics import (
    catalogue_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
)
from apps.recommendations.engine.model import RecommenderModel, standardise_rows

SCORE_CELLS = 8_000_000  # users x items scored per batch
DIVERSITY_LISTS = 5000  # intra-list diversity is averaged over a fixed random sample of lists


@dataclass(frozen=True)
class Target:
    """Who is evaluated, on what, and at which point in time."""

    users: np.ndarray  # int64 index into the training users, -1 when unknown to training
    relevant: sparse.csr_matrix  # (n, n_items) 1 for relevant catalogue items
    n_relevant: np.ndarray  # relevant items per customer, off-catalogue ones included
    reference_times: np.ndarray  # float64 epoch seconds
    segments: np.ndarray  # str per customer ("" unknown)

    @property
    def size(self) -> int:
        return int(self.users.shape[0])


def target_build(
    train: TrainingSet,
    held_out: InteractionLog,
    *,
    reference: str = "user_last",
    max_users: int | None = None,
    seed: int = 0,
) -> Target:
    """The held-out customers with their relevant items (a random `max_users` of them)."""
    user_ids, inverse = np.unique(np.asarray(held_out.user_ids).astype(str), return_inverse=True)
    keep = np.arange(user_ids.shape[0])
    if max_users is not None and user_ids.shape[0] > max_users:
        keep = np.sort(
            np.random.default_rng(seed).choice(user_ids.shape[0], max_users, replace=False)
        )
    remap = np.full(user_ids.shape[0], -1)
    remap[keep] = np.arange(keep.shape[0])
    rows = remap[inverse]
    selected = rows >= 0
    users = _lookup(train.user_ids, user_ids[keep])
    rows = rows[selected]
    item_keys = np.asarray(held_out.item_ids).astype(str)[selected]
    key_names, key_codes = np.unique(item_keys, return_inverse=True)
    distinct = np.unique(rows * max(key_names.shape[0], 1) + key_codes)
    n_relevant = np.bincount(distinct // max(key_names.shape[0], 1), minlength=keep.shape[0])
    items = _lookup(train.item_ids, item_keys)
    in_catalogue = items >= 0
    relevant = sparse.csr_matrix(
        (
            np.ones(int(in_catalogue.sum()), dtype=np.float32),
            (rows[in_catalogue], items[in_catalogue]),
        ),
        shape=(keep.shape[0], train.n_items),
    )
    relevant.sum_duplicates()
    relevant.data[:] = 1.0
    known = users >= 0
    if reference == "user_last":
        times = np.where(known, train.last_times[np.where(known, users, 0)], train.end_time)
        times = np.where(np.isfinite(times), times, train.end_time)
    else:
        times = np.full(keep.shape[0], train.end_time)
    segments = np.full(keep.shape[0], "", dtype=object)
    if train.user_segments is not None:
        segments[known] = train.user_segments[users[known]]
    return Target(
        users=users,
        relevant=relevant,
        n_relevant=np.asarray(n_relevant, dtype=np.int64),
        reference_times=times.astype(np.float64),
        segments=segments.astype(str),
    )


def _lookup(sorted_ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of each key in sorted unique ids, -1 when absent."""
    if sorted_ids.shape[0] == 0:
        return np.full(keys.shape[0], -1, dtype=np.int64)
    position = np.searchsorted(sorted_ids, keys)
    position = np.minimum(position, sorted_ids.shape[0] - 1)
    found = sorted_ids[position] == keys
    return np.where(found, position, -1).astype(np.int64)


class Ranker:
    """Ranks the catalogue for one `Target` with any `RecommenderModel`, as serving would."""

    def __init__(self, train: TrainingSet, target: Target) -> None:
        self.train = train
        self.target = target
        # customers in point-in-time order, so trends are computed incrementally
        self.order = np.argsort(target.reference_times, kind="stable")
        by_user = np.argsort(train.users, kind="stable")
        starts = np.searchsorted(train.users[by_user], np.arange(train.n_users + 1))
        self._rows_of = [
            by_user[starts[u] : starts[u + 1]] if u >= 0 else np.zeros(0, dtype=np.int64)
            for u in target.users
        ]
        self.batch = max(1, min(2048, SCORE_CELLS // max(train.n_items, 1)))

    def batches(self) -> list[np.ndarray]:
        return [self.order[i : i + self.batch] for i in range(0, self.target.size, self.batch)]

    def history(
        self, model: RecommenderModel, batch: np.ndarray
    ) -> tuple[dict[str, sparse.csr_matrix], sparse.csr_matrix]:
        """(history per component, seen 0/1) of the batch's customers from their training rows."""
        rows = [self._rows_of[i] for i in batch]
        lengths = np.array([r.shape[0] for r in rows])
        flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        position = np.repeat(np.arange(batch.shape[0]), lengths)
        train = self.train
        histories = model.histories(
            rows=position,
            items=train.items[flat],
            timestamps=train.timestamps[flat],
            event_weights=train.weights[flat],
            reference_times=self.target.reference_times[batch],
        )
        seen = sparse.csr_matrix(
            (np.ones(flat.shape[0], dtype=np.float32), (position, train.items[flat])),
            shape=(batch.shape[0], train.n_items),
        )
        return histories, seen

    def segment_codes(self, model: RecommenderModel, batch: np.ndarray) -> np.ndarray | None:
        if model.segment_names is None:
            return None
        return np.array(
            [
                -1 if (code := model.segment_index(name or None)) is None else code
                for name in self.target.segments[batch]
            ]
        )

    def trend_tracker(self, model: RecommenderModel) -> TrendTracker | None:
        if not model.weights.get("trending"):
            return None
        half_life = float(model.metadata.get("trend_half_life_days", TREND_HALF_LIFE_DAYS))
        return TrendTracker(self.train, half_life)

    def top_k(self, model: RecommenderModel, k: int) -> np.ndarray:
        """(n, k) best unseen items per customer in target order (-1 pads short lists)."""
        top = np.full((self.target.size, k), -1, dtype=np.int64)
        tracker = self.trend_tracker(model)
        for batch in self.batches():
            histories, seen = self.history(model, batch)
            trending = None if tracker is None else tracker.at(self.target.reference_times[batch])
            scores = model.score_batch(
                user_indices=self.target.users[batch],
                history=seen,
                segments=self.segment_codes(model, batch),
                trending=trending,
                histories=histories,
            )
            top[batch] = top_unseen(scores, seen, k)
        return top

    def standardised_components(
        self, model: RecommenderModel, *, as_unknown: bool = False
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per component: standardised (n, n_items) float32 scores and rows where it counts.

        `as_unknown` scores every customer as one without trained factors (history only)."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        tracker = self.trend_tracker(model)
        for batch in self.batches():
            histories, seen = self.history(model, batch)
            trending = None if tracker is None else tracker.at(self.target.reference_times[batch])
            users = self.target.users[batch]
            parts = model.component_matrices(
                user_indices=np.full_like(users, -1) if as_unknown else users,
                history=seen,
                segments=self.segment_codes(model, batch),
                trending=trending,
                histories=histories,
            )
            for name, (matrix, valid) in parts.items():
                if name not in out:
                    out[name] = (
                        np.zeros((self.target.size, self.train.n_items), dtype=np.float32),
                        np.zeros(self.target.size, dtype=bool),
                    )
                block = standardise_rows(np.asarray(matrix)) * valid[:, None]
                out[name][0][batch] = block
                out[name][1][batch] = valid & block.any(axis=1)
        return out

    def seen_matrix(self) -> sparse.csr_matrix:
        """0/1 (n, n_items) of every customer's training items, in target order."""
        lengths = np.array([r.shape[0] for r in self._rows_of])
        flat = np.concatenate(self._rows_of) if self._rows_of else np.zeros(0, dtype=np.int64)
        position = np.repeat(np.arange(self.target.size), lengths)
        return sparse.csr_matrix(
            (np.ones(flat.shape[0], dtype=np.float32), (position, self.train.items[flat])),
            shape=(self.target.size, self.train.n_items),
        )

    def metrics(self, top: np.ndarray, k: int, *, quality_only: bool = False) -> dict[str, float]:
        """Ranking metrics of `top`; with the catalogue-level ones unless `quality_only`."""
        result = ranking_metrics(top, self.target.relevant, self.target.n_relevant, k)
        if quality_only:
            return result
        train = self.train
        active_users = int(np.unique(train.users).shape[0])
        result["coverage"] = catalogue_coverage(top, train.n_items)
        sample = top
        if top.shape[0] > DIVERSITY_LISTS:
            rows = np.random.default_rng(0).choice(top.shape[0], DIVERSITY_LISTS, replace=False)
            sample = top[np.sort(rows)]
        item_vectors = train.matrix(transform="binary").T.tocsr()
        result["diversity"] = intra_list_diversity(sample, item_vectors)
        result["novelty"] = novelty(top, train.item_counts, active_users)
        result["users"] = float(self.target.size)
        return result


def top_unseen(scores: np.ndarray, seen: sparse.csr_matrix, k: int) -> np.ndarray:
    """Indices of the k best-scored items per row that are not `seen` (-1 pads).

    Overwrites `scores` at the seen items. Ties keep no particular order.
    """
    coo = seen.tocoo()
    scores[coo.row, coo.col] = -np.inf
    n_items = scores.shape[1]
    width = min(k, n_items)
    top = np.full((scores.shape[0], k), -1, dtype=np.int64)
    if width == 0 or scores.shape[0] == 0:
        return top
    values, indices = torch.from_numpy(scores).topk(width, dim=1)  # much faster than argpartition
    ranked, ranked_values = indices.numpy(), values.numpy()
    top[:, :width] = np.where(np.isfinite(ranked_values), ranked, -1)
    return top
