"""Shapes of the forecasts API (the forecast keys mirror the `forecast` command's JSON)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.forecasts.choices import (
    ForecastStatus,
    Frequency,
    Measure,
    RunStatus,
    SeriesLevel,
    StockAlertStatus,
)
from apps.forecasts.models import Forecast, ForecastRun, ForecastSeries, StockAlert


class ForecastPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    yhat = serializers.FloatField(help_text="Point forecast.")
    lo = serializers.FloatField(help_text="Lower bound of the 95% interval.")
    hi = serializers.FloatField(help_text="Upper bound of the 95% interval.")
    lo_80 = serializers.FloatField(help_text="Lower bound of the 80% interval.")
    hi_80 = serializers.FloatField(help_text="Upper bound of the 80% interval.")


class ForecastBacktestSerializer(serializers.Serializer):
    model = serializers.CharField()
    description = serializers.CharField()
    mase = serializers.FloatField(
        allow_null=True, help_text="Mean absolute scaled error (<1 beats seasonal naive)."
    )
    smape = serializers.FloatField(allow_null=True, help_text="Symmetric MAPE, percent.")
    coverage_80 = serializers.FloatField(
        allow_null=True, help_text="Share of actuals inside the 80% interval."
    )
    coverage_95 = serializers.FloatField(allow_null=True)
    origins = serializers.IntegerField(help_text="Backtest origins the model was fitted at.")
    seconds = serializers.FloatField()
    error = serializers.CharField(help_text="Why the model could not be fitted, if it could not.")
    chosen = serializers.BooleanField()
    members = serializers.ListField(child=serializers.CharField())


class ForecastSeriesSerializer(serializers.ModelSerializer):
    series = serializers.CharField(source="key", help_text="The series key used in URLs.")

    class Meta:
        model = ForecastSeries
        fields = ["series", "label", "level", "measure", "frequency", "uses_campaigns", "active"]


class SeriesSummarySerializer(serializers.Serializer):
    series = serializers.CharField()
    label = serializers.CharField()
    level = serializers.ChoiceField(choices=SeriesLevel.choices)
    measure = serializers.ChoiceField(choices=Measure.choices)
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    status = serializers.CharField(
        allow_null=True, help_text="Of the latest forecast; null before the first."
    )
    model = serializers.CharField(allow_null=True)
    mase = serializers.FloatField(allow_null=True)
    forecasted_at = serializers.DateTimeField(allow_null=True)
    next = ForecastPointSerializer(allow_null=True, help_text="The first forecast period.")

    @staticmethod
    def from_summary(summary: Any) -> dict[str, Any]:
        row, latest = summary.series, summary.forecast
        return {
            "series": row.key,
            "label": row.label,
            "level": row.level,
            "measure": row.measure,
            "frequency": row.frequency,
            "status": latest.status if latest else None,
            "model": latest.model if latest else None,
            "mase": latest.mase if latest else None,
            "forecasted_at": latest.created_at if latest else None,
            "next": summary.next_point,
        }


class SeriesListQuerySerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=SeriesLevel.choices, required=False, default="")
    search = serializers.CharField(required=False, default="", max_length=100)


class ForecastDetailSerializer(serializers.Serializer):
    series = ForecastSeriesSerializer()
    status = serializers.ChoiceField(choices=ForecastStatus.choices)
    model = serializers.CharField(
        help_text="Chosen model: naive, drift, arima, sarima, ets, theta, lstm or ensemble."
    )
    description = serializers.CharField(help_text="e.g. ETS(M,Ad,M) or SARIMA(0,1,1)(0,1,1)[12].")
    model_version = serializers.CharField(help_text="Forecaster version (forecasts.auto vN).")
    forecasted_at = serializers.DateTimeField()
    history_end = serializers.DateField(allow_null=True)
    transform = serializers.CharField()
    reconciled = serializers.BooleanField(help_text="Adjusted so categories add up to the shop.")
    forecast = ForecastPointSerializer(many=True)
    backtest = ForecastBacktestSerializer(many=True)
    history = serializers.ListField(child=serializers.ListField(), help_text="[[date, value], ...]")
    params = serializers.DictField()
    notes = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField()

    @staticmethod
    def from_forecast(row: ForecastSeries, latest: Forecast) -> dict[str, Any]:
        version = latest.model_version
        return {
            "series": ForecastSeriesSerializer(row).data,
            "status": latest.status,
            "model": latest.model,
            "description": latest.description,
            "model_version": f"{version.kind} v{version.version}" if version else "",
            "forecasted_at": latest.created_at,
            "history_end": latest.history_end,
            "transform": latest.transform,
            "reconciled": latest.reconciled,
            "forecast": latest.points,
            "backtest": latest.backtest,
            "history": latest.history,
            "params": latest.params,
            "notes": latest.notes,
            "error": latest.error,
        }


class WhatIfRequestSerializer(serializers.Serializer):
    days = serializers.ListField(
        child=serializers.DateField(),
        allow_empty=False,
        max_length=60,
        help_text="Planned campaign days inside the forecast horizon (YYYY-MM-DD).",
    )


class WhatIfSerializer(serializers.Serializer):
    series = serializers.CharField()
    model = serializers.CharField()
    campaign_days = serializers.ListField(child=serializers.DateField())
    effect_per_campaign_day = serializers.FloatField(
        allow_null=True, help_text="Regression coefficient of a campaign day."
    )
    history_campaign_days = serializers.IntegerField(
        help_text="Campaign days in the history the effect is learnt from."
    )
    uses_regressors = serializers.BooleanField()
    dates = serializers.ListField(child=serializers.DateField())
    baseline = serializers.ListField(child=serializers.FloatField())
    scenario = serializers.ListField(child=serializers.FloatField())
    scenario_lo = serializers.ListField(child=serializers.FloatField())
    scenario_hi = serializers.ListField(child=serializers.FloatField())
    uplift = serializers.FloatField(help_text="Scenario minus baseline over the horizon.")
    computed_at = serializers.DateTimeField()


class ForecastRunSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=RunStatus.choices)
    progress = serializers.IntegerField(read_only=True)

    class Meta:
        model = ForecastRun
        fields = [
            "id",
            "key",
            "trigger",
            "status",
            "progress",
            "series_total",
            "series_done",
            "series_failed",
            "chunks",
            "message",
            "error",
            "counts",
            "created_at",
            "started_at",
            "finished_at",
        ]


class StockAlertSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    title = serializers.CharField(source="product.title")
    series = serializers.CharField(source="forecast.series.key")
    status = serializers.ChoiceField(choices=StockAlertStatus.choices)

    class Meta:
        model = StockAlert
        fields = [
            "id",
            "sku",
            "title",
            "series",
            "status",
            "stock",
            "demand",
            "demand_high",
            "lead_periods",
            "stockout_date",
            "created_at",
            "resolved_at",
        ]


class StockAlertQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=StockAlertStatus.choices, required=False, default=StockAlertStatus.OPEN
    )
