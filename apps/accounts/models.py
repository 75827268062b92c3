"""Partner API keys and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.accounts.choices import AuditAction
from apps.core.models import BaseModel


class ApiKey(BaseModel):
    """A scoped partner key. Only a SHA-256 of the secret is stored; the key is shown once."""

    name = models.CharField(max_length=100, help_text="Who or what uses this key.")
    prefix = models.CharField(
        max_length=16, unique=True, help_text="Public part of the key, used to find it."
    )
    hashed_secret = models.CharField(max_length=64, help_text="SHA-256 hex of the full key.")
    scopes = models.JSONField(default=list, help_text="Scopes this key holds, e.g. events:write.")
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests a minute allowed for this key; empty uses the site default.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Admin who created the key.",
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when revoked; a revoked key is refused."
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="Last request (updated at most once a minute)."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditLog(models.Model):
    """Who did what, when: one row per security- or money-relevant state change."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="User who acted; empty for keys, jobs and commands.",
    )
    actor_label = models.CharField(
        max_length=200, blank=True, help_text="Key name, command or job that acted."
    )
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    target = models.CharField(max_length=200, blank=True, help_text="What was acted on.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"
