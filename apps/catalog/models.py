"""The product catalogue: categories (a tree), brands and products."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from apps.core.models import BaseModel


class Category(BaseModel):
    """A node of the category tree; `path` holds the slugs from the root for cheap subtree queries."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(
        max_length=500,
        db_index=True,
        help_text="Slash-joined slugs from the root, e.g. women/dresses.",
    )

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.path or self.name


class Brand(BaseModel):
    """A brand the shop sells."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(BaseModel):
    """A sellable item, identified by its SKU."""

    sku = models.CharField(max_length=64, unique=True, help_text="Stock keeping unit, the API key.")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Unit cost, for margin and ROI.",
    )
    currency = models.CharField(max_length=3, default="USD")
    stock = models.IntegerField(default=0, help_text="Units in stock.")
    tags = models.JSONField(default=list, blank=True, help_text="List of tag strings.")
    attributes = models.JSONField(default=dict, blank=True, help_text="Colour, material, size ...")
    image = models.ImageField(upload_to="products/", blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive products are not recommended."
    )
    launched_at = models.DateTimeField(null=True, blank=True)
    price_band = models.CharField(
        max_length=8,
        blank=True,
        help_text="budget, mid, upper or premium by price quartile; set by the cleaning pipeline.",
    )
    imputed_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Fields the cleaning pipeline filled in (e.g. cost), with the value it used.",
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="product_price_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.title}"
