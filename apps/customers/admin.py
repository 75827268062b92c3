"""Admin for customers: profile edits, consent and aliases all go through customers.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import ServiceErrorsAdminMixin
from apps.core.errors import DomainError
from apps.customers.models import Consent, Customer, CustomerAlias, CustomerMerge, MergeStatus
from apps.customers.services import (
    ALIAS_KINDS,
    PROFILE_FIELDS,
    consent_record,
    customer_alias_add,
    customer_create,
    customer_update,
)
from apps.customers.services.identity import customer_merge, customer_split

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
    actions = ["merge_selected"]

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

    @admin.action(description="Merge selected customers", permissions=["change", "delete"])
    def merge_selected(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponse | None:
        """Ask which profile survives (an intermediate page), then merge the others into it."""
        customers = list(queryset.order_by("signup_at", "pk"))
        if len(customers) < 2:
            self.message_user(request, "Select at least two customers to merge.", messages.WARNING)
            return None
        survivor = request.POST.get("survivor")
        if request.POST.get("confirm") == "yes" and survivor:
            try:
                with transaction.atomic():  # all or none
                    merges = [
                        customer_merge(
                            survivor_external_id=survivor,
                            merged_external_id=customer.external_id,
                            actor=request.user,
                            reason="admin",
                        )
                        for customer in customers
                        if customer.external_id != survivor
                    ]
            except DomainError as error:
                self.message_user(request, f"Not merged: {error.message}", messages.ERROR)
                return None
            self.message_user(
                request,
                f"Merged {len(merges)} profile(s) into {survivor}; each merge can be split back "
                "from Customer merges.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge customers: choose the profile to keep",
            "opts": self.model._meta,
            "customers": customers,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "customers/admin/merge.html", context)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    """Merges are made by the merge action, the Quality page, the API or the pipeline, and
    undone here with "Split back"; rows are never edited."""

    list_display = [
        "id",
        "merged_external_id",
        "survivor_external_id",
        "status",
        "reason",
        "merged_by",
        "merged_label",
        "created_at",
        "split_at",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["=merged_external_id", "=survivor_external_id"]
    date_hierarchy = "created_at"
    actions = ["split_selected"]
    fields = [
        "survivor",
        "survivor_external_id",
        "merged_external_id",
        "merged_customer_id",
        "status",
        "reason",
        "merged_by",
        "merged_label",
        "created_at",
        "split_at",
        "split_by",
        "split_label",
        "moved_counts",
        "snapshot",
        "survivor_before",
        "split_button",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record is what makes a split possible

    @admin.display(description="Rows moved")
    def moved_counts(self, merge: CustomerMerge) -> str:
        counts = {kind: len(ids) for kind, ids in merge.moved.items() if isinstance(ids, list)}
        return ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())

    @admin.display(description="Undo")
    def split_button(self, merge: CustomerMerge) -> str:
        if merge.status != MergeStatus.MERGED:
            return "Split back already."
        url = reverse("admin:customers_customermerge_split", args=[merge.pk])
        return format_html('<a class="button" href="{}">Split back</a>', url)

    def get_urls(self) -> list[Any]:
        split = path(
            "<int:merge_id>/split/",
            self.admin_site.admin_view(self.split_view),
            name="customers_customermerge_split",
        )
        return [split, *super().get_urls()]

    def split_view(self, request: HttpRequest, merge_id: int) -> HttpResponse:
        """Confirm (GET), then split the merge back (POST)."""
        if not request.user.has_perm("customers.change_customer"):
            raise PermissionDenied
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": "Split a merge back",
                "opts": self.model._meta,
                "merge": self.get_object(request, str(merge_id)),
            }
            return TemplateResponse(request, "customers/admin/split_confirm.html", context)
        self._split(request, [merge_id])
        return HttpResponseRedirect(
            reverse("admin:customers_customermerge_change", args=[merge_id])
        )

    @admin.action(description="Split back selected merges")
    def split_selected(self, request: HttpRequest, queryset: QuerySet[CustomerMerge]) -> None:
        if not request.user.has_perm("customers.change_customer"):
            raise PermissionDenied
        self._split(request, list(queryset.order_by("-pk").values_list("pk", flat=True)))

    def _split(self, request: HttpRequest, merge_ids: list[int]) -> None:
        # Newest first: a later merge that took the survivor away must be undone before.
        for merge_id in merge_ids:
            try:
                merge = customer_split(merge_id=merge_id, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"Merge {merge_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{merge.merged_external_id} is its own customer again.",
                    messages.SUCCESS,
                )
