"""Reads of the accounts app."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.choices import ALL_SCOPES, ROLE_SCOPES
from apps.accounts.models import ApiKey, AuditLog
from apps.accounts.services import KEY_PREFIX, hash_secret

# Verified keys per process, by the hash of their secret: (valid until, key). Partner traffic
# reuses a handful of keys at thousands of requests a second; a database round trip per
# request would dominate the cost of small endpoints.
_VERIFIED_KEYS: dict[str, tuple[float, ApiKey]] = {}
_VERIFIED_KEYS_MAX = 10_000


def api_key_cache_clear() -> None:
    """Forget verified keys in this process (revocation and updates call it)."""
    _VERIFIED_KEYS.clear()


def api_key_get_by_raw(*, raw_key: str) -> ApiKey | None:
    """The active key matching this secret, or None. Constant-time comparison of the hash.

    A verified key is remembered for API_KEY_CACHE_SECONDS in this process; failures are not
    remembered, so a wrong key always costs a lookup.
    """
    parts = raw_key.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    hashed = hash_secret(raw_key)
    now = time.monotonic()
    cached = _VERIFIED_KEYS.get(hashed)
    if cached is not None and cached[0] > now:
        return cached[1]
    api_key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.hashed_secret, hashed):
        _VERIFIED_KEYS.pop(hashed, None)
        return None
    ttl = settings.API_KEY_CACHE_SECONDS
    if ttl > 0:
        if len(_VERIFIED_KEYS) >= _VERIFIED_KEYS_MAX:
            _VERIFIED_KEYS.clear()
        _VERIFIED_KEYS[hashed] = (now + ttl, api_key)
    return api_key


def api_key_get_by_prefix(*, prefix: str) -> ApiKey | None:
    """A key (active or revoked) by its public prefix, the part an operator can see."""
    return ApiKey.objects.filter(prefix=prefix.strip()).first()


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


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: a partner key or a signed-in user, and the scopes held."""

    kind: str  # "api_key" or "user"
    name: str
    scopes: list[str]
    key_prefix: str = ""
    rate_limit_per_minute: int | None = None
    email: str = ""
    role: str = ""


def principal_describe(*, user: Any, auth: Any) -> Principal:
    """Describe the caller of a request (`request.user`, `request.auth`) for `GET /me`."""
    if isinstance(auth, ApiKey):
        return Principal(
            kind="api_key",
            name=auth.name,
            scopes=sorted(auth.scopes),
            key_prefix=auth.prefix,
            rate_limit_per_minute=auth.rate_limit_per_minute,
        )
    return Principal(
        kind="user",
        name=user.get_username(),
        scopes=sorted(user_scopes(user=user)),
        email=user.email,
        role=user_role(user=user),
    )
