"""Customer lifetime value: fit BG/NBD + Gamma-Gamma, store per-customer predictions, read them.

The maths is in `apps.segments.engine.clv` (pure). This module

* fits on the revenue orders of the database (`clv_model_fit`, called by the `segments.clv`
  trainer of the ML platform: a TrainingRun with parameters and diagnostics as metrics, a
  ModelVersion whose artifact is the fitted parameters as JSON);
* stores the champion's predictions in `CustomerScores` (`clv_scores_store`): historical
  and discounted historical CLV, predicted 12-month CLV, P(alive) and expected purchases in
  90 days, with the model version, for every customer with a revenue order;
* starts fits (`clv_fit_start`) and, when a run already finished in this process (no
  broker: CLI, tests), stores its predictions at once; with a worker the scheduled
  `clv_scores_store_if_stale` (or the page's "Store predictions") catches up;
* fits a transactions file without the database (`clv_file_fit`, the `clv fit
  --transactions` command);
* reads what the CLV page and API show (`clv_overview`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Avg, Case, Count, Max, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.core.errors import NotEnoughData, ValidationFailed
from apps.events.selectors import order_revenue_queryset
from apps.ml import selectors as ml_selectors
from apps.ml import services as ml_services
from apps.ml.contracts import number_param, unknown_params_reject
from apps.segments.engine import clv as engine
from apps.segments.models import CustomerScores

CLV_KIND = "segments.clv"
ARTIFACT_FORMAT = 1
CLV_DEFAULTS: dict[str, Any] = {
    "time_unit": "D",
    "holdout_days": 90,
    "monthly_discount_rate": 0.01,
    "months": 12,
}
EXPECTED_PURCHASES_DAYS = 90.0
WRITE_BATCH = 5000
# The columns of CustomerScores this feature owns (and nothing else).
CLV_COLUMNS = (
    "clv_historical",
    "clv_discounted",
    "clv_12m",
    "p_alive",
    "expected_purchases_90d",
    "clv_model_version",
    "updated_at",
)
MONEY_LIMIT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
DISTRIBUTION_BINS = 12
TOP_CUSTOMERS_SHOWN = 20
ACTIVE_STATUSES = ("queued", "running")

Progress = Callable[[float, str], None]


def _no_progress(percent: float, message: str = "") -> None:
    """Progress sink for callers that do not show any."""


# --- parameters -------------------------------------------------------------------------------


def clv_params_validate(params: dict[str, Any]) -> dict[str, Any]:
    """Check the `segments.clv` parameters (defaults merged in); ValueError names the field.

    time_unit: D or W; holdout_days: 0 (no diagnostics) to 730; monthly_discount_rate: 0-1;
    months: 1-120 (the horizon of the predicted CLV stored as clv_12m is always 12 months,
    `months` only changes the reported figures).
    """
    unknown_params_reject(params, CLV_DEFAULTS)
    time_unit = str(params.get("time_unit", "")).upper()
    if time_unit not in engine.TIME_UNIT_DAYS:
        raise ValueError(f"time_unit must be D or W, got {params.get('time_unit')!r}")
    holdout_days = number_param(params, "holdout_days", low=0, high=730)
    months = number_param(params, "months", low=1, high=120)
    if holdout_days != int(holdout_days) or months != int(months):
        raise ValueError("holdout_days and months must be whole numbers")
    return {
        "time_unit": time_unit,
        "holdout_days": int(holdout_days),
        "monthly_discount_rate": number_param(params, "monthly_discount_rate", low=0, high=1),
        "months": int(months),
    }


# --- data -------------------------------------------------------------------------------------


def _orders_transactions() -> engine.Transactions:
    """Revenue orders of known customers as (customer id, local calendar day, total)."""
    rows = list(
        order_revenue_queryset()
        .filter(customer_id__isnull=False)
        .annotate(day=TruncDate("placed_at"))
        .order_by()
        .values_list("customer_id", "day", "total")
    )
    if not rows:
        return engine.Transactions(
            np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
        )
    customer_ids, days, totals = zip(*rows, strict=True)
    day_numbers = (np.array(days, dtype="datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(
        np.int64
    )
    return engine.Transactions(
        customer_ids=np.array(customer_ids, dtype=np.int64),
        days=day_numbers,
        amounts=np.array([float(total) for total in totals], dtype=np.float64),
    )


def _dataset_hash(transactions: engine.Transactions) -> str:
    """SHA-256 of the transactions in a canonical order: equal data, equal hash."""
    order = np.lexsort((transactions.amounts, transactions.days, transactions.customer_ids))
    digest = hashlib.sha256()
    for array in (transactions.customer_ids, transactions.days, transactions.amounts):
        digest.update(np.ascontiguousarray(np.asarray(array)[order]).tobytes())
    return digest.hexdigest()


# --- fitting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClvModelResult:
    """What one fit on the database produced: the artifact document and the run's metrics."""

    document: dict[str, Any]
    metrics: dict[str, Any]
    dataset_hash: str


