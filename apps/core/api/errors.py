"""The one API exception handler: every error body is `{"detail": ..., "code": ...}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import DomainError


class ErrorSerializer(serializers.Serializer):
    """Shape of every error response."""

    detail = serializers.CharField(help_text="Human-readable reason, naming the field or row.")
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid`.")
    field = serializers.CharField(
        required=False, help_text="The input field a business rule refused, when there is one."
    )
    errors = serializers.DictField(
        required=False, help_text="Per-field messages for validation errors."
    )


def _first_message(detail: Any, path: str = "") -> tuple[str, str]:
    """Walk a DRF ValidationError detail to its first message and the field path to it."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = f"{path}.{key}" if path else str(key)
            return _first_message(value, sub)
    if isinstance(detail, list) and detail:
        if isinstance(detail[0], (dict, list)):
            for index, value in enumerate(detail):
                if value:
                    return _first_message(value, f"{path}[{index}]" if path else f"[{index}]")
        return _first_message(detail[0], path)
    return path, str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_message(exc.detail)
        if field and field != "non_field_errors":
            detail = f"{field}: {message}"
        else:
            detail = message
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": detail, "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = {"detail": str(exc.detail), "code": code}
    return response
