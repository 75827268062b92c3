"""Model selection: tune every algorithm on a temporal validation slice, pick the champion.

    fit_champion(log, items=..., users=..., k=10, time_budget_s=120) -> ChampionResult
        for the platform: the champion refitted on all data as a `RecommenderModel`, with the
        cold-start components (popular in segment, trending, item-kNN and content from the
        first events) attached at a small weight, and the validation report.
    evaluate_algorithms(train, test, k=10, ...) -> report
        for `recommend evaluate`: every algorithm tuned on a validation slice of the training
        log only, refitted on all of it and measured on the test log.

The validation slice is carved out of the training log by `temporal_split` with the protocol
of the test (per-user or global), so tuning never sees a test row. The champion is the best
NDCG@k on validation; the blend competes like any algorithm.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from apps.recommendations.engine.algorithms.base import Algorithm
from apps.recommendations.engine.algorithms.content import CONTENT, minilm_embedder
from apps.recommendations.engine.algorithms.ease import EASE
from apps.recommendations.engine.algorithms.factorization import ALS, BPR
from apps.recommendations.engine.algorithms.hybrid import LIGHTFM
from apps.recommendations.engine.algorithms.knn import ITEM_KNN, USER_KNN
from apps.recommendations.engine.algorithms.popularity import (
    CATEGORY,
    POPULARITY,
    SEGMENT,
    TRENDING,
)
from apps.recommendations.engine.algorithms.rp3beta import RP3BETA
from apps.recommendations.engine.algorithms.sequence import SEQUENCE
from apps.recommendations.engine.blend import (
    BlendSearch,
    blend_model,
    floor_scores,
    search_weights,
)
from apps.recommendations.engine.data import (
    ChampionResult,
    InteractionLog,
    ItemFeatures,
    Progress,
    UserFeatures,
)
from apps.recommendations.engine.dataset import Embedder, TrainingSet, training_set_build
from apps.recommendations.engine.evaluation import Ranker, target_build
from apps.recommendations.engine.files import read_interactions, read_items, read_users
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.engine.split import detect_split_mode, temporal_split
from apps.recommendations.engine.tuning import Tuned, tune

ALGORITHMS: tuple[Algorithm, ...] = (
    POPULARITY,
    TRENDING,
    CATEGORY,
    SEGMENT,
    CONTENT,
    ITEM_KNN,
    EASE,
    RP3BETA,
    SEQUENCE,
    USER_KNN,
    ALS,
    BPR,
    LIGHTFM,
)
BLEND = "blend"
ALGORITHM_NAMES = (*(a.name for a in ALGORITHMS), BLEND)
REFERENCE_ALGORITHMS = ("lightfm", "als", "bpr")  # the published baselines we must beat
DEFAULT_TIME_BUDGET_S = 150.0
MIN_USERS = 20
MIN_INTERACTIONS = 20
VALIDATION_FRACTION = 0.2
MAX_VALIDATION_USERS = 3000
BLEND_SHARE = 0.08  # of the time budget, for the weight search
BLEND_CELLS = 50_000_000  # validation users x items x slots kept in memory for the search
COLD_START_WEIGHT = 0.02  # weight of the cold-start components attached to the champion
COLD_SLOTS = ("item_knn", "sequence", "content", "category", "segment", "popularity", "trending")
COLD_SEARCH_SHARE = 0.3  # of the blend budget: weights for customers unknown to training
PROTOCOL = (
    "relevant = every test interaction of the customer; recommended = top k items not in the "
    "customer's training interactions; customers unknown to training get cold-start lists and count"
)


class NotEnoughInteractions(ValueError):
    """Too few users or interactions to learn or to validate anything.

    Engines stay free of Django: the platform side turns this into apps.core.errors.NotEnoughData.
    """


@dataclass
class Selection:
    """Algorithms tuned on the validation slice of one log."""

    full: TrainingSet
    fit_set: TrainingSet
    tuned: dict[str, Tuned]
    blend_weights: dict[str, float] | None
    blend_parts: dict[str, str]  # slot -> algorithm name
    blend_score: float
    blend_validation: dict[str, float]
    skipped: dict[str, str]
    split: dict[str, Any]
    k: int
    fit_rows: np.ndarray  # rows of the log the algorithms were fitted on while tuning
    validation_rows: np.ndarray  # rows of the log held out for validation (latest ones)
    cold_weights: dict[str, float] = field(default_factory=dict)  # blend for unknown customers
    cold_parts: dict[str, str] = field(default_factory=dict)  # slot -> algorithm name

    def scores(self) -> dict[str, float]:
        scores = {name: tuned.score for name, tuned in self.tuned.items()}
        if self.blend_weights:
            scores[BLEND] = self.blend_score
        return scores

    @property
    def best(self) -> str:
        scores = self.scores()
        return max(scores, key=lambda name: (scores[name], name == BLEND))


def check_enough(log: InteractionLog) -> None:
    users = int(np.unique(np.asarray(log.user_ids).astype(str)).shape[0])
    rows = int(log.user_ids.shape[0])
    if users < MIN_USERS or rows < MIN_INTERACTIONS:
        raise NotEnoughInteractions(
            f"not enough data to learn recommendations: {users} users and {rows} interactions "
            f"(at least {MIN_USERS} users and {MIN_INTERACTIONS} interactions are needed)"
        )


def select(
    log: InteractionLog,
    *,
    items: ItemFeatures | None = None,
    users: UserFeatures | None = None,
    k: int = 10,
    time_budget_s: float = 120.0,
    seed: int = 0,
    algorithms: tuple[str, ...] | None = None,
    split_mode: str = "per_user",
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> Selection:
    """Tune each algorithm (and the blend) on a temporal validation slice of `log`."""
    check_enough(log)
    say = progress or (lambda percent, message: None)
    started = time.monotonic()
    say(1, f"indexing {log.user_ids.shape[0]} interactions")
    full = training_set_build(log, items=items, users=users, embedder=embedder)
    split = temporal_split(log, fraction=VALIDATION_FRACTION, mode=split_mode, seed=seed)
    if np.unique(split.test.user_ids).shape[0] < MIN_USERS:
        # too few customers after the cut (or with a second interaction): try the other way
        other = "global" if split_mode == "per_user" else "per_user"
        fallback = temporal_split(log, fraction=VALIDATION_FRACTION, mode=other, seed=seed)
        if np.unique(fallback.test.user_ids).shape[0] > np.unique(split.test.user_ids).shape[0]:
            split_mode, split = other, fallback
    mask = np.zeros(log.user_ids.shape[0], dtype=bool)
    mask[split.train_rows] = True
    fit_set = full.subset(mask)
    reference = "end" if split_mode == "global" else "user_last"
    target = target_build(
        fit_set, split.test, reference=reference, max_users=MAX_VALIDATION_USERS, seed=seed
    )
    if target.size == 0:
        raise NotEnoughInteractions("not enough data to validate: no held-out interactions")
    ranker = Ranker(fit_set, target)
    split_report = {
        "mode": split_mode,
        "validation_fraction": VALIDATION_FRACTION,
        "reference_time": reference,
        "fit_interactions": int(split.train_rows.shape[0]),
        "validation_interactions": int(split.test_rows.shape[0]),
        "validation_users": target.size,
        "items": full.n_items,
        "users": full.n_users,
    }
    chosen = [a for a in ALGORITHMS if algorithms is None or a.name in algorithms]
    skipped: dict[str, str] = {}
    runnable = []
    for algorithm in chosen:
        reason = algorithm.unavailable(full)
        if reason:
            skipped[algorithm.name] = reason
            say(2, f"{algorithm.name}: skipped ({reason})")
        else:
            runnable.append(algorithm)
    want_blend = algorithms is None or BLEND in algorithms
    tuning_budget = time_budget_s * (1.0 - (BLEND_SHARE if want_blend else 0.0))
    shares = [a.budget_share for a in runnable]
    tuned: dict[str, Tuned] = {}
    for position, algorithm in enumerate(runnable):
        spent = time.monotonic() - started
        remaining = max(tuning_budget - spent, 0.0)
        budget = remaining * shares[position] / max(sum(shares[position:]), 1e-9)
        say(
            5 + 80 * min(spent / max(time_budget_s, 1e-9), 1.0),
            f"tuning {algorithm.name} ({budget:.0f} s)",
        )
        result = tune(algorithm, fit_set, ranker, k=k, budget_s=budget, seed=seed, progress=None)
        if result is None:
            skipped[algorithm.name] = "every parameter setting failed"
            continue
        tuned[algorithm.name] = result
        say(
            5 + 80 * min((time.monotonic() - started) / max(time_budget_s, 1e-9), 1.0),
            f"{algorithm.name}: validation ndcg@{k} {result.score:.4f} "
            f"({len(result.trials)} trials, {result.seconds:.1f} s)",
        )
    selection = Selection(
        full=full,
        fit_set=fit_set,
        tuned=tuned,
        blend_weights=None,
        blend_parts={},
        blend_score=-1.0,
        blend_validation={},
        skipped=skipped,
        split=split_report,
        k=k,
        fit_rows=split.train_rows,
        validation_rows=split.test_rows,
    )
    if want_blend:
        _tune_blend(
            selection,
            ranker,
            budget=time_budget_s - (time.monotonic() - started),
            seed=seed,
            say=say,
        )
    return selection


def slot_winners(tuned: dict[str, Tuned]) -> dict[str, Tuned]:
    """The best tuned algorithm of each slot."""
    winners: dict[str, Tuned] = {}
    for result in tuned.values():
        slot = result.algorithm.slot
        if slot not in winners or result.score > winners[slot].score:
            winners[slot] = result
    return winners


def _search(
    selection: Selection,
    ranker: Ranker,
    parts: dict[str, RecommenderModel],
    *,
    start: dict[str, float],
    budget: float,
    seed: int,
    as_unknown: bool = False,
) -> tuple[dict[str, float], int]:
    """Blend weights over `parts` on the validation customers (optionally as if unknown)."""
    target = ranker.target
    rows = np.arange(target.size)
    limit = BLEND_CELLS // max(selection.fit_set.n_items * len(parts), 1)
    if rows.shape[0] > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max(limit, 1), replace=False))
    components: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for slot, model in parts.items():
        matrices = ranker.standardised_components(model, as_unknown=as_unknown)
        if slot in matrices:
            matrix, valid = matrices[slot]
            components[slot] = (matrix[rows], valid[rows])
    search = BlendSearch(
        components=components,
        floor=floor_scores(blend_model(parts, {slot: 1.0 for slot in parts})),
        seen=ranker.seen_matrix()[rows],
        relevant=target.relevant[rows],
        n_relevant=target.n_relevant[rows],
        k=selection.k,
    )
    weights, _, trials = search_weights(
        search, start=start, budget_s=max(budget, 1.0), rng=np.random.default_rng(seed)
    )
    return weights, trials


def _tune_blend(
    selection: Selection, ranker: Ranker, *, budget: float, seed: int, say: Progress
) -> None:
    winners = slot_winners(selection.tuned)
    if len(winners) < 2:
        return
    k = selection.k
    say(88, f"blending {', '.join(f'{s}={w.algorithm.name}' for s, w in winners.items())}")
    parts = {slot: result.model for slot, result in winners.items()}
    best_slot = max(winners, key=lambda slot: winners[slot].score)
    cold_parts = {slot: model for slot, model in parts.items() if slot in COLD_SLOTS}
    share = COLD_SEARCH_SHARE if len(cold_parts) >= 2 else 0.0
    weights, trials = _search(
        selection, ranker, parts, start={best_slot: 1.0}, budget=budget * (1 - share), seed=seed
    )
    model = blend_model({slot: parts[slot] for slot in weights}, weights)
    top = ranker.top_k(model, k)
    selection.blend_weights = weights
    selection.blend_parts = {slot: winners[slot].algorithm.name for slot in weights}
    selection.blend_validation = ranker.metrics(top, k)
    selection.blend_score = selection.blend_validation[f"ndcg@{k}"]
    say(
        90,
        f"blend: validation ndcg@{k} {selection.blend_score:.4f} with weights "
        f"{ {s: round(w, 3) for s, w in weights.items()} } ({trials} trials)",
    )
    if share:
        cold_best = max(cold_parts, key=lambda slot: winners[slot].score)
        cold, _ = _search(
            selection,
            ranker,
            cold_parts,
            start={cold_best: 1.0},
            budget=budget * share,
            seed=seed,
            as_unknown=True,
        )
        selection.cold_weights = cold
        selection.cold_parts = {slot: winners[slot].algorithm.name for slot in cold}
        say(
            91,
            f"weights for customers unknown to training: { {s: round(w, 3) for s, w in cold.items()} }",
        )


def _refit(selection: Selection, name: str, seed: int) -> tuple[RecommenderModel, float]:
    result = selection.tuned[name]
    began = time.monotonic()
    model = result.algorithm.fit(selection.full, result.params, seed)
    return model, time.monotonic() - began


def evaluate_algorithms(
    train: InteractionLog,
    test: InteractionLog,
    *,
    items: ItemFeatures | None = None,
    users: UserFeatures | None = None,
    k: int = 10,
    time_budget_s: float = 120.0,
    seed: int = 0,
    algorithms: tuple[str, ...] | None = None,
    split_mode: str = "auto",
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Tune on a validation slice of `train`, refit on all of `train`, measure on `test`."""
    say = progress or (lambda percent, message: None)
    started = time.monotonic()
    mode = detect_split_mode(train, test) if split_mode == "auto" else split_mode
    say(0, f"test split looks {mode}: validating the same way on the training log")
    selection = select(
        train,
        items=items,
        users=users,
        k=k,
        time_budget_s=time_budget_s,
        seed=seed,
        algorithms=algorithms,
        split_mode=mode,
        embedder=embedder,
        progress=progress,
    )
    reference = "end" if mode == "global" else "user_last"
    target = target_build(selection.full, test, reference=reference)
    ranker = Ranker(selection.full, target)
    report: dict[str, Any] = {"algorithms": {}}
    refits: dict[str, tuple[RecommenderModel, float]] = {}
    for name, result in selection.tuned.items():
        say(92, f"refitting {name} on the whole training log")
        refits[name] = _refit(selection, name, seed)
        model, seconds = refits[name]
        report["algorithms"][name] = _entry(ranker, model, k, train_seconds=seconds, tuned=result)
    if selection.blend_weights:
        names = {**selection.cold_parts, **selection.blend_parts}
        parts = {slot: refits[name][0] for slot, name in names.items()}
        model = blend_model(parts, selection.blend_weights)
        model.cold_weights = dict(selection.cold_weights)
        seconds = sum(refits[name][1] for name in set(names.values()))
        entry = _entry(ranker, model, k, train_seconds=seconds, tuned=None)
        entry["params"] = {
            "weights": selection.blend_weights,
            "parts": selection.blend_parts,
            "cold_weights": selection.cold_weights,
        }
        entry[f"validation_ndcg@{k}"] = round(selection.blend_score, 6)
        report["algorithms"][BLEND] = entry
    report["best"] = selection.best
    report["k"] = k
    report["split"] = {
        **selection.split,
        "test_mode": mode,
        "test_users": target.size,
        "test_interactions": int(test.user_ids.shape[0]),
    }
    report["protocol"] = PROTOCOL
    references = {
        name: report["algorithms"][name][f"ndcg@{k}"]
        for name in REFERENCE_ALGORITHMS
        if name in report["algorithms"]
    }
    if references:
        name = max(references, key=lambda n: references[n])
        report["reference"] = {"algorithm": name, f"ndcg@{k}": references[name]}
    report["skipped"] = selection.skipped
    report["seconds"] = round(time.monotonic() - started, 2)
    say(100, f"done in {report['seconds']:.0f} s; best on validation: {report['best']}")
    return report


