"""Top-k recommendation metrics (the Microsoft Recommenders set), vectorised over users.

`top` is (n_users, k) item indices, best first, -1 where fewer than k items could be
recommended; `relevant` is a (n_users, n_items) 0/1 csr of the relevant items that are in the
catalogue; `n_relevant` counts every relevant item per user, off-catalogue ones included (they
can never be hit but still count in recall, NDCG and MAP, so unreachable items cost score).

  precision@k  hits / k
  recall@k     hits / n_relevant
  ndcg@k       sum hit_r / log2(r + 2)  over  the same for min(n_relevant, k) hits at the top
  map@k        sum over hit ranks r of precision@(r+1)  /  min(n_relevant, k)
  hit_rate@k   share of users with at least one hit
  coverage     share of the catalogue recommended to at least one user
  diversity    mean over lists of the mean pairwise (1 - cosine) of the items' vectors
  novelty      mean over recommended items of -log2(share of users who interacted with it)
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def hit_matrix(top: np.ndarray, relevant: sparse.csr_matrix) -> np.ndarray:
    """(n_users, k) bool: is the item at each rank relevant to the user."""
    top = np.asarray(top, dtype=np.int64)
    n_users, k = top.shape
    if n_users == 0 or k == 0:
        return np.zeros((n_users, k), dtype=bool)
    rows = np.repeat(np.arange(n_users), k)
    cols = top.ravel()
    valid = cols >= 0
    hits = np.zeros(n_users * k, dtype=bool)
    if valid.any():
        values = np.asarray(relevant[rows[valid], cols[valid]]).ravel()
        hits[valid] = values > 0
    return hits.reshape(n_users, k)


def ranking_metrics(
    top: np.ndarray, relevant: sparse.csr_matrix, n_relevant: np.ndarray, k: int
) -> dict[str, float]:
    """precision / recall / ndcg / map / hit_rate at k, averaged over users with n_relevant > 0."""
    top = np.asarray(top, dtype=np.int64)[:, :k]
    if top.shape[1] < k:
        top = np.hstack([top, np.full((top.shape[0], k - top.shape[1]), -1)])
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    users = n_relevant > 0
    hits = hit_matrix(top, relevant)[users].astype(np.float64)
    n_relevant = n_relevant[users]
    if hits.shape[0] == 0:
        return {f"{name}@{k}": 0.0 for name in ("precision", "recall", "ndcg", "map", "hit_rate")}
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal_cumulative = np.cumsum(discounts)
    ideal_count = np.minimum(n_relevant, k).astype(np.int64)
    ndcg = (hits @ discounts) / ideal_cumulative[ideal_count - 1]
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    average_precision = (precision_at_rank * hits).sum(axis=1) / ideal_count
    found = hits.sum(axis=1)
    return {
        f"precision@{k}": float(np.mean(found / k)),
        f"recall@{k}": float(np.mean(found / n_relevant)),
        f"ndcg@{k}": float(np.mean(ndcg)),
        f"map@{k}": float(np.mean(average_precision)),
        f"hit_rate@{k}": float(np.mean(found > 0)),
    }


def catalogue_coverage(top: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    top = np.asarray(top)
    if n_items == 0:
        return 0.0
    return float(np.unique(top[top >= 0]).shape[0] / n_items)


def intra_list_diversity(top: np.ndarray, item_vectors: sparse.csr_matrix) -> float:
    """Mean over lists of the mean pairwise cosine distance between the listed items.

    `item_vectors` are (n_items, d) rows (e.g. the item's column of the interaction matrix);
    they are L2-normalised here. Lists shorter than two items are skipped.
    """
    top = np.asarray(top, dtype=np.int64)
    vectors = sparse.csr_matrix(item_vectors, dtype=np.float64)
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    vectors = (
        sparse.diags(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)) @ vectors
    )
    vectors = sparse.csr_matrix(vectors)
    n_users, k = top.shape
    total = np.zeros(n_users)
    pairs = np.zeros(n_users)
    for a in range(k):
        for b in range(a + 1, k):
            both = (top[:, a] >= 0) & (top[:, b] >= 0)
            if not both.any():
                continue
            left = vectors[top[both, a]]
            right = vectors[top[both, b]]
            cosine = np.asarray(left.multiply(right).sum(axis=1)).ravel()
            total[both] += 1.0 - cosine
            pairs[both] += 1
    listed = pairs > 0
    return float(np.mean(total[listed] / pairs[listed])) if listed.any() else 0.0


def novelty(top: np.ndarray, item_user_counts: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2(p_i) of recommended items, p_i = users of i / all users."""
    top = np.asarray(top, dtype=np.int64)
    listed = top[top >= 0]
    if listed.size == 0 or n_users == 0:
        return 0.0
    share = np.maximum(np.asarray(item_user_counts, dtype=np.float64)[listed], 1.0) / n_users
    return float(np.mean(-np.log2(np.minimum(share, 1.0))))
