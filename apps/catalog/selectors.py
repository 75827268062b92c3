"""Reads of the catalogue: products, the category tree and brands."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet

from apps.catalog.models import Brand, Category, Product
from apps.core.errors import NotFound

PRODUCT_SORTABLE_FIELDS = {"title", "-title", "price", "-price", "sku", "-sku", "-created_at"}


def product_list(
    *,
    search: str = "",
    category: str = "",
    brand: str = "",
    is_active: bool | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    order_by: str = "title",
) -> QuerySet[Product]:
    """Products for lists. `category` is a slug and includes its whole subtree."""
    queryset = Product.objects.select_related("category", "brand")
    search = search.strip()
    if search:
        queryset = queryset.filter(Q(sku__icontains=search) | Q(title__icontains=search))
    if category:
        node = Category.objects.filter(slug=category).only("path").first()
        if node is None:
            return queryset.none()
        queryset = queryset.filter(
            Q(category__path=node.path) | Q(category__path__startswith=f"{node.path}/")
        )
    if brand:
        queryset = queryset.filter(Q(brand__slug=brand) | Q(brand__name__iexact=brand))
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if min_price is not None:
        queryset = queryset.filter(price__gte=min_price)
    if max_price is not None:
        queryset = queryset.filter(price__lte=max_price)
    if order_by not in PRODUCT_SORTABLE_FIELDS:
        order_by = "title"
    return queryset.order_by(order_by, "id")


def product_get(*, sku: str) -> Product:
    product = Product.objects.select_related("category", "brand").filter(sku=sku).first()
    if product is None:
        raise NotFound(f"product {sku!r} does not exist", code="product_not_found")
    return product


def product_ids_by_sku(*, skus: Iterable[str]) -> dict[str, int]:
    """SKU -> product id for the SKUs that exist (one query), e.g. to link order lines."""
    wanted = {sku for sku in skus if sku}
    if not wanted:
        return {}
    return dict(Product.objects.filter(sku__in=wanted).values_list("sku", "pk"))


def product_count() -> int:
    return Product.objects.count()


def category_list(*, parent: str = "", search: str = "") -> QuerySet[Category]:
    """Categories in tree order (by path). `parent` is a slug: its direct children only."""
    queryset = Category.objects.select_related("parent")
    if parent:
        queryset = queryset.filter(parent__slug=parent)
    search = search.strip()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return queryset.order_by("path", "id")


def category_get(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound(f"category {slug!r} does not exist", code="category_not_found")
    return category


def brand_list(*, search: str = "") -> QuerySet[Brand]:
    queryset = Brand.objects.all()
    search = search.strip()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return queryset.order_by("name", "id")


def catalogue_version() -> tuple[str, int, str]:
    """A value that changes whenever a product or category is created, changed or deleted
    (latest product change, product count, latest category change): for results that keep
    decisions made from the catalogue, such as stock and category rules."""
    products = Product.objects.aggregate(changed=Max("updated_at"), count=Count("id"))
    category_changed = Category.objects.aggregate(changed=Max("updated_at"))["changed"]
    return (
        products["changed"].isoformat() if products["changed"] else "",
        int(products["count"]),
        category_changed.isoformat() if category_changed else "",
    )


def products_by_ids(*, product_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """product id -> (SKU, title) for those that exist."""
    rows = Product.objects.filter(pk__in=list(product_ids)).values_list("pk", "sku", "title")
    return {pk: (sku, title) for pk, sku, title in rows}


def product_stock_facts(
    *, product_ids: Iterable[int]
) -> dict[int, tuple[str, str, int | None, int]]:
    """product id -> (SKU, title, category id, units in stock) for those that exist."""
    rows = Product.objects.filter(pk__in=list(product_ids)).values_list(
        "pk", "sku", "title", "category_id", "stock"
    )
    return {pk: (sku, title, category, stock) for pk, sku, title, category, stock in rows}


def category_names(*, category_ids: Iterable[int]) -> dict[int, str]:
    """category id -> its name and, for a sub-category, its path (e.g. "Dresses (women/dresses)")."""
    rows = Category.objects.filter(pk__in=list(category_ids)).values_list("pk", "name", "path")
    return {pk: f"{name} ({path})" if "/" in path else name for pk, name, path in rows}
