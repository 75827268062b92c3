"""Churn and purchase propensity in the database: train as ML jobs, score every customer.

Kinds (registered by `apps.segments.ml_propensity.register_kinds`):

- `segments.propensity`: P(a revenue order in the next `horizon_days`), for every customer
  known at the cut (prospects included);
- `segments.churn`: P(no revenue order in the next `horizon_days`), for customers active
  before the cut (a revenue order in the `active_days` before it).

Training is a time-based backtest, then a refit on the latest window:

```
 history ............ train_cut ---- h ---- test_cut ---- h ---- data_end
 features < train_cut | labels       | features < test_cut | labels
       model A: fit on (features at train_cut, labels in [train_cut, test_cut))
       metrics: model A on (features at test_cut, labels in [test_cut, data_end))
       served model B: same settings, fit on the test_cut rows (the freshest full window)
```

`data_end` is the newest revenue order (capped at now), so a shop whose data stopped a while
ago is not judged on empty windows. Scoring computes features at now for current customers
and writes `churn_risk` / `purchase_propensity`, the model version and the top five
contributions (exact TreeSHAP, log-odds) into `CustomerScores`, touching no other column.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Avg, Count, F, FloatField, Max, Value
from django.db.models.functions import Floor, Least
from django.utils import timezone

from apps.core.errors import NotEnoughData, NotFound, ValidationFailed
from apps.events.selectors import earliest_order_placed_at, latest_order_placed_at
from apps.ml import selectors as ml_selectors
from apps.ml import services as ml_services
from apps.ml.contracts import TrainingOutput
from apps.segments.engine.propensity import (
    PropensityDataError,
    PropensityModel,
    propensity_evaluate,
    propensity_fit,
)
from apps.segments.models import CustomerScores
from apps.segments.services.features import (
    churn_population,
    customer_features_build,
    feature_label,
    purchase_labels_build,
)

ProgressCallback = Callable[[float, str], None]

ARTIFACT_NAME = "model.joblib"
ARTIFACT_FORMAT = 1
MIN_TRAINING_ROWS = 100
MIN_CLASS_ROWS = 20  # of each class, in the training window and in the test window
TOP_REASONS = 5
IMPORTANCE_SHOWN = 15
DISTRIBUTION_BINS = 20
TOP_CUSTOMERS_SHOWN = 10
WRITE_BATCH = 5000
STALE_AFTER = timedelta(hours=24)
DEFAULT_SEED = 0


@dataclass(frozen=True)
class PredictionKind:
    """One prediction: its ML kind, the CustomerScores columns it owns, its defaults."""

    name: str
    ml_kind: str
    label: str
    score_field: str
    version_field: str
    positive_meaning: str
    default_horizon_days: int
    description: str


CHURN = PredictionKind(
    name="churn",
    ml_kind="segments.churn",
    label="Churn risk",
    score_field="churn_risk",
    version_field="churn_model_version",
    positive_meaning="no purchase",
    default_horizon_days=90,
    description=(
        "Probability that a customer active in the last year places no order in the next "
        "N days (default 90). Calibrated LightGBM, time-based backtest, TreeSHAP reasons."
    ),
)
PROPENSITY = PredictionKind(
    name="propensity",
    ml_kind="segments.propensity",
    label="Purchase propensity",
    score_field="purchase_propensity",
    version_field="propensity_model_version",
    positive_meaning="a purchase",
    default_horizon_days=30,
    description=(
        "Probability that a customer places an order in the next N days (default 30). "
        "Calibrated LightGBM, time-based backtest, TreeSHAP reasons."
    ),
)
PREDICTION_KINDS: dict[str, PredictionKind] = {CHURN.name: CHURN, PROPENSITY.name: PROPENSITY}


def prediction_kind_get(name: str) -> PredictionKind:
    """`churn` or `propensity` (or their ML kind names), else NotFound naming both."""
    for kind in PREDICTION_KINDS.values():
        if name in (kind.name, kind.ml_kind):
            return kind
    raise NotFound(
        f"unknown prediction {name!r}; known: {', '.join(PREDICTION_KINDS)}",
        code="prediction_not_found",
    )


# --- datasets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingWindows:
    """Where the backtest cuts the history (see the module docstring)."""

    train_cut: datetime
    test_cut: datetime
    data_end: datetime
    horizon_days: int


def training_windows_plan(*, horizon_days: int, now: datetime | None = None) -> TrainingWindows:
    """Two label windows of `horizon_days` that end at the newest order; NotEnoughData if the
    history is too short to hold them with some history before."""
    now = now or timezone.now()
    latest = latest_order_placed_at()
    earliest = earliest_order_placed_at()
    if latest is None or earliest is None:
        raise NotEnoughData(
            "Churn and purchase propensity learn from orders; there are none yet. Import "
            "orders (or load the demo shop) and train again."
        )
    data_end = min(now, latest + timedelta(seconds=1))
    horizon = timedelta(days=horizon_days)
    test_cut = data_end - horizon
    train_cut = test_cut - horizon
    if train_cut - earliest < horizon:
        history = (data_end - earliest).days
        raise NotEnoughData(
            f"A {horizon_days}-day model needs at least {3 * horizon_days} days of order "
            f"history (features, then two label windows); found {history} days. Import "
            "more history or train with a shorter horizon."
        )
    return TrainingWindows(train_cut, test_cut, data_end, horizon_days)


def prediction_dataset_build(
    *, kind: PredictionKind, cut: datetime, horizon_days: int, active_days: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features of the kind's population at `cut` and their labels in the window after it."""
    features = customer_features_build(cut=cut, horizon_days=horizon_days)
    if kind is CHURN:
        features = churn_population(features, active_days=active_days)
    bought = purchase_labels_build(customer_ids=features.index, cut=cut, horizon_days=horizon_days)
    labels = (1 - bought).astype(np.int8) if kind is CHURN else bought
    return features, labels


