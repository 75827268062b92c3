"""Writes of the catalogue: categories, brands and products (upserted by SKU)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.catalog.models import Brand, Category, Product
from apps.core.errors import Conflict, NotFound, ValidationFailed

# Product fields a caller may set; `sku` is the identity. `category` is a category slug and
# `brand` a brand name (created on first use), as shops and CSV files carry them.
PRODUCT_FIELDS = (
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
)


@transaction.atomic
def category_create(*, name: str, slug: str = "", parent_slug: str = "") -> Category:
    """Create a category under `parent_slug` (or at the root); its path is the parent's + slug."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a category needs a name", field="name")
    slug = slugify(slug or name)
    if not slug:
        raise ValidationFailed("slug: cannot be derived from the name; give one", field="slug")
    parent = None
    if parent_slug:
        parent = Category.objects.filter(slug=parent_slug).first()
        if parent is None:
            raise ValidationFailed(
                f"parent: category {parent_slug!r} does not exist", field="parent"
            )
    if Category.objects.filter(slug=slug).exists():
        raise Conflict(
            f"slug: category {slug!r} already exists", code="category_exists", field="slug"
        )
    path = f"{parent.path}/{slug}" if parent else slug
    category = Category(name=name, slug=slug, parent=parent, path=path)
    try:
        category.full_clean(validate_unique=False)
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error
    category.save()
    return category


@transaction.atomic
def category_update(*, slug: str, name: str) -> Category:
    """Rename a category. Its slug and place in the tree stay: product filters and paths use them."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a category needs a name", field="name")
    category = Category.objects.select_for_update().filter(slug=slug).first()
    if category is None:
        raise NotFound(f"category {slug!r} does not exist", code="category_not_found")
    category.name = name[:120]
    category.save(update_fields=["name", "updated_at"])
    return category


@transaction.atomic
def brand_update(*, slug: str, name: str) -> Brand:
    """Rename a brand (its slug stays, so filters keep working)."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a brand needs a name", field="name")
    brand = Brand.objects.select_for_update().filter(slug=slug).first()
    if brand is None:
        raise NotFound(f"brand {slug!r} does not exist", code="brand_not_found")
    if Brand.objects.filter(name__iexact=name).exclude(pk=brand.pk).exists():
        raise Conflict(f"name: brand {name!r} already exists", code="brand_exists", field="name")
    brand.name = name[:120]
    brand.save(update_fields=["name", "updated_at"])
    return brand


@transaction.atomic
def brand_ensure(*, name: str) -> Brand:
    """The brand of this name (case-insensitive), created on first use."""
    name = name.strip()
    if not name:
        raise ValidationFailed("brand: must not be empty", field="brand")
    brand = Brand.objects.filter(name__iexact=name).first()
    if brand is not None:
        return brand
    base = slugify(name) or "brand"
    slug, suffix = base, 2
    while Brand.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    try:
        with transaction.atomic():
            return Brand.objects.create(name=name[:120], slug=slug[:120])
    except IntegrityError:  # created concurrently under the same name
        return Brand.objects.get(name__iexact=name)


def _decimal(field: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationFailed(f"{field}: {value!r} is not a number", field=field) from error


def _apply_product_changes(product: Product, changes: Mapping[str, Any]) -> None:
    unknown = sorted(set(changes) - set(PRODUCT_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not a product field", field=unknown[0])
    for field, value in changes.items():
        if field == "category":
            product.category = None
            if value:
                product.category = Category.objects.filter(slug=value).first()
                if product.category is None:
                    raise ValidationFailed(
                        f"category: category {value!r} does not exist", field="category"
                    )
        elif field == "brand":
            product.brand = brand_ensure(name=value) if value else None
        elif field in ("price", "cost"):
            number = _decimal(field, value)
            if field == "price" and number is None:
                raise ValidationFailed("price: is required", field="price")
            setattr(product, field, number)
        elif field == "currency":
            product.currency = str(value or "USD").strip().upper()
        elif field in ("title", "description"):
            setattr(product, field, str(value or "").strip())
        elif field in ("tags", "attributes") and value is None:
            setattr(product, field, [] if field == "tags" else {})
        else:
            setattr(product, field, value)


def _save_validated(product: Product) -> Product:
    try:
        product.full_clean(validate_unique=False, exclude=["image"])
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error
    if not isinstance(product.tags, list):
        raise ValidationFailed("tags: must be a list of strings", field="tags")
    if not isinstance(product.attributes, dict):
        raise ValidationFailed("attributes: must be an object", field="attributes")
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as error:  # a concurrent create of the same SKU
        raise Conflict(
            f"sku: product {product.sku!r} already exists", code="product_exists", field="sku"
        ) from error
    return product


@transaction.atomic
def product_create(
    *,
    sku: str,
    title: str,
    price: Decimal,
    description: str = "",
    category: str = "",
    brand: str = "",
    cost: Decimal | None = None,
    currency: str = "USD",
    stock: int = 0,
    tags: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    is_active: bool = True,
    launched_at: datetime | None = None,
) -> Product:
    """Create a product. `category` is a category slug; `brand` a brand name (made on first use).

    Refuses (409) a SKU already in use: updates go through `product_update`.
    """
    sku = sku.strip()
    if not sku:
        raise ValidationFailed("sku: a product needs a SKU", field="sku")
    if Product.objects.filter(sku=sku).exists():
        raise Conflict(f"sku: product {sku!r} already exists", code="product_exists", field="sku")
    product = Product(sku=sku)
    _apply_product_changes(
        product,
        {
            "title": title,
            "description": description,
            "category": category,
            "brand": brand,
            "price": price,
            "cost": cost,
            "currency": currency,
            "stock": stock,
            "tags": tags,
            "attributes": attributes,
            "is_active": is_active,
            "launched_at": launched_at,
        },
    )
    return _save_validated(product)


@transaction.atomic
def product_update(*, sku: str, changes: Mapping[str, Any]) -> tuple[Product, bool]:
    """Upsert by SKU: change the given fields, creating the product if new (title and price
    are then required). Returns the product and whether it was created."""
    sku = sku.strip()
    if not sku:
        raise ValidationFailed("sku: a product needs a SKU", field="sku")
    product = Product.objects.select_for_update().filter(sku=sku).first()
    created = product is None
    if product is None:
        product = Product(sku=sku)
        for required in ("title", "price"):
            if changes.get(required) in (None, ""):
                raise ValidationFailed(f"{required}: is required for a new product", field=required)
    _apply_product_changes(product, changes)
    return _save_validated(product), created
