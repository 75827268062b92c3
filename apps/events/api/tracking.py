"""`GET /api/v1/pixel.gif`: a 1x1 tracking pixel for emails and pages without JavaScript.

The query string describes one Segment-style message, which goes through `events_ingest` like
any other (validation, idempotency, identity). The answer is always the same transparent GIF
with no-cache headers, whatever happened: an image that fails to load shows as a broken icon
in an email, so a bad message is quarantined (by the pipeline) and a bad key gets the GIF with
status 401, never an error page. The outcome is in the `X-SmartMkt-Outcome` header.

A pixel message carries nothing but what its URL says (no user agent, no IP address): the same
URL loaded again, by the same reader or by a mail proxy, is the same message. Without `mid`,
the message id is a hash of the URL's parameters, so an email's open pixel (one URL per
campaign and customer) records the first open and acknowledges later ones as duplicates; see
docs/tracking.md.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import orjson
from django.http import HttpResponse, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from apps.core.api.views import ScopedAPIView
from apps.core.errors import DomainError
from apps.events.services import events_ingest

logger = logging.getLogger(__name__)

# The smallest transparent GIF: 1x1, one transparent colour.
TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PIXEL_SOURCE = "pixel"
PIXEL_LIBRARY = {"name": "smartmkt-pixel", "version": "1"}
# Short and long names of each scalar parameter; the first one present wins.
SCALAR_PARAMETERS = {
    "type": ("type",),
    "event": ("event", "e"),
    "name": ("name",),
    "user_id": ("user_id", "uid"),
    "anonymous_id": ("anonymous_id", "aid"),
    "previous_id": ("previous_id", "pid"),
    "message_id": ("message_id", "mid"),
    "timestamp": ("timestamp", "ts"),
    "source": ("source",),
}
BRACKETED = re.compile(r"^(p|t)\[([^\[\]]{1,128})\]$")


class GifRenderer(BaseRenderer):
    """Lets content negotiation accept what mail clients ask for (`Accept: image/*`)."""

    media_type = "image/gif"
    format = "gif"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return TRANSPARENT_GIF


def gif_response(*, status: int = 200, outcome: str) -> HttpResponse:
    """The pixel, never cached: every open or view must reach the server."""
    response = HttpResponse(TRANSPARENT_GIF, content_type="image/gif", status=status)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    response["X-SmartMkt-Outcome"] = outcome
    return response


def _object_parameter(query: QueryDict, json_name: str, prefix: str) -> Any:
    """`properties=<JSON object>` merged with `p[name]=value` pairs (the pairs win); None
    when the URL has neither.

    JSON that does not parse is passed on as the raw string, so the pipeline rejects the
    message with a reason naming the field and quarantines it with what was sent.
    """
    value: Any = None
    raw = query.get(json_name, "")
    if raw:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    pairs = {
        match.group(2): query.get(key, "")
        for key in query
        if (match := BRACKETED.match(key)) and match.group(1) == prefix
    }
    if pairs and value is None:
        return pairs
    if pairs and isinstance(value, dict):
        return {**value, **pairs}
    return value


def pixel_message(query: QueryDict) -> dict[str, Any]:
    """The message a pixel URL describes; parameters it does not know (cache busters) are
    left out, so they change neither the message nor its derived id."""
    message: dict[str, Any] = {"type": "track"}
    for field_name, names in SCALAR_PARAMETERS.items():
        value = next((query.get(name) for name in names if query.get(name)), None)
        if value is not None:
            message[field_name] = value
    properties = _object_parameter(query, "properties", "p")
    if properties is not None:
        message["properties"] = properties
    traits = _object_parameter(query, "traits", "t")
    if traits is not None:
        message["traits"] = traits
    message["context"] = {"library": PIXEL_LIBRARY}
    if "message_id" not in message:
        message["message_id"] = derived_message_id(message)
    return message


def derived_message_id(message: dict[str, Any]) -> str:
    """A deterministic id: the same parameters make the same id (`px_` + blake2b-128)."""
    canonical = orjson.dumps(message, option=orjson.OPT_SORT_KEYS)
    return "px_" + hashlib.blake2b(canonical, digest_size=16).hexdigest()


class PixelView(ScopedAPIView):
    """A 1x1 GIF that records the message its query string describes."""

    # `?key=` too (apps.accounts.authentication.QueryKeyAuthentication reads this flag).
    accepts_query_key = True
    renderer_classes = [GifRenderer]
    required_scopes = {"GET": "events:write"}

    @extend_schema(
        operation_id="pixel_gif",
        summary="Tracking pixel (1x1 GIF)",
        parameters=[
            OpenApiParameter("key", str, description="A key with events:write (or a header)."),
            OpenApiParameter("type", str, description="track (default), page, identify, alias."),
            OpenApiParameter("event", str, description="Event name for track, e.g. Email Opened."),
            OpenApiParameter("name", str, description="Page name for type=page."),
            OpenApiParameter("uid", str, description="User id: the customer's external id."),
            OpenApiParameter("aid", str, description="Anonymous id of the browser or device."),
            OpenApiParameter(
                "mid",
                str,
                description="Message id; without it a hash of the parameters (one event per "
                "distinct URL: an email's open pixel counts the first open).",
            ),
            OpenApiParameter("timestamp", str, description="ISO 8601; default: when received."),
            OpenApiParameter("p[name]", str, description="A property, e.g. p[campaign]=spring."),
            OpenApiParameter("properties", str, description="Properties as a JSON object."),
            OpenApiParameter("t[name]", str, description="A trait (identify), e.g. t[email]=."),
        ],
        responses={
            (200, "image/gif"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Always the GIF; X-SmartMkt-Outcome says accepted, duplicate or "
                "rejected (the message is then in the quarantine). 401/403/429 with the GIF "
                "for a bad key or the rate limit.",
            )
        },
    )
    def get(self, request: Request) -> HttpResponse:
        """Record one message described by the query string and answer a transparent GIF."""
        result = events_ingest(
            messages=[pixel_message(request.query_params)],
            source=PIXEL_SOURCE,
            received_via="pixel",
            api_key_prefix=getattr(request.auth, "prefix", ""),
        )
        if result.accepted:
            return gif_response(outcome="accepted")
        return gif_response(outcome="duplicate" if result.duplicates else "rejected")

    def head(self, request: Request) -> HttpResponse:
        """Link checkers and mail scanners probe with HEAD: answer, record nothing."""
        return gif_response(outcome="not-recorded")

    def handle_exception(self, exc: Exception) -> HttpResponse:
        """Every failure still answers the GIF (a broken image in an email helps nobody)."""
        if isinstance(exc, exceptions.APIException | DomainError):
            status = exc.status_code
        else:
            logger.exception("pixel: recording the message failed")
            status = 500
        response = gif_response(status=status, outcome="error")
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response.status_code = 401
            response["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response
