"""OpenAPI generation: every operation shows the scope it needs and the error shapes."""

from __future__ import annotations

import inspect
import re
from typing import Any

from django.apps import apps
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from apps.core.api.errors import ErrorSerializer
from apps.core.api.scopes import ANY_SCOPE

_ERRORS = {
    "400": "Invalid input: `detail` names the field.",
    "401": "No or invalid API key / session.",
    "403": "The key lacks the scope this operation needs.",
    "404": "No such object: `detail` names the id.",
    "429": "Rate limit of this key exceeded; retry after the `Retry-After` seconds.",
}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})

# The scope an operation needs, machine-readable. OpenAPI 3.0 allows scope names inside a
# security requirement only for oauth2/openIdConnect schemes; ours is a bearer key, so its
# requirement stays `[]` and the scope travels in this extension and in the description.
SCOPE_EXTENSION = "x-required-scope"


class ScopedAutoSchema(AutoSchema):
    def _required_scope(self) -> str | None:
        scope_for = getattr(self.view, "scope_for", None)
        return scope_for(self.method) if scope_for else None

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        scope = self._required_scope()
        if scope is None:
            warn(
                f"{type(self.view).__name__} declares no scope for {self.method}: every request "
                f"is refused. Set `required_scopes` (apps.core.api.views.ScopedMixin)."
            )
            note = "**No scope declared: every request is refused.**"
        elif scope == ANY_SCOPE:
            note = "**Required scope:** none; any valid key or signed-in user."
        else:
            note = f"**Required scope:** `{scope}`"
            operation[SCOPE_EXTENSION] = scope
        description = f"{operation.pop('description', '')}\n\n{note}".strip()
        operation = {
            "operationId": operation.pop("operationId"),
            "description": description,
            **operation,
        }
        responses = operation["responses"]
        for status_code in self._error_codes(operation, scope):
            if status_code not in responses:
                responses[status_code] = self._get_response_for_code(ErrorSerializer, status_code)
                responses[status_code]["description"] = _ERRORS[status_code]
        return operation

    def _error_codes(self, operation: dict[str, Any], scope: str | None) -> list[str]:
        codes = ["401", "429"]
        if scope != ANY_SCOPE:
            codes.append("403")
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if self.method in _WRITE_METHODS or has_query:
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        return sorted(codes)

    def get_description(self) -> str:
        """The handler's docstring, else the view class's own: never a base class's, which
        drf-spectacular would otherwise show on every view that has none."""
        handler = getattr(
            self.view, getattr(self.view, "action", None) or self.method.lower(), None
        )
        for text in (getattr(handler, "__doc__", None), type(self.view).__dict__.get("__doc__")):
            if text:
                return inspect.cleandoc(text)
        return ""

    def get_operation_id(self) -> str:
        # `v1_customers_list` -> `customers_list`: the version is in the path already.
        return re.sub(r"^v\d+_", "", super().get_operation_id())

    def _is_list_view(self, serializer: Any = None) -> bool:
        # Look through OpenApiResponse (used for response descriptions) to the serializer, so a
        # `many=True` response still gets the list treatment: pagination and filter parameters.
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            serializer = {str(code): value for code, value in serializer.items()}
            serializer = serializer[min(serializer)]
        if isinstance(serializer, OpenApiResponse):
            serializer = serializer.response
        return super()._is_list_view(serializer)

    def get_filter_backends(self) -> list[Any]:
        # django-filter documents the query parameters of views that declare a filter set;
        # views that validate their query otherwise (a query serializer) have none to show.
        backends = super().get_filter_backends()
        if getattr(self.view, "filterset_class", None) is None:
            backends = [b for b in backends if not issubclass(b, DjangoFilterBackend)]
        return backends

    def get_tags(self) -> list[str]:
        """Group operations by the app that serves them (Customers, Catalog, ...)."""
        config = apps.get_containing_app_config(type(self.view).__module__)
        if config is not None and config.name.startswith("apps."):
            return [str(config.verbose_name)]
        return super().get_tags()
