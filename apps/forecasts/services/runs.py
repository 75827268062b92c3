"""Refreshing forecasts: a run over every active series, split into chunks on the workers.

A run is a row (`ForecastRun`) with an idempotency key (one nightly run per day). Starting it
syncs the series catalogue and queues one task per chunk of series on `ml_cpu`, so several
workers forecast side by side. Each chunk stores one `Forecast` per series (skipping those
this run already has: a redelivered task does nothing twice) and counts itself done; the
chunk that completes the run reconciles category forecasts with the shop's, raises or
resolves stock alerts and closes the run. Every forecast names the forecaster version.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.core.errors import NotFound, ValidationFailed
from apps.forecasts.choices import (
    ForecastStatus,
    Measure,
    RunStatus,
    RunTrigger,
    SeriesLevel,
)
from apps.forecasts.engine.diagnostics import diagnose
from apps.forecasts.engine.forecaster import (
    ForecastError,
    ForecastRequest,
    ForecastResult,
    forecast,
)
from apps.forecasts.engine.models import MODELS, ModelError, ModelOptions, NotEnoughHistory
from apps.forecasts.engine.series import Series
from apps.forecasts.models import Forecast, ForecastRun, ForecastSeries
from apps.forecasts.services.series import (
    HORIZONS,
    series_load,
    series_sync,
    series_with_regressors,
)
from apps.ml.contracts import device_pick
from apps.ml.services import json_safe, model_version_import

logger = logging.getLogger(__name__)

FORECASTER_KIND = "forecasts.auto"
FORECASTER_VERSION = "1"
# Fewer points than this: not enough data (a product that sold in a few weeks only).
MIN_HISTORY = 8
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
JSON_FIELDS = frozenset({"history", "points", "backtest", "params", "diagnostics", "notes"})
STALE_AFTER = timedelta(minutes=30)


# Fitting reads the recent history only: the last 26 weeks of days carry the weekly pattern
# and the current level (the yearly pattern is the weekly and monthly series' job), and two
# years of days would make every ARIMA search several times slower. Charts show it all.
FIT_PERIODS = {"D": 182, "W": 156, "M": 120}


def candidates_setting(name: str) -> tuple[str, ...]:
    """A comma-separated candidate list from settings, checked."""
    value = tuple(part.strip() for part in str(getattr(settings, name)).split(",") if part.strip())
    unknown = [model for model in value if model not in MODELS]
    if unknown or not value:
        raise ValidationFailed(
            f"{name}: unknown model(s) {', '.join(unknown) or '(none)'}", field=name
        )
    return value


def forecaster_config() -> dict[str, Any]:
    """What decides the forecasts besides the data: stored as the model version's artifact."""
    import pmdarima
    import statsmodels

    return {
        "engine": FORECASTER_VERSION,
        "statsmodels": statsmodels.__version__,
        "pmdarima": pmdarima.__version__,
        "candidates": {
            "shop": list(candidates_setting("FORECASTS_SHOP_CANDIDATES")),
            "product": list(candidates_setting("FORECASTS_PRODUCT_CANDIDATES")),
        },
        "fit_periods": FIT_PERIODS,
        "origins": {"shop": 3, "product": 2},
        "horizons": {str(k): v for k, v in HORIZONS.items()},
        "selection": "lowest mean backtest MASE; ensemble = mean of the best 3",
        "transform": "auto (Guerrero Box-Cox, log near 0)",
        "reconciliation": "WLS structural, weekly categories to shop",
        "holiday_country": settings.FORECASTS_HOLIDAY_COUNTRY,
    }


def forecaster_version() -> Any:
    """The `forecasts.auto` model version of the current configuration (registered once)."""
    config = forecaster_config()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "forecaster.json"
        path.write_text(json.dumps(config, sort_keys=True, indent=1))
        return model_version_import(kind=FORECASTER_KIND, source=path, params=config)


def forecast_request(row: ForecastSeries, *, horizon: int | None = None) -> ForecastRequest:
    """How a stored series is forecast: cheap candidates for products, all for the rest."""
    product = row.level == SeriesLevel.PRODUCT
    return ForecastRequest(
        horizon=horizon or HORIZONS[row.frequency],
        candidates=candidates_setting(
            "FORECASTS_PRODUCT_CANDIDATES" if product else "FORECASTS_SHOP_CANDIDATES"
        ),
        origins=2 if product else 3,
        options=ModelOptions(device=device_pick()),
    )


