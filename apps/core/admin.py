"""Admin helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from apps.core.errors import DomainError


class ServiceErrorsAdminMixin(admin.ModelAdmin):
    """Admins whose saves go through services: a refusal becomes a message, not a 500.

    The admin's change view runs in one transaction, so raising out of it rolls back every
    row of the save (the form and its inlines) before the message is shown: nothing
    half-written is left behind.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, f"Not saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