def _fit_document(fit: engine.ClvFit) -> dict[str, Any]:
    return {
        "bgnbd": {
            **fit.bgnbd.as_dict(),
            "customers": fit.bgnbd.customers,
            "converged": fit.bgnbd.converged,
            "iterations": fit.bgnbd.iterations,
        },
        "gamma_gamma": {
            **fit.gamma_gamma.as_dict(),
            "customers": fit.gamma_gamma.customers,
            "mean_spend": fit.gamma_gamma.population_mean_spend,
            "converged": fit.gamma_gamma.converged,
            "iterations": fit.gamma_gamma.iterations,
        },
        "customers": fit.customers,
        "repeat_customers": fit.repeat_customers,
        "independence_check": fit.independence.as_dict(),
        "fit_seconds": fit.seconds,
    }


def _not_enough(error: engine.NotEnoughCustomers, what: str) -> NotEnoughData:
    return NotEnoughData(
        f"CLV {what}: {error}. Import more orders (or generate the demo shop with "
        "manage.py demo_data) and fit again."
    )


def _diagnostics_fit(
    transactions: engine.Transactions, *, as_of: date, params: dict[str, Any]
) -> tuple[dict[str, Any] | None, str]:
    """Fit on the history before the last `holdout_days` and compare with what happened."""
    holdout_days = int(params["holdout_days"])
    if holdout_days == 0:
        return None, "no holdout asked for (holdout_days = 0)"
    calibration_end = as_of - timedelta(days=holdout_days)
    summary = engine.rfm_summary(
        transactions,
        calibration_end=calibration_end,
        holdout_end=as_of,
        time_unit=params["time_unit"],
    )
    try:
        fit = engine.clv_fit(summary)
    except engine.NotEnoughCustomers as error:
        return None, f"not enough customers before {calibration_end.isoformat()}: {error}"
    diagnostics = engine.holdout_diagnostics(fit.bgnbd, summary)
    return {**diagnostics.as_dict(), "calibration_fit": _fit_document(fit)}, ""