def _population_check(
    *, kind: PredictionKind, labels: np.ndarray, window: str, cut: datetime
) -> None:
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if len(labels) < MIN_TRAINING_ROWS or min(positives, negatives) < MIN_CLASS_ROWS:
        who = "customers active before" if kind is CHURN else "customers known at"
        raise NotEnoughData(
            f"The {kind.label.lower()} model needs at least {MIN_TRAINING_ROWS} {who} the "
            f"{window} cut ({cut:%Y-%m-%d}) and {MIN_CLASS_ROWS} of each outcome; found "
            f"{len(labels)}: {positives} with {kind.positive_meaning}, {negatives} without. "
            "Load more customers and orders, or change the horizon, and train again."
        )


def _dataset_hash(frames: list[pd.DataFrame], labels: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for frame, target in zip(frames, labels, strict=True):
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        digest.update(np.ascontiguousarray(target).tobytes())
    return digest.hexdigest()


def _importance(model: PropensityModel, frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"feature": name, "label": feature_label(name), "importance": round(value, 5)}
        for name, value in model.importance(model.matrix(frame).values)[:IMPORTANCE_SHOWN]
    ]


def prediction_model_train(
    *,
    kind: PredictionKind,
    horizon_days: int,
    active_days: int,
    seed: int,
    work_dir: Path,
    report_progress: ProgressCallback,
) -> TrainingOutput:
    """Backtest, refit on the latest window, write the artifact; the trainer of both kinds.

    Raises NotEnoughData (a user-visible outcome of the run) when the history or the
    population is too small.
    """
    windows = training_windows_plan(horizon_days=horizon_days)
    report_progress(5, f"Features at {windows.train_cut:%Y-%m-%d}")
    train_frame, train_labels = prediction_dataset_build(
        kind=kind, cut=windows.train_cut, horizon_days=horizon_days, active_days=active_days
    )
    _population_check(kind=kind, labels=train_labels, window="training", cut=windows.train_cut)
    report_progress(15, f"Features at {windows.test_cut:%Y-%m-%d}")
    test_frame, test_labels = prediction_dataset_build(
        kind=kind, cut=windows.test_cut, horizon_days=horizon_days, active_days=active_days
    )
    _population_check(kind=kind, labels=test_labels, window="test", cut=windows.test_cut)

    def stage(start: float, end: float, what: str) -> ProgressCallback:
        return lambda percent, message: report_progress(
            start + (end - start) * percent / 100, f"{what}: {message}"
        )

    try:
        backtest_model = propensity_fit(
            train_frame,
            target=train_labels,
            seed=seed,
            progress=stage(25, 50, "Backtest model"),
        )
        evaluation, _ = propensity_evaluate(backtest_model, test_frame, target=test_labels)
        served = propensity_fit(
            test_frame,
            target=test_labels,
            features=backtest_model.features,
            seed=seed,
            progress=stage(55, 85, "Serving model"),
        )
    except PropensityDataError as error:
        raise NotEnoughData(f"{kind.label}: {error}") from None
    report_progress(90, "Explaining and saving")
    metrics: dict[str, Any] = {
        **evaluation.as_dict(),
        "model": backtest_model.name,
        "n_train": len(train_labels),
        "n_test": len(test_labels),
        "positives_train": int(train_labels.sum()),
        "positives_test": int(test_labels.sum()),
        "horizon_days": horizon_days,
        "train_cut": windows.train_cut.isoformat(),
        "test_cut": windows.test_cut.isoformat(),
        "data_end": windows.data_end.isoformat(),
        "trees": backtest_model.trees,
        "calibration_method": backtest_model.calibration_method,
        "features": list(served.feature_names),
        "dropped_features": [column.name for column in backtest_model.dropped],
        "feature_importance": _importance(served, test_frame),
        "serving_model": served.name,
        "serving_rows": served.training_rows,
        "serving_positives": served.training_positives,
        "seed": seed,
    }
    if kind is CHURN:
        metrics["active_days"] = active_days
    artifact = work_dir / ARTIFACT_NAME
    joblib.dump(
        {
            "format": ARTIFACT_FORMAT,
            "kind": kind.name,
            "model": served,
            "horizon_days": horizon_days,
            "active_days": active_days,
            "trained_on_cut": windows.test_cut.isoformat(),
            "metrics": {key: metrics[key] for key in ("auc", "log_loss", "brier", "model")},
        },
        artifact,
        compress=3,
    )
    return TrainingOutput(
        artifact_path=artifact,
        metrics=metrics,
        dataset_hash=_dataset_hash([train_frame, test_frame], [train_labels, test_labels]),
    )