def _entry(
    ranker: Ranker, model: RecommenderModel, k: int, *, train_seconds: float, tuned: Tuned | None
) -> dict[str, Any]:
    top = ranker.top_k(model, k)
    entry: dict[str, Any] = {
        name: round(value, 6) for name, value in ranker.metrics(top, k).items()
    }
    entry["train_seconds"] = round(train_seconds, 3)
    if tuned is not None:
        entry["params"] = tuned.params
        entry[f"validation_ndcg@{k}"] = round(tuned.score, 6)
        entry["trials"] = len(tuned.trials)
        entry["tuning_seconds"] = round(tuned.seconds, 2)
    return entry


def fit_champion(
    log: InteractionLog,
    *,
    items: ItemFeatures | None = None,
    users: UserFeatures | None = None,
    k: int = 10,
    time_budget_s: float = 120,
    progress: Progress | None = None,
    seed: int = 0,
    split_mode: str = "global",
    embedder: Embedder | None = minilm_embedder,
) -> ChampionResult:
    """Tune, pick the champion by validation NDCG@k, refit it on all of `log`.

    Raises NotEnoughInteractions when the log is too small to learn or validate.
    """
    say = progress or (lambda percent, message: None)
    selection = select(
        log,
        items=items,
        users=users,
        k=k,
        time_budget_s=time_budget_s,
        seed=seed,
        split_mode=split_mode,
        embedder=embedder,
        progress=progress,
    )
    best = selection.best
    say(92, f"champion {best}: refitting on all {log.user_ids.shape[0]} interactions")
    winners = slot_winners(selection.tuned)
    if best == BLEND:
        assert selection.blend_weights is not None
        parts_names = dict(selection.blend_parts)
        weights = dict(selection.blend_weights)
    else:
        slot = selection.tuned[best].algorithm.slot
        parts_names = {slot: best}
        weights = {slot: 1.0}
    # a known customer's newest events count at once through small history components; an
    # unknown one is ranked by the weights tuned for customers without factors
    scale = COLD_START_WEIGHT * sum(weights.values())
    for slot in ("item_knn", "sequence", "content", "segment", "trending"):
        if slot not in parts_names and slot in winners:
            parts_names[slot] = winners[slot].algorithm.name
            weights[slot] = scale
    parts_names.update({s: n for s, n in selection.cold_parts.items() if s not in parts_names})
    parts: dict[str, RecommenderModel] = {}
    train_seconds = 0.0
    for slot, name in parts_names.items():
        parts[slot], seconds = _refit(selection, name, seed)
        train_seconds += seconds
    model = blend_model(parts, weights, algorithm=best)
    model.cold_weights = dict(selection.cold_weights)
    report = _champion_report(selection, k)
    model.metadata.update(
        {
            "champion": best,
            "validation": report["algorithms"][best],
            "trained_at": time.time(),
            "interactions": int(log.user_ids.shape[0]),
            "cold_start_weight": COLD_START_WEIGHT,
        }
    )
    report["train_seconds"] = round(train_seconds, 3)
    say(100, f"champion {best}: validation ndcg@{k} {selection.scores()[best]:.4f}")
    return ChampionResult(model=model, report=report)


