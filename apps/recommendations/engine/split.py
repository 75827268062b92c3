"""Temporal train/test splits of an interaction log, and the checks that they do not leak.

  per_user  each user's latest `fraction` of interactions is held out (users with one
            interaction stay in train): "what will this customer do next"
  global    every interaction after one cut time is held out: "what happens next week"
  random    a random `fraction` of each user's interactions (only to mimic a random test split)

The validation slice of model selection is always carved out of the training part with the
same function, so nothing of the test part is ever looked at while tuning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.recommendations.engine.data import InteractionLog

SPLIT_MODES = ("per_user", "global", "random")


@dataclass(frozen=True)
class Split:
    """Two disjoint parts of one log; `train_rows` / `test_rows` index the original rows."""

    train: InteractionLog
    test: InteractionLog
    train_rows: np.ndarray
    test_rows: np.ndarray
    mode: str
    cut: float | None = None  # the global cut time (global mode)


def log_take(log: InteractionLog, rows: np.ndarray) -> InteractionLog:
    """The log restricted to `rows` (in that order)."""
    return InteractionLog(
        user_ids=log.user_ids[rows],
        item_ids=log.item_ids[rows],
        timestamps=log.timestamps[rows],
        weights=log.weights[rows],
    )


def temporal_split(
    log: InteractionLog, *, fraction: float = 0.2, mode: str = "per_user", seed: int = 0
) -> Split:
    """Hold out the latest `fraction` per user (per_user), after a cut (global), or at random."""
    if mode not in SPLIT_MODES:
        raise ValueError(f"split mode must be one of {SPLIT_MODES}, not {mode!r}")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"split fraction must be between 0 and 1, not {fraction}")
    n = log.user_ids.shape[0]
    timestamps = np.asarray(log.timestamps, dtype=np.float64)
    held_out = np.zeros(n, dtype=bool)
    cut = None
    if mode == "global":
        order = np.argsort(timestamps, kind="stable")
        if n:
            cut = float(timestamps[order[min(int(np.floor(n * (1 - fraction))), n - 1)]])
            held_out = timestamps > cut
            if not held_out.any():  # every row shares the last timestamp: nothing after it
                cut = None
    else:
        _, users = np.unique(np.asarray(log.user_ids).astype(str), return_inverse=True)
        if mode == "per_user":
            order = np.lexsort((np.arange(n), timestamps, users))
        else:
            noise = np.asarray(np.random.default_rng(seed).random(n), dtype=np.float64)
            order = np.lexsort((noise, users))
        sorted_users = users[order]
        starts = np.searchsorted(sorted_users, sorted_users, side="left")
        ends = np.searchsorted(sorted_users, sorted_users, side="right")
        size = ends - starts
        position = np.arange(n) - starts
        n_test = np.where(size >= 2, np.maximum(1, np.rint(size * fraction)), 0)
        n_test = np.minimum(n_test, size - 1)
        held_out[order] = position >= size - n_test
    test_rows = np.flatnonzero(held_out)
    train_rows = np.flatnonzero(~held_out)
    return Split(
        train=log_take(log, train_rows),
        test=log_take(log, test_rows),
        train_rows=train_rows,
        test_rows=test_rows,
        mode=mode,
        cut=cut,
    )


def split_leaks(split: Split) -> list[str]:
    """Reasons the split is not a clean temporal split (empty when it is clean)."""
    problems = []
    if np.intersect1d(split.train_rows, split.test_rows).size:
        problems.append("a row is in both parts")
    if split.mode == "random":
        return problems
    train_last = _last_time_by_user(split.train)
    for user, time in zip(split.test.user_ids, split.test.timestamps, strict=True):
        if split.mode == "global" and split.cut is not None and time <= split.cut:
            problems.append(f"test row of {user} at {time} is not after the cut {split.cut}")
            break
        if time < train_last.get(str(user), -np.inf):
            problems.append(f"test row of {user} at {time} precedes one of its training rows")
            break
    return problems


def detect_split_mode(train: InteractionLog, test: InteractionLog) -> str:
    """Which protocol a given train/test pair follows, from the timestamps alone.

    global when (nearly) every test row is at or after the last training row; per_user when
    (nearly) every test row is at or after its own user's last training row; else random.
    """
    if test.timestamps.size == 0 or train.timestamps.size == 0:
        return "per_user"
    test_times = np.asarray(test.timestamps, dtype=np.float64)
    if np.mean(test_times < float(np.max(train.timestamps))) <= 0.01:
        return "global"
    train_last = _last_time_by_user(train)
    earlier = [
        time < train_last.get(str(user), -np.inf)
        for user, time in zip(test.user_ids, test_times, strict=True)
    ]
    return "per_user" if np.mean(earlier) <= 0.05 else "random"


def _last_time_by_user(log: InteractionLog) -> dict[str, float]:
    users, inverse = np.unique(np.asarray(log.user_ids).astype(str), return_inverse=True)
    last = np.full(users.shape[0], -np.inf)
    np.maximum.at(last, inverse, np.asarray(log.timestamps, dtype=np.float64))
    return dict(zip(users.tolist(), last.tolist(), strict=True))