# --- starting runs ------------------------------------------------------------------------


def prediction_training_start(
    *,
    kind: str,
    horizon_days: int | None = None,
    active_days: int | None = None,
    trigger: str,
    triggered_by: Any = None,
) -> Any:
    """Start a training run of `churn` or `propensity` through the ML platform (its TrainingRun).

    Only the options given are passed; the kind's defaults fill the rest. Bad values are a
    ValidationFailed naming the field (checked by the kind's validator).
    """
    spec = prediction_kind_get(kind)
    params: dict[str, Any] = {}
    if horizon_days is not None:
        params["horizon_days"] = horizon_days
    if active_days is not None:
        if spec is not CHURN:
            raise ValidationFailed(
                "active_days: only the churn model has an activity window", field="active_days"
            )
        params["active_days"] = active_days
    return ml_services.training_run_start(
        kind=spec.ml_kind, params=params, trigger=trigger, triggered_by=triggered_by
    )


# --- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedModel:
    """The champion of a kind, read from its verified artifact."""

    kind: PredictionKind
    model_version_id: int
    version: int
    model: PropensityModel
    horizon_days: int
    active_days: int


def prediction_model_load(*, kind: PredictionKind) -> LoadedModel:
    """The serving (champion) model of `kind`; NotEnoughData before the first training."""
    version = ml_selectors.champion_get(kind.ml_kind)
    if version is None:
        raise NotEnoughData(
            f"No {kind.label.lower()} model yet: train one first (manage.py predict train "
            f"--kind {kind.name} --wait, or the Retrain button on the Predictions page)."
        )
    path = ml_selectors.artifact_path(version)
    if not ml_selectors.artifact_intact(version):
        raise ValidationFailed(
            f"the artifact of {version} does not match its recorded hash; retrain the model",
            field="model_version",
        )
    # Our own artifact, verified against the hash recorded when the run published it.
    payload = joblib.load(path)
    return LoadedModel(
        kind=kind,
        model_version_id=version.pk,
        version=version.version,
        model=payload["model"],
        horizon_days=int(payload["horizon_days"]),
        active_days=int(payload["active_days"]),
    )


