"""Temporal splits never leak: disjoint parts, test after train per user (or after the cut),
validation carved out of the training part only."""

from __future__ import annotations

import numpy as np

from apps.recommendations.engine.data import InteractionLog
from apps.recommendations.engine.split import (
    Split,
    detect_split_mode,
    log_take,
    split_leaks,
    temporal_split,
)
from apps.recommendations.engine.train import select


def shuffled_log(seed: int = 0) -> InteractionLog:
    """User a: 10 rows at t=0..9; b: 2 rows at t=100, 50; c: one row; rows shuffled."""
    users = ["a"] * 10 + ["b", "b", "c"]
    items = [f"i{n}" for n in range(10)] + ["i1", "i2", "i3"]
    times = list(range(10)) + [100, 50, 7]
    order = np.random.default_rng(seed).permutation(len(users))
    return InteractionLog(
        user_ids=np.array(users)[order],
        item_ids=np.array(items)[order],
        timestamps=np.array(times, dtype=float)[order],
        weights=np.ones(len(users), dtype=np.float32),
    )


def test_per_user_split_holds_out_each_users_latest_fifth():
    # given
    log = shuffled_log()

    # when
    split = temporal_split(log, fraction=0.2, mode="per_user")

    # then
    held = sorted(zip(split.test.user_ids.tolist(), split.test.timestamps.tolist(), strict=True))
    assert held == [("a", 8.0), ("a", 9.0), ("b", 100.0)]
    assert split.train.user_ids.shape[0] == 10
    assert split_leaks(split) == []


def test_split_parts_are_disjoint_and_cover_the_log():
    # given
    log = shuffled_log(seed=3)

    # when
    split = temporal_split(log, fraction=0.3, mode="per_user")

    # then
    assert np.intersect1d(split.train_rows, split.test_rows).size == 0
    assert np.union1d(split.train_rows, split.test_rows).tolist() == list(range(13))


def test_global_split_holds_out_everything_after_the_cut():
    # given
    log = shuffled_log()

    # when
    split = temporal_split(log, fraction=0.2, mode="global")

    # then
    assert split.cut == 9.0
    assert sorted(split.test.timestamps.tolist()) == [50.0, 100.0]
    assert split.train.timestamps.max() <= split.cut < split.test.timestamps.min()
    assert split_leaks(split) == []


def test_split_leaks_reports_a_test_row_before_training_rows():
    # given: a hand-made split whose test row precedes the user's training rows
    log = shuffled_log()
    early = np.flatnonzero((log.user_ids == "a") & (log.timestamps == 0))
    rest = np.setdiff1d(np.arange(13), early)
    split = Split(log_take(log, rest), log_take(log, early), rest, early, mode="per_user")

    # when
    problems = split_leaks(split)

    # then
    assert problems == ["test row of a at 0.0 precedes one of its training rows"]


def test_detect_split_mode_recognises_each_protocol():
    # given
    log = shuffled_log()
    per_user = temporal_split(log, mode="per_user")
    global_cut = temporal_split(log, mode="global")
    middle = np.flatnonzero((log.user_ids == "a") & (log.timestamps == 3))  # a's 4th of 10
    others = np.setdiff1d(np.arange(13), middle)
    at_random = Split(log_take(log, others), log_take(log, middle), others, middle, mode="random")

    # then
    assert detect_split_mode(per_user.train, per_user.test) == "per_user"
    assert detect_split_mode(global_cut.train, global_cut.test) == "global"
    assert detect_split_mode(at_random.train, at_random.test) == "random"


def test_model_selection_validates_on_a_slice_of_the_training_log_only():
    # given: a training log of 30 users x 10 interactions
    rng = np.random.default_rng(1)
    users = np.repeat([f"u{n}" for n in range(30)], 10)
    train = InteractionLog(
        user_ids=users,
        item_ids=np.array([f"i{n}" for n in rng.integers(0, 15, size=300)]),
        timestamps=np.tile(np.arange(10.0), 30) + np.repeat(np.arange(30.0), 10) * 100,
        weights=np.ones(300, dtype=np.float32),
    )

    # when
    selection = select(train, time_budget_s=0.5, algorithms=("popularity",), split_mode="per_user")

    # then: fit rows + validation rows are exactly the training log, validation latest per user
    assert np.union1d(selection.fit_rows, selection.validation_rows).tolist() == list(range(300))
    assert np.intersect1d(selection.fit_rows, selection.validation_rows).size == 0
    fit_last = {
        u: train.timestamps[selection.fit_rows][train.user_ids[selection.fit_rows] == u].max()
        for u in np.unique(users)
    }
    for row in selection.validation_rows:
        assert train.timestamps[row] >= fit_last[train.user_ids[row]]
    assert selection.split["fit_interactions"] == 240
    assert selection.split["validation_interactions"] == 60
