"""Choices of the forecasts app."""

from django.db import models


class SeriesLevel(models.TextChoices):
    """Where in the shop a series sits (the hierarchy reconciles categories to the shop)."""

    SHOP = "shop", "Whole shop"
    CATEGORY = "category", "Category"
    PRODUCT = "product", "Product"
    CUSTOMERS = "customers", "Customers"


class Measure(models.TextChoices):
    REVENUE = "revenue", "Revenue"
    UNITS = "units", "Units sold"
    NEW_CUSTOMERS = "new_customers", "New customers"


class Frequency(models.TextChoices):
    DAILY = "D", "Daily"
    WEEKLY = "W", "Weekly"
    MONTHLY = "M", "Monthly"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Succeeded with failures"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    NIGHTLY = "nightly", "Nightly schedule"
    MANUAL = "manual", "Started by a user"


class ForecastStatus(models.TextChoices):
    OK = "ok", "Forecast"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough history"
    FAILED = "failed", "Failed"


class StockAlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved (stock covers the forecast)"
