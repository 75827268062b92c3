"""Forecast a series from a CSV file (the `forecast` command): no database.

Rows need a date and a value; rows after the last value may leave the value empty to give
the future values of regressor columns (a planned campaign ...). Bad rows are refused with
their row number and column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apps.core.errors import ValidationFailed
from apps.forecasts.engine import regressors
from apps.forecasts.engine.forecaster import ForecastError, ForecastRequest, forecast
from apps.forecasts.engine.models import ModelError
from apps.forecasts.engine.series import SeriesError, dates_ahead, series_build

MAX_ROWS = 1_000_000


def _date(value: str, row: int, column: str) -> date:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"row {row}: {column} is empty", field=column)
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ValidationFailed(
            f"row {row}: {column} {text!r} is not a date", field=column
        ) from None
    if pd.isna(stamp):
        raise ValidationFailed(f"row {row}: {column} {text!r} is not a date", field=column)
    return stamp.date()


def _number(value: str, row: int, column: str) -> float:
    try:
        return float(value.replace(",", "").strip())
    except (ValueError, AttributeError):
        raise ValidationFailed(
            f"row {row}: {column} {value!r} is not a number", field=column
        ) from None


def file_forecast(
    *,
    path: Path,
    date_column: str,
    value_column: str,
    request: ForecastRequest,
    regressor_columns: tuple[str, ...] = (),
    holidays_country: str = "",
    frequency: str | None = None,
    fill: str = "interpolate",
) -> dict[str, Any]:
    """The forecast document of the `forecast` command for one CSV series."""
    if not path.is_file():
        raise ValidationFailed(f"series: no file at {path}", field="series")
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig", errors="replace")))
    columns = list(reader.fieldnames or [])
    for column in (date_column, value_column, *regressor_columns):
        if column not in columns:
            raise ValidationFailed(
                f"{path.name} has no column {column!r} (columns: {', '.join(columns)})",
                field=column,
            )
    dates: list[date] = []
    values: list[float] = []
    rows: list[int] = []
    exog_rows: list[list[float]] = []
    future: list[tuple[date, list[float]]] = []
    row = 1
    try:
        for row, record in enumerate(reader, start=2):
            if row > MAX_ROWS:
                raise ValidationFailed(f"{path.name}: more than {MAX_ROWS:,} rows", field="series")
            day = _date(record.get(date_column) or "", row, date_column)
            extra = [_number(record.get(c) or "", row, c) for c in regressor_columns]
            raw = (record.get(value_column) or "").strip()
            if not raw:
                if regressor_columns:
                    future.append((day, extra))
                    continue
                raise ValidationFailed(f"row {row}: {value_column} is empty", field=value_column)
            if future:
                raise ValidationFailed(
                    f"row {row}: a value after rows without one (only future rows may leave "
                    f"{value_column} empty)",
                    field=value_column,
                )
            dates.append(day)
            values.append(_number(raw, row, value_column))
            rows.append(row)
            exog_rows.append(extra)
    except csv.Error as error:
        raise ValidationFailed(f"row {row + 1} of {path.name}: {error}", field="series") from None
    try:
        series = series_build(dates, values, frequency=frequency, fill=fill, name=path.stem)
    except SeriesError as error:
        raise ValidationFailed(str(error), field=value_column) from None
    ahead = dates_ahead(series.dates[-1], series.frequency, request.horizon)
    columns_out: list[np.ndarray] = []
    futures_out: list[np.ndarray] = []
    if regressor_columns:
        if series.filled:
            raise ValidationFailed(
                f"{series.filled} period(s) are missing: regressors need a row for every period",
                field=date_column,
            )
        if len(future) < request.horizon:
            raise ValidationFailed(
                f"regressors {', '.join(regressor_columns)} need {request.horizon} future rows "
                f"(rows after the last value, with the value left empty); found {len(future)}",
                field=regressor_columns[0],
            )
        order = np.argsort(np.array(dates, dtype="datetime64[D]"), kind="stable")
        known = np.array(exog_rows, dtype=float)[order]
        ahead_values = np.array([extra for _, extra in future[: request.horizon]], dtype=float)
        columns_out.append(known)
        futures_out.append(ahead_values)
    if holidays_country:
        try:
            columns_out.append(
                regressors.calendar_regressor(series.dates, series.frequency, holidays_country)[
                    :, None
                ]
            )
            futures_out.append(
                regressors.calendar_regressor(ahead, series.frequency, holidays_country)[:, None]
            )
        except ValueError as error:
            raise ValidationFailed(str(error), field="holidays") from None
    if columns_out:
        series = replace(series, exog=np.hstack(columns_out))
        request = replace(request, exog_future=np.hstack(futures_out))
    try:
        result = forecast(series, request)
    except (ForecastError, ModelError) as error:
        raise ValidationFailed(str(error), field="model") from None
    document = result.as_dict()
    document["series"] = {
        "file": path.name,
        "rows": len(rows),
        "start": series.dates[0].isoformat(),
        "end": series.dates[-1].isoformat(),
        "regressors": [*regressor_columns, *(["holidays"] if holidays_country else [])],
    }
    return document