@dataclass(frozen=True)
class ScoringSummary:
    """What one scoring pass wrote."""

    kind: str
    model_version_id: int
    version: int
    scored: int
    cleared: int
    mean_score: float | None
    seconds: float
    scored_at: datetime = field(default_factory=timezone.now)


def _explanation(reasons: list[Any]) -> list[list[Any]]:
    return [[reason.feature, round(reason.contribution, 4)] for reason in reasons]


def _rows_ensure(customer_ids: list[int]) -> None:
    """Create empty score rows for customers that have none (other columns keep defaults)."""
    existing = set(
        CustomerScores.objects.filter(customer_id__in=customer_ids).values_list(
            "customer_id", flat=True
        )
    )
    missing = [customer_id for customer_id in customer_ids if customer_id not in existing]
    CustomerScores.objects.bulk_create(
        [CustomerScores(customer_id=customer_id) for customer_id in missing],
        batch_size=WRITE_BATCH,
        ignore_conflicts=True,
    )


def _scores_write_postgresql(
    kind: PredictionKind, rows: list[tuple[int, float | None, int | None, str]], now: datetime
) -> None:
    """One UPDATE ... FROM (VALUES ...) per batch; explanations merged in the database with
    `||` (this kind's key replaced), so concurrent writers of other keys are never undone."""
    table = connection.ops.quote_name(CustomerScores._meta.db_table)
    score_column = connection.ops.quote_name(kind.score_field)
    version_column = connection.ops.quote_name(f"{kind.version_field}_id")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), WRITE_BATCH):
            batch = rows[start : start + WRITE_BATCH]
            values_sql = ", ".join(
                ["(%s, %s::double precision, %s::bigint, %s::jsonb)"] * len(batch)
            )
            parameters: list[Any] = [kind.name, now]
            for row in batch:
                parameters.extend(row)
            cursor.execute(
                f"UPDATE {table} AS target SET {score_column} = source.score, "  # noqa: S608 - names from model metadata
                f"{version_column} = source.version_id, "
                "explanations = (COALESCE(target.explanations, '{}'::jsonb) - %s) "
                "|| source.explanation, updated_at = %s "
                f"FROM (VALUES {values_sql}) AS source(customer_id, score, version_id, explanation) "
                "WHERE target.customer_id = source.customer_id",
                parameters,
            )


def _scores_write_portable(
    kind: PredictionKind, rows: list[tuple[int, float | None, int | None, str]], now: datetime
) -> None:
    """Other databases (SQLite on the embedded defaults): read, merge and write in batches,
    with the rows locked where the database can."""
    for start in range(0, len(rows), WRITE_BATCH):
        batch = {row[0]: row for row in rows[start : start + WRITE_BATCH]}
        objects = list(CustomerScores.objects.select_for_update().filter(customer_id__in=batch))
        for scores in objects:
            _, score, version_id, explanation = batch[scores.customer_id]
            merged = {
                key: value for key, value in (scores.explanations or {}).items() if key != kind.name
            }
            merged.update(json.loads(explanation))
            setattr(scores, kind.score_field, score)
            setattr(scores, f"{kind.version_field}_id", version_id)
            scores.explanations = merged
            scores.updated_at = now
        CustomerScores.objects.bulk_update(
            objects, [kind.score_field, kind.version_field, "explanations", "updated_at"]
        )


