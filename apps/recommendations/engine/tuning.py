"""Random search of one algorithm's parameters within a time budget.

The defaults are always tried first (a known-good point); then, while the budget lasts, half
the candidates are fresh random draws and half perturb the best so far (one or two parameters
redrawn), which finds good regions faster than pure random search at the same cost. The score
is NDCG@k on the validation customers, ranked exactly as serving would rank them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommendations.engine.algorithms.base import Algorithm, Params
from apps.recommendations.engine.data import Progress
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.evaluation import Ranker
from apps.recommendations.engine.model import RecommenderModel

FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError, MemoryError)
MAX_REPEATS = 20  # consecutive already-tried candidates before a small space counts as done


@dataclass
class Tuned:
    """The outcome of tuning one algorithm on the validation slice."""

    algorithm: Algorithm
    params: Params
    score: float  # validation NDCG@k of the best parameters
    model: RecommenderModel  # fitted on the fit part with the best parameters
    trials: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    fit_seconds: float = 0.0  # fit time of the best parameters
    validation: dict[str, float] = field(default_factory=dict)  # every metric of the best


def tune(
    algorithm: Algorithm,
    fit_set: TrainingSet,
    ranker: Ranker,
    *,
    k: int,
    budget_s: float,
    seed: int,
    progress: Progress | None = None,
) -> Tuned | None:
    """Best parameters within `budget_s` (None when every trial failed)."""
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    best: Tuned | None = None
    tried: set[str] = set()
    repeats = 0
    candidate: Params = dict(algorithm.defaults)
    trials: list[dict[str, Any]] = []
    while True:
        key = json.dumps(candidate, sort_keys=True, default=str)
        if key in tried:
            repeats += 1
        else:
            repeats = 0
            tried.add(key)
            trial = _trial(algorithm, fit_set, ranker, candidate, k=k, seed=seed)
            trials.append(trial["record"])
            if trial["model"] is not None and (best is None or trial["score"] > best.score):
                best = Tuned(
                    algorithm=algorithm,
                    params=candidate,
                    score=trial["score"],
                    model=trial["model"],
                    fit_seconds=trial["record"]["fit_seconds"],
                )
                if progress:
                    progress(0.0, f"{algorithm.name}: ndcg@{k} {best.score:.4f} with {candidate}")
        elapsed = time.monotonic() - started
        mean_trial = elapsed / max(len(trials), 1)
        if elapsed + mean_trial > budget_s or repeats >= MAX_REPEATS:
            break
        candidate = _next_candidate(algorithm, best, rng)
    if best is None:
        return None
    best.trials = trials
    best.validation = ranker.metrics(ranker.top_k(best.model, k), k)
    best.seconds = time.monotonic() - started
    return best


def _trial(
    algorithm: Algorithm,
    fit_set: TrainingSet,
    ranker: Ranker,
    params: Params,
    *,
    k: int,
    seed: int,
) -> dict[str, Any]:
    began = time.monotonic()
    try:
        model = algorithm.fit(fit_set, params, seed)
    except FAILURES as error:
        record = {"params": params, "error": f"{type(error).__name__}: {error}", "fit_seconds": 0.0}
        return {"model": None, "score": -1.0, "record": record}
    fitted = time.monotonic()
    top = ranker.top_k(model, k)
    score = ranker.metrics(top, k, quality_only=True)[f"ndcg@{k}"]
    record = {
        "params": params,
        f"ndcg@{k}": round(score, 5),
        "fit_seconds": round(fitted - began, 3),
        "rank_seconds": round(time.monotonic() - fitted, 3),
    }
    return {"model": model, "score": score, "record": record}


def _next_candidate(algorithm: Algorithm, best: Tuned | None, rng: np.random.Generator) -> Params:
    fresh = {**algorithm.defaults, **algorithm.sample(rng)}
    if best is None or rng.random() < 0.5:
        return fresh
    candidate = dict(best.params)
    keys = sorted(fresh)
    for index in rng.choice(len(keys), size=min(len(keys), int(rng.integers(1, 3))), replace=False):
        candidate[keys[int(index)]] = fresh[keys[int(index)]]
    return candidate
