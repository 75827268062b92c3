"""Reads of the accounts app."""

from __future__ import annotations

import hmac
from typing import Any

from django.db.models import QuerySet

from apps.accounts.choices import ALL_SCOPES, ROLE_SCOPES
from apps.accounts.models import ApiKey, AuditLog
from apps.accounts.services import KEY_PREFIX, hash_secret


def api_key_get_by_raw(*, raw_key: str) -> ApiKey | None:
    """The active key matching this secret, or None. Constant-time comparison of the hash."""
    parts = raw_key.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if api_key is None:
        return None
    if not hmac.compare_digest(api_key.hashed_secret, hash_secret(raw_key)):
        return None
    return api_key


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("-created_at")


def audit_log_list() -> QuerySet[AuditLog]:
    return AuditLog.objects.select_related("actor").order_by("-at")


def user_scopes(*, user: Any) -> frozenset[str]:
    """Scopes a signed-in UI user holds through their role groups (superusers hold all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return ALL_SCOPES
    scopes: set[str] = set()
    for name in user.groups.values_list("name", flat=True):
        scopes |= ROLE_SCOPES.get(name, frozenset())
    return frozenset(scopes)


def user_role(*, user: Any) -> str:
    if getattr(user, "is_superuser", False):
        return "admin"
    names = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
    for role in ("admin", "marketer", "analyst"):
        if role in names:
            return role
    return ""