@transaction.atomic
def _scores_write(
    kind: PredictionKind, rows: list[tuple[int, float | None, int | None, str]]
) -> None:
    _rows_ensure([row[0] for row in rows])
    now = timezone.now()
    if connection.vendor == "postgresql":
        _scores_write_postgresql(kind, rows, now)
    else:
        _scores_write_portable(kind, rows, now)


def prediction_scores_refresh(
    *, kind: str, now: datetime | None = None, progress: ProgressCallback | None = None
) -> ScoringSummary:
    """Score every current customer of `kind` with its champion and store it in CustomerScores.

    Propensity: every customer. Churn: customers active in the model's `active_days`; others
    who had a churn score lose it (they are no longer "active customers who may leave").
    Writes the score, the model version and `explanations[kind]` = the top five
    `[feature, contribution]` pairs (log-odds, largest |contribution| first).
    """
    report = progress or (lambda percent, message: None)
    started = time.monotonic()
    spec = prediction_kind_get(kind)
    loaded = prediction_model_load(kind=spec)
    now = now or timezone.now()
    report(5, "Building features")
    features = customer_features_build(cut=now, horizon_days=loaded.horizon_days)
    if spec is CHURN:
        features = churn_population(features, active_days=loaded.active_days)
    report(40, f"Scoring {len(features)} customers")
    matrix = loaded.model.matrix(features, table="customer").values
    scores = loaded.model.predict_matrix(matrix)
    reasons = loaded.model.reasons_matrix(matrix, top=TOP_REASONS)
    rows: list[tuple[int, float | None, int | None, str]] = [
        (
            int(customer_id),
            float(score),
            loaded.model_version_id,
            json.dumps({spec.name: _explanation(row_reasons)}),
        )
        for customer_id, score, row_reasons in zip(features.index, scores, reasons, strict=True)
    ]
    scored_ids = {row[0] for row in rows}
    stale_ids = [
        customer_id
        for customer_id in CustomerScores.objects.filter(
            **{f"{spec.score_field}__isnull": False}
        ).values_list("customer_id", flat=True)
        if customer_id not in scored_ids
    ]
    rows.extend((customer_id, None, None, "{}") for customer_id in stale_ids)
    report(70, "Writing scores")
    _scores_write(spec, rows)
    report(100, "Done")
    return ScoringSummary(
        kind=spec.name,
        model_version_id=loaded.model_version_id,
        version=loaded.version,
        scored=len(scored_ids),
        cleared=len(stale_ids),
        mean_score=float(scores.mean()) if len(scores) else None,
        seconds=round(time.monotonic() - started, 3),
    )


def prediction_scores_stale(*, kind: str) -> bool:
    """Whether the champion of `kind` differs from the version its stored scores came from."""
    spec = prediction_kind_get(kind)
    champion = ml_selectors.champion_get(spec.ml_kind)
    if champion is None:
        return False
    return not CustomerScores.objects.filter(**{f"{spec.version_field}_id": champion.pk}).exists()


def prediction_scores_refresh_all(*, only_stale: bool) -> list[ScoringSummary]:
    """Re-score each kind that has a champion (with `only_stale`, only those whose champion
    changed since the last scoring): the scheduled entry point."""
    summaries = []
    for spec in PREDICTION_KINDS.values():
        if ml_selectors.champion_get(spec.ml_kind) is None:
            continue
        if only_stale and not prediction_scores_stale(kind=spec.name):
            continue
        summaries.append(prediction_scores_refresh(kind=spec.name))
    return summaries


# --- reads for the page and the API -------------------------------------------------------


@dataclass(frozen=True)
class ScoredCustomer:
    """A customer with a high score and the reasons for it."""

    external_id: str
    name: str
    score: float
    reasons: list[dict[str, Any]]

    @property
    def percent(self) -> float:
        return 100 * self.score


