"""Base classes shared by every SmartMkt model."""

from __future__ import annotations

from django.db import models


class BaseModel(models.Model):
    """Adds creation and update timestamps; every domain model inherits from it."""

    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text="When the row was created."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row was last changed.")

    class Meta:
        abstract = True
