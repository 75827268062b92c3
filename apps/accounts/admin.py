"""Admin for partner API keys (created through the service, secret shown once) and the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.choices import Scope
from apps.accounts.models import ApiKey, AuditLog
from apps.accounts.services import api_key_create, api_key_revoke, api_key_update
from apps.core.errors import DomainError


class ApiKeyFormBase(forms.ModelForm):
    def clean_rate_limit_per_minute(self) -> int | None:
        value = self.cleaned_data.get("rate_limit_per_minute")
        if value is not None and value <= 0:
            raise forms.ValidationError("Must be positive; leave empty for the site default.")
        return value


class ApiKeyCreateForm(ApiKeyFormBase):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do. Give each partner only the scopes it needs.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "rate_limit_per_minute"]


class ApiKeyChangeForm(ApiKeyFormBase):
    class Meta:
        model = ApiKey
        fields = ["name", "rate_limit_per_minute"]


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope_list", "last_used_at", "is_revoked", "created_at"]
    list_filter = [RevokedFilter]
    search_fields = ["name", "prefix"]
    list_select_related = ["created_by"]
    ordering = ["-created_at"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "prefix",
        "scope_list",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, **kwargs: Any) -> Any:
        kwargs["form"] = ApiKeyCreateForm if obj is None else ApiKeyChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["name", "scopes", "rate_limit_per_minute"]
        return ["name", "rate_limit_per_minute", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Keys are revoked, never deleted: the audit log keeps pointing at something real.
        return False

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="revoked", boolean=True, ordering="revoked_at")
    def is_revoked(self, obj: ApiKey) -> bool:
        return obj.revoked_at is not None

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            api_key_update(
                api_key_id=obj.pk,
                name=data["name"],
                rate_limit_per_minute=data["rate_limit_per_minute"],
            )
            return
        created = api_key_create(
            name=data["name"],
            scopes=list(data["scopes"]),
            created_by=request.user,
            rate_limit_per_minute=data["rate_limit_per_minute"],
        )
        # The admin goes on with `obj` (log entry, redirect): make it the row the service wrote.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created.api_key, field.attname))
        obj._state.adding = False
        messages.warning(
            request,
            f"API key for {created.api_key.name!r}: {created.raw_key} - copy it now, it is "
            f"not shown again.",
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            try:
                api_key_revoke(api_key_id=api_key.pk, actor=request.user)
            except DomainError as error:
                self.message_user(request, error.message, level=messages.ERROR)
                continue
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", level=messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "target", "actor", "actor_label"]
    list_filter = ["action"]
    search_fields = ["target", "actor_label", "actor__email", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": ["at", "action", "target", "actor", "actor_label", "data"],
                "description": (
                    "Read-only record of a security- or money-relevant change: when (at), what "
                    "(action, target), who (a user, or the key/command/job in actor label) and "
                    "the details (data)."
                ),
            },
        )
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
