"""`Authorization: Bearer <key>` authentication for partner API keys."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.accounts.models import ApiKey
from apps.accounts.selectors import api_key_get_by_raw
from apps.accounts.services import api_key_touch


class ApiKeyUser:
    """The request user of a key-authenticated request (not a Django user)."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api-key:{self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[ApiKeyUser, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("Authorization header has no key after Bearer")
        api_key = api_key_get_by_raw(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key")
        api_key_touch(api_key=api_key)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class QueryKeyAuthentication(ApiKeyAuthentication):
    """`?key=<key>`, only on views that set `accepts_query_key = True` (the ingestion
    endpoints and the pixel): navigator.sendBeacon and tracking pixels cannot send headers.
    Use a key holding only `events:write` in pages and emails. Listed in the default
    authentication classes, so views need not import this app."""

    def authenticate(self, request: Any) -> tuple[ApiKeyUser, ApiKey] | None:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if not getattr(view, "accepts_query_key", False):
            return None
        raw_key = request.query_params.get("key", "").strip()
        if not raw_key:
            return None
        api_key = api_key_get_by_raw(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key")
        api_key_touch(api_key=api_key)
        return ApiKeyUser(api_key), api_key


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema how partner keys authenticate (registered on import)."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Partner API key created by an admin (`manage.py create_api_key`).",
        }


class QueryKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The `?key=` form of a partner key, accepted by the ingestion endpoints only."""

    target_class = QueryKeyAuthentication
    name = "QueryKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "query",
            "name": "key",
            "description": "The key as a query parameter, for sendBeacon and tracking pixels.",
        }
