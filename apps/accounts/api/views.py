from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.serializers import PrincipalSerializer
from apps.accounts.selectors import principal_describe
from apps.core.api.views import ANY_SCOPE, ScopedAPIView


class MeView(ScopedAPIView):
    """Who am I: the calling key's name and scopes, or the signed-in user and role."""

    required_scopes = {"GET": ANY_SCOPE}

    @extend_schema(
        operation_id="me_retrieve",
        responses=OpenApiResponse(PrincipalSerializer, description="The caller."),
    )
    def get(self, request: Request) -> Response:
        principal = principal_describe(user=request.user, auth=request.auth)
        return Response(PrincipalSerializer(principal).data)
