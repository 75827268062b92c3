"""Choices shared across apps."""

from django.db import models


class Queue(models.TextChoices):
    """Celery queues. Workers pick them with `-Q`; see workers/README.md."""

    DEFAULT = "default", "Default"
    INGEST = "ingest", "Ingest"
    EMAIL = "email", "Email"
    ML_CPU = "ml_cpu", "ML on CPU"
    ML_GPU = "ml_gpu", "ML on GPU"