def clv_model_fit(*, params: dict[str, Any], progress: Progress = _no_progress) -> ClvModelResult:
    """Fit BG/NBD and Gamma-Gamma on every revenue order, with holdout diagnostics.

    The observation ends on the day of the latest revenue order (not today), so a shop whose
    imports stopped is not read as customers who stopped buying, and equal data gives equal
    parameters. Diagnostics refit on the history before the last `holdout_days` and compare
    predicted with actual repeat purchases in those days, by calibration frequency.
    """
    params = clv_params_validate({**CLV_DEFAULTS, **params})
    progress(2, "Loading revenue orders")
    transactions = _orders_transactions()
    if transactions.days.size == 0:
        raise NotEnoughData(
            "CLV needs revenue orders (paid, shipped or completed) of known customers; found "
            "none. Import orders (or generate the demo shop with manage.py demo_data) and fit "
            "again."
        )
    as_of = engine.day_to_date(int(transactions.days.max()))
    progress(20, f"Loaded {transactions.days.size:,} orders; fitting the holdout diagnostics")
    diagnostics, diagnostics_note = _diagnostics_fit(transactions, as_of=as_of, params=params)
    progress(55, "Fitting BG/NBD and Gamma-Gamma on the full history")
    summary = engine.rfm_summary(
        transactions,
        calibration_end=as_of,
        time_unit=params["time_unit"],
        monthly_discount_rate=params["monthly_discount_rate"],
    )
    try:
        fit = engine.clv_fit(summary)
    except engine.NotEnoughCustomers as error:
        raise _not_enough(error, "fit") from None
    if fit.gamma_gamma.q <= 1:
        raise NotEnoughData(
            f"CLV: Gamma-Gamma q = {fit.gamma_gamma.q:.3g} <= 1, so the expected spend is "
            "unbounded; spend varies too much between customers for this model. Check order "
            "totals for outliers (Data > Quality) and fit again."
        )
    progress(85, "Predicting customer values")
    values = engine.customer_values_predict(
        fit.bgnbd,
        fit.gamma_gamma,
        summary,
        months=params["months"],
        monthly_discount_rate=params["monthly_discount_rate"],
        horizon_days=EXPECTED_PURCHASES_DAYS,
    )
    document = {
        "kind": CLV_KIND,
        "format": ARTIFACT_FORMAT,
        "params": params,
        "as_of": as_of.isoformat(),
        "time_unit": params["time_unit"],
        **_fit_document(fit),
        "diagnostics": diagnostics,
        "diagnostics_note": diagnostics_note,
    }
    metrics = {
        "bgnbd_r": fit.bgnbd.r,
        "bgnbd_alpha": fit.bgnbd.alpha,
        "bgnbd_a": fit.bgnbd.a,
        "bgnbd_b": fit.bgnbd.b,
        "bgnbd_log_likelihood": fit.bgnbd.log_likelihood,
        "gamma_gamma_p": fit.gamma_gamma.p,
        "gamma_gamma_q": fit.gamma_gamma.q,
        "gamma_gamma_v": fit.gamma_gamma.v,
        "gamma_gamma_log_likelihood": fit.gamma_gamma.log_likelihood,
        "customers": fit.customers,
        "repeat_customers": fit.repeat_customers,
        "frequency_spend_correlation": fit.independence.pearson,
        "mean_spend": fit.gamma_gamma.population_mean_spend,
        f"predicted_clv_{params['months']}m_total": float(values.predicted_clv.sum()),
        "expected_purchases_90d_total": float(values.expected_purchases.sum()),
        "time_unit": params["time_unit"],
        "as_of": as_of.isoformat(),
        "fit_seconds": round(sum(fit.seconds.values()), 4),
    }
    if diagnostics is not None:
        metrics.update(
            {
                "holdout_days": params["holdout_days"],
                "holdout_actual_purchases": diagnostics["actual_total"],
                "holdout_predicted_purchases": diagnostics["predicted_total"],
                "holdout_error": diagnostics["total_error"],
                "holdout_buckets": diagnostics["buckets"],
            }
        )
    progress(95, "Writing the parameters")
    return ClvModelResult(
        document=document, metrics=metrics, dataset_hash=_dataset_hash(transactions)
    )


# --- storing predictions ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClvStoreSummary:
    """What one store wrote into CustomerScores."""

    model_version_id: int
    version: int
    stored: int
    cleared: int
    as_of: str
    seconds: float


def _money(value: float) -> Decimal:
    amount = Decimal(f"{value:.2f}")
    return max(-MONEY_LIMIT, min(MONEY_LIMIT, amount))


