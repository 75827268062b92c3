"""Churn and purchase propensity: calibrated gradient boosting on a feature table (pure).

One engine serves both the database mode (features built per customer at a cut date) and
the file mode (`manage.py predict evaluate`, a team's own feature table):

- **Columns.** Numeric columns stay numbers (empty cells are missing values); text columns
  become categories, coded in the order learnt from the training table (a category unseen in
  training, or an empty cell, is a missing value, which LightGBM sends down its learnt
  default branch). Text columns that look like identifiers (nearly every value distinct) and
  constant columns are dropped and reported.
- **Target.** Any two-valued column: yes/no, y/n, true/false, t/f, 1/0, positive/negative,
  or two arbitrary labels (the larger number, or the later label in sort order, is the
  positive class). Anything else is an error that names the values found.
- **Model.** LightGBM's gradient-boosted trees (`LGBMClassifier`, native categorical splits);
  the number of trees is chosen by early stopping on a stratified validation fifth, then the
  probabilities are calibrated by `CalibratedClassifierCV` with `ensemble=False`: out-of-fold
  predictions of a 5-fold split fit the calibrator (isotonic from 10,000 rows and 500 of the
  rarer class, Platt's sigmoid below), and one booster is refit on all rows. Probabilities
  are bounded to [0.001, 0.999]: an isotonic block of customers who all did (or did not) buy
  says 1 (or 0), which no customer deserves. Calibration is a
  monotone map of the booster's score, so the booster's explanation of a row is the
  explanation of its calibrated probability's rank.
- **Explanations.** Exact TreeSHAP (Lundberg et al. 2020, path-dependent) from LightGBM's
  `pred_contrib=True`: per row, one contribution per feature in log-odds of the booster; they
  add up with the base value to the row's raw score exactly. Not a sampling approximation.
- **Metrics.** AUC, log loss, Brier score, expected calibration error, a calibration curve
  over deciles of the predicted probability, lift by decile (and cumulative capture).
- **Deterministic.** The same table, parameters and seed give the same model and numbers
  (LightGBM `deterministic`, row-wise histograms, seeded folds).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm
import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

ProgressCallback = Callable[[float, str], None]
FeatureKind = Literal["numeric", "categorical"]

DEFAULT_SEED = 0
MIN_ROWS = 20  # below this, neither the trees nor the calibration can be fitted
MIN_CLASS_ROWS = 5  # each class at least this often (a 5-fold calibration needs it)
# Isotonic regression needs many rows: below these it overfits (steps, ties that cost AUC,
# pure blocks at exactly 0 or 1) and Platt's sigmoid calibrates better (measured on the demo
# shop: sigmoid had the lower log loss and higher AUC at 5,000 customers).
ISOTONIC_MIN_ROWS = 10_000
ISOTONIC_MIN_CLASS_ROWS = 500
# No customer is certain: calibrated probabilities are kept inside [bound, 1 - bound].
PROBABILITY_BOUND = 0.001
CALIBRATION_FOLDS = 5
EARLY_STOPPING_ROUNDS = 50
MAX_TREES = 2000
DEFAULT_TREES = 200  # when the table is too small to hold a validation split out
LEARNING_RATE = 0.05
NUM_LEAVES = 15
MAX_CATEGORIES = 250  # per text column; rarer values share one "other" code
IDENTIFIER_UNIQUE_SHARE = 0.9  # a text column this distinct is an identifier, not a feature
IDENTIFIER_MIN_VALUES = 50
CURVE_BINS = 10
TOP_REASONS = 5
PROBABILITY_EPSILON = 1e-15

POSITIVE_TOKENS = ("1", "yes", "y", "true", "t", "positive", "pos")
NEGATIVE_TOKENS = ("0", "no", "n", "false", "f", "negative", "neg")
OTHER_CATEGORY = "__other__"


class PropensityDataError(ValueError):
    """The table cannot be learnt from as given; `column` names the culprit when there is one."""

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


# --- target -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetEncoding:
    """Which label of the target column is the positive class (1) and which the negative."""

    column: str
    positive_label: str
    negative_label: str


def _label(value: Any) -> str:
    """A target cell as text: 1.0 and 1 are the same label, True is 'true'."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value).strip()


