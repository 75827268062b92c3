"""Scope checks: a key needs the operation's scope; a UI user needs it through a role."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions

from apps.accounts.models import ApiKey
from apps.accounts.selectors import user_scopes
from apps.core.api.scopes import ANY_SCOPE


class HasScope(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if user is None or not getattr(user, "is_authenticated", False):
            raise exceptions.NotAuthenticated()
        scope_for = getattr(view, "scope_for", None)
        scope = scope_for(request.method) if scope_for else None
        if scope is None:
            # A view without a declared scope is a programming error: refuse, never allow.
            raise exceptions.PermissionDenied("This operation has no scope declared")
        if scope == ANY_SCOPE:
            return True
        if isinstance(request.auth, ApiKey):
            held = frozenset(request.auth.scopes)
        else:
            held = user_scopes(user=user)
        if scope not in held:
            raise exceptions.PermissionDenied(f"This operation needs the scope {scope}")
        return True
