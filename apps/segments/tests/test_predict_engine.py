"""The propensity engine on synthetic tables with a known signal (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.segments.engine.propensity import (
    PropensityDataError,
    calibration_bins,
    feature_columns_infer,
    lift_by_decile,
    probability_metrics,
    propensity_evaluate,
    propensity_fit,
    target_apply,
    target_encode,
)

PLAN_EFFECT = {"free": -1.0, "basic": 0.0, "plus": 0.8, "pro": 1.5}


def synthetic_table(rows: int, seed: int, *, labels: tuple[str, str] = ("yes", "no")):
    """Customers whose true P(churn) is a logistic function of a number and a plan; `noise`
    carries no signal. Returns the table and the true probabilities."""
    rng = np.random.default_rng(seed)
    tenure = rng.normal(size=rows)
    plan = rng.choice(list(PLAN_EFFECT), size=rows)
    noise = rng.normal(size=rows)
    logit = -1.0 + 1.2 * tenure + pd.Series(plan).map(PLAN_EFFECT).to_numpy()
    truth = 1 / (1 + np.exp(-logit))
    outcome = rng.random(rows) < truth
    table = pd.DataFrame(
        {
            "customer": [f"c{seed}-{index}" for index in range(rows)],
            "tenure": tenure,
            "plan": plan,
            "noise": noise,
            "churned": np.where(outcome, labels[0], labels[1]),
        }
    )
    return table, truth


@pytest.fixture(scope="module")
def fitted():
    train, _ = synthetic_table(4000, seed=1)
    test, truth = synthetic_table(3000, seed=2)
    model = propensity_fit(train, target="churned", exclude=["customer"], seed=0)
    evaluation, scores = propensity_evaluate(model, test, target="churned")
    return model, test, truth, evaluation, scores


def test_known_signal_is_learnt_close_to_the_best_possible_ranking(fitted):
    model, test, truth, evaluation, _ = fitted
    oracle = probability_metrics(target_apply(test["churned"], model.target), truth)

    assert evaluation.auc > 0.75
    assert oracle.auc - evaluation.auc < 0.03
    assert evaluation.log_loss < oracle.log_loss + 0.03
    assert model.name == "LGBMClassifier+sigmoid"  # isotonic needs 10,000 rows
    assert [column.name for column in model.features] == ["tenure", "plan", "noise"]
    assert [column.kind for column in model.features] == ["numeric", "categorical", "numeric"]


def test_probabilities_are_calibrated_within_tolerance(fitted):
    _, _, truth, evaluation, scores = fitted

    assert np.abs(scores - truth).mean() < 0.05
    assert evaluation.calibration_error < 0.04
    assert abs(evaluation.mean_predicted - evaluation.base_rate) < 0.03
    for item in evaluation.calibration:
        assert abs(item.mean_predicted - item.observed_rate) < 0.08
    assert sum(item.rows for item in evaluation.calibration) == 3000


def test_lift_of_the_top_decile_and_capture_add_up(fitted):
    _, _, _, evaluation, _ = fitted
    deciles = evaluation.lift_by_decile

    assert [item.decile for item in deciles] == list(range(1, 11))
    assert sum(item.rows for item in deciles) == 3000
    assert sum(item.positives for item in deciles) == evaluation.positives
    assert deciles[0].lift > 2.0
    assert deciles[-1].lift < 0.5
    assert deciles[-1].cumulative_capture == pytest.approx(1.0)
    assert deciles[-1].cumulative_lift == pytest.approx(1.0)


def test_contributions_are_exact_treeshap_of_the_log_odds(fitted):
    model, test, _, _, _ = fitted
    matrix = model.matrix(test.head(50)).values

    contributions = model.contributions_matrix(matrix)
    raw = model._booster().predict(matrix, raw_score=True)

    np.testing.assert_allclose(
        contributions.base + contributions.values.sum(axis=1), raw, atol=1e-9
    )
    # The noise column explains least on average; the plan and tenure most.
    importance = dict(model.importance(model.matrix(test).values))
    assert importance["noise"] < importance["tenure"]
    assert importance["noise"] < importance["plan"]


def test_reasons_name_the_strongest_features_with_their_values(fitted):
    model, test, _, _, _ = fitted
    free_plan = test[test["plan"] == "free"].head(1)

    (reasons,) = model.reasons(free_plan, top=2)

    assert len(reasons) == 2
    assert abs(reasons[0].contribution) >= abs(reasons[1].contribution)
    by_feature = {reason.feature: reason for reason in model.reasons(free_plan, top=3)[0]}
    assert by_feature["plan"].value == "free"
    assert by_feature["plan"].contribution < 0  # the free plan lowers churn in the truth


def test_same_seed_same_model_other_seed_other_folds():
    train, _ = synthetic_table(1500, seed=3)
    test, _ = synthetic_table(500, seed=4)

    first = propensity_fit(train, target="churned", exclude=["customer"], seed=7)
    second = propensity_fit(train, target="churned", exclude=["customer"], seed=7)
    other = propensity_fit(train, target="churned", exclude=["customer"], seed=8)

    np.testing.assert_array_equal(first.predict_proba(test), second.predict_proba(test))
    assert not np.array_equal(first.predict_proba(test), other.predict_proba(test))


@pytest.mark.parametrize(
    ("positive", "negative"),
    [("yes", "no"), ("Y", "N"), ("true", "false"), ("1", "0"), ("churned", "active")],
)
def test_two_valued_targets_of_any_spelling(positive, negative):
    train, _ = synthetic_table(1200, seed=5, labels=(positive, negative))

    model = propensity_fit(train, target="churned", exclude=["customer"], seed=0)

    assert model.target.positive_label == positive
    assert model.target.negative_label == negative
    assert model.training_positives == int((train["churned"] == positive).sum())


def test_numeric_and_boolean_targets():
    numbers = pd.Series([1.0, 0.0, 1.0, 0.0])
    integers = pd.Series([0, 1, 1, 1])
    booleans = pd.Series([True, False, False, True])
    words = pd.Series([" Yes", "no", "NO", "Yes "])

    assert target_encode(numbers, column="t")[0].tolist() == [1, 0, 1, 0]
    assert target_encode(integers, column="t")[0].tolist() == [0, 1, 1, 1]
    assert target_encode(booleans, column="t")[0].tolist() == [1, 0, 0, 1]
    with pytest.raises(PropensityDataError, match="exactly two classes"):
        target_encode(words, column="t")  # "no" and "NO" are different labels: three in all
    assert target_encode(pd.Series([5, 2, 5]), column="t")[1].positive_label == "5"


def test_a_target_with_three_classes_names_them():
    table = pd.DataFrame({"x": range(6), "plan": ["a", "b", "c", "a", "b", "c"]})

    with pytest.raises(PropensityDataError) as caught:
        propensity_fit(table, target="plan")

    assert str(caught.value) == (
        "target column 'plan' must have exactly two classes; the training table has 3: "
        "'a', 'b', 'c'"
    )
    assert caught.value.column == "plan"


def test_an_empty_target_cell_is_an_error_naming_its_line():
    table = pd.DataFrame({"x": [1, 2, 3], "y": ["yes", None, "no"]})

    with pytest.raises(PropensityDataError, match=r"empty on 1 row\(s\) .* \(lines 3\)"):
        target_encode(table["y"], column="y")


def test_a_label_the_training_table_did_not_have_is_an_error():
    train = pd.Series(["yes", "no"])
    _, encoding = target_encode(train, column="y")

    with pytest.raises(PropensityDataError, match="'maybe' not in the training table"):
        target_apply(pd.Series(["yes", "maybe"]), encoding)


def test_identifier_and_constant_columns_are_dropped_and_reported():
    table = pd.DataFrame(
        {
            "email": [f"user{index}@example.com" for index in range(100)],
            "shop": ["one"] * 100,
            "visits": range(100),
            "segment": ["a", "b"] * 50,
            "flag": ["true", "false"] * 50,
        }
    )

    columns, dropped = feature_columns_infer(table)

    assert [(column.name, column.kind) for column in columns] == [
        ("visits", "numeric"),
        ("segment", "categorical"),
        ("flag", "numeric"),
    ]
    assert [(column.name, column.reason) for column in dropped] == [
        ("email", "text with 100 distinct values: an identifier"),
        ("shop", "the same value in every row"),
    ]


def test_unseen_categories_and_missing_values_score_without_error():
    train, _ = synthetic_table(1500, seed=6)
    model = propensity_fit(train, target="churned", exclude=["customer"], seed=0)
    odd = pd.DataFrame({"tenure": [0.5, None], "plan": ["enterprise", None], "noise": [0.0, 0.0]})

    scores = model.predict_proba(odd)

    assert scores.shape == (2,)
    assert ((scores > 0) & (scores < 1)).all()


def test_a_missing_feature_column_in_the_scored_table_is_named():
    train, _ = synthetic_table(1500, seed=6)
    model = propensity_fit(train, target="churned", exclude=["customer"], seed=0)

    with pytest.raises(PropensityDataError, match="lacks feature column\\(s\\) 'plan'"):
        model.predict_proba(train.drop(columns=["plan"]))


def test_large_tables_use_isotonic_calibration_bounded_away_from_zero_and_one():
    large, _ = synthetic_table(12_000, seed=10)
    test, truth = synthetic_table(3000, seed=11)

    model = propensity_fit(large, target="churned", exclude=["customer"], seed=0)
    scores = model.predict_proba(test)

    assert model.name == "LGBMClassifier+isotonic"
    assert scores.min() >= 0.001 and scores.max() <= 0.999
    assert np.abs(scores - truth).mean() < 0.05


def test_small_tables_use_sigmoid_calibration_and_tiny_ones_are_refused():
    small, _ = synthetic_table(300, seed=9)
    tiny = small.head(12)

    model = propensity_fit(small, target="churned", exclude=["customer"], seed=0)

    assert model.calibration_method == "sigmoid"
    with pytest.raises(PropensityDataError, match="at least 20 rows and 5 of each class"):
        propensity_fit(tiny, target="churned", exclude=["customer"])


def test_metrics_of_a_hand_made_ranking():
    target = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0] * 2)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05] * 2)

    deciles = lift_by_decile(target, scores)
    bins = calibration_bins(target, scores, bins=2)
    metrics = probability_metrics(target, scores)

    assert [item.positives for item in deciles] == [2, 2, 0, 2, 0, 0, 0, 0, 0, 0]
    assert deciles[0].lift == pytest.approx(1.0 / 0.3)
    assert deciles[2].cumulative_capture == pytest.approx(4 / 6)
    assert [(item.rows, item.observed_rate) for item in bins] == [(10, 0.0), (10, 0.6)]
    assert metrics.auc == pytest.approx(20 / 21)
    assert metrics.positives == 6
    assert metrics.base_rate == pytest.approx(0.3)


def test_metrics_refuse_a_single_class():
    with pytest.raises(PropensityDataError, match="all 3 rows are negative"):
        probability_metrics(np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3]))