def _labels(values: pd.Series, *, column: str, table: str) -> pd.Series:
    text = values.map(lambda value: "" if _missing(value) else _label(value))
    empty = np.flatnonzero((text == "").to_numpy())
    if empty.size:
        lines = ", ".join(str(row + 2) for row in empty[:5])  # +1 header, +1 one-based
        raise PropensityDataError(
            f"target column {column!r} is empty on {empty.size} row(s) of the {table} table "
            f"(lines {lines}{' ...' if empty.size > 5 else ''}); every row needs a label",
            column=column,
        )
    return text


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT or (isinstance(value, str) and not value.strip())


def target_encode(
    values: pd.Series, *, column: str, table: str = "training"
) -> tuple[np.ndarray, TargetEncoding]:
    """The target as 0/1 and which label is positive; an error naming the values otherwise."""
    labels = _labels(values, column=column, table=table)
    distinct = sorted(labels.unique(), key=lambda label: (label.lower(), label))
    if len(distinct) != 2:
        shown = ", ".join(repr(label) for label in distinct[:10])
        more = f" and {len(distinct) - 10} more" if len(distinct) > 10 else ""
        raise PropensityDataError(
            f"target column {column!r} must have exactly two classes; the {table} table has "
            f"{len(distinct)}: {shown}{more}",
            column=column,
        )
    first, second = distinct
    positive, negative = second, first  # the later label in sort order, unless words say
    lowered = (first.lower(), second.lower())
    if lowered[0] in POSITIVE_TOKENS and lowered[1] in NEGATIVE_TOKENS:
        positive, negative = first, second
    elif lowered[1] in POSITIVE_TOKENS and lowered[0] in NEGATIVE_TOKENS:
        positive, negative = second, first
    else:
        numbers = pd.to_numeric(pd.Series([first, second]), errors="coerce")
        if not numbers.isna().any():
            positive, negative = (first, second) if numbers[0] > numbers[1] else (second, first)
    encoding = TargetEncoding(column=column, positive_label=positive, negative_label=negative)
    return (labels == positive).to_numpy(dtype=np.int8), encoding


def target_apply(values: pd.Series, encoding: TargetEncoding, *, table: str = "test") -> np.ndarray:
    """Encode another table's target with the training table's labels."""
    labels = _labels(values, column=encoding.column, table=table)
    unknown = sorted(set(labels.unique()) - {encoding.positive_label, encoding.negative_label})
    if unknown:
        raise PropensityDataError(
            f"target column {encoding.column!r} of the {table} table has label(s) "
            f"{', '.join(repr(label) for label in unknown[:5])} not in the training table "
            f"({encoding.negative_label!r}, {encoding.positive_label!r})",
            column=encoding.column,
        )
    return (labels == encoding.positive_label).to_numpy(dtype=np.int8)


# --- features -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureColumn:
    """One model input: a numeric column, or a text column with its learnt categories."""

    name: str
    kind: FeatureKind
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class DroppedColumn:
    """A column of the table that is not used, and why."""

    name: str
    reason: str


def _numeric_view(values: pd.Series) -> tuple[pd.Series, int]:
    """The column as float64 and how many non-empty cells were not numbers."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), 0
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64"), 0
    text = values.map(lambda value: np.nan if _missing(value) else str(value).strip())
    numbers = pd.to_numeric(text, errors="coerce")
    if text.map(lambda value: isinstance(value, str)).sum() and numbers.notna().sum() == 0:
        booleans = text.str.lower().map({"true": 1.0, "false": 0.0})
        if booleans.notna().sum() == text.notna().sum():
            return booleans.astype("float64"), 0
    failed = int((numbers.isna() & text.notna()).sum())
    return numbers.astype("float64"), failed


def _text_view(values: pd.Series) -> pd.Series:
    return values.map(lambda value: None if _missing(value) else _label(value))


def feature_columns_infer(
    frame: pd.DataFrame, *, exclude: Sequence[str] = ()
) -> tuple[list[FeatureColumn], list[DroppedColumn]]:
    """Decide each column's kind from the training table; constant and id-like ones go."""
    columns: list[FeatureColumn] = []
    dropped: list[DroppedColumn] = []
    excluded = set(exclude)
    for name in frame.columns:
        if name in excluded:
            continue
        values = frame[name]
        numbers, failed = _numeric_view(values)
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            present = int(values.notna().sum())
        else:
            present = int(values.map(lambda value: not _missing(value)).sum())
        if present == 0:
            dropped.append(DroppedColumn(str(name), "empty in every row"))
            continue
        if failed == 0:
            if numbers.nunique(dropna=True) <= 1 and numbers.notna().all():
                dropped.append(DroppedColumn(str(name), "the same value in every row"))
                continue
            columns.append(FeatureColumn(str(name), "numeric"))
            continue
        text = _text_view(values)
        counts = text.value_counts(dropna=True)
        if len(counts) <= 1 and text.notna().all():
            dropped.append(DroppedColumn(str(name), "the same value in every row"))
            continue
        if (
            len(counts) >= IDENTIFIER_MIN_VALUES
            and len(counts) >= IDENTIFIER_UNIQUE_SHARE * present
        ):
            dropped.append(
                DroppedColumn(str(name), f"text with {len(counts)} distinct values: an identifier")
            )
            continue
        # Most frequent first, ties by name: the codes do not depend on row order.
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        categories = tuple(label for label, _ in ordered[: MAX_CATEGORIES - 1])
        if len(ordered) >= MAX_CATEGORIES:
            categories += (OTHER_CATEGORY,)
        columns.append(FeatureColumn(str(name), "categorical", categories))
    if not columns:
        raise PropensityDataError("the table has no usable feature column")
    return columns, dropped


