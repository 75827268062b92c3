"""Top-k metrics against values computed by hand on a two-user example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from apps.recommendations.engine.metrics import (
    catalogue_coverage,
    hit_matrix,
    intra_list_diversity,
    novelty,
    ranking_metrics,
)

# user 0 was recommended items 0, 1, 2 and then used 1 and 5;
# user 1 was recommended 3, 4 (only two recommendable) and then used 3 and an item off-catalogue
TOP = np.array([[0, 1, 2], [3, 4, -1]])
RELEVANT = sparse.csr_matrix(np.array([[0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0]], dtype=np.float32))
N_RELEVANT = np.array([2, 2])


def test_hit_matrix_marks_relevant_ranks_and_ignores_padding():
    # given / when
    hits = hit_matrix(TOP, RELEVANT)

    # then
    assert hits.tolist() == [[False, True, False], [True, False, False]]


def test_ranking_metrics_match_hand_computed_values():
    # when
    metrics = ranking_metrics(TOP, RELEVANT, N_RELEVANT, 3)

    # then: precision (1/3 + 1/3) / 2; recall (1/2 + 1/2) / 2
    assert metrics["precision@3"] == pytest.approx(1 / 3)
    assert metrics["recall@3"] == pytest.approx(0.5)
    # ndcg: user 0 (1/log2 3) / (1 + 1/log2 3), user 1 1 / (1 + 1/log2 3); they sum to 1
    assert metrics["ndcg@3"] == pytest.approx(0.5)
    # map: user 0 (1/2) / 2 = 0.25, user 1 (1/1) / 2 = 0.5
    assert metrics["map@3"] == pytest.approx(0.375)
    assert metrics["hit_rate@3"] == pytest.approx(1.0)


def test_ranking_metrics_skip_users_without_relevant_items():
    # given: a third user with nothing relevant
    top = np.vstack([TOP, [[0, 1, 2]]])
    relevant = sparse.vstack([RELEVANT, sparse.csr_matrix((1, 6))]).tocsr()

    # when
    metrics = ranking_metrics(top, relevant, np.array([2, 2, 0]), 3)

    # then
    assert metrics["ndcg@3"] == pytest.approx(0.5)


def test_ndcg_is_one_for_a_perfect_list_and_zero_for_a_miss():
    # given
    relevant = sparse.csr_matrix(np.array([[1, 1, 0, 0]], dtype=np.float32))

    # when
    perfect = ranking_metrics(np.array([[1, 0]]), relevant, np.array([2]), 2)
    miss = ranking_metrics(np.array([[2, 3]]), relevant, np.array([2]), 2)

    # then
    assert perfect["ndcg@2"] == pytest.approx(1.0)
    assert perfect["map@2"] == pytest.approx(1.0)
    assert miss["ndcg@2"] == 0.0
    assert miss["hit_rate@2"] == 0.0


def test_coverage_counts_distinct_recommended_items_over_the_catalogue():
    assert catalogue_coverage(TOP, 6) == pytest.approx(5 / 6)


def test_novelty_is_the_mean_self_information_of_recommended_items():
    # given: users per item out of 4 users
    counts = np.array([4, 2, 1, 1, 1, 1])

    # when
    value = novelty(TOP, counts, 4)

    # then: -log2 of 1, 1/2, 1/4, 1/4, 1/4 -> (0 + 1 + 2 + 2 + 2) / 5
    assert value == pytest.approx(1.4)


def test_intra_list_diversity_is_the_mean_pairwise_cosine_distance():
    # given
    vectors = sparse.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [1, 1], [1, 0], [0, 1]], float))

    # when
    value = intra_list_diversity(TOP, vectors)

    # then: list 0 pairs 0, 1, 1 -> 2/3; list 1 one pair 1 - 1/sqrt(2)
    assert value == pytest.approx((2 / 3 + (1 - 1 / np.sqrt(2))) / 2)
