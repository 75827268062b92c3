"""Access to web pages: signed in, and holding a role that grants the page's scope.

The same scopes guard the API (a signed-in user holds them through their role groups), so a
user without a role sees no customer data in the UI either, only a page telling them to ask
an admin for one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from apps.accounts.selectors import user_scopes

View = Callable[..., HttpResponse]


def scope_required(scope: str | None = None) -> Callable[[View], View]:
    """Require sign-in and `scope` (or, with None, any role at all)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            held = user_scopes(user=request.user)
            if not held:
                raise PermissionDenied(
                    "Your account has no role yet (admin, marketer or analyst): ask an admin."
                )
            if scope is not None and scope not in held:
                raise PermissionDenied(f"Your role does not include {scope}.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
