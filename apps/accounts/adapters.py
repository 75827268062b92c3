"""allauth adapter: no public sign-up unless ACCOUNT_ALLOW_SIGNUPS is set."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class ClosedSignupAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: Any) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUPS", False))
