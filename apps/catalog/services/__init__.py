"""Writes of the catalogue, split by sub-domain; import from here.

records:  categories, brands and products one at a time (API, admin, imports)
cleaning: normalisation rules of the cleaning pipeline applied to products and categories
"""

from apps.catalog.services.records import (
    PRODUCT_FIELDS,
    brand_ensure,
    brand_update,
    category_create,
    category_update,
    product_create,
    product_update,
)

__all__ = [
    "PRODUCT_FIELDS",
    "brand_ensure",
    "brand_update",
    "category_create",
    "category_update",
    "product_create",
    "product_update",
]