def series_forecast(
    row: ForecastSeries,
    series: Series,
    *,
    horizon: int | None = None,
    extra_days: Sequence[date] = (),
    now: datetime | None = None,
) -> ForecastResult:
    """Forecast one loaded series (with its regressors); raises ForecastError/ModelError."""
    request = forecast_request(row, horizon=horizon)
    if len(series) < MIN_HISTORY:
        raise NotEnoughHistory(
            f"{len(series)} {row.get_frequency_display().lower()} periods of history; "
            f"at least {MIN_HISTORY} are needed"
        )
    series = series.tail(FIT_PERIODS.get(row.frequency, len(series)))
    series, future = series_with_regressors(
        row, series, request.horizon, now=now, extra_days=extra_days
    )
    if future is not None:
        from dataclasses import replace

        request = replace(request, exog_future=future)
    return forecast(series, request)


def _history(series: Series) -> list[list[Any]]:
    return [
        [day.isoformat(), float(value)]
        for day, value in zip(series.dates, series.values, strict=True)
    ]


def forecast_store(
    *,
    row: ForecastSeries,
    series: Series,
    run: ForecastRun | None,
    model_version: Any,
    now: datetime | None = None,
) -> Forecast:
    """Forecast `row` and store the outcome (a forecast, not enough data, or the failure)."""
    started = time.perf_counter()
    fields: dict[str, Any] = {"history": _history(series)}
    if len(series):
        fields["history_end"] = series.dates[-1]
    try:
        result = series_forecast(row, series, now=now)
    except (ForecastError, ModelError) as error:
        status = (
            ForecastStatus.NOT_ENOUGH_DATA
            if isinstance(error, NotEnoughHistory)
            else ForecastStatus.FAILED
        )
        fields.update(status=status, error=str(error)[:2000])
    else:
        document = result.as_dict()
        chosen = next((score for score in result.backtest if score.chosen), None)
        fields.update(
            status=ForecastStatus.OK,
            model=result.model,
            description=result.description[:255],
            transform=result.transform,
            horizon=len(result.dates),
            points=document["forecast"],
            backtest=document["backtest"],
            params=document["params"],
            notes=result.notes,
            mase=chosen.mase if chosen else None,
            coverage_95=chosen.coverage_95 if chosen else None,
        )
        if row.level != SeriesLevel.PRODUCT and len(series) >= 8:
            try:
                fields["diagnostics"] = diagnose(series.values, series.season).as_dict()
            except ValueError as error:
                fields["notes"] = [*result.notes, f"no diagnostics: {error}"]
    fields["seconds"] = round(time.perf_counter() - started, 3)
    # JSON columns as Postgres takes them: a test on a constant series gives NaN p-values.
    for name in JSON_FIELDS & fields.keys():
        fields[name] = json_safe(fields[name])
    forecast_row, _ = Forecast.objects.update_or_create(
        series=row, run=run, defaults={"model_version": model_version, **fields}
    )
    return forecast_row


# --- runs -------------------------------------------------------------------------------------


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def forecast_run_start(
    *, trigger: str = RunTrigger.MANUAL, user: Any = None, now: datetime | None = None
) -> ForecastRun:
    """Start a refresh of every active series (or return the run already going).

    The nightly run of a day exists once (its key is the date); a manual run while another
    is queued or running returns that one instead of doubling the work.
    """
    if trigger not in RunTrigger.values:
        raise ValidationFailed(
            f"trigger must be one of {', '.join(RunTrigger.values)}", field="trigger"
        )
    now = now or timezone.now()
    key = (
        f"nightly:{timezone.localtime(now).date().isoformat()}"
        if trigger == RunTrigger.NIGHTLY
        else f"manual:{uuid.uuid4().hex[:12]}"
    )
    version = forecaster_version()
    with transaction.atomic():
        existing = ForecastRun.objects.select_for_update().filter(status__in=ACTIVE).first()
        if existing is not None and existing.updated_at >= now - STALE_AFTER:
            return existing
        if existing is not None:
            existing.status = RunStatus.FAILED
            existing.error = "The workers running this refresh stopped (no progress for 30 minutes)"
            existing.finished_at = now
            existing.save(update_fields=["status", "error", "finished_at", "updated_at"])
        done = ForecastRun.objects.filter(key=key).first()
        if done is not None:
            return done
        counts = series_sync(now=now)
        ids = list(
            ForecastSeries.objects.filter(active=True)
            .order_by("level", "pk")
            .values_list("pk", flat=True)
        )
        chunks = _chunks(ids, max(1, settings.FORECASTS_CHUNK_SIZE))
        run = ForecastRun.objects.create(
            key=key,
            trigger=trigger,
            as_of=now,
            model_version=version,
            series_total=len(ids),
            chunks=len(chunks),
            counts={"sync": counts},
            message=f"{len(ids)} series in {len(chunks)} chunks",
            requested_by=user if getattr(user, "pk", None) else None,
        )
        if not ids:
            run.status = RunStatus.SUCCEEDED
            run.message = "No series to forecast: no sales in the history window yet"
            run.finished_at = now
            run.save()
            return run
        transaction.on_commit(lambda: _enqueue(run.pk, chunks))
    return run


