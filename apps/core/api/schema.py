"""OpenAPI generation: every operation shows the scope it needs and the error shapes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from apps.core.api.errors import ErrorSerializer
from apps.core.api.scopes import ANY_SCOPE

_ERRORS = {
    "400": "Invalid input: `detail` names the field.",
    "401": "No or invalid API key / session.",
    "403": "The key lacks the scope this operation needs.",
    "429": "Rate limit of this key exceeded.",
}


class ScopedAutoSchema(AutoSchema):
    def _required_scope(self) -> str | None:
        scope_for = getattr(self.view, "scope_for", None)
        return scope_for(self.method) if scope_for else None

    def get_auth(self) -> list[dict[str, list[str]]]:
        scope = self._required_scope()
        if scope is None:
            return super().get_auth()
        return [{"ApiKeyAuth": [] if scope == ANY_SCOPE else [scope]}, {"cookieAuth": []}]

    def get_description(self) -> str:
        description = super().get_description() or ""
        scope = self._required_scope()
        if scope and scope != ANY_SCOPE:
            description = f"{description}\n\n**Required scope:** `{scope}`".strip()
        elif scope == ANY_SCOPE:
            description = f"{description}\n\n**Required scope:** any valid key".strip()
        return description

    def get_response_serializers(self) -> Any:
        responses = super().get_response_serializers()
        if not isinstance(responses, dict) or not all(isinstance(k, (int, str)) for k in responses):
            success_code = "201" if self.method == "POST" else "200"
            responses = {success_code: responses}
        for status_code in _ERRORS:
            responses.setdefault(status_code, ErrorSerializer)
        if "{" in self.path:
            responses.setdefault("404", ErrorSerializer)
        return responses

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):  # type: ignore[no-untyped-def]
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if str(status_code) in _ERRORS and serializer is ErrorSerializer:
            response["description"] = _ERRORS[str(status_code)]
        return response
