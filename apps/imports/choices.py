"""Choices of the imports app."""

from django.db import models


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    PRODUCTS = "products", "Products"
    ORDERS = "orders", "Orders"
    EVENTS = "events", "Events"
    REVIEWS = "reviews", "Reviews"
    SOCIAL = "social", "Social posts"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


# A job in one of these states never runs again (a failed one can be resumed by hand).
FINISHED_STATUSES = (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON array"
    JSONL = "jsonl", "JSON Lines"


class ImportTrigger(models.TextChoices):
    UI = "ui", "Web UI"
    API = "api", "REST API"
    ADMIN = "admin", "Django admin"
    CLI = "cli", "Management command"