def _enqueue(run_id: int, chunks: list[list[int]]) -> None:
    from apps.forecasts.tasks import forecast_series_chunk_task  # tasks import services

    try:
        for chunk in chunks:
            forecast_series_chunk_task.apply_async(args=[run_id, chunk], queue="ml_cpu")
    except (KombuOperationalError, RedisError) as error:  # broker down: say so on the row
        logger.error("Forecast run %s could not be enqueued: %s", run_id, error)
        ForecastRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
            status=RunStatus.FAILED,
            error=f"Could not enqueue the run: the broker is unreachable ({error})",
            finished_at=timezone.now(),
        )


def forecast_chunk_run(*, run_id: int, series_ids: Sequence[int]) -> dict[str, int]:
    """Forecast a chunk of a run's series and store them; the last chunk closes the run."""
    run = ForecastRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Forecast run {run_id} does not exist")
    if run.status not in ACTIVE:
        return {"skipped": len(series_ids)}
    now = timezone.now()
    ForecastRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now, updated_at=now
    )
    already = set(
        Forecast.objects.filter(run=run, series_id__in=series_ids).values_list(
            "series_id", flat=True
        )
    )
    rows = list(ForecastSeries.objects.filter(pk__in=series_ids).exclude(pk__in=already))
    loaded = series_load(rows, now=run.as_of)
    counts = {"forecast": 0, "not_enough_data": 0, "failed": 0}
    for row in rows:
        stored = forecast_store(
            row=row, series=loaded[row.pk], run=run, model_version=run.model_version, now=run.as_of
        )
        failed = stored.status == ForecastStatus.FAILED
        counts[
            "failed"
            if failed
            else ("forecast" if stored.status == ForecastStatus.OK else "not_enough_data")
        ] += 1
        ForecastRun.objects.filter(pk=run_id).update(
            series_done=F("series_done") + (0 if failed else 1),
            series_failed=F("series_failed") + (1 if failed else 0),
            message=f"Forecast {row.key}"[:255],
            updated_at=timezone.now(),
        )
    _run_close_if_done(run_id)
    return counts


def _run_close_if_done(run_id: int) -> None:
    from apps.forecasts.services.alerts import stock_alerts_refresh

    with transaction.atomic():
        run = ForecastRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE or run.series_done + run.series_failed < run.series_total:
            return
        try:
            reconciled = hierarchy_reconcile(run)
            alerts = stock_alerts_refresh(run=run)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            logger.exception("Closing forecast run %s failed", run_id)
            run.status = RunStatus.FAILED
            run.error = f"{type(error).__name__}: {error}"[:2000]
        else:
            run.status = RunStatus.PARTIAL if run.series_failed else RunStatus.SUCCEEDED
            run.counts = {**run.counts, "reconciled": reconciled, "stock_alerts": alerts}
            run.message = f"{run.series_done} series forecast" + (
                f", {run.series_failed} failed" if run.series_failed else ""
            )
        run.finished_at = timezone.now()
        run.save()


def hierarchy_reconcile(run: ForecastRun) -> int:
    """Make this run's category forecasts add up to the shop's, per measure and frequency."""
    from apps.forecasts.engine.reconcile import reconcile

    reconciled = 0
    groups: dict[tuple[str, str], dict[str, Forecast]] = {}
    for row in Forecast.objects.filter(
        run=run,
        status=ForecastStatus.OK,
        series__level__in=[SeriesLevel.SHOP, SeriesLevel.CATEGORY],
        series__measure__in=[Measure.REVENUE, Measure.UNITS],
    ).select_related("series"):
        groups.setdefault((row.series.measure, row.series.frequency), {})[row.series.key] = row
    for forecasts in groups.values():
        total = next((k for k, f in forecasts.items() if f.series.level == SeriesLevel.SHOP), None)
        parts = [k for k, f in forecasts.items() if f.series.level == SeriesLevel.CATEGORY]
        if total is None or not parts:
            continue
        ends = {forecasts[k].history_end for k in [total, *parts]}
        lengths = {len(forecasts[k].points) for k in [total, *parts]}
        if len(ends) != 1 or len(lengths) != 1:
            continue  # a category that stopped selling: periods do not line up
        base = {k: np.array([p["yhat"] for p in forecasts[k].points]) for k in [total, *parts]}
        coherent = reconcile(base, total, parts)
        for key, values in coherent.items():
            row = forecasts[key]
            shift = values - base[key]
            row.base_points = row.points
            row.points = [
                {
                    **point,
                    **{
                        name: float(point[name] + shift[i])
                        for name in ("yhat", "lo", "hi", "lo_80", "hi_80")
                    },
                }
                for i, point in enumerate(row.points)
            ]
            row.reconciled = True
            row.save(update_fields=["points", "base_points", "reconciled", "updated_at"])
            reconciled += 1
    return reconciled
