"""Web pages of the accounts app: the Settings page (who you are, partner API keys)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.selectors import api_key_list, user_role, user_scopes


@login_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "role": user_role(user=request.user),
        "scopes": sorted(user_scopes(user=request.user)),
        # Key names and scopes are for admins only; others see that keys exist, not which.
        "can_see_api_keys": request.user.has_perm("accounts.view_apikey"),
        "api_keys": api_key_list() if request.user.has_perm("accounts.view_apikey") else [],
    }
    return render(request, "accounts/settings.html", context)
