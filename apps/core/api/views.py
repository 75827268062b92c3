"""API base classes. Each view declares the scope a partner key needs, per HTTP method."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import exceptions, generics, views
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from apps.core.api.scopes import ANY_SCOPE  # noqa: F401  (re-exported for views)


class ScopedMixin:
    """`required_scopes` maps an HTTP method (or "*") to the scope it needs."""

    required_scopes: ClassVar[dict[str, str]] = {}

    @classmethod
    def scope_for(cls, method: str) -> str | None:
        scopes = cls.required_scopes
        method = method.upper()
        if method in ("HEAD", "OPTIONS"):  # read-only probes need what GET needs
            method = "GET"
        return scopes.get(method) or scopes.get("*")


class ScopedAPIView(ScopedMixin, views.APIView):
    pass


class ScopedGenericAPIView(ScopedMixin, generics.GenericAPIView):
    """A scoped view whose lists come from a selector, paginated the standard way.

    `filterset_class` (django-filter) declares, documents and validates the query parameters;
    `query_filters()` hands them to the app's selector as keyword arguments named by each
    filter's `field_name`. Filtering itself stays in the selector, so the web pages, the API and
    the commands filter the same way.
    """

    def get_queryset(self) -> QuerySet[Any] | None:  # type: ignore[override]
        # Rows come from selectors. Only the schema generator and the filter backends (the
        # browsable API's filter form) ask, for the model of the filter set: give it, no rows.
        filterset_class = getattr(self, "filterset_class", None)
        model: type[Model] | None = filterset_class._meta.model if filterset_class else None
        return model._default_manager.none() if model is not None else None

    def query_filters(self) -> dict[str, Any]:
        """Validated query parameters as selector keyword arguments; a bad one is a 400."""
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is None:
            return {}
        filterset = filterset_class(
            data=self.request.query_params, queryset=self.get_queryset(), request=self.request
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        filters: dict[str, Any] = {}
        for name, value in filterset.form.cleaned_data.items():
            if value is None or value == "" or value == []:
                continue
            filters[filterset.filters[name].field_name or name] = value
        return filters

    def list_response(
        self, queryset: QuerySet[Any], serializer_class: type[BaseSerializer] | None = None
    ) -> Response:
        """One page of `queryset`, serialized, with `count`, `next` and `previous`."""
        serializer_class = serializer_class or self.get_serializer_class()
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        if page is None:
            return Response(serializer_class(queryset, many=True, context=context).data)
        data = serializer_class(page, many=True, context=context).data
        return self.get_paginated_response(data)