def _artifact_load(version: Any) -> dict[str, Any]:
    path = ml_selectors.artifact_path(version)
    try:
        intact = ml_selectors.artifact_intact(version)
    except FileNotFoundError:
        raise ValidationFailed(
            f"the artifact of {version} is missing ({path}); fit the CLV models again",
            field="model_version",
        ) from None
    if not intact:
        raise ValidationFailed(
            f"the artifact of {version} does not match its recorded hash; fit again",
            field="model_version",
        )
    document: dict[str, Any] = json.loads(path.read_bytes())
    return document


def _version_get(model_version_id: int | None) -> Any:
    if model_version_id is None:
        version = ml_selectors.champion_get(CLV_KIND)
        if version is None:
            raise NotEnoughData(
                "No CLV model yet: fit it first (the Refit button on the CLV page, or "
                "manage.py clv fit)."
            )
        return version
    version = ml_selectors.model_version_get(model_version_id=model_version_id)
    if version.kind != CLV_KIND:
        raise ValidationFailed(
            f"model_version: {version} is a {version.kind} model, not {CLV_KIND}",
            field="model_version",
        )
    return version


def _parameters(
    document: dict[str, Any],
) -> tuple[engine.BgNbdParameters, engine.GammaGammaParameters]:
    bgnbd = document["bgnbd"]
    gamma_gamma = document["gamma_gamma"]
    return (
        engine.BgNbdParameters(bgnbd["r"], bgnbd["alpha"], bgnbd["a"], bgnbd["b"]),
        engine.GammaGammaParameters(gamma_gamma["p"], gamma_gamma["q"], gamma_gamma["v"]),
    )


