from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"
    LOST = "lost", "Worker lost (re-runnable)"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.NOT_ENOUGH_DATA)


class TriggerSource(models.TextChoices):
    ADMIN = "admin", "Django admin"
    API = "api", "REST API"
    CLI = "cli", "Management command"
    UI = "ui", "Web UI"
    SCHEDULE = "schedule", "Schedule"
    DEMO = "demo", "Demo setup"


class Alias(models.TextChoices):
    CHAMPION = "champion", "Champion (serving)"
    CHALLENGER = "challenger", "Challenger"
