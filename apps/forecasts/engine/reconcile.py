"""Hierarchical reconciliation: category forecasts that add up to the shop's.

Forecasting each level on its own gives totals that disagree with the sum of their parts.
WLS with structural scaling (Wickramasuriya, Athanasopoulos & Hyndman 2019, "WLS_s") maps the
base forecasts y_hat of every node onto coherent ones y_tilde = S (S' W^-1 S)^-1 S' W^-1 y_hat,
where S sums the bottom series into every node and W = diag(number of bottom series under each
node). Intervals are shifted with their node's mean (a documented approximation: the
reconciled distribution is not re-estimated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def summing_matrix(total: str, parts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Node order [total, *parts] and S for a two-level hierarchy."""
    nodes = [total, *parts]
    matrix = np.vstack([np.ones(len(parts)), np.eye(len(parts))])
    return nodes, matrix


def reconcile(
    base: Mapping[str, np.ndarray], total: str, parts: Sequence[str]
) -> dict[str, np.ndarray]:
    """Coherent forecasts for `total` and `parts` from base forecasts of equal length."""
    if not parts:
        return {total: np.asarray(base[total], dtype=float)}
    nodes, matrix = summing_matrix(total, parts)
    stacked = np.vstack([np.asarray(base[node], dtype=float) for node in nodes])
    weights = 1 / matrix.sum(axis=1)  # W^-1 diagonal
    weighted = matrix.T * weights  # S' W^-1
    projection = matrix @ np.linalg.solve(weighted @ matrix, weighted)
    coherent = projection @ stacked
    return {node: coherent[i] for i, node in enumerate(nodes)}