def _lock() -> None:
    """One store at a time (a worker's scheduled catch-up and the CLI may meet)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["segments.clv.store"])


@transaction.atomic
def clv_scores_store(*, model_version_id: int | None = None) -> ClvStoreSummary:
    """Write the predictions of a `segments.clv` version (default: the champion) into
    CustomerScores for every customer with a revenue order, as of the latest order.

    Only this feature's columns are written (rows are created for customers without any);
    customers that no longer have a revenue order lose their CLV values. The parameters come
    from the version's artifact, the customers' histories from the orders now, so re-storing
    the same version after new orders refreshes the predictions without refitting.
    """
    started = time.monotonic()
    _lock()
    version = _version_get(model_version_id)
    document = _artifact_load(version)
    params = clv_params_validate({**CLV_DEFAULTS, **document.get("params", {})})
    bgnbd, gamma_gamma = _parameters(document)
    transactions = _orders_transactions()
    now = timezone.now()
    as_of = ""
    predictions = _Predictions.empty()
    if transactions.days.size:
        as_of_date = engine.day_to_date(int(transactions.days.max()))
        as_of = as_of_date.isoformat()
        summary = engine.rfm_summary(
            transactions,
            calibration_end=as_of_date,
            time_unit=params["time_unit"],
            monthly_discount_rate=params["monthly_discount_rate"],
        )
        values = engine.customer_values_predict(
            bgnbd,
            gamma_gamma,
            summary,
            months=12,
            monthly_discount_rate=params["monthly_discount_rate"],
            horizon_days=EXPECTED_PURCHASES_DAYS,
        )
        predictions = _Predictions(
            customer_ids=[int(customer_id) for customer_id in summary.customer_ids],
            historical=[_money(value) for value in summary.total_value],
            discounted=[_money(value) for value in summary.discounted_value],
            predicted=[_money(value) for value in values.predicted_clv],
            alive=np.clip(values.probability_alive, 0.0, 1.0).tolist(),
            expected=values.expected_purchases.tolist(),
        )
    if connection.vendor == "postgresql":
        _predictions_write_postgresql(predictions, version.pk, now)
    else:
        _predictions_write_portable(predictions, version.pk, now)
    cleared = _clear_others(set(predictions.customer_ids), now)
    return ClvStoreSummary(
        model_version_id=version.pk,
        version=version.version,
        stored=len(predictions.customer_ids),
        cleared=cleared,
        as_of=as_of,
        seconds=round(time.monotonic() - started, 3),
    )


@dataclass(frozen=True)
class _Predictions:
    """Parallel lists, one entry per customer, ready for the database."""

    customer_ids: list[int]
    historical: list[Decimal]
    discounted: list[Decimal]
    predicted: list[Decimal]
    alive: list[float]
    expected: list[float]

    @classmethod
    def empty(cls) -> _Predictions:
        return cls([], [], [], [], [], [])


def _rows_create_postgresql(customer_ids: list[int], now: Any) -> None:
    """Score rows for customers that have none: every other column at its model default."""
    columns, constants, parameters = ["customer_id"], ["source.customer_id"], []
    for model_field in CustomerScores._meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = now if model_field.name == "updated_at" else model_field.get_default()
        columns.append(connection.ops.quote_name(str(model_field.column)))
        constants.append(f"%s::{model_field.db_type(connection)}")
        parameters.append(model_field.get_db_prep_save(value, connection))
    table = connection.ops.quote_name(CustomerScores._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(customer_ids), WRITE_BATCH * 10):
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from model metadata
                f"SELECT {', '.join(constants)} "
                "FROM unnest(%s::bigint[]) AS source(customer_id) "
                "ON CONFLICT (customer_id) DO NOTHING",
                [*parameters, customer_ids[start : start + WRITE_BATCH * 10]],
            )


def _predictions_write_postgresql(predictions: _Predictions, version_id: int, now: Any) -> None:
    """Create missing rows, then one UPDATE ... FROM unnest(arrays) per 50,000 customers: set
    based (no model instances), so 1M customers take seconds, not minutes."""
    _rows_create_postgresql(predictions.customer_ids, now)
    table = connection.ops.quote_name(CustomerScores._meta.db_table)
    chunk = WRITE_BATCH * 10
    with connection.cursor() as cursor:
        for start in range(0, len(predictions.customer_ids), chunk):
            window = slice(start, start + chunk)
            cursor.execute(
                f"UPDATE {table} AS target SET "  # noqa: S608 - names from model metadata
                "clv_historical = source.historical, clv_discounted = source.discounted, "
                "clv_12m = source.predicted, p_alive = source.alive, "
                "expected_purchases_90d = source.expected, clv_model_version_id = %s, "
                "updated_at = %s "
                "FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[], %s::numeric[], "
                "%s::float8[], %s::float8[]) "
                "AS source(customer_id, historical, discounted, predicted, alive, expected) "
                "WHERE target.customer_id = source.customer_id",
                [
                    version_id,
                    now,
                    predictions.customer_ids[window],
                    predictions.historical[window],
                    predictions.discounted[window],
                    predictions.predicted[window],
                    predictions.alive[window],
                    predictions.expected[window],
                ],
            )


def _predictions_write_portable(predictions: _Predictions, version_id: int, now: Any) -> None:
    """Other databases (SQLite on the embedded defaults): Django's upsert in batches."""
    rows = [
        CustomerScores(
            customer_id=customer_id,
            clv_historical=historical,
            clv_discounted=discounted,
            clv_12m=predicted,
            p_alive=alive,
            expected_purchases_90d=expected,
            clv_model_version_id=version_id,
            updated_at=now,
        )
        for customer_id, historical, discounted, predicted, alive, expected in zip(
            predictions.customer_ids,
            predictions.historical,
            predictions.discounted,
            predictions.predicted,
            predictions.alive,
            predictions.expected,
            strict=True,
        )
    ]
    CustomerScores.objects.bulk_create(
        rows,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=list(CLV_COLUMNS),
    )


CLEAR_CHUNK = 10_000


