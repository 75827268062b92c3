"""Forecast series, refresh runs, stored forecasts and stock alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.forecasts.choices import (
    ForecastStatus,
    Frequency,
    Measure,
    RunStatus,
    RunTrigger,
    SeriesLevel,
    StockAlertStatus,
)


class ForecastSeries(BaseModel):
    """One series the shop forecasts, e.g. weekly units of a product or monthly revenue.

    Rows are kept in step with the catalogue by `series_sync`; the values are read from orders
    when a forecast is made, so a series is a definition, not a copy of the data.
    """

    key = models.CharField(
        max_length=200,
        unique=True,
        help_text="Stable id used in URLs and the API: level.item.measure.frequency, "
        "e.g. shop.all.revenue.W or product.SKU-1.units.W.",
    )
    label = models.CharField(max_length=255, help_text="What people see.")
    level = models.CharField(max_length=10, choices=SeriesLevel.choices)
    measure = models.CharField(max_length=16, choices=Measure.choices)
    frequency = models.CharField(max_length=1, choices=Frequency.choices)
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    uses_campaigns = models.BooleanField(
        default=False, help_text="Campaign days are a regressor (campaign-driven demand)."
    )
    active = models.BooleanField(default=True, help_text="Refreshed by the nightly job.")

    class Meta:
        ordering = ["level", "key"]
        indexes = [
            models.Index(fields=["level", "measure", "frequency"], name="forecast_series_kind")
        ]

    def __str__(self) -> str:
        return self.key


class ForecastRun(BaseModel):
    """One refresh of many series (nightly or on demand), split into chunks on workers."""

    key = models.CharField(
        max_length=64, unique=True, help_text="Idempotency key: nightly:<date> or manual:<uuid>."
    )
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices)
    as_of = models.DateTimeField(help_text="History up to the day before this moment is used.")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    model_version = models.ForeignKey(
        "ml.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Forecaster configuration (candidates, backtest) this run used.",
    )
    series_total = models.PositiveIntegerField(default=0)
    series_done = models.PositiveIntegerField(default=0, help_text="Forecast or not enough data.")
    series_failed = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0, help_text="Tasks the series were split into.")
    message = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Figures of the run.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Forecast run {self.key} ({self.status})"

    @property
    def progress(self) -> int:
        if not self.series_total:
            return 100 if self.status == RunStatus.SUCCEEDED else 0
        return int(100 * (self.series_done + self.series_failed) / self.series_total)


class Forecast(BaseModel):
    """The forecast of one series by one run: chosen model, points with 80/95% intervals,
    the backtest of every candidate and the diagnostics, with the forecaster version."""

    series = models.ForeignKey(ForecastSeries, on_delete=models.CASCADE, related_name="forecasts")
    run = models.ForeignKey(
        ForecastRun, null=True, blank=True, on_delete=models.CASCADE, related_name="forecasts"
    )
    model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ForecastStatus.choices, default=ForecastStatus.OK
    )
    model = models.CharField(max_length=16, blank=True, help_text="Chosen model (auto).")
    description = models.CharField(max_length=255, blank=True, help_text="e.g. ETS(M,Ad,M).")
    transform = models.CharField(max_length=32, blank=True)
    horizon = models.PositiveSmallIntegerField(default=0)
    history_end = models.DateField(null=True, blank=True, help_text="Last period of history.")
    history = models.JSONField(default=list, blank=True, help_text="[[date, value], ...] used.")
    points = models.JSONField(
        default=list, blank=True, help_text="[{date, yhat, lo, hi, lo_80, hi_80}] (95% lo/hi)."
    )
    base_points = models.JSONField(
        default=list, blank=True, help_text="Points before hierarchical reconciliation."
    )
    reconciled = models.BooleanField(default=False)
    backtest = models.JSONField(default=list, blank=True, help_text="Every candidate's scores.")
    params = models.JSONField(default=dict, blank=True)
    diagnostics = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)
    mase = models.FloatField(null=True, blank=True, help_text="Backtest MASE of the chosen model.")
    coverage_95 = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "run"], name="forecast_once_per_run"),
        ]
        indexes = [models.Index(fields=["series", "-created_at"], name="forecast_series_latest")]

    def __str__(self) -> str:
        return f"{self.series.key}: {self.model or self.status}"


class StockAlert(BaseModel):
    """Forecast demand over the lead time exceeds a product's stock."""

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="stock_alerts")
    status = models.CharField(
        max_length=10, choices=StockAlertStatus.choices, default=StockAlertStatus.OPEN
    )
    stock = models.IntegerField(help_text="Units in stock when the alert was raised.")
    demand = models.FloatField(help_text="Forecast units over the lead time.")
    demand_high = models.FloatField(help_text="Upper 80% bound of that demand.")
    lead_periods = models.PositiveSmallIntegerField(help_text="Lead time in forecast periods.")
    stockout_date = models.DateField(
        null=True, blank=True, help_text="Period in which forecast demand passes the stock."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["stockout_date", "-demand"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(status="open"),
                name="stock_alert_one_open_per_product",
            ),
        ]

    def __str__(self) -> str:
        return f"Stock alert {self.product_id}: demand {self.demand:.0f} > stock {self.stock}"