@dataclass(frozen=True)
class FeatureMatrix:
    """Model inputs as float64 (category codes for text columns) and notes on the conversion."""

    values: np.ndarray
    notes: tuple[str, ...] = ()


def feature_matrix(
    frame: pd.DataFrame, columns: Sequence[FeatureColumn], *, table: str = "input"
) -> FeatureMatrix:
    """The table's feature columns as the model reads them; a missing column is an error."""
    missing = [column.name for column in columns if column.name not in frame.columns]
    if missing:
        raise PropensityDataError(
            f"the {table} table lacks feature column(s) {', '.join(repr(m) for m in missing)} "
            "of the training table",
            column=missing[0],
        )
    matrix = np.empty((len(frame), len(columns)), dtype=np.float64)
    notes: list[str] = []
    for index, column in enumerate(columns):
        values = frame[column.name]
        if column.kind == "numeric":
            numbers, failed = _numeric_view(values)
            if failed:
                notes.append(
                    f"column {column.name!r}: {failed} non-numeric value(s) in the {table} table "
                    "treated as missing"
                )
            matrix[:, index] = numbers.to_numpy(dtype=np.float64)
            continue
        codes = {label: float(code) for code, label in enumerate(column.categories)}
        other = codes.get(OTHER_CATEGORY, np.nan)
        text = _text_view(values)
        matrix[:, index] = [
            np.nan if label is None else codes.get(label, other) for label in text.tolist()
        ]
    return FeatureMatrix(matrix, tuple(notes))


# --- model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One feature's push on one row's score, in log-odds (positive raises the probability)."""

    feature: str
    value: float | str | None
    contribution: float


@dataclass(frozen=True)
class Contributions:
    """Exact TreeSHAP values: `base + values.sum(axis=1)` is each row's log-odds score."""

    features: tuple[str, ...]
    values: np.ndarray  # (rows, features)
    base: float