def _clear_others(stored: set[int], now: Any) -> int:
    """Empty the CLV columns of customers that hold CLV values but were not stored now
    (their revenue orders were refunded or cancelled, or they were merged away)."""
    holding = (
        CustomerScores.objects.exclude(
            clv_model_version=None, clv_12m=None, clv_historical=None, p_alive=None
        )
        .order_by()
        .values_list("customer_id", flat=True)
        .iterator(chunk_size=50_000)
    )
    leftover = sorted(set(holding) - stored)
    cleared = 0
    for start in range(0, len(leftover), CLEAR_CHUNK):
        cleared += CustomerScores.objects.filter(
            customer_id__in=leftover[start : start + CLEAR_CHUNK]
        ).update(
            clv_historical=None,
            clv_discounted=None,
            clv_12m=None,
            p_alive=None,
            expected_purchases_90d=None,
            clv_model_version=None,
            updated_at=now,
        )
    return cleared


def clv_scores_stale() -> bool:
    """Whether the champion of `segments.clv` is not the version stored in CustomerScores."""
    champion = ml_selectors.champion_get(CLV_KIND)
    if champion is None:
        return False
    return not CustomerScores.objects.filter(clv_model_version_id=champion.pk).exists()


def clv_scores_store_if_stale() -> ClvStoreSummary | None:
    """Store the champion's predictions when they are not stored yet (the scheduled catch-up
    for fits that ran on a worker or were started from the Models page)."""
    if not clv_scores_stale():
        return None
    return clv_scores_store()


def clv_fit_start(
    *, params: dict[str, Any] | None = None, trigger: str, triggered_by: Any = None
) -> Any:
    """Start a `segments.clv` run; when it already finished (it ran in this process: no
    broker configured, the CLI, tests) store its predictions at once.

    Not atomic on purpose: the run is enqueued when the platform's own transaction commits,
    and only after that can it have finished.
    """
    run = ml_services.training_run_start(
        kind=CLV_KIND, params=params or {}, trigger=trigger, triggered_by=triggered_by
    )
    run = ml_selectors.training_run_get(run_id=run.pk)
    version = getattr(run, "model_version", None)
    if run.status == "succeeded" and version is not None and clv_scores_stale():
        clv_scores_store(model_version_id=version.pk)
    return run


# --- a file, without the database -------------------------------------------------------------


def _read_table(path: Path, delimiter: str) -> pd.DataFrame:
    if not path.is_file():
        raise ValidationFailed(
            f"transactions: file {str(path)!r} does not exist", field="transactions"
        )
    separator = r"\s+" if delimiter == "whitespace" else delimiter
    try:
        return pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            engine="python" if delimiter == "whitespace" else "c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise ValidationFailed(
            f"transactions: {str(path)!r} is not a readable CSV file: {first_line}",
            field="transactions",
        ) from None


