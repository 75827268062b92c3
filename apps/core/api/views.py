"""API base classes. Each view declares the scope a partner key needs, per HTTP method."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import generics, views

from apps.core.api.scopes import ANY_SCOPE  # noqa: F401  (re-exported for views)


class ScopedMixin:
    """`required_scopes` maps an HTTP method (or "*") to the scope it needs."""

    required_scopes: ClassVar[dict[str, str]] = {}

    @classmethod
    def scope_for(cls, method: str) -> str | None:
        scopes = cls.required_scopes
        return scopes.get(method.upper()) or scopes.get("*")


class ScopedAPIView(ScopedMixin, views.APIView):
    pass


class ScopedGenericAPIView(ScopedMixin, generics.GenericAPIView):
    pass