def _champion_report(selection: Selection, k: int) -> dict[str, Any]:
    algorithms: dict[str, Any] = {}
    for name, result in selection.tuned.items():
        algorithms[name] = {
            **{metric: round(value, 6) for metric, value in result.validation.items()},
            "train_seconds": round(result.fit_seconds, 3),
            "tuning_seconds": round(result.seconds, 2),
            "trials": len(result.trials),
            "params": result.params,
        }
    if selection.blend_weights:
        algorithms[BLEND] = {
            **{metric: round(value, 6) for metric, value in selection.blend_validation.items()},
            "train_seconds": round(
                sum(selection.tuned[n].fit_seconds for n in selection.blend_parts.values()), 3
            ),
            "params": {"weights": selection.blend_weights, "parts": selection.blend_parts},
        }
    return {
        "algorithms": algorithms,
        "best": selection.best,
        "split": selection.split,
        "k": k,
        "skipped": selection.skipped,
    }


def evaluate_files(
    *,
    train_path: Path,
    test_path: Path,
    items_path: Path | None = None,
    users_path: Path | None = None,
    k: int = 10,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
    seed: int = 0,
    algorithms: tuple[str, ...] | None = None,
    split_mode: str = "auto",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """`evaluate_algorithms` on CSV files (see engine/files.py for the formats)."""
    train = read_interactions(train_path)
    test = read_interactions(test_path)
    items = read_items(items_path) if items_path is not None else None
    users = read_users(users_path) if users_path is not None else None
    return evaluate_algorithms(
        train,
        test,
        items=items,
        users=users,
        k=k,
        time_budget_s=time_budget_s,
        seed=seed,
        algorithms=algorithms,
        split_mode=split_mode,
        embedder=minilm_embedder if items is not None else None,
        progress=progress,
    )