@dataclass(frozen=True)
class PredictionOverview:
    """Everything the Predictions page and API show about one kind."""

    kind: PredictionKind
    champion: Any  # ModelVersion or None
    metrics: dict[str, Any]
    latest_run: Any  # TrainingRun or None
    scored_customers: int
    scored_version: int | None
    mean_score: float | None
    distribution: list[dict[str, Any]]
    top_customers: list[ScoredCustomer]

    @property
    def scores_pending(self) -> bool:
        """A newer champion than the one the stored scores came from."""
        return self.champion is not None and self.scored_version != self.champion.version


def _distribution(spec: PredictionKind) -> list[dict[str, Any]]:
    bucket = Least(
        Floor(F(spec.score_field) * DISTRIBUTION_BINS),
        Value(float(DISTRIBUTION_BINS - 1)),
        output_field=FloatField(),
    )
    counts = dict(
        CustomerScores.objects.filter(**{f"{spec.score_field}__isnull": False})
        .annotate(bucket=bucket)
        .values_list("bucket")
        .annotate(customers=Count("pk"))
        .order_by()
    )
    width = 1 / DISTRIBUTION_BINS
    return [
        {
            "low": round(index * width, 4),
            "high": round((index + 1) * width, 4),
            "customers": int(counts.get(float(index)) or counts.get(index) or 0),
        }
        for index in range(DISTRIBUTION_BINS)
    ]


def _top_customers(spec: PredictionKind, limit: int) -> list[ScoredCustomer]:
    rows = (
        CustomerScores.objects.filter(**{f"{spec.score_field}__isnull": False})
        .order_by(f"-{spec.score_field}", "customer_id")
        .values_list(
            "customer__external_id",
            "customer__first_name",
            "customer__last_name",
            spec.score_field,
            "explanations",
        )[:limit]
    )
    result = []
    for external_id, first_name, last_name, score, explanations in rows:
        pairs = (explanations or {}).get(spec.name, [])
        result.append(
            ScoredCustomer(
                external_id=external_id,
                name=f"{first_name} {last_name}".strip(),
                score=float(score),
                reasons=[
                    {"feature": name, "label": feature_label(name), "contribution": value}
                    for name, value in pairs
                ],
            )
        )
    return result


def prediction_overview(*, kind: str, top: int = TOP_CUSTOMERS_SHOWN) -> PredictionOverview:
    """The champion's metrics, the latest run, the stored scores' distribution and leaders."""
    spec = prediction_kind_get(kind)
    champion = ml_selectors.champion_get(spec.ml_kind)
    latest_run = ml_selectors.training_run_list(kind=spec.ml_kind).first()
    scored = CustomerScores.objects.filter(**{f"{spec.score_field}__isnull": False})
    summary = scored.aggregate(
        customers=Count("pk"),
        version=Max(f"{spec.version_field}__version"),
        mean=Avg(spec.score_field),
    )
    return PredictionOverview(
        kind=spec,
        champion=champion,
        metrics=dict(champion.metrics) if champion is not None else {},
        latest_run=latest_run,
        scored_customers=summary["customers"],
        scored_version=summary["version"],
        mean_score=summary["mean"],
        distribution=_distribution(spec) if summary["customers"] else [],
        top_customers=_top_customers(spec, top) if summary["customers"] else [],
    )


def prediction_overview_list() -> list[PredictionOverview]:
    """The overview of every kind, churn first."""
    return [prediction_overview(kind=name) for name in PREDICTION_KINDS]


# --- feature tables from files (no database) ---------------------------------------------


def _table_read(path: Path, *, option: str) -> pd.DataFrame:
    if not path.is_file():
        raise ValidationFailed(f"{option}: file {str(path)!r} does not exist", field=option)
    try:
        frame = pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError:
        raise ValidationFailed(f"{option}: {path.name} is empty", field=option) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValidationFailed(
            f"{option}: {path.name} is not a readable CSV file ({reason})", field=option
        ) from None
    if frame.empty:
        raise ValidationFailed(f"{option}: {path.name} has a header but no rows", field=option)
    return frame


