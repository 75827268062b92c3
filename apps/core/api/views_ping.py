from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ANY_SCOPE, ScopedAPIView


class PingView(ScopedAPIView):
    """Liveness for partners: 200 for any valid key, 401 without one. Does no other work."""

    required_scopes = {"GET": ANY_SCOPE}

    @extend_schema(
        operation_id="ping",
        responses=OpenApiResponse(
            inline_serializer(
                "Ping",
                {"ok": serializers.BooleanField(help_text="Always true: the key was accepted.")},
            ),
            description="The key is valid and the API is up.",
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})