def clv_file_fit(
    *,
    path: Path,
    customer_column: str,
    date_column: str,
    amount_column: str,
    calibration_end: date,
    time_unit: str = "W",
    holdout_end: date | None = None,
    delimiter: str = ",",
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Fit both models on a transactions file up to `calibration_end`; no database.

    With transactions after the calibration end, the holdout (up to `holdout_end`, default
    the last transaction's day) gives the predicted-vs-actual diagnostics. Row numbers in
    errors are the file's line numbers (the header is line 1).
    """
    started = time.perf_counter()
    frame = _read_table(path, delimiter)
    progress(f"Read {len(frame):,} rows from {path}")
    try:
        transactions = engine.transactions_from_frame(
            frame,
            customer_column=customer_column,
            date_column=date_column,
            amount_column=amount_column,
            first_row_number=2,
        )
    except engine.TransactionsError as error:
        raise ValidationFailed(f"transactions: {error}", field="transactions") from None
    last_day = transactions.last_day
    if holdout_end is None and last_day is not None and last_day > calibration_end:
        holdout_end = last_day
    if holdout_end is not None and holdout_end <= calibration_end:
        raise ValidationFailed(
            "holdout_end: must be after the calibration end "
            f"({holdout_end.isoformat()} <= {calibration_end.isoformat()})",
            field="holdout_end",
        )
    summary_started = time.perf_counter()
    summary = engine.rfm_summary(
        transactions, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit
    )
    summary_seconds = time.perf_counter() - summary_started
    if summary.customers == 0:
        first = transactions.first_day.isoformat() if transactions.first_day else "none"
        raise ValidationFailed(
            f"calibration_end: no transaction on or before {calibration_end.isoformat()} "
            f"(the first is on {first})",
            field="calibration_end",
        )
    progress(
        f"{summary.customers:,} customers ({summary.repeat_customers:,} with repeat purchases) "
        f"up to {calibration_end.isoformat()}; fitting"
    )
    try:
        fit = engine.clv_fit(summary)
    except engine.NotEnoughCustomers as error:
        raise ValidationFailed(f"transactions: {error}", field="transactions") from None
    diagnostics = None
    if holdout_end is not None:
        diagnostics = engine.holdout_diagnostics(fit.bgnbd, summary).as_dict()
    document = _fit_document(fit)
    return {
        **document,
        "time_unit": time_unit,
        "calibration_end": calibration_end.isoformat(),
        "holdout_end": holdout_end.isoformat() if holdout_end else None,
        "transactions": int(transactions.days.size),
        "diagnostics": diagnostics,
        "fit_seconds": {
            **fit.seconds,
            "summary": round(summary_seconds, 4),
            "total": round(time.perf_counter() - started, 4),
        },
    }


# --- reads for the page and the API -----------------------------------------------------------


@dataclass(frozen=True)
class TopCustomer:
    """A customer with a high predicted CLV."""

    external_id: str
    name: str
    clv_12m: Decimal
    clv_historical: Decimal | None
    p_alive: float | None
    expected_purchases_90d: float | None
    clv_discounted: Decimal | None = None


@dataclass(frozen=True)
class ClvOverview:
    """Everything the CLV page and API show: the champion's fit and the stored predictions."""

    champion: Any  # ModelVersion or None
    document: dict[str, Any]  # the champion's artifact (parameters, diagnostics, check)
    latest_run: Any  # TrainingRun or None
    stored_version: int | None
    customers: int
    total_clv_12m: Decimal | None
    total_historical: Decimal | None
    mean_p_alive: float | None
    expected_purchases_90d: float | None
    distribution: list[dict[str, Any]] = field(default_factory=list)
    top_customers: list[TopCustomer] = field(default_factory=list)
    total_discounted: Decimal | None = None

    @property
    def stale(self) -> bool:
        """A champion whose predictions are not the stored ones yet."""
        return self.champion is not None and self.stored_version != self.champion.version

    @property
    def run_active(self) -> bool:
        return self.latest_run is not None and self.latest_run.status in ACTIVE_STATUSES


def _nice_floor(value: float) -> float:
    """The largest of 1, 2 or 5 times a power of ten that is at most `value` (> 0)."""
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (5, 2, 1) if step * magnitude <= value * (1 + 1e-9))


def _nice_next(value: float) -> float:
    """The next value of the 1-2-5 series after `value` (itself on the series)."""
    magnitude = 10 ** math.floor(math.log10(value) + 1e-9)
    lead = round(value / magnitude)
    return {1: 2, 2: 5}.get(lead, 10) * magnitude


def _band_edges(low: float, top: float) -> list[float]:
    """0, then the 1-2-5 series from `low` up to the first value at or above `top`."""
    edges = [0.0, _nice_floor(low)]
    while edges[-1] < top and len(edges) <= DISTRIBUTION_BINS:
        edges.append(_nice_next(edges[-1]))
    return edges


def _percentile(scored: Any, customers: int, fraction: float) -> float:
    row = min(customers - 1, int(fraction * customers))
    return float(scored.order_by("clv_12m").values_list("clv_12m", flat=True)[row])


def _distribution(scored: Any, customers: int) -> list[dict[str, Any]]:
    """Customers per band of predicted 12-month CLV, in log-spaced bands.

    Predicted CLV is heavily right-skewed (most buyers are worth little, a few a lot), so equal
    bands put most customers in the first one. The bands follow the 1-2-5 series (20, 50, 100,
    200 ...) from below the 5th percentile to the 99th: each band is about twice as wide as the
    one before, so the bars show the shape of the bulk. The first band starts at 0 and the last
    one also holds the long tail above it ("open"). Three indexed queries, whatever the number
    of customers.
    """
    top = _percentile(scored, customers, 0.99)
    if top <= 0:
        return [{"low": 0.0, "high": 0.0, "customers": customers, "open": False}]
    low = max(_percentile(scored, customers, 0.05), top / 1000)
    edges = _band_edges(low, top)
    last_band = len(edges) - 2
    band = Case(
        *[
            When(clv_12m__lt=Decimal(str(edge)), then=Value(index))
            for index, edge in enumerate(edges[1:-1])
        ],
        default=Value(last_band),
    )
    counts = {
        int(index): count
        for index, count in scored.annotate(band=band)
        .values_list("band")
        .annotate(count=Count("pk"))
        .order_by()
    }
    shown = max(counts) + 1
    return [
        {
            "low": edges[index],
            "high": edges[index + 1],
            "customers": int(counts.get(index, 0)),
            "open": index == last_band,
        }
        for index in range(shown)
    ]


def _top_customers(scored: Any, limit: int) -> list[TopCustomer]:
    rows = scored.order_by("-clv_12m", "customer_id").values_list(
        "customer__external_id",
        "customer__first_name",
        "customer__last_name",
        "clv_12m",
        "clv_historical",
        "p_alive",
        "expected_purchases_90d",
        "clv_discounted",
    )[:limit]
    return [
        TopCustomer(
            external_id=external_id,
            name=f"{first_name} {last_name}".strip(),
            clv_12m=clv_12m,
            clv_historical=historical,
            p_alive=alive,
            expected_purchases_90d=expected,
            clv_discounted=discounted,
        )
        for (
            external_id,
            first_name,
            last_name,
            clv_12m,
            historical,
            alive,
            expected,
            discounted,
        ) in rows
    ]


def clv_overview(*, top: int = TOP_CUSTOMERS_SHOWN) -> ClvOverview:
    """The champion's parameters and diagnostics, the latest run, the stored predictions."""
    champion = ml_selectors.champion_get(CLV_KIND)
    document: dict[str, Any] = {}
    if champion is not None:
        try:
            document = _artifact_load(champion)
        except ValidationFailed:
            document = {}
    latest_run = ml_selectors.training_run_list(kind=CLV_KIND).first()
    scored = CustomerScores.objects.filter(clv_12m__isnull=False)
    summary = scored.aggregate(
        customers=Count("pk"),
        version=Max("clv_model_version__version"),
        total=Sum("clv_12m"),
        historical=Sum("clv_historical"),
        discounted=Sum("clv_discounted"),
        alive=Avg("p_alive"),
        expected=Sum("expected_purchases_90d"),
    )
    customers = int(summary["customers"] or 0)
    return ClvOverview(
        champion=champion,
        document=document,
        latest_run=latest_run,
        stored_version=summary["version"],
        customers=customers,
        total_clv_12m=summary["total"],
        total_historical=summary["historical"],
        mean_p_alive=summary["alive"],
        expected_purchases_90d=summary["expected"],
        distribution=_distribution(scored, customers) if customers else [],
        top_customers=_top_customers(scored, top) if customers else [],
        total_discounted=summary["discounted"],
    )