def _column_check(frame: pd.DataFrame, column: str, *, option: str, path: Path) -> None:
    if column not in frame.columns:
        shown = ", ".join(str(name) for name in list(frame.columns)[:20])
        raise ValidationFailed(
            f"{option}: column {column!r} is not in {path.name} (columns: {shown})",
            field=option,
        )


def _table_error(error: PropensityDataError, *, target: str, default: str) -> ValidationFailed:
    """The engine's complaint as a ValidationFailed naming the option it is about."""
    option = "--target" if error.column == target else default
    return ValidationFailed(f"{option}: {error}", field=option)


def prediction_table_evaluate(
    *,
    train_path: Path,
    test_path: Path,
    target: str,
    id_column: str | None = None,
    seed: int = DEFAULT_SEED,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train on one feature table, evaluate on another: metrics, and per-row test scores.

    For teams who bring their own features (`manage.py predict evaluate`): no database rows
    are read or written. Every problem with the files is a ValidationFailed whose message
    names the option and the column.
    """
    report = progress or (lambda percent, message: None)
    train = _table_read(train_path, option="--train")
    test = _table_read(test_path, option="--test")
    for frame, path in ((train, train_path), (test, test_path)):
        _column_check(frame, target, option="--target", path=path)
        if id_column:
            _column_check(frame, id_column, option="--id-col", path=path)
    if id_column and id_column == target:
        raise ValidationFailed("--id-col: the id column cannot be the target", field="--id-col")
    report(10, f"Fitting on {len(train)} rows of {train_path.name}")
    started = time.monotonic()
    try:
        model = propensity_fit(
            train, target=target, exclude=[id_column] if id_column else [], seed=seed
        )
    except PropensityDataError as error:
        raise _table_error(error, target=target, default="--train") from None
    train_seconds = time.monotonic() - started
    report(70, f"Evaluating on {len(test)} rows of {test_path.name}")
    try:
        evaluation, scores = propensity_evaluate(model, test, target=target)
    except PropensityDataError as error:
        raise _table_error(error, target=target, default="--test") from None
    test_matrix = model.matrix(test, table="test")
    reasons = model.reasons_matrix(test_matrix.values, top=TOP_REASONS)
    importance = dict(model.importance(test_matrix.values))
    assert model.target is not None  # noqa: S101 - fitted on a named target column
    document: dict[str, Any] = {
        "auc": evaluation.auc,
        "log_loss": evaluation.log_loss,
        "model": model.name,
        "brier": evaluation.brier,
        "calibration_error": evaluation.calibration_error,
        "n_train": model.training_rows,
        "n_test": evaluation.rows,
        "positives": evaluation.positives,
        "positives_train": model.training_positives,
        "base_rate": evaluation.base_rate,
        "mean_predicted": evaluation.mean_predicted,
        "target": {
            "column": target,
            "positive_label": model.target.positive_label,
            "negative_label": model.target.negative_label,
        },
        "calibration_method": model.calibration_method,
        "trees": model.trees,
        "calibration": [vars(item) for item in evaluation.calibration],
        "lift_by_decile": [vars(item) for item in evaluation.lift_by_decile],
        "features": [
            {"name": column.name, "kind": column.kind, "importance": importance[column.name]}
            for column in sorted(model.features, key=lambda column: -importance[column.name])
        ],
        "dropped_columns": [vars(column) for column in model.dropped],
        "warnings": list(test_matrix.notes),
        "explanation_method": "TreeSHAP (LightGBM pred_contrib), log-odds",
        "seed": seed,
        "train_seconds": round(train_seconds, 3),
    }
    scored = pd.DataFrame(
        {
            "id": test[id_column] if id_column else np.arange(len(test)),
            "probability": scores,
            "actual": test[target],
            "top_reasons": [
                "; ".join(
                    f"{reason.feature}={reason.value} ({reason.contribution:+.3f})"
                    for reason in row
                )
                for row in reasons
            ],
        }
    )
    return document, scored
