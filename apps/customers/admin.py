"""Admin for customers: profile edits, consent and aliases all go through customers.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from apps.core.admin import ServiceErrorsAdminMixin
from apps.customers.models import Consent, Customer, CustomerAlias
from apps.customers.services import (
    ALIAS_KINDS,
    PROFILE_FIELDS,
    consent_record,
    customer_alias_add,
    customer_create,
    customer_update,
)

PROFILE_HELP = {
    "external_id": "The shop's customer id; the API's path key. Cannot change later.",
    "email": "Stored trimmed and lower-cased.",
    "phone": "E.164 when known, e.g. +4930123456.",
    "first_name": "Given name.",
    "last_name": "Family name.",
    "gender": "Leave empty when unknown.",
    "birth_date": "Date of birth, for age-based segments.",
    "city": "City of the customer.",
    "region": "Region, state or province.",
    "country": "ISO 3166-1 alpha-2 code, e.g. DE.",
    "language": "Preferred language, e.g. en, zh.",
    "signup_at": "When the customer signed up; empty means now for a new customer.",
    "acquisition_channel": "How the customer first came to the shop.",
    "attributes": "Free-form traits as a JSON object.",
}


def copy_row(target: Model, source: Model) -> None:
    """Make the admin's unsaved `target` the row a service wrote (for its log and redirect)."""
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["external_id", *PROFILE_FIELDS]
        help_texts = PROFILE_HELP


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["purpose", "granted", "recorded_at", "source"]
        help_texts = {
            "purpose": "What the decision is about.",
            "granted": "Ticked grants consent, unticked withdraws it.",
            "recorded_at": "When the customer decided.",
            "source": "Where it was recorded, e.g. admin, signup_form.",
        }


class AliasForm(forms.ModelForm):
    kind = forms.ChoiceField(
        choices=[(kind, kind) for kind in ALIAS_KINDS],
        initial="anonymous",
        help_text="anonymous (browser/device id) or external (a merged profile's id).",
    )

    class Meta:
        model = CustomerAlias
        fields = ["alias", "kind"]
        help_texts = {
            "alias": "Another id of this customer: a browser/device id or a merged profile's id.",
        }


class ConsentHistoryInline(admin.TabularInline):
    """Decisions already recorded: never edited, so the history stays true."""

    model = Consent
    form = ConsentForm
    verbose_name_plural = "Consent history (the latest row per purpose is in force)"
    fields = ["purpose", "granted", "recorded_at", "source"]
    readonly_fields = fields
    ordering = ["-recorded_at", "-id"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsentRecordInline(admin.TabularInline):
    """Record a new decision (saved through consent_record)."""

    model = Consent
    form = ConsentForm
    verbose_name = "new consent decision"
    verbose_name_plural = "Record a consent decision"
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        return super().get_queryset(request).none()


class AliasListInline(admin.TabularInline):
    model = CustomerAlias
    form = AliasForm
    verbose_name_plural = "Other ids (aliases)"
    fields = ["alias", "kind", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AliasAddInline(admin.TabularInline):
    """Link another id (saved through customer_alias_add)."""

    model = CustomerAlias
    form = AliasForm
    verbose_name = "new alias"
    verbose_name_plural = "Link another id"
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerAlias]:
        return super().get_queryset(request).none()


@admin.register(Customer)
class CustomerAdmin(ServiceErrorsAdminMixin):
    form = CustomerForm
    list_display = [
        "external_id",
        "email",
        "full_name",
        "country",
        "city",
        "acquisition_channel",
        "signup_at",
    ]
    list_filter = ["acquisition_channel", "gender", "country"]
    search_fields = ["=external_id", "^email", "^last_name", "=aliases__alias"]
    show_full_result_count = False
    list_per_page = 50
    ordering = ["-signup_at", "-id"]
    inlines = [ConsentHistoryInline, ConsentRecordInline, AliasListInline, AliasAddInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> list[str]:
        return ["external_id", "created_at", "updated_at"] if obj else []

    def get_fields(self, request: HttpRequest, obj: Customer | None = None) -> list[str]:
        fields = ["external_id", *PROFILE_FIELDS]
        return [*fields, "created_at", "updated_at"] if obj else fields

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in PROFILE_FIELDS}
        if change:
            changed = {field: data[field] for field in form.changed_data if field in data}
            customer, _ = customer_update(external_id=obj.external_id, changes=changed)
        else:
            customer = customer_create(external_id=form.cleaned_data["external_id"], **data)
        copy_row(obj, customer)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        customer = form.instance
        created: list[Model] = []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.is_valid():
                continue
            data = inline_form.cleaned_data
            if formset.model is Consent:
                created.append(
                    consent_record(
                        customer=customer,
                        purpose=data["purpose"],
                        granted=data["granted"],
                        recorded_at=data["recorded_at"],
                        source=data.get("source") or "admin",
                    )
                )
            elif formset.model is CustomerAlias:
                created.append(
                    customer_alias_add(customer=customer, alias=data["alias"], kind=data["kind"])
                )
        # The admin's change message reads these (normally set by formset.save()).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = created, [], []