@dataclass
class PropensityModel:
    """A fitted, calibrated classifier with the column spec it was trained on."""

    features: tuple[FeatureColumn, ...]
    target: TargetEncoding | None
    calibrated: CalibratedClassifierCV
    calibration_method: str
    trees: int
    seed: int
    training_rows: int
    training_positives: int
    dropped: tuple[DroppedColumn, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The model as metrics name it, e.g. 'LGBMClassifier+isotonic'."""
        return f"LGBMClassifier+{self.calibration_method}"

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.features)

    def _booster(self) -> Any:
        # ensemble=False: one calibrated classifier around one booster fit on every row.
        return self.calibrated.calibrated_classifiers_[0].estimator.booster_

    def matrix(self, frame: pd.DataFrame, *, table: str = "input") -> FeatureMatrix:
        return feature_matrix(frame, self.features, table=table)

    def predict_proba(self, frame: pd.DataFrame, *, table: str = "input") -> np.ndarray:
        """Calibrated probability of the positive class per row."""
        return self.predict_matrix(self.matrix(frame, table=table).values)

    def predict_matrix(self, values: np.ndarray) -> np.ndarray:
        if len(values) == 0:
            return np.empty(0, dtype=np.float64)
        probabilities = np.asarray(self.calibrated.predict_proba(values)[:, 1], dtype=np.float64)
        return np.clip(probabilities, PROBABILITY_BOUND, 1 - PROBABILITY_BOUND)

    def contributions_matrix(self, values: np.ndarray) -> Contributions:
        """Exact TreeSHAP contributions of each feature to each row's log-odds."""
        names = self.feature_names
        if len(values) == 0:
            return Contributions(names, np.empty((0, len(names))), 0.0)
        raw = np.asarray(
            self._booster().predict(values, pred_contrib=True, num_threads=_predict_threads()),
            dtype=np.float64,
        )
        return Contributions(names, raw[:, :-1], float(raw[0, -1]))

    def contributions(self, frame: pd.DataFrame) -> Contributions:
        return self.contributions_matrix(self.matrix(frame).values)

    def reasons_matrix(self, values: np.ndarray, *, top: int = TOP_REASONS) -> list[list[Reason]]:
        """Per row, the `top` features with the largest contributions (either sign)."""
        contributions = self.contributions_matrix(values)
        if len(values) == 0:
            return []
        top = min(top, len(self.features))
        # Largest |contribution| first; ties by column order (stable sort), so it is repeatable.
        order = np.argsort(-np.abs(contributions.values), axis=1, kind="stable")[:, :top]
        # Gathered with numpy, then walked as plain lists (numpy scalar indexing is slow).
        chosen = np.take_along_axis(contributions.values, order, axis=1).tolist()
        shown = np.take_along_axis(values, order, axis=1).tolist()
        result: list[list[Reason]] = []
        for indexes, row_contributions, row_values in zip(
            order.tolist(), chosen, shown, strict=True
        ):
            result.append(
                [
                    Reason(
                        self.features[index].name,
                        _display_value(self.features[index], value),
                        contribution,
                    )
                    for index, contribution, value in zip(
                        indexes, row_contributions, row_values, strict=True
                    )
                    if contribution != 0.0
                ]
            )
        return result

    def reasons(self, frame: pd.DataFrame, *, top: int = TOP_REASONS) -> list[list[Reason]]:
        return self.reasons_matrix(self.matrix(frame).values, top=top)

    def importance(self, values: np.ndarray) -> list[tuple[str, float]]:
        """Mean |TreeSHAP| per feature over the rows given, largest first."""
        if len(values) == 0:
            return []
        contributions = self.contributions_matrix(values)
        means = np.abs(contributions.values).mean(axis=0)
        order = np.argsort(-means, kind="stable")
        return [(self.features[index].name, float(means[index])) for index in order]


def _display_value(column: FeatureColumn, value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if column.kind == "categorical":
        return column.categories[int(value)]
    return float(value)


def _calibration_method(rows: int, minority: int) -> str:
    if rows >= ISOTONIC_MIN_ROWS and minority >= ISOTONIC_MIN_CLASS_ROWS:
        return "isotonic"
    return "sigmoid"


def _booster_params(rows: int, seed: int, threads: int) -> dict[str, Any]:
    """Regularisation that scales with the table: small tables need bigger leaves."""
    return {
        "learning_rate": LEARNING_RATE,
        "num_leaves": NUM_LEAVES,
        "min_child_samples": int(np.clip(rows // 200, 5, 50)),
        "min_data_per_group": int(np.clip(rows // 50, 5, 100)),
        "cat_smooth": 10.0,
        "reg_lambda": 1.0,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "random_state": seed,
        "deterministic": True,
        "force_row_wise": True,
        "n_jobs": threads,
        "verbose": -1,
    }


def _predict_threads() -> int:
    """Every core for TreeSHAP: each row is computed on its own, so the result is the same."""
    return max(1, os.cpu_count() or 1)


def _threads(rows: int) -> int:
    # Thread start-up costs more than it saves on small tables; results do not depend on it.
    return 1 if rows < 50_000 else max(1, min(8, os.cpu_count() or 1))


def _class_check(target: np.ndarray, encoding: TargetEncoding | None) -> int:
    positives = int(target.sum())
    negatives = int(len(target) - positives)
    if len(target) < MIN_ROWS or min(positives, negatives) < MIN_CLASS_ROWS:
        positive = encoding.positive_label if encoding else "1"
        negative = encoding.negative_label if encoding else "0"
        raise PropensityDataError(
            f"training needs at least {MIN_ROWS} rows and {MIN_CLASS_ROWS} of each class; "
            f"found {len(target)} rows: {positives} {positive!r}, {negatives} {negative!r}",
            column=encoding.column if encoding else None,
        )
    return min(positives, negatives)


def _tree_count(
    values: np.ndarray,
    target: np.ndarray,
    params: dict[str, Any],
    categorical: list[int],
    seed: int,
) -> int:
    """Trees chosen by early stopping on a stratified fifth (a default for tiny tables)."""
    minority = min(int(target.sum()), int(len(target) - target.sum()))
    if minority < 5 * MIN_CLASS_ROWS * 2:
        return DEFAULT_TREES
    fit_rows, valid_rows, fit_target, valid_target = train_test_split(
        values, target, test_size=0.2, stratify=target, random_state=seed
    )
    probe = lightgbm.LGBMClassifier(n_estimators=MAX_TREES, **params)
    probe.fit(
        fit_rows,
        fit_target,
        eval_X=(valid_rows,),
        eval_y=(valid_target,),
        eval_metric="binary_logloss",
        categorical_feature=categorical or "auto",
        callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    best = int(probe.best_iteration_ or MAX_TREES)
    # The final booster sees 25% more rows than the probe: a few more trees, as usual.
    return max(20, int(round(best * 1.1)))


def propensity_fit(
    frame: pd.DataFrame,
    *,
    target: str | np.ndarray,
    exclude: Sequence[str] = (),
    features: Sequence[FeatureColumn] | None = None,
    seed: int = DEFAULT_SEED,
    progress: ProgressCallback | None = None,
) -> PropensityModel:
    """Fit the calibrated booster on `frame`.

    `target` is a column name of `frame` (labels encoded by `target_encode`) or an array of
    0/1 labels aligned with the rows. Feature columns are inferred unless given; `exclude`
    names columns never to use (an id column, the target itself is excluded anyway).
    """
    report = progress or (lambda percent, message: None)
    encoding: TargetEncoding | None
    if isinstance(target, str):
        if target not in frame.columns:
            raise PropensityDataError(
                f"target column {target!r} is not in the table", column=target
            )
        labels, encoding = target_encode(frame[target], column=target)
        exclude = (*exclude, target)
    else:
        labels, encoding = np.asarray(target, dtype=np.int8), None
        if labels.shape != (len(frame),) or not np.isin(labels, (0, 1)).all():
            raise PropensityDataError("target must be one 0/1 label per row")
    minority = _class_check(labels, encoding)
    dropped: list[DroppedColumn] = []
    if features is None:
        inferred, dropped = feature_columns_infer(frame, exclude=exclude)
        features = inferred
    matrix = feature_matrix(frame, features, table="training").values
    categorical = [index for index, column in enumerate(features) if column.kind == "categorical"]
    rows = len(labels)
    params = _booster_params(rows, seed, _threads(rows))
    report(10, "Choosing the number of trees")
    trees = _tree_count(matrix, labels, params, categorical, seed)
    method = _calibration_method(rows, minority)
    report(40, f"Fitting {trees} trees with {method} calibration")
    calibrated = CalibratedClassifierCV(
        lightgbm.LGBMClassifier(n_estimators=trees, **params),
        method=method,
        cv=StratifiedKFold(
            n_splits=min(CALIBRATION_FOLDS, minority), shuffle=True, random_state=seed
        ),
        ensemble=False,
    )
    calibrated.fit(matrix, labels, categorical_feature=categorical or "auto")
    report(90, "Fitted")
    return PropensityModel(
        features=tuple(features),
        target=encoding,
        calibrated=calibrated,
        calibration_method=method,
        trees=trees,
        seed=seed,
        training_rows=rows,
        training_positives=int(labels.sum()),
        dropped=tuple(dropped),
        versions={"lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__},
    )


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationBin:
    """Rows whose predicted probability falls in one decile: predicted vs observed rate."""

    mean_predicted: float
    observed_rate: float
    rows: int


@dataclass(frozen=True)
class DecileLift:
    """One tenth of the rows, best scores first: its rate against the overall rate."""

    decile: int
    rows: int
    positives: int
    rate: float
    lift: float
    cumulative_lift: float
    cumulative_capture: float  # share of all positives found in deciles 1..this one
    min_score: float
    max_score: float


@dataclass(frozen=True)
class Evaluation:
    """How well probabilities rank (AUC, lift) and how honest they are (log loss, calibration)."""

    auc: float
    log_loss: float
    brier: float
    calibration_error: float  # rows-weighted mean |predicted - observed| over the bins
    rows: int
    positives: int
    base_rate: float
    mean_predicted: float
    calibration: tuple[CalibrationBin, ...]
    lift_by_decile: tuple[DecileLift, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "log_loss": self.log_loss,
            "brier": self.brier,
            "calibration_error": self.calibration_error,
            "rows": self.rows,
            "positives": self.positives,
            "base_rate": self.base_rate,
            "mean_predicted": self.mean_predicted,
            "calibration": [vars(item) for item in self.calibration],
            "lift_by_decile": [vars(item) for item in self.lift_by_decile],
        }


def _score_order(scores: np.ndarray) -> np.ndarray:
    """Best score first; equal scores keep row order (stable), so deciles are repeatable."""
    return np.argsort(-scores, kind="stable")


def calibration_bins(
    target: np.ndarray, scores: np.ndarray, *, bins: int = CURVE_BINS
) -> list[CalibrationBin]:
    """Deciles of the predicted probability (equal row counts), lowest first."""
    order = np.argsort(scores, kind="stable")
    result = []
    for part in np.array_split(order, min(bins, len(order))):
        if part.size:
            result.append(
                CalibrationBin(
                    mean_predicted=float(scores[part].mean()),
                    observed_rate=float(target[part].mean()),
                    rows=int(part.size),
                )
            )
    return result


def lift_by_decile(target: np.ndarray, scores: np.ndarray) -> list[DecileLift]:
    """Rows sorted by score, best first, cut into ten near-equal groups."""
    total_positives = int(target.sum())
    base_rate = total_positives / len(target) if len(target) else 0.0
    result = []
    found = seen = 0
    for decile, part in enumerate(np.array_split(_score_order(scores), min(10, len(target))), 1):
        positives = int(target[part].sum())
        found += positives
        seen += int(part.size)
        rate = positives / part.size
        result.append(
            DecileLift(
                decile=decile,
                rows=int(part.size),
                positives=positives,
                rate=rate,
                lift=rate / base_rate if base_rate else 0.0,
                cumulative_lift=(found / seen) / base_rate if base_rate else 0.0,
                cumulative_capture=found / total_positives if total_positives else 0.0,
                min_score=float(scores[part].min()),
                max_score=float(scores[part].max()),
            )
        )
    return result


def probability_metrics(target: np.ndarray, scores: np.ndarray) -> Evaluation:
    """Every metric of predicted probabilities `scores` against 0/1 `target`."""
    target = np.asarray(target, dtype=np.int8)
    scores = np.asarray(scores, dtype=np.float64)
    positives = int(target.sum())
    if len(target) == 0 or positives in (0, len(target)):
        only = "positive" if positives else "negative"
        raise PropensityDataError(
            f"evaluation needs both classes; all {len(target)} rows are {only}: AUC and lift "
            "are undefined"
        )
    clipped = np.clip(scores, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    bins = calibration_bins(target, scores)
    error = sum(abs(item.mean_predicted - item.observed_rate) * item.rows for item in bins)
    return Evaluation(
        auc=float(roc_auc_score(target, scores)),
        log_loss=float(log_loss(target, clipped, labels=[0, 1])),
        brier=float(brier_score_loss(target, scores)),
        calibration_error=float(error / len(target)),
        rows=int(len(target)),
        positives=positives,
        base_rate=positives / len(target),
        mean_predicted=float(scores.mean()),
        calibration=tuple(bins),
        lift_by_decile=tuple(lift_by_decile(target, scores)),
    )


def propensity_evaluate(
    model: PropensityModel, frame: pd.DataFrame, *, target: str | np.ndarray
) -> tuple[Evaluation, np.ndarray]:
    """Metrics of `model` on another table, and its predicted probabilities."""
    if isinstance(target, str):
        if model.target is None:
            raise PropensityDataError("this model was trained on 0/1 labels: pass an array")
        if target not in frame.columns:
            raise PropensityDataError(
                f"target column {target!r} is not in the test table", column=target
            )
        labels = target_apply(frame[target], model.target)
    else:
        labels = np.asarray(target, dtype=np.int8)
    scores = model.predict_proba(frame, table="test")
    return probability_metrics(labels, scores), scores
