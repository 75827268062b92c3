"""Pure engine tests: no database."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from apps.ml.engine.fingerprint import arrays_fingerprint, file_sha256
from apps.ml.engine.popularity import SECONDS_PER_DAY, hit_rate_at_k, popularity_scores


def test_popularity_sums_weights_of_same_moment_interactions():
    # given three interactions at the same moment
    ids = np.array([7, 7, 3])
    times = np.zeros(3)
    weights = np.array([1.0, 5.0, 2.0])

    # when
    result = popularity_scores(ids, times, weights, half_life_days=30)

    # then
    assert result.item_ids.tolist() == [7, 3]
    assert result.scores.tolist() == [6.0, 2.0]


def test_popularity_halves_weight_every_half_life():
    ids = np.array([1, 2])
    times = np.array([0.0, 30 * SECONDS_PER_DAY])

    result = popularity_scores(ids, times, np.ones(2), half_life_days=30)

    assert result.item_ids.tolist() == [2, 1]
    assert result.scores.tolist() == pytest.approx([1.0, 0.5])
    assert result.reference_time == 30 * SECONDS_PER_DAY


def test_popularity_recent_view_can_beat_old_purchase():
    # a purchase (weight 5) 120 days ago decays to 5/16 < a view (weight 1) today
    ids = np.array([1, 2])
    times = np.array([0.0, 120 * SECONDS_PER_DAY])

    result = popularity_scores(ids, times, np.array([5.0, 1.0]), half_life_days=30)

    assert result.item_ids.tolist() == [2, 1]
    assert result.scores[1] == pytest.approx(5 / 16)


def test_popularity_breaks_ties_by_smaller_id():
    result = popularity_scores(np.array([9, 4, 6]), np.zeros(3), np.ones(3), half_life_days=1)

    assert result.item_ids.tolist() == [4, 6, 9]


def test_popularity_ranking_does_not_depend_on_reference_time():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, 500)
    times = rng.uniform(0, 90 * SECONDS_PER_DAY, 500)
    weights = rng.choice([1.0, 2.0, 5.0], 500)

    early = popularity_scores(ids, times, weights, half_life_days=10)
    late = popularity_scores(
        ids, times, weights, half_life_days=10, reference_time=times.max() + 1e6
    )

    assert early.item_ids.tolist() == late.item_ids.tolist()


def test_popularity_of_nothing_is_empty():
    result = popularity_scores(np.array([]), np.array([]), np.array([]), half_life_days=30)

    assert result.item_ids.size == 0
    assert result.scores.size == 0


def test_popularity_rejects_bad_input():
    with pytest.raises(ValueError, match="half_life_days"):
        popularity_scores(np.array([1]), np.array([0.0]), np.array([1.0]), half_life_days=0)
    with pytest.raises(ValueError, match="equal length"):
        popularity_scores(np.array([1, 2]), np.array([0.0]), np.array([1.0]), half_life_days=1)


def test_hit_rate_counts_held_out_items_in_top_k():
    ranked = np.array([5, 3, 8, 1])

    assert hit_rate_at_k(ranked, np.array([5, 8, 1, 2]), k=3) == 0.5
    assert hit_rate_at_k(ranked, np.array([]), k=3) is None


def test_arrays_fingerprint_is_stable_and_sensitive():
    a = np.arange(5)

    assert arrays_fingerprint(a) == arrays_fingerprint(np.arange(5))
    assert arrays_fingerprint(a) != arrays_fingerprint(a.astype(np.int32))
    assert arrays_fingerprint(a) != arrays_fingerprint(np.arange(1, 6))


def test_file_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "blob.bin"
    content = b"x" * (3 * 1024 * 1024 + 17)
    path.write_bytes(content)

    assert file_sha256(path) == (hashlib.sha256(content).hexdigest(), len(content))
