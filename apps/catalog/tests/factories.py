"""Factories for the catalogue: categories (path kept consistent), brands and products."""

from __future__ import annotations

from decimal import Decimal

import factory

from apps.catalog.models import Brand, Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    """A root category; `CategoryFactory(parent=root)` makes a child with the right path."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None
    path = factory.LazyAttribute(
        lambda category: (
            f"{category.parent.path}/{category.slug}" if category.parent else category.slug
        )
    )


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    price = Decimal("19.90")
    cost = Decimal("8.00")
    stock = 10
