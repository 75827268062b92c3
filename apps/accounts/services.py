"""Writes of the accounts app: API keys, roles, audit rows."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import ALL_SCOPES, AuditAction, Role
from apps.accounts.models import ApiKey, AuditLog
from apps.core.errors import NotFound, ValidationFailed

KEY_PREFIX = "smk"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(raw_key: str) -> str:
    """Keys carry 256 bits of randomness, so a fast hash is safe and keeps auth cheap."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str


def audit_log_record(
    *,
    action: str,
    target: str = "",
    actor: Any = None,
    actor_label: str = "",
    data: dict | None = None,
) -> AuditLog:
    """Append one audit row. Called by the service that performs the action, once.

    An actor that is not a stored user (a partner key's request user) is recorded by name.
    """
    is_user = bool(getattr(actor, "pk", None))
    if not actor_label and actor is not None and not is_user:
        actor_label = str(actor)
    return AuditLog.objects.create(
        action=action,
        target=target[:200],
        actor=actor if is_user else None,
        actor_label=actor_label[:200],
        data=data or {},
    )


def _validate_scopes(scopes: list[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    if not cleaned:
        raise ValidationFailed("scopes: at least one scope is required", field="scopes")
    unknown = [scope for scope in cleaned if scope not in ALL_SCOPES]
    if unknown:
        raise ValidationFailed(
            f"scopes: unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(ALL_SCOPES))}",
            field="scopes",
        )
    return cleaned


@transaction.atomic
def api_key_create(
    *,
    name: str,
    scopes: list[str],
    created_by: Any = None,
    rate_limit_per_minute: int | None = None,
    actor_label: str = "",
) -> CreatedApiKey:
    """Create a partner key and return its secret, which is never stored nor shown again."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a key needs a name", field="name")
    if rate_limit_per_minute is not None and rate_limit_per_minute <= 0:
        raise ValidationFailed(
            "rate_limit_per_minute: must be positive", field="rate_limit_per_minute"
        )
    cleaned = _validate_scopes(scopes)
    prefix = secrets.token_hex(6)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        hashed_secret=hash_secret(raw_key),
        scopes=cleaned,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    audit_log_record(
        action=AuditAction.API_KEY_CREATED,
        target=str(api_key),
        actor=created_by,
        actor_label=actor_label,
        data={"scopes": cleaned},
    )
    return CreatedApiKey(api_key=api_key, raw_key=raw_key)


@transaction.atomic
def api_key_revoke(*, api_key_id: int, actor: Any = None) -> ApiKey:
    """Revoke a key: every later request with it gets 401."""
    api_key = ApiKey.objects.select_for_update().filter(pk=api_key_id).first()
    if api_key is None:
        raise NotFound(f"API key {api_key_id} does not exist")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_log_record(action=AuditAction.API_KEY_REVOKED, target=str(api_key), actor=actor)
    _forget_verified_keys()  # now, and again once committed (a racing request may re-cache)
    transaction.on_commit(_forget_verified_keys)
    return api_key


def _forget_verified_keys() -> None:
    # Imported here: selectors import this module for hash_secret.
    from apps.accounts.selectors import api_key_cache_clear

    api_key_cache_clear()


@transaction.atomic
def api_key_update(*, api_key_id: int, name: str, rate_limit_per_minute: int | None) -> ApiKey:
    """Rename a key or change its rate limit. Scopes are fixed: issue a new key to change them."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a key needs a name", field="name")
    if rate_limit_per_minute is not None and rate_limit_per_minute <= 0:
        raise ValidationFailed(
            "rate_limit_per_minute: must be positive", field="rate_limit_per_minute"
        )
    api_key = ApiKey.objects.select_for_update().filter(pk=api_key_id).first()
    if api_key is None:
        raise NotFound(f"API key {api_key_id} does not exist")
    api_key.name = name
    api_key.rate_limit_per_minute = rate_limit_per_minute
    api_key.save(update_fields=["name", "rate_limit_per_minute", "updated_at"])
    _forget_verified_keys()  # now, and again once committed (a racing request may re-cache)
    transaction.on_commit(_forget_verified_keys)
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key, so hot keys do not write on every request."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


# Model permissions each role gets, by app label; analysts only view.
_ROLE_PERMISSION_APPS = [
    "customers",
    "catalog",
    "events",
    "imports",
    "quality",
    "segments",
    "campaigns",
    "recommendations",
    "insights",
    "media",
    "forecasts",
    "ml",
]


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the admin/marketer/analyst groups with their model permissions (idempotent)."""
    permissions = Permission.objects.select_related("content_type")
    domain = [p for p in permissions if p.content_type.app_label in _ROLE_PERMISSION_APPS]
    wanted = {
        Role.ADMIN.value: list(permissions),
        Role.MARKETER.value: domain,
        Role.ANALYST.value: [p for p in domain if p.codename.startswith("view_")],
    }
    counts = {}
    for role, perms in wanted.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(perms)
        counts[role] = len(perms)
    return counts


@dataclass(frozen=True)
class AdminUserResult:
    user: Any
    created: bool
    # Set only when the command generated the password (a new admin without --password).
    generated_password: str = ""


@transaction.atomic
def admin_user_upsert(*, email: str, password: str = "") -> AdminUserResult:
    """Create or update a superuser who signs in with `email`, in the admin role group.

    Idempotent so `make demo` can run again: an existing admin keeps its password unless a
    new one is given. The username is the email, so both login methods work.
    """
    email = email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise ValidationFailed(f"email: {email!r} is not a valid address", field="email") from error
    user_model = get_user_model()
    user = (
        user_model.objects.select_for_update().filter(email__iexact=email).order_by("pk").first()
        or user_model.objects.select_for_update().filter(username=email).first()
    )
    created = user is None
    if user is None:
        user = user_model(username=email)
    user.email = email
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    generated = ""
    if password:
        user.set_password(password)
    elif created:
        generated = secrets.token_urlsafe(12)
        user.set_password(generated)
    user.save()
    group, _ = Group.objects.get_or_create(name=Role.ADMIN.value)
    user.groups.add(group)
    audit_log_record(
        action=AuditAction.ADMIN_UPSERTED,
        target=email,
        actor_label="create_admin",
        data={"created": created, "password_changed": bool(password or generated)},
    )
    return AdminUserResult(user=user, created=created, generated_password=generated)
