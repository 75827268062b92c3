"""Admin for the catalogue: every save goes through catalog.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from apps.catalog.models import Brand, Category, Product
from apps.catalog.services import (
    brand_ensure,
    brand_update,
    category_create,
    category_update,
    product_create,
    product_update,
)
from apps.core.admin import ServiceErrorsAdminMixin


def copy_row(target: Model, source: Model) -> None:
    """Make the admin's unsaved `target` the row a service wrote (for its log and redirect)."""
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent"]
        help_texts = {
            "name": "Display name.",
            "slug": "Id used in URLs, the API and product filters; cannot change later.",
            "parent": "Empty for a top-level category; cannot change later.",
        }


@admin.register(Category)
class CategoryAdmin(ServiceErrorsAdminMixin):
    form = CategoryForm
    list_display = ["path", "name", "slug", "parent"]
    search_fields = ["name", "slug", "path"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["path"]

    def get_readonly_fields(self, request: HttpRequest, obj: Category | None = None) -> list[str]:
        return ["slug", "parent", "path"] if obj else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: Category | None = None) -> dict:
        return {} if obj else dict(self.prepopulated_fields)

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            category = category_update(slug=obj.slug, name=data["name"])
        else:
            parent = data.get("parent")
            category = category_create(
                name=data["name"], slug=data["slug"], parent_slug=parent.slug if parent else ""
            )
        copy_row(obj, category)


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name"]
        help_texts = {"name": "Brand name, unique; its slug is derived from it once."}


@admin.register(Brand)
class BrandAdmin(ServiceErrorsAdminMixin):
    form = BrandForm
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    ordering = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Brand | None = None) -> list[str]:
        return ["slug"] if obj else []

    def save_model(self, request: HttpRequest, obj: Brand, form: Any, change: bool) -> None:
        name = form.cleaned_data["name"]
        brand = brand_update(slug=obj.slug, name=name) if change else brand_ensure(name=name)
        copy_row(obj, brand)


PRODUCT_FIELDS = [
    "sku",
    "title",
    "description",
    "category",
    "brand",
    "price",
    "cost",
    "currency",
    "stock",
    "tags",
    "attributes",
    "is_active",
    "launched_at",
]


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = PRODUCT_FIELDS
        help_texts = {
            "sku": "Stock keeping unit, the product's id in the API; cannot change later.",
            "title": "Product name as shown to customers.",
            "description": "Long description (plain text).",
            "category": "Category of the product (search by name).",
            "brand": "Brand of the product (search by name).",
            "price": "Unit price, not negative.",
            "currency": "ISO 4217 code, e.g. USD.",
            "launched_at": "When the product went on sale.",
        }


@admin.register(Product)
class ProductAdmin(ServiceErrorsAdminMixin):
    form = ProductForm
    list_display = ["sku", "title", "category", "brand", "price", "stock", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["=sku", "title"]
    list_select_related = ["category", "brand"]
    autocomplete_fields = ["category", "brand"]
    show_full_result_count = False
    ordering = ["title"]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        return ["sku", "image", "created_at", "updated_at"] if obj else []

    def get_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        return [*PRODUCT_FIELDS, "image", "created_at", "updated_at"] if obj else PRODUCT_FIELDS

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        data = dict(form.cleaned_data)
        data["category"] = data["category"].slug if data.get("category") else ""
        data["brand"] = data["brand"].name if data.get("brand") else ""
        if change:
            changes = {field: data[field] for field in form.changed_data if field != "sku"}
            product, _ = product_update(sku=obj.sku, changes=changes)
        else:
            product = product_create(**{field: data[field] for field in PRODUCT_FIELDS})
        copy_row(obj, product)
