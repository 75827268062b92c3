"""Public addresses in emails (no login): open pixel, click redirect, one-click unsubscribe
(RFC 8058) and the preference centre. Thin: each calls one service."""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.campaigns import services
from apps.core.errors import NotFound, ValidationFailed

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _client(request: HttpRequest) -> tuple[str, str]:
    return request.META.get("HTTP_USER_AGENT", ""), request.META.get("REMOTE_ADDR", "")


@never_cache
def open_pixel(request: HttpRequest, token: str, signature: str) -> HttpResponse:
    """Always the pixel (a bad link records nothing)."""
    agent, ip = _client(request)
    try:
        services.open_record(token=token, signature=signature, user_agent=agent, ip=ip)
    except NotFound:
        pass
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Record the click and redirect, only to the destination the link was signed for."""
    agent, ip = _client(request)
    try:
        destination = services.click_record(
            token=token,
            destination=request.GET.get("u", ""),
            signature=request.GET.get("s", ""),
            user_agent=agent,
            ip=ip,
        )
    except (NotFound, ValidationFailed):
        return render(request, "campaigns/link_invalid.html", status=404)
    return HttpResponseRedirect(destination)


@csrf_exempt  # the POST comes from the mail client (RFC 8058), not from our form
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str, signature: str) -> HttpResponse:
    """POST (one-click from the mail client, or the button): unsubscribe at once. GET: a page
    with the button, so link scanners that fetch the address unsubscribe nobody."""
    try:
        if request.method == "POST":
            how = "one_click" if "List-Unsubscribe" in request.POST else "link"
            preferences = services.email_unsubscribe(token=token, signature=signature, how=how)
            return render(
                request, "campaigns/unsubscribed.html",
                {"preferences": preferences, "signature": signature},
            )  # fmt: skip
        preferences = services.preferences_get(token=token, signature=signature)
    except NotFound:
        return render(request, "campaigns/link_invalid.html", status=404)
    return render(
        request, "campaigns/unsubscribe.html",
        {"preferences": preferences, "signature": signature},
    )  # fmt: skip


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str, signature: str) -> HttpResponse:
    """The preference centre: see and change email-marketing consent."""
    try:
        if request.method == "POST":
            if request.POST.get("subscribed") == "1":
                current = services.email_resubscribe(token=token, signature=signature)
            else:
                current = services.email_unsubscribe(token=token, signature=signature)
            saved = True
        else:
            current = services.preferences_get(token=token, signature=signature)
            saved = False
    except NotFound:
        return render(request, "campaigns/link_invalid.html", status=404)
    return render(
        request, "campaigns/preferences.html",
        {"preferences": current, "signature": signature, "saved": saved},
    )  # fmt: skip
