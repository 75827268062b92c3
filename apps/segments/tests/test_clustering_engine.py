"""Clustering engine (pure): recovery of planted groups, k selection, determinism, names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from apps.segments.engine.clustering import (
    BEHAVIOURAL,
    DEMOGRAPHIC,
    MONETARY,
    TEXT,
    ClusteringParams,
    FeatureSpec,
    clusters_fit,
    feature_matrix_build,
    result_summary,
)

SPECS = (
    FeatureSpec("orders", BEHAVIOURAL, "Orders", log=True),
    FeatureSpec("days_since_last_order", BEHAVIOURAL, "Days since the last order", log=True),
    FeatureSpec("discount_share", BEHAVIOURAL, "Share of orders with a discount"),
    FeatureSpec("average_order_value", MONETARY, "Average order value", log=True),
    FeatureSpec("age", DEMOGRAPHIC, "Age (years)"),
)


def _planted(seed: int = 1, sizes=(300, 200, 100)):
    """Three groups: bargain one-timers, mid occasional, big frequent spenders."""
    rng = np.random.default_rng(seed)
    groups = []
    plans = [
        # orders, idle days, discount share, order value, category weights
        (1.0, 300.0, 0.8, 30.0, [0.2, 0.7, 0.1]),
        (3.0, 90.0, 0.2, 80.0, [0.6, 0.3, 0.1]),
        (12.0, 10.0, 0.05, 300.0, [0.2, 0.2, 0.6]),
    ]
    for label, (size, plan) in enumerate(zip(sizes, plans, strict=True)):
        orders, idle, discount, value, weights = plan
        groups.append(
            pd.DataFrame(
                {
                    "orders": np.ones(size) if orders == 1 else rng.poisson(orders, size) + 1,
                    "days_since_last_order": idle * rng.lognormal(0, 0.2, size),
                    "discount_share": np.clip(rng.normal(discount, 0.08, size), 0, 1),
                    "average_order_value": value * rng.lognormal(0, 0.15, size),
                    "age": rng.normal(40, 12, size),
                    "truth": label,
                    "Women": rng.gamma(5, 10, size) * weights[0],
                    "Kids": rng.gamma(5, 10, size) * weights[1],
                    "Accessories": rng.gamma(5, 10, size) * weights[2],
                }
            )
        )
    frame = pd.concat(groups, ignore_index=True)
    frame.index = pd.Index(np.arange(1000, 1000 + len(frame)), name="customer_id")
    spend = frame[["Women", "Kids", "Accessories"]]
    return frame, spend


def test_planted_groups_are_recovered_with_the_right_k():
    # given three planted groups of customers
    frame, spend = _planted()

    # when clustered over k = 2..6
    result = clusters_fit(
        frame, SPECS, params=ClusteringParams(k_min=2, k_max=6, seed=0), category_spend=spend
    )

    # then k-means by silhouette finds k = 3 and the planted partition exactly
    assert result.kmeans_k == 3
    assert result.algorithm == "kmeans"
    assert result.k == 3
    assert adjusted_rand_score(frame["truth"], result.labels) == 1.0
    # clusters are numbered by size, largest first
    assert [profile.size for profile in result.profiles] == [300, 200, 100]
    assert [score.k for score in result.selection] == [2, 3, 4, 5, 6]
    assert result.silhouette == max(score.silhouette for score in result.selection)


def test_profiles_and_generated_names_describe_the_groups():
    frame, spend = _planted()

    result = clusters_fit(
        frame, SPECS, params=ClusteringParams(k_min=3, k_max=3, seed=0), category_spend=spend
    )

    names = [profile.name for profile in result.profiles]
    assert names == [
        "Lapsed deal-seeking low-spend one-time buyers of Kids",
        "Recent mid-spend occasional buyers of Women",
        "Recent high-spend frequent buyers of Accessories",
    ]
    big = result.profiles[2]
    assert big.top_categories[0][0] == "Accessories"
    assert big.means["average_order_value"] > 250
    assert big.differences["orders"] > 1.5
    assert abs(big.overall["orders"] - frame["orders"].mean()) < 1e-9
    summary = result_summary(result)
    assert summary["k"] == 3 and len(summary["profiles"]) == 3
    assert summary["profiles"][2]["top_categories"][0][0] == "Accessories"


def test_same_seed_same_clusters_whatever_the_row_order():
    frame, spend = _planted(seed=4)
    shuffled = frame.sample(frac=1.0, random_state=9)
    params = ClusteringParams(k_min=2, k_max=5, seed=7)

    first = clusters_fit(frame, SPECS, params=params, category_spend=spend)
    again = clusters_fit(frame, SPECS, params=params, category_spend=spend)
    reordered = clusters_fit(shuffled, SPECS, params=params, category_spend=spend)

    assert first.labels.tolist() == again.labels.tolist()
    by_id = pd.Series(reordered.labels, index=reordered.customer_ids).reindex(frame.index)
    assert adjusted_rand_score(first.labels, by_id.to_numpy()) == 1.0


def test_gaussian_mixture_is_chosen_by_bic_when_asked():
    frame, spend = _planted()

    over_range = clusters_fit(
        frame,
        SPECS,
        params=ClusteringParams(k_min=2, k_max=5, algorithm="gmm", seed=0),
        category_spend=spend,
    )
    three = clusters_fit(
        frame,
        SPECS,
        params=ClusteringParams(k_min=3, k_max=3, algorithm="gmm", seed=0),
        category_spend=spend,
    )

    assert over_range.algorithm == "gmm"
    best_bic = min(over_range.selection, key=lambda score: score.bic).k
    assert over_range.k == over_range.gmm_k == best_bic
    assert three.algorithm == "gmm" and three.k == 3
    assert adjusted_rand_score(frame["truth"], three.labels) == 1.0


def test_text_features_only_when_enough_customers_wrote():
    frame, _ = _planted(sizes=(100, 100, 100))
    words = ["floral summer dress", "leather boots", "kids rain jacket"]
    texts = [words[label] for label in frame["truth"]]
    few = [text if index < 30 else "" for index, text in enumerate(texts)]

    with_text = feature_matrix_build(frame, SPECS, texts=texts, seed=0)
    without = feature_matrix_build(frame, SPECS, texts=few, seed=0)

    assert TEXT in with_text.groups and with_text.groups.count(TEXT) >= 1
    assert with_text.text_terms and all(with_text.text_terms)
    assert TEXT not in without.groups


def test_group_weights_scale_each_group_to_its_share_of_variance():
    frame, spend = _planted()
    weights = {"behavioural": 3.0, "monetary": 2.0, "demographic": 0.0, "interest": 1.0}

    matrix = feature_matrix_build(frame, SPECS, category_spend=spend, group_weights=weights)

    variance = matrix.values.var(axis=0)
    by_group = {
        group: float(variance[[g == group for g in matrix.groups]].sum())
        for group in set(matrix.groups)
    }
    assert by_group["behavioural"] == pytest.approx(3.0, rel=0.05)
    assert by_group["monetary"] == pytest.approx(2.0, rel=0.05)
    assert by_group["demographic"] == 0.0
    assert by_group["interest"] == pytest.approx(1.0, rel=0.05)


def test_too_few_customers_and_bad_params_are_refused():
    frame, spend = _planted(sizes=(10, 10, 5))
    with pytest.raises(ValueError, match="too few"):
        clusters_fit(frame, SPECS, params=ClusteringParams(k_min=3, k_max=8))
    with pytest.raises(ValueError, match="k_min <= k_max"):
        ClusteringParams(k_min=5, k_max=4)
    with pytest.raises(ValueError, match="algorithm"):
        ClusteringParams(algorithm="dbscan")
    with pytest.raises(ValueError, match="unknown feature group"):
        ClusteringParams(group_weights={"psychographic": 1.0})


def test_selection_on_a_sample_then_the_chosen_model_refitted_on_everyone():
    # given more customers than the selection sample
    frame, spend = _planted()

    result = clusters_fit(
        frame,
        SPECS,
        params=ClusteringParams(k_min=2, k_max=5, seed=0, selection_sample=150),
        category_spend=spend,
    )

    # then k is chosen on 150 customers, and all 600 get a label from the refitted model
    assert result.k == 3
    assert len(result.labels) == 600
    assert adjusted_rand_score(frame["truth"], result.labels) == 1.0
    assert [profile.size for profile in result.profiles] == [300, 200, 100]
